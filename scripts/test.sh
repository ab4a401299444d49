#!/usr/bin/env bash
# The project's test command (README, .ci/run): prepare the machine, then run every vitest suite.
# Extra arguments go to vitest (e.g. `bash scripts/test.sh test/unit`); its exit code is ours.
# `--cluster` runs the Swarm tests instead (test/**/*.cluster.test.ts: Swarm traffic, three test-node
# engines and two controllers on this machine; several minutes, run alone; docs/cluster.md).
# Type-checks src/, test/ and bench/ first. Ends with one plain line "tests: N passed, N failed" from vitest's JSON report.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == --cluster ]]; then
  shift
  export AUTOSERVE_CLUSTER=1
fi
bash scripts/setup.sh
# Tests and benchmarks are type-checked too (vitest only strips types): a test that no longer
# matches the code it drives fails here, by name, instead of passing for the wrong reason.
npm run --silent typecheck
report=$(mktemp /tmp/autoserve-vitest.XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$report" 2>/dev/null || true
exit "$status"
