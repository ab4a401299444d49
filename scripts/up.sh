#!/usr/bin/env bash
# Quick start: prepare the machine, then run the AutoServe daemon on ./manifests with state in
# ./state. Extra arguments go to `autoserve run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/cli/main.js run --manifests manifests --state state "$@"
