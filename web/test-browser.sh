#!/usr/bin/env bash
# `npm run test:browser`: the headless browser test of the demo page
# (test/browser.test.ts). Installs Debian's chromium when it is missing —
# playwright-core drives it; no browser is downloaded — then builds and runs
# the test. `npm test` runs the same test but skips it without chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  echo "test:browser: installing Debian's chromium (apt-get)"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
npx tsc -p .
npx tsc -p web/tsconfig.json
node --test dist/test/browser.test.js
