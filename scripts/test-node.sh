#!/usr/bin/env bash
# Private dockerd test nodes in network namespaces (root only). A thin wrapper over
# test/support/test-node/cli.ts; `scripts/test-node.sh --help` lists the commands:
#   up [--nodes N] [--images a,b] [--swarm [--managers M]] [--live-restore]   make a cluster (kept)
#   exec SLOT NODE -- CMD...        run CMD in the node's network namespace, DOCKER_HOST set
#   dockerd SLOT NODE stop|kill|start|restart|pause|resume
#   list | down SLOT... | sweep [--all]
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx test/support/test-node/cli.ts "$@"
