#!/usr/bin/env bash
# Autoscaling benchmark: replays bench/traces/{step,spike,daily}.csv through AutoServe's policy and the
# HPA baseline (same manifest, same target) and prints a markdown table. Run from the repo root:
#   bash bench/simulate.sh            (extra flags go to `autoserve simulate`, e.g. --startup-seconds 10)
#   MANIFEST=bench/traces/app-tuned.yaml bash bench/simulate.sh   (another manifest; default: the seed defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
manifest="${MANIFEST:-bench/traces/app.yaml}"
echo '| trace | policy | seconds over SLO | replica-seconds | max replicas | direction changes |'
echo '|---|---|---:|---:|---:|---:|'
for trace in step spike daily; do
  npx tsx src/cli/main.ts simulate --manifest "$manifest" --trace "bench/traces/$trace.csv" --baseline hpa -o markdown "$@"
done
