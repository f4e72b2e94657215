#!/usr/bin/env bash
# Generates runtime/src/weights/pallet_talos_{members,did,anchor}.rs by running the pallets'
# frame-benchmarking v2 benchmarks inside the runtime's wasm (`talos-chain benchmark
# pallet`, feature runtime-benchmarks). The runtime uses these weights; each pallet's own
# weights.rs stays as the estimate its mock runtime uses.
#
# WEIGHTS_PROFILE=release (default) for figures worth committing from reference hardware;
# `dev` builds quicker, and since the native side (storage access) is then unoptimized, its
# weights overestimate.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/talos-target}"
# frame-benchmarking-cli's storage-access test runtime is not used by `benchmark pallet`,
# and its wasm build cannot find itself in this workspace's metadata (it is only pulled in
# by this feature): skip it.
export SKIP_FRAME_STORAGE_ACCESS_TEST_RUNTIME_WASM_BUILD=1
profile="${WEIGHTS_PROFILE:-release}"
steps="${WEIGHTS_STEPS:-50}"
repeat="${WEIGHTS_REPEAT:-20}"
cargo build --profile "$profile" -p talos-chain-node --features runtime-benchmarks
dir=$profile; [ "$profile" = dev ] && dir=debug
bin="$CARGO_TARGET_DIR/$dir/talos-chain"
mkdir -p runtime/src/weights
for pallet in pallet_talos_members pallet_talos_did pallet_talos_anchor; do
    "$bin" benchmark pallet --chain dev --pallet "$pallet" --extrinsic '*' \
        --steps "$steps" --repeat "$repeat" --wasm-execution compiled \
        --output "runtime/src/weights/$pallet.rs"
done
