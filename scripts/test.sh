#!/usr/bin/env bash
# npm test: installs what is missing (Chromium included), checks format and lints, runs the Rust unit
# tests, builds everything, then runs the end-to-end suite in Chromium against a real `wrangler dev`
# with a fresh local D1 (the worker built with its test hooks), and finally checks that
# `wrangler deploy --dry-run` builds with its bindings and that this deployable build, served with
# every test variable set, has no test hook and refuses an oversized chunked body before it ends.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${TEST_PORT:-8799}"
STATE="$ROOT/.wrangler/test-state"

bash scripts/setup.sh --with-browser

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy (native and wasm32)"
cargo clippy -q -p sightline-core --features server --all-targets -- -D warnings
cargo clippy -q -p sightline-sdk --all-targets -- -D warnings
cargo clippy -q -p sightline-sdk -p sightline-edge-worker --target wasm32-unknown-unknown -- -D warnings
cargo clippy -q -p sightline-edge-worker --target wasm32-unknown-unknown --features test-hooks -- -D warnings

log "cargo test (core and SDK policy, native)"
cargo test -q -p sightline-core --features server
cargo test -q -p sightline-sdk
log "the dashboard's pure modules (node --test tests/unit/)"
node --test tests/unit/

bash scripts/build.sh --no-worker

# The worker is built once, with its test hooks, and served as built (a config without the [build]
# step: see without_build_step in env.sh).
log "building the worker with its test hooks"
mkdir -p "$ROOT/.wrangler"
SIGHTLINE_TEST_HOOKS=1 bash scripts/build-worker.sh >"$ROOT/.wrangler/test-build.log" 2>&1 ||
  { cat "$ROOT/.wrangler/test-build.log"; exit 1; }
TEST_TOML="$ROOT/wrangler.test.toml"
without_build_step >"$TEST_TOML"

log "starting wrangler dev on 127.0.0.1:$PORT with a fresh local D1"
rm -rf "$STATE"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE" >/dev/null
node scripts/seed-local.mjs --persist-to "$STATE"
if curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is already in use: stop what runs there or set TEST_PORT" >&2
  exit 1
fi
# A fresh admin token per run, given to the worker as a var and to the suite. FAULTS makes the worker
# fail 30 % of collect requests and of queue batches, for `fault-` sites only (the fault tests);
# TEST_ROUTES=1 serves POST /api/admin/test/consume (the consumer's write on demand, for the concurrent
# consumers test); RETRY_MAX_DELAY_S=2 keeps queue retries short (the outage test outlasts them
# all); --test-scheduled exposes the cron at /__scheduled. The worker was built with the
# `test-hooks` feature, without which none of these exist.
ADMIN_TOKEN="test-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# GA4 and Umami cannot run here: a local recording sink (tests/sink/) stands in for both, checks
# every payload it receives, and can be told to fail. The worker forwards to it (GA4_ENDPOINT,
# UMAMI_HOST), with a global GA4 API secret and one site's own (GA_API_SECRET_fwd_2Down, site fwd-own's).
SINK_PORT=$((PORT + 2))
if curl -s -m 2 -o /dev/null "http://127.0.0.1:$SINK_PORT/"; then
  echo "port $SINK_PORT (the forwarding sink) is already in use" >&2
  exit 1
fi
node tests/sink/server.mjs "$SINK_PORT" >"$ROOT/.wrangler/test-sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 1 50); do curl -s -m 1 -o /dev/null "http://127.0.0.1:$SINK_PORT/recorded" && break; sleep 0.1; done
# Its own process group (setsid), so the cleanup ends wrangler and the workerd it spawns, all of them.
setsid npx wrangler dev -c "$TEST_TOML" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" --var "ADMIN_TOKEN:$ADMIN_TOKEN" \
  --var "FAULTS:collect=0.3,consumer=0.3" --var "TEST_ROUTES:1" --var "RETRY_MAX_DELAY_S:2" --test-scheduled \
  --var "GA4_ENDPOINT:http://127.0.0.1:$SINK_PORT/ga4" --var "UMAMI_HOST:http://127.0.0.1:$SINK_PORT/umami" \
  --var "GA_API_SECRET:sink-global-key" --var "GA_API_SECRET_fwd_2Down:sink-own-key" \
  --show-interactive-dev-session=false >"$ROOT/.wrangler/test-dev.log" 2>&1 &
