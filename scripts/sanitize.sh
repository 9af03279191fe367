#!/usr/bin/env bash
# The native kernels under AddressSanitizer and UndefinedBehaviorSanitizer:
# builds the addon from native/ and binding.gyp with -fsanitize=address,undefined
# into its own folder (.cache/sanitize/, never build/), then runs the kernel
# tests (dist/test/kernels.test.js) against it. Any sanitizer report fails the run.
#
#   npm run sanitize            (or: bash scripts/sanitize.sh)
#
# Needs g++ with libasan and libubsan (Debian: g++), python3, and node-gyp (npm
# ships it). Node itself is not instrumented, so libasan is preloaded and its
# leak checker is off (Node does not free everything at exit).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.cache/sanitize
FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"

ASAN_LIB=$(g++ -print-file-name=libasan.so)
if [[ ! -f $ASAN_LIB ]]; then
  echo "sanitize: g++ has no libasan.so (install g++ with its sanitizer runtimes)" >&2
  exit 1
fi

# node-gyp: on PATH under npm run, else the copy inside npm.
if command -v node-gyp >/dev/null 2>&1; then
  GYP=(node-gyp)
else
  GYP=(node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js")
fi
# Node's headers: npm's nodedir setting when there is one (else node-gyp's own cache or download).
NODEDIR=$(npm config get nodedir 2>/dev/null || true)
GYP_ARGS=(rebuild -j "$(nproc)")
if [[ -n $NODEDIR && $NODEDIR != null && $NODEDIR != undefined ]]; then GYP_ARGS+=("--nodedir=$NODEDIR"); fi

echo "sanitize: building the addon with $FLAGS in $OUT"
rm -rf "$OUT"
mkdir -p "$OUT"
cp -r native binding.gyp "$OUT/"
(cd "$OUT" && CXXFLAGS="$FLAGS" LDFLAGS="$FLAGS" "${GYP[@]}" "${GYP_ARGS[@]}" >"$OUT/build.log" 2>&1) || {
  tail -30 "$OUT/build.log" >&2
  echo "sanitize: the build failed (full log: $OUT/build.log)" >&2
  exit 1
}
ADDON=$OUT/build/Release/fmrlrec_kernels.node
echo "sanitize: built $ADDON"

echo "sanitize: compiling TypeScript"
node_modules/.bin/tsc -p . || echo "sanitize: TypeScript reported errors (above); tsc still wrote dist/, running the kernel tests from it" >&2

export LD_PRELOAD=$ASAN_LIB
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export FMRLREC_ADDON=$ADDON

# The kernels really come from the sanitized file, with the sanitizer runtime loaded.
node -e '
  const { availableNativeVariants } = require("./dist/src/kernels");
  const variants = availableNativeVariants();
  const maps = require("node:fs").readFileSync("/proc/self/maps", "utf8");
  if (variants.length === 0 || !maps.includes(process.env.FMRLREC_ADDON) || !/libasan/.test(maps)) {
    console.error("sanitize: the sanitized addon or libasan is not loaded");
    process.exit(1);
  }
  console.log(`sanitize: loaded the sanitized addon (variants: ${variants.join(", ")}) with libasan`);
'

echo "sanitize: running dist/test/kernels.test.js"
LOG=$OUT/kernels-test.log
status=0
node --test --test-concurrency=1 dist/test/kernels.test.js >"$LOG" 2>&1 || status=$?
grep -E '^# (tests|pass|fail)' "$LOG" || true
if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$LOG"; then
  grep -E -A20 'ERROR: AddressSanitizer|runtime error:' "$LOG" | head -60 >&2
  echo "sanitize: sanitizer reports above (full log: $LOG)" >&2
  exit 1
fi
if [[ $status -ne 0 ]]; then
  grep -E '^not ok' "$LOG" >&2 || tail -30 "$LOG" >&2
  echo "sanitize: kernel tests failed (full log: $LOG)" >&2
  exit 1
fi
echo "sanitize: no AddressSanitizer or UndefinedBehaviorSanitizer report; kernel tests pass"
