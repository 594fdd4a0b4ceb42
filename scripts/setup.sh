#!/usr/bin/env bash
# Installs what the project needs, once; a warm second run skips every step.
# Usage: scripts/setup.sh [--with-browser]   (--with-browser adds what the tests need from Debian:
# Chromium, and promtool from the prometheus package for the /metrics and ops/ checks)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  log "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --force
fi

lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.sightline-lock 2>/dev/null)" != "$lock_sum" ]; then
  # `npm install` (not `npm ci`): npm 11's ci rejects this lock over optional per-platform packages.
  log "installing npm packages"
  npm install --no-audit --no-fund
  echo "$lock_sum" > node_modules/.sightline-lock
fi

if [ "${1:-}" = "--with-browser" ] && { [ ! -x /usr/bin/chromium ] || ! command -v promtool >/dev/null; }; then
  log "installing Chromium and promtool (prometheus) from Debian"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver prometheus >/dev/null
fi
log "tools ready"
