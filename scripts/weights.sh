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

# The base weights: an empty block, and blocks full of `System.remark`, in the wasm.
# frame-benchmarking-cli writes `use sp_core`/`use sp_weights`; the runtime reaches both
# through frame_support.
"$bin" benchmark overhead --chain dev --weight-path runtime/src/weights --warmup 10 --repeat 100
sed -i 's/^use sp_core::parameter_types;/use frame_support::parameter_types;/;
        s/^use sp_weights::{constants::WEIGHT_REF_TIME_PER_NANOS, Weight};/use frame_support::weights::{Weight, constants::WEIGHT_REF_TIME_PER_NANOS};/;
        s/^\tuse sp_weights::constants;/\tuse frame_support::weights::constants;/' \
    runtime/src/weights/block_weights.rs runtime/src/weights/extrinsic_weights.rs

# The database weights, measured on a populated node's database: a genesis state cannot
# (its 37 keys include the 4.7 MB runtime, whose read and write dominate the averages: 89 µs
# a read, 639 µs a write on one VM). `benches/chain_capacity.rs` leaves one:
#   CAP_BASE=/tmp/chain-state CAP_AGENTS=20000 TALOS_CHAIN=... cargo bench -p talos-benches --bench chain_capacity
#   WEIGHTS_DB=/tmp/chain-state scripts/weights.sh
# Writes are committed in batches of 2,000 keys, the size of one full block's commit
# (hundreds of extrinsics, a few keys each); the default batch (100,000) amortizes a
# commit over more keys than any block writes and measured writes 2.7× cheaper.
if [ -n "${WEIGHTS_DB:-}" ]; then
    "$bin" benchmark storage --chain dev --base-path "$WEIGHTS_DB" --state-version 1 \
        --batch-size 2000 --weight-path runtime/src/weights
    sed -i 's/^\tuse sp_core::parameter_types;/\tuse frame_support::parameter_types;/;
            s/^\tuse sp_weights::RuntimeDbWeight;/\tuse frame_support::weights::RuntimeDbWeight;/;
            s/^\t\tuse sp_weights::constants;/\t\tuse frame_support::weights::constants;/;
            s/^\t\tuse super::constants::RocksDbWeight as W;/\t\tuse super::RocksDbWeight as W;/' \
        runtime/src/weights/rocksdb_weights.rs
    # Doc comments on a struct literal's fields document nothing (rustc warns): comments.
    sed -i '/RuntimeDbWeight {$/,/};$/ s#^\(\s*\)///#\1//#' runtime/src/weights/rocksdb_weights.rs
fi

# The benchmark CLI writes tab-indented files; `make lint` checks rustfmt's layout.
cargo fmt -p talos-runtime
