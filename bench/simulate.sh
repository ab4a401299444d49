#!/usr/bin/env bash
# Autoscaling benchmark: replays every trace of the library (bench/traces/*.csv) through AutoServe's
# default policy, the HPA-like and KPA-like baselines and the oracle (same manifest, same target),
# writes one JSON result per trace, and prints one markdown table with the targets of issue 12.
# Run from anywhere:
#   bash bench/simulate.sh                 the library, manifest bench/traces/app.yaml (the seed defaults)
#   HOLDOUT=1 bash bench/simulate.sh       also the held-out traces (bench/traces/holdout/)
#   HOLDOUT=2 bash bench/simulate.sh       also the second held-out set (bench/traces/holdout2/)
#   OUT=DIR bash bench/simulate.sh         keep the JSON results in DIR (default: a temp dir)
#   REPORT=1 bash bench/simulate.sh        also an HTML page per trace (charts per policy) in that dir
#   bash bench/simulate.sh --startup-seconds 15    extra flags go to `autoserve simulate`
#   MANIFEST=other.yaml bash bench/simulate.sh     another manifest
set -euo pipefail
cd "$(dirname "$0")/.."
manifest="${MANIFEST:-bench/traces/app.yaml}"
out="${OUT:-$(mktemp -d /tmp/autoserve-simulate.XXXXXX)}"
mkdir -p "$out"
traces=(bench/traces/*.csv)
(( ${HOLDOUT:-0} >= 1 )) && traces+=(bench/traces/holdout/*.csv)
(( ${HOLDOUT:-0} >= 2 )) && traces+=(bench/traces/holdout2/*.csv)
for trace in "${traces[@]}"; do
  name=$(basename "$trace" .csv)
  report=()
  [[ "${REPORT:-0}" == 1 ]] && report=(--report "$out/$name.html")
  npx tsx src/cli/main.ts simulate --manifest "$manifest" --trace "$trace" --baseline hpa,kpa -o json "${report[@]}" "$@" >"$out/$name.json"
done
npx tsx bench/simulate-table.ts "${traces[@]/#/--trace=}" --results "$out"
echo "results (JSON${REPORT:+, HTML}): $out" >&2
