#!/usr/bin/env bash
# npm run fuzz: fuzzes the wire parser and the pure pipeline behind it (fuzz/fuzz_targets/wire.rs) for
# FUZZ_SECONDS (default 60); exits non-zero when an input makes it panic (saved under fuzz/artifacts/).
# Installs cargo-fuzz once. Not part of `npm test`: it runs for a fixed time, not to a verdict.
#
# On stable Rust: cargo-fuzz's default AddressSanitizer needs `-Zsanitizer` (nightly only; rustc
# refuses it: "the option `Z` is only accepted on the nightly compiler"). `--sanitizer none` passes
# only stable flags (`-Cpasses=sancov-module` and `-Cllvm-args=-sanitizer-coverage-*`), so no
# RUSTC_BOOTSTRAP is needed; core is safe Rust, and what we look for is panics and broken invariants.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
CARGO_FUZZ_VERSION="0.13.2"
SECONDS_TO_RUN="${FUZZ_SECONDS:-60}"

if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes, once)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
fi

# Release build with debug assertions (cargo-fuzz's default), into fuzz/target. The first build
# takes about 2 minutes. Known crashes are replayed first, so a fixed bug stays fixed.
log "cargo fuzz build wire"
cargo fuzz build --sanitizer none wire
shopt -s nullglob
regressions=(fuzz/regressions/wire/*)
if [ ${#regressions[@]} -gt 0 ]; then
  log "replaying ${#regressions[@]} input(s) from fuzz/regressions/wire"
  cargo fuzz run --sanitizer none wire "${regressions[@]}"
fi
# New inputs that reach new code are added to fuzz/corpus/wire (only the seed-* files are
# committed). -max_len: a body may be 64 KiB (wire::MAX_BODY_BYTES), plus some room.
log "fuzzing for ${SECONDS_TO_RUN}s"
cargo fuzz run --sanitizer none wire fuzz/corpus/wire -- \
  -max_total_time="$SECONDS_TO_RUN" -max_len=70000 -print_final_stats=1
