# Sourced by every script: where the project's pinned tools live, so no tool downloads anything.
# worker-build would fetch wasm-bindgen, esbuild and wasm-opt from outside the package registries;
# these variables point it at the ones scripts/setup.sh installed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
# The wasm-bindgen that PATH finds (setup.sh checks its version), wherever cargo installed it.
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen || echo "$CARGO_BIN/wasm-bindgen")"
export ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export WRANGLER_SEND_METRICS=false
export WRANGLER_HIDE_BANNER=true
# The exact wasm-bindgen version pinned in Cargo.toml; the CLI must equal it.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' "$ROOT/Cargo.toml")"
WORKER_BUILD_VERSION="0.8.7"
SDK_VERSION="$(sed -n 's/^  "version": "\(.*\)",/\1/p' "$ROOT/sdk/npm/package.json")"
log() { printf '\033[1m[sightline]\033[0m %s\n' "$*" >&2; }
