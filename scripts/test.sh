#!/usr/bin/env bash
# The whole test suite (`make test`): runs every suite even when an earlier one fails,
# then prints which failed and exits non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
# Run directly (not through make), the build must still land in the shared target dir.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}"

# shellcheck source=scripts/test-features.sh
. scripts/test-features.sh
if [ "${1:-}" = "--build-only" ]; then
    exec cargo nextest run --no-run --workspace --locked --features "$TALOS_TEST_FEATURES"
fi
failed=()
run() {
    local name="$1"
    shift
    echo "==> test suite: $name" >&2
    local start=$SECONDS
    if "$@"; then
        echo "==> $name: passed in $((SECONDS - start)) s" >&2
    else
        echo "==> $name: FAILED after $((SECONDS - start)) s" >&2
        failed+=("$name")
    fi
}

# Every crate's unit and integration tests, the pallets' benchmark suites and try-state
# checks included (profile and test groups in .config/nextest.toml).
run workspace cargo nextest run --workspace --locked --no-fail-fast --features "$TALOS_TEST_FEATURES"
# Doctests (nextest does not run them): the README's Rust example and each library's
# `lib.rs` example; the same features as the build above, so nothing is rebuilt.
run doctests cargo test --doc --workspace --locked --features "$TALOS_TEST_FEATURES"
# The anchor contract: artifact freshness and the forge suite.
run contracts scripts/contracts-test.sh
# The SDKs: generated code against the OpenAPI document (a drift fails), the strict
# typecheck, unit tests and the end-to-end suites against two real `talos up` processes
# built above (required here: without the binary they fail rather than skip).
export TALOS_E2E=require
export TALOS_BIN="${TALOS_BIN:-$CARGO_TARGET_DIR/debug/talos}"
run python-sdk sdks/python/test.sh
run typescript-sdk sdks/typescript/test.sh

if [ ${#failed[@]} -gt 0 ]; then
    echo "==> failed suites: ${failed[*]}" >&2
    exit 1
fi
echo "==> all test suites passed" >&2
