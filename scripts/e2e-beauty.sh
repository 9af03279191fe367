#!/usr/bin/env bash
# The long real-data run (tens of minutes): train the default configuration on
# Amazon Beauty, evaluate every size, and check that `eval` reproduces
# metrics.json. Data folder: $FMRLREC_DATA_DIR/beauty (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${FMRLREC_DATA_DIR:-../shared/data}/beauty"
out="${1:-runs/e2e-beauty}"
if [ ! -f "$data/sequential_data.txt" ]; then
  echo "e2e:beauty: no Beauty data at $data (set FMRLREC_DATA_DIR; see README, 'Real datasets')" >&2
  exit 1
fi
rm -rf "$out"
node dist/src/cli/main.js train --data "$data" --out "$out" --name beauty
node dist/src/cli/main.js eval --run "$out"
