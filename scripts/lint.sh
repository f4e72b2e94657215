#!/usr/bin/env bash
# `make lint`: formatting, then clippy's lints without a second build.
#
# .cargo/config.toml compiles our crates with clippy-driver, so the test build already
# ran every clippy lint (workspace lints and clippy.toml apply). This builds every target
# (tests, benches, examples, binaries) in the test profile, which is what `make test`
# built, so it reuses that build; cargo replays the stored warnings of crates it does not
# recompile, and any warning or error fails the lint (clippy's `-D warnings`).
set -euo pipefail
cd "$(dirname "$0")/.."
# Run directly (not through make), the build must still land in the shared target dir.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}"
# shellcheck source=scripts/test-features.sh
. scripts/test-features.sh
cargo fmt --all -- --check
# `unsafe_code` is `deny`, not `forbid`, for one FFI call (glibc's `malloc_trim`); any
# other place that allows it fails here.
allowed="$(grep -rlE --include='*.rs' '(allow|expect)\(unsafe_code' crates bin pallets runtime node benches fuzz 2>/dev/null || true)"
if [ "$allowed" != "crates/node/src/node/memory.rs" ]; then
    echo "lint: allow(unsafe_code) belongs only in crates/node/src/node/memory.rs; found in:" >&2
    echo "${allowed:-nowhere}" >&2
    exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets --no-run --locked --features "$TALOS_TEST_FEATURES" 2>&1 | tee "$log" >&2
if grep -Eq '^(warning|error)(\[[^]]*\])?:' "$log"; then
    echo "lint: the build above has warnings or errors" >&2
    exit 1
fi
