#!/usr/bin/env bash
# kill -9 loop for the durable audit log, beyond CI's 200 kills:
#   tests/crash-loop.sh [KILLS]   (default 2000)
# A child appends from four threads and is SIGKILLed at varying moments; after each restart
# the acknowledged prefix must be exactly intact (see crates/store/tests/it/crash.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}"
TALOS_CRASH_ITERS="${1:-2000}" cargo test --release -p talos-store --test it crash -- --nocapture
