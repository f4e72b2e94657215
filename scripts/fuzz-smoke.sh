#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short, bounded time (default 10 s each), two at a
# time (one per core: nothing else runs during this CI part), after building them all in
# one cargo invocation so the build uses both cores too.
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain use them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-10}"
jobs="${FUZZ_JOBS:-2}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/talos-fuzz-target}"
cargo fuzz build -O
[ "${1:-}" = "--build-only" ] && exit 0

one() {
    local target="$1"
    # Committed seeds (valid inputs made from our vectors) start the search where it matters.
    rm -rf "artifacts/$target"
    local corpus=("corpus/$target")
    mkdir -p "corpus/$target"
    [ -d "seeds/$target" ] && corpus+=("seeds/$target")
    cargo fuzz run -O "$target" "${corpus[@]}" -- -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 2>&1 \
        | grep -E '^(Done|==|SUMMARY)|panicked' | sed "s/^/fuzz: $target: /" || true
}

running=0
for target in $(cargo fuzz list); do
    echo "fuzz: $target for ${seconds}s"
    one "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

# libFuzzer writes crash-* (panic, sanitizer) and oom-* (past its 2 GB RSS limit) artifacts
# when it finds a bug; fail if any exist.
crashed=()
for target in $(cargo fuzz list); do
    if compgen -G "artifacts/$target/crash-*" >/dev/null || compgen -G "artifacts/$target/oom-*" >/dev/null; then
        crashed+=("$target")
    fi
done
if [ ${#crashed[@]} -gt 0 ]; then
    echo "fuzz: crashes found by ${crashed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
