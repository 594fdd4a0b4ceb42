#!/usr/bin/env bash
# npm start: installs what is missing, builds everything, prepares the local D1 (migrations + the demo
# site), and serves the worker, storefront and dashboard on http://127.0.0.1:${PORT:-8787}.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PORT="${PORT:-8787}"

bash scripts/setup.sh
bash scripts/build.sh --no-worker
log "applying migrations to the local D1"
npx wrangler d1 migrations apply DB --local >/dev/null
node scripts/seed-local.mjs
# The admin API's token for local development, made once and kept in .dev.vars (git-ignored).
if ! grep -qs '^ADMIN_TOKEN=' .dev.vars; then
  echo "ADMIN_TOKEN=local-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >>.dev.vars
fi
ADMIN_TOKEN="$(grep '^ADMIN_TOKEN=' .dev.vars | head -1 | cut -d= -f2-)"

cat <<INFO

  Sightline is starting on http://127.0.0.1:$PORT
    storefront   http://127.0.0.1:$PORT/
    dashboard    http://127.0.0.1:$PORT/dashboard/?period=day#site=demo&token=dev-demo-token  (today: what you just did in the shop)
    loader       http://127.0.0.1:$PORT/sightline.js
    demo site    id "demo", read token "dev-demo-token", write token "dev-demo-write-token"
                 (server-side events; local D1 only)
    admin API    http://127.0.0.1:$PORT/api/admin/  token "$ADMIN_TOKEN" (in .dev.vars)
                 or: npm run site -- create shop --tenant local --domain shop.example

INFO
exec npx wrangler dev --ip 127.0.0.1 --port "$PORT" --show-interactive-dev-session=false
