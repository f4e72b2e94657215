#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short, bounded time (default 15 s each).
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain use them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-15}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/talos-fuzz-target}"
for target in $(cargo fuzz list); do
    echo "fuzz: $target for ${seconds}s"
    # Committed seeds (valid inputs made from our vectors) start the search where it matters.
    rm -rf "artifacts/$target"
    corpus=("corpus/$target")
    mkdir -p "corpus/$target"
    [ -d "seeds/$target" ] && corpus+=("seeds/$target")
    cargo fuzz run -O "$target" "${corpus[@]}" -- -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 2>&1 \
        | grep -E '^(Done|==|SUMMARY)|panicked' || true
    # libFuzzer writes crash-* artifacts when it finds a bug; fail if any exist.
    if ls "artifacts/$target"/crash-* >/dev/null 2>&1; then
        echo "fuzz: $target found a crash" >&2
        exit 1
    fi
done
