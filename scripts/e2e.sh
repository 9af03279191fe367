#!/usr/bin/env bash
# The long real-data runs (tens of minutes each): train the default
# configuration on one Amazon dataset, evaluate every size, and check that
# `eval` reproduces metrics.json; "all" does the four datasets one after
# another and ends with a summary table (fmrlrec report).
#
#   npm run e2e -- beauty|sports|toys|clothing|all [runs-folder]
#
# Data: $FMRLREC_DATA_DIR/<dataset> (default ../shared/data). Runs go to
# <runs-folder>/<dataset> (default runs/e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
DATASETS=(beauty sports toys clothing)
which="${1:-}"
root="${2:-runs/e2e}"
case "$which" in
  all) chosen=("${DATASETS[@]}") ;;
  beauty|sports|toys|clothing) chosen=("$which") ;;
  *) echo "usage: npm run e2e -- beauty|sports|toys|clothing|all [runs-folder]" >&2; exit 2 ;;
esac
data_root="${FMRLREC_DATA_DIR:-../shared/data}"
for name in "${chosen[@]}"; do
  if [ ! -f "$data_root/$name/sequential_data.txt" ]; then
    echo "e2e: no $name data at $data_root/$name (set FMRLREC_DATA_DIR; see README, 'Real datasets')" >&2
    exit 1
  fi
done
runs=()
for name in "${chosen[@]}"; do
  out="$root/$name"
  rm -rf "$out"
  echo "== $name: $(date -u +%FT%TZ)"
  node dist/src/cli/main.js train --data "$data_root/$name" --out "$out" --name "$name"
  node dist/src/cli/main.js eval --run "$out"
  runs+=("$out")
done
if [ "${#runs[@]}" -gt 1 ]; then
  node dist/src/cli/main.js report --runs "$(IFS=,; echo "${runs[*]}")" --out "$root/report"
fi
