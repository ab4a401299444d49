#!/usr/bin/env bash
# The project's test command (README, .ci/run): prepare the machine, then run every vitest suite.
# Extra arguments go to vitest (e.g. `bash scripts/test.sh test/unit`); its exit code is ours.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx vitest run "$@"
