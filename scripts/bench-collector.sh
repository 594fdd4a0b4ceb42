#!/usr/bin/env bash
# npm run bench:collector: the collector's native costs (enrich stage, request path, consumer), then
# bench/collector.mjs twice against `wrangler dev` (own port and local D1; BENCH=1 serves the empty
# baseline route): first the whole worker — D1 rows written per event on the synthetic mix, and
# requests/s with p50/p99 for 1- and 50-event bodies, collector beside empty route, while the
# consumer stores what is accepted on the same cores — then the same worker without its queue
# consumers: the request path alone. Loopback only, bounded in time.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${BENCH_PORT:-8796}"
STATE="$ROOT/.wrangler/bench-state"
LOG="$ROOT/.wrangler/bench-dev.log"

bash scripts/setup.sh
[ -d www/dist ] || bash scripts/build.sh --no-worker
rm -rf "$STATE"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE" >/dev/null
if curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is in use: set BENCH_PORT" >&2
  exit 1
fi
ADMIN_TOKEN="bench-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
DEV_PID=""
stop_dev() { [ -z "$DEV_PID" ] || kill -TERM -- "-$DEV_PID" 2>/dev/null || true; DEV_PID=""; }
trap stop_dev EXIT
# The worker, built once with the `test-hooks` feature (which has the empty route), served as built
# (configs without the [build] step: no watcher restarting it mid-run; see env.sh).
log "building the worker with its test hooks"
SIGHTLINE_TEST_HOOKS=1 bash scripts/build-worker.sh >/dev/null
# start_dev CONFIG: a wrangler dev on $PORT with the bench state and BENCH=1 (the empty route).
start_dev() {
  setsid npx wrangler dev -c "$1" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
    --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var "BENCH:1" --show-interactive-dev-session=false >"$LOG" 2>&1 &
  DEV_PID=$!
  wait_healthy "$PORT" "$DEV_PID" "$LOG"
}
# The same worker without its queue consumers: the request path measured alone (on Cloudflare the
# consumer runs in invocations of its own; here it would share the machine's two cores).
FULL_TOML="$ROOT/wrangler.bench-full.toml"
BENCH_TOML="$ROOT/wrangler.bench.toml"
without_build_step >"$FULL_TOML"
without_build_step '/^\[\[queues.consumers\]\]/{skip=1; next}' >"$BENCH_TOML"
trap 'stop_dev; rm -f "$FULL_TOML" "$BENCH_TOML"' EXIT

log "enrich stage, native (first call builds the tables, as an isolate's first request does)"
cargo run -q --release -p sightline-core --features server --example enrich_cost
log "collector's pure code, native (request path per beacon, consumer per event)"
cargo run -q --profile worker -p sightline-core --features server --example collect_cost

export SIGHTLINE_BASE="http://127.0.0.1:$PORT" SIGHTLINE_STATE="$STATE" SIGHTLINE_ADMIN_TOKEN="$ADMIN_TOKEN" \
  SIGHTLINE_DEV_LOG="$LOG" BENCH_RESULTS="$ROOT/.wrangler/bench-collector.json"
rm -f "$BENCH_RESULTS"
log "collector benchmark, with its queue consumer (http://127.0.0.1:$PORT)"
start_dev "$FULL_TOML"
BENCH_PHASE=with-consumer node bench/collector.mjs
stop_dev
log "collector benchmark, request path alone (the same worker without queue consumers)"
start_dev "$BENCH_TOML"
BENCH_PHASE=request-path node bench/collector.mjs
