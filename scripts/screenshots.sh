#!/usr/bin/env bash
# npm run screenshots: builds everything, serves the worker with a fresh local D1 on 127.0.0.1,
# fills a demo shop with a month of generated traffic (tests/traffic/generate.mjs), and writes
# what a first-time user sees — the dashboard at 1280 px and 375 px, light and dark — to
# docs/screenshots/ (scripts/screenshots.mjs).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${SCREENSHOTS_PORT:-8797}"
STATE="$ROOT/.wrangler/screenshots-state"

bash scripts/setup.sh --with-browser
bash scripts/build.sh --no-worker
bash scripts/build-worker.sh >/dev/null
TOML="$ROOT/wrangler.screenshots.toml"
# Without the rate limits: two months of a shop's traffic, replayed in a minute or two from a few
# address blocks, is far over the per-address limit a real visitor never meets.
without_build_step '/^\[\[ratelimits\]\]/{skip=1; next}' >"$TOML"
rm -rf "$STATE"
npx wrangler d1 migrations apply DB --local --persist-to "$STATE" >/dev/null
node scripts/seed-local.mjs --persist-to "$STATE"
ADMIN_TOKEN="screens-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
setsid npx wrangler dev -c "$TOML" --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" \
  --var "ADMIN_TOKEN:$ADMIN_TOKEN" --show-interactive-dev-session=false >"$ROOT/.wrangler/screenshots-dev.log" 2>&1 &
DEV_PID=$!
trap 'kill -TERM -- "-$DEV_PID" 2>/dev/null || true; rm -f "$TOML"' EXIT
wait_healthy "$PORT" "$DEV_PID" "$ROOT/.wrangler/screenshots-dev.log"
SIGHTLINE_BASE="http://127.0.0.1:$PORT" SIGHTLINE_STATE="$STATE" SIGHTLINE_ADMIN_TOKEN="$ADMIN_TOKEN" \
  node scripts/screenshots.mjs
