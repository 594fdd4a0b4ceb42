#!/usr/bin/env bash
# npm run bench:collector: a fresh `wrangler dev` (own port and local D1, BENCH=1 serves the empty
# baseline route), then bench/collector.mjs: D1 rows written per event on the synthetic mix, and
# requests/s with p50/p99 for 1- and 50-event bodies against the collector and the empty route.
# Loopback only, bounded in time. Also the enrich stage's cost per call, natively.
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
setsid npx wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var "BENCH:1" --show-interactive-dev-session=false >"$LOG" 2>&1 &
DEV_PID=$!
trap 'kill -TERM -- "-$DEV_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf -m 2 "http://127.0.0.1:$PORT/api/health" >/dev/null && break
  kill -0 "$DEV_PID" 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 1
done

log "enrich stage, native (first call builds the tables, as an isolate's first request does)"
cargo run -q --release -p sightline-core --features server --example enrich_cost
log "collector benchmark against http://127.0.0.1:$PORT"
SIGHTLINE_BASE="http://127.0.0.1:$PORT" SIGHTLINE_STATE="$STATE" SIGHTLINE_ADMIN_TOKEN="$ADMIN_TOKEN" \
  SIGHTLINE_DEV_LOG="$LOG" node bench/collector.mjs
