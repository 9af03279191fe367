#!/usr/bin/env bash
# The train-once experiment (docs/results.md, "Train once"): for every size m
# of the default ladder, train an independent model with only that size
# (--dims m; same features, schedule and seed as the default), then put the
# independent models beside the nested run's slices with fmrlrec report.
#
#   npm run train-once -- <dataset> <nested-run> [runs-folder]
#
# <nested-run> is the default run of the same dataset (npm run e2e -- <dataset>,
# or fmrlrec train --data ... --out <nested-run>). Data: $FMRLREC_DATA_DIR/<dataset>
# (default ../shared/data). Independent runs go to <runs-folder>/<dataset>-m<m>
# (default runs/train-once); the report to <runs-folder>/<dataset>-report.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
nested="${2:-}"
root="${3:-runs/train-once}"
if [ -z "$name" ] || [ -z "$nested" ]; then
  echo "usage: npm run train-once -- <dataset> <nested-run> [runs-folder]" >&2
  exit 2
fi
data="${FMRLREC_DATA_DIR:-../shared/data}/$name"
if [ ! -f "$data/sequential_data.txt" ]; then
  echo "train-once: no $name data at $data (set FMRLREC_DATA_DIR; see README, 'Real datasets')" >&2
  exit 1
fi
if [ ! -f "$nested/metrics.json" ]; then
  echo "train-once: $nested/metrics.json not found: train the nested run first (npm run e2e -- $name)" >&2
  exit 1
fi
runs=("$nested")
for m in 8 16 32 64 128 256; do
  out="$root/$name-m$m"
  if [ -f "$out/metrics.json" ]; then
    echo "== $name, size $m: $out/metrics.json exists, kept"
  else
    rm -rf "$out"
    echo "== $name, size $m alone: $(date -u +%FT%TZ)"
    node dist/src/cli/main.js train --data "$data" --out "$out" --name "$name" --dims "$m" --no-progress
  fi
  runs+=("$out")
done
node dist/src/cli/main.js report --runs "$(IFS=,; echo "${runs[*]}")" --out "$root/$name-report"
