#!/usr/bin/env bash
# Builds the SDK (wasm + npm tarball), the storefront and dashboard (Vite, installing the SDK from
# its packed tarball), the hosted loader, and the worker.
# Usage: scripts/build.sh [--no-worker]   (npm start and npm test pass it: `wrangler dev` runs the
# worker's build itself, as its [build] command, and building it twice costs ~15 s)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

log "building the SDK (wasm: default, and full with web vitals and auto-capture)"
rm -rf sdk/pkg && mkdir -p sdk/pkg/wasm sdk/dist
# No wasm-bindgen step: the wasm's imports are a dozen functions written in sdk/npm/index.js (see
# sdk/src/browser.rs). Rust's default wasm32 features, named (their custom section is then
# stripped): `--all-features` would also emit binaryen's compact imports, which Chromium refuses
# ("Invalid import kind 127").
for variant in sightline:"" sightline-full:"--features extras"; do
  # shellcheck disable=SC2086 # the feature flags are two words on purpose
  cargo build -q -p sightline-sdk --release --target wasm32-unknown-unknown ${variant#*:}
  # --low-memory-unused: the first KB of memory is never used (Rust's stack sits below the data at
  # 1 MB and grows down), so address arithmetic folds into load/store offsets.
  wasm-opt -Oz --low-memory-unused --enable-bulk-memory --enable-bulk-memory-opt --enable-reference-types \
    --enable-multivalue --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals \
    --enable-call-indirect-overlong --strip-debug --strip-producers --strip-target-features --converge \
    target/wasm32-unknown-unknown/release/sightline_sdk.wasm -o "sdk/pkg/wasm/${variant%%:*}.wasm"
  # The panic handler traps without reading its message: the message data is zeroed (see the script).
  node scripts/zero-panic-data.mjs "sdk/pkg/wasm/${variant%%:*}.wasm" >/dev/null
done
cp sdk/npm/package.json sdk/npm/index.d.ts sdk/npm/README.md sdk/pkg/
# The hand-written JS ships minified (esbuild comes with wrangler); sdk/npm/ keeps the readable source.
esbuild sdk/npm/index.js --minify --format=esm --log-level=warning --outfile=sdk/pkg/index.js
# The hosted <script> (loader.js) is one classic script with the wrapper bundled in: one download
# and one gzip stream. There the wrapper's `import.meta.url` is hosted.js's `sdkUrl`, the versioned
# SDK copy beside the script, whose wasm it loads.
esbuild sdk/npm/loader.js --bundle --format=iife --minify --log-level=warning \
  --inject:sdk/npm/hosted.js --define:import.meta.url=sdkUrl --define:SDK_VERSION="\"$SDK_VERSION\"" \
  --outfile=sdk/pkg/loader.js
rm -f sdk/dist/*.tgz
(cd sdk/pkg && npm pack --silent --pack-destination ../dist >/dev/null)
mv sdk/dist/sightline-sdk-*.tgz sdk/dist/sightline-sdk.tgz

log "building the storefront and dashboard (SDK from sdk/dist/sightline-sdk.tgz)"
rm -rf www/node_modules/@sightline
(cd www && npm install --no-package-lock --no-audit --no-fund --silent)
vite build www --logLevel warn
# The collector also hosts the loader and a versioned copy of the SDK, as the tarball ships them.
mkdir -p "www/dist/sdk/$SDK_VERSION"
cp -r www/node_modules/@sightline/sdk/{index.js,wasm} "www/dist/sdk/$SDK_VERSION/"
cp www/node_modules/@sightline/sdk/loader.js www/dist/sightline.js

if [ "${1:-}" != "--no-worker" ]; then
  log "building the worker"
  bash scripts/build-worker.sh >/dev/null
fi
