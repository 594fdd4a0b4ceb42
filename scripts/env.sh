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
# without_build_step [AWK_PROGRAM]: wrangler.toml on stdout without its [build] section (and, given a
# program, without what it skips too). A wrangler dev on such a config serves edge-worker/build/ as
# it is: no watcher, so no rebuild and no worker restart in the middle of a test or benchmark
# (wrangler dev's watcher fires once soon after start even when nothing changed, restarting the
# worker under whatever request is in flight: "Your worker restarted mid-request").
without_build_step() {
  awk "/^\\[build\\]/{skip=1; next} ${1:-} /^\\[/{skip=0} !skip" "$ROOT/wrangler.toml"
}
# wait_healthy PORT PID LOG [SECONDS]: waits (polling each second, at most SECONDS, 600 by default)
# until the wrangler dev on PORT answers /api/health; if its process PID ends first or it never
# answers, prints LOG and exits.
wait_healthy() {
  for _ in $(seq 1 "${4:-600}"); do
    curl -sf -m 2 "http://127.0.0.1:$1/api/health" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3"; exit 1; }
    sleep 1
  done
  cat "$3"; exit 1
}
