#!/usr/bin/env bash
# npm run bench:reports: p50/p95 latency and D1 rows read per request of the stats reports, for a
# busy site, on a local `wrangler dev` (own port, BENCH_PORT, 8797 by default, and a fresh local D1).
# The site — a year of rollups and 30 days of raw events and visits at 100 000 events a day — is
# made by core/examples/busy_site.rs through core's own collector and consumer path, as SQL
# (kept in .wrangler/bench-reports-seed/ and made again when the seeder binary or the UTC date
# changes), loaded by bench/load-d1.mjs, its closed weeks and months summed (the cron's
# compaction, run on demand to the end); the worker, built once with its test hooks (which add
# the `X-D1-Rows-Read` header), is served as built; bench/reports.mjs measures and prints the table
# and writes .wrangler/bench-reports.json. BENCH_DAYS / BENCH_EVENTS_PER_DAY make a smaller site
# (quick runs while tuning); BENCH_RUNS, BENCH_WARMUP, BENCH_QUERY_SECONDS shape the measurement.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${BENCH_PORT:-8797}"
DAYS="${BENCH_DAYS:-365}"
PER_DAY="${BENCH_EVENTS_PER_DAY:-100000}"
STATE="$ROOT/.wrangler/bench-reports-state"
SEED="$ROOT/.wrangler/bench-reports-seed"
LOG="$ROOT/.wrangler/bench-reports-dev.log"
TOML="$ROOT/wrangler.bench-reports.toml"

bash scripts/setup.sh --with-browser
# The storefront and dashboard as built now (the dashboard's first load is measured too).
bash scripts/build.sh --no-worker
if curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is in use: set BENCH_PORT" >&2
  exit 1
fi
mkdir -p "$ROOT/.wrangler"

log "building the worker with its test hooks, and the seeder"
SIGHTLINE_TEST_HOOKS=1 bash scripts/build-worker.sh >"$ROOT/.wrangler/bench-reports-build.log" 2>&1 ||
  { cat "$ROOT/.wrangler/bench-reports-build.log"; exit 1; }
cargo build -q --release -p sightline-core --features server --example busy_site
SEEDER="$ROOT/target/release/examples/busy_site"

# The seed is relative to its UTC day (the last day ends at the time it was made): made again on
# another day, by another seeder, or for another size.
STAMP="$(sha256sum "$SEEDER" | cut -c1-16) $(date -u +%F) $DAYS $PER_DAY"
if [ "$(cat "$SEED/stamp" 2>/dev/null)" != "$STAMP" ]; then
  log "seeding the busy site: $DAYS days, $PER_DAY events a day (core's collector and consumer path)"
  rm -rf "$SEED"
  SECONDS=0
  "$SEEDER" "$SEED" "$(date +%s%3N)" "$DAYS" "$PER_DAY" >/dev/null
  echo "$STAMP" >"$SEED/stamp"
  log "seeded in ${SECONDS} s ($(du -sh "$SEED" | cut -f1) of SQL)"
else
  log "the busy site's seed of today is in $SEED"
fi

rm -rf "$STATE"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE" >/dev/null
SECONDS=0
node bench/load-d1.mjs "$STATE" "$SEED"/site.sql "$SEED"/rollups-*.sql "$SEED"/sessions-*.sql "$SEED"/events-*.sql "$SEED"/recent-*.sql
LOAD_SECONDS=$SECONDS
log "loaded into local D1 in ${LOAD_SECONDS} s ($(du -sh "$STATE" | cut -f1))"

DEV_PID=""
stop_dev() { [ -z "$DEV_PID" ] || kill -TERM -- "-$DEV_PID" 2>/dev/null || true; DEV_PID=""; }
without_build_step >"$TOML"
trap 'stop_dev; rm -f "$TOML"' EXIT
log "starting wrangler dev on 127.0.0.1:$PORT"
ADMIN_TOKEN="bench-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
setsid npx wrangler dev -c "$TOML" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --show-interactive-dev-session=false >"$LOG" 2>&1 &
DEV_PID=$!
wait_healthy "$PORT" "$DEV_PID" "$LOG"

# The cron's compaction, run to the end (what a site that has been live a year has): closed weeks
# and months summed from their days, and each closed day's block built from its raw events.
log "summing closed weeks and months, building day blocks (POST /api/admin/compact until nothing is due)"
SECONDS=0
# A pass that builds blocks after many summing passes can leave the isolate over its memory
# (workerd restarts it: the next request answers 503 "worker restarted mid-request"); the pass is
# idempotent and guarded, so it is asked again, as the next cron run would (an open defect).
restarts=0
for _ in $(seq 1 100); do
  answer="$(curl -s -m 300 -X POST -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/api/admin/compact")"
  case "$answer" in
    *'restarted mid-request'*) restarts=$((restarts + 1)); [ "$restarts" -le 20 ] && continue ;;
  esac
  case "$answer" in *'"blocks"'*) ;; *) echo "compaction failed: $answer"; tail -30 "$LOG"; exit 1 ;; esac
  # Both passes done: the periods' `due` and the blocks' `due` are 0.
  [ "$(grep -o '"due":0' <<<"$answer" | wc -l)" -ge 2 ] && break
done
COMPACT_SECONDS=$SECONDS
log "summed and built in ${COMPACT_SECONDS} s ($restarts worker restarts): $answer"

log "reports benchmark (http://127.0.0.1:$PORT)"
SIGHTLINE_BASE="http://127.0.0.1:$PORT" BENCH_SEED_SUMMARY="$SEED/summary.json" BENCH_LOAD_SECONDS="$LOAD_SECONDS" BENCH_COMPACT_SECONDS="$COMPACT_SECONDS" BENCH_ADMIN_TOKEN="$ADMIN_TOKEN" \
  BENCH_RESULTS="$ROOT/.wrangler/bench-reports.json" node bench/reports.mjs
