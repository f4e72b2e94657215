#!/usr/bin/env bash
# kill -9 loop for two real `talos up` processes, beyond CI's 50 kills:
#   tests/node-crash-loop.sh [KILLS]   (default 500)
# An agent posts numbered messages to node A for node B while the loop SIGKILLs A and B
# in turn; afterwards every acknowledged message must be in B's inbox exactly once, in
# order (see bin/talos/tests/it/processes.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}"
TALOS_KILL_ROUNDS="${1:-500}" cargo test --release -p talos --test it kill_9 -- --nocapture
