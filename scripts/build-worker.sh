#!/usr/bin/env bash
# Builds the worker into edge-worker/build/ (wrangler's [build] command) with the local tools.
# SIGHTLINE_TEST_HOOKS=1 (set by scripts/test.sh and scripts/bench-collector.sh, which run this
# before serving the build) adds the cargo feature `test-hooks`: the test routes, the bench route
# and fault injection. `wrangler deploy` runs this without it, so the deployable worker has none.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/edge-worker"
FEATURES=()
[ "${SIGHTLINE_TEST_HOOKS:-}" != 1 ] || FEATURES=(--features test-hooks)
worker-build --profile worker "${FEATURES[@]}"