DEV_PID=$!
cleanup() {
  [ -z "$DEV_PID" ] || kill -TERM -- "-$DEV_PID" 2>/dev/null || true; DEV_PID=""
  [ -z "${SINK_PID:-}" ] || kill "$SINK_PID" 2>/dev/null || true; SINK_PID=""
}
trap 'cleanup; rm -f "$TEST_TOML"' EXIT
wait_healthy "$PORT" "$DEV_PID" "$ROOT/.wrangler/test-dev.log"

log "end-to-end suite (node --test + playwright-core + Chromium)"
SIGHTLINE_BASE="http://127.0.0.1:$PORT" SIGHTLINE_STATE="$STATE" SIGHTLINE_ADMIN_TOKEN="$ADMIN_TOKEN" \
  SIGHTLINE_DEV_LOG="$ROOT/.wrangler/test-dev.log" SIGHTLINE_SINK="http://127.0.0.1:$SINK_PORT" \
  node --test --test-concurrency=1 tests/e2e/

cleanup

log "wrangler deploy --dry-run"
DRY="$(mktemp -d)"
npx wrangler deploy --dry-run --outdir "$DRY" >"$DRY.log" 2>&1 || { cat "$DRY.log"; exit 1; }
grep -q "env.DB (sightline)" "$DRY.log" || { cat "$DRY.log"; echo "D1 binding missing"; exit 1; }
log "dry run ok: $(du -ck "$DRY"/*.wasm | tail -1 | cut -f1) KiB of worker wasm, D1 binding DB declared"

# The deployable build (the dry run's, in edge-worker/build/) served as it is (a config without the
# [build] step) with every test variable set: the test routes, the bench route and fault injection
# must not exist in it.
DEPLOY_PORT=$((PORT + 1))
log "the deployable build has no test hooks (wrangler dev on 127.0.0.1:$DEPLOY_PORT, TEST_ROUTES, BENCH, FAULTS set)"
DEPLOY_TOML="$ROOT/wrangler.deploy-check.toml"
without_build_step >"$DEPLOY_TOML"
trap 'cleanup; rm -f "$TEST_TOML" "$DEPLOY_TOML"' EXIT
setsid npx wrangler dev -c "$DEPLOY_TOML" --ip 127.0.0.1 --port "$DEPLOY_PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --var "FAULTS:collect=1,consumer=1" --var "TEST_ROUTES:1" --var "BENCH:1" \
  --show-interactive-dev-session=false >"$ROOT/.wrangler/test-deploy-dev.log" 2>&1 &
DEV_PID=$!
wait_healthy "$DEPLOY_PORT" "$DEV_PID" "$ROOT/.wrangler/test-deploy-dev.log" 120
# expect STATUS CODE METHOD PATH [curl args...]: the answer has this status and error code.
expect() {
  local status="$1" code="$2" method="$3" path="$4" got; shift 4
  got="$(curl -s -m 10 -o "$DRY/answer.json" -w '%{http_code}' -X "$method" "http://127.0.0.1:$DEPLOY_PORT$path" "$@")" || true
  if [ "$got" != "$status" ] || ! grep -q "\"error\":\"$code\"" "$DRY/answer.json"; then
    echo "deploy build: $method $path answered $got $(cat "$DRY/answer.json"), expected $status $code" >&2
    cat "$ROOT/.wrangler/test-deploy-dev.log" >&2
    exit 1
  fi
}
expect 404 not_found POST /api/admin/test/consume -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H "Content-Type: application/json" -d '{}'
expect 404 not_found POST /api/bench/empty -H "Content-Type: text/plain" -d '{}'
# A fault- site with FAULTS at 100 %: with hooks every beacon would be a 503; here the gate answers.
expect 403 unknown_site POST /api/collect -H "Content-Type: text/plain" -H "Origin: http://localhost" \
  -d '{"v":1,"site":"fault-deploy-check","events":[{"id":"e1","ts":1,"name":"pageview","url":"http://localhost/"}]}'
log "the deployable build refuses a chunked body over the limit while it arrives (tests/deploy/)"
SIGHTLINE_BASE="http://127.0.0.1:$DEPLOY_PORT" node --test tests/deploy/ || { cat "$ROOT/.wrangler/test-deploy-dev.log" >&2; exit 1; }
cleanup
log "deploy build ok: no test routes, no bench route, no fault injection, bodies bounded while read"
