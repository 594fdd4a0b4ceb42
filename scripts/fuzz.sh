#!/usr/bin/env bash
# npm run fuzz: fuzzes, for FUZZ_SECONDS each (default 60), the wire parser and the pure pipeline behind
# it (fuzz/fuzz_targets/wire.rs), then the whole consumer path — ingest, queue message, de-duplicate,
# sessionise, aggregate, serialise, read back, merge (fuzz/fuzz_targets/consume.rs); exits non-zero
# when an input makes one panic or break an invariant (saved under fuzz/artifacts/).
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
shopt -s nullglob
for target in wire consume; do
  log "cargo fuzz build $target"
  cargo fuzz build --sanitizer none "$target"
  regressions=(fuzz/regressions/"$target"/*)
  if [ ${#regressions[@]} -gt 0 ]; then
    log "replaying ${#regressions[@]} input(s) from fuzz/regressions/$target"
    cargo fuzz run --sanitizer none "$target" "${regressions[@]}"
  fi
  # New inputs that reach new code are added to fuzz/corpus/<target> (only the seed-* files are
  # committed). -max_len: a body may be 64 KiB (wire::MAX_BODY_BYTES), plus some room.
  log "fuzzing $target for ${SECONDS_TO_RUN}s"
  cargo fuzz run --sanitizer none "$target" fuzz/corpus/"$target" -- \
    -max_total_time="$SECONDS_TO_RUN" -max_len=70000 -print_final_stats=1
done
