//! Weights for pallet-talos-members: estimates for the mock runtime and for runtimes
//! that have not benchmarked it. The talos runtime's own weights are generated from
//! `benchmarking.rs` into `runtime/src/weights/pallet_talos_members.rs`.
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::traits::Get;
use frame_support::weights::{Weight, constants::RocksDbWeight};

/// Weight functions needed for pallet-talos-members.
pub trait WeightInfo {
    fn add_member() -> Weight;
    fn remove_member() -> Weight;
}

/// Execution time of one call before storage, picoseconds (conservative).
const BASE: u64 = 20_000_000;
/// Proof size of the entry, the counter and the account touched, bytes (conservative).
const PROOF: u64 = 8_192;

/// Weights for a runtime on RocksDB: the entry, the counter and the account's
/// provider count, each read and written.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
    fn add_member() -> Weight {
        Weight::from_parts(BASE, PROOF).saturating_add(T::DbWeight::get().reads_writes(3, 3))
    }
    fn remove_member() -> Weight {
        Weight::from_parts(BASE, PROOF).saturating_add(T::DbWeight::get().reads_writes(3, 3))
    }
}

/// For tests.
impl WeightInfo for () {
    fn add_member() -> Weight {
        Weight::from_parts(BASE, PROOF).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
    }
    fn remove_member() -> Weight {
        Self::add_member()
    }
}
