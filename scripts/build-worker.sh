#!/usr/bin/env bash
# Builds the worker into edge-worker/build/ (wrangler's [build] command) with the local tools.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/edge-worker"
worker-build --profile worker
