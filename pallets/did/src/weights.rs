//! Weights for pallet-talos-did.
//!
//! Not yet generated: the benchmarks (`benchmarking.rs`) run in a runtime, and the talos
//! runtime is the next step of this pallet's issue. Until `frame-omni-bencher` output
//! replaces this file, each call is weighed by its storage accesses (one read, one write
//! of a bounded record) plus a fixed execution cost, with the proof size of one record.
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::traits::Get;
use frame_support::weights::{Weight, constants::RocksDbWeight};

/// Weight functions needed for pallet-talos-did.
pub trait WeightInfo {
    fn register(e: u32) -> Weight;
    fn update(e: u32) -> Weight;
    fn rotate() -> Weight;
    fn deactivate() -> Weight;
}

/// Execution time of one call before storage, picoseconds (conservative).
const BASE: u64 = 20_000_000;
/// Extra per endpoint written, picoseconds.
const PER_ENDPOINT: u64 = 200_000;
/// Proof size of one DID record at its bound, bytes.
const RECORD_PROOF: u64 = 4_096;

/// Weights for a runtime on RocksDB.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
    fn register(e: u32) -> Weight {
        Weight::from_parts(
            BASE.saturating_add(PER_ENDPOINT.saturating_mul(e.into())),
            RECORD_PROOF,
        )
        .saturating_add(T::DbWeight::get().reads_writes(1, 1))
    }
    fn update(e: u32) -> Weight {
        Weight::from_parts(
            BASE.saturating_add(PER_ENDPOINT.saturating_mul(e.into())),
            RECORD_PROOF,
        )
        .saturating_add(T::DbWeight::get().reads_writes(1, 1))
    }
    fn rotate() -> Weight {
        Weight::from_parts(BASE, RECORD_PROOF).saturating_add(T::DbWeight::get().reads_writes(1, 1))
    }
    fn deactivate() -> Weight {
        Weight::from_parts(BASE, RECORD_PROOF).saturating_add(T::DbWeight::get().reads_writes(1, 1))
    }
}

/// For tests.
impl WeightInfo for () {
    fn register(e: u32) -> Weight {
        Weight::from_parts(
            BASE.saturating_add(PER_ENDPOINT.saturating_mul(e.into())),
            RECORD_PROOF,
        )
        .saturating_add(RocksDbWeight::get().reads_writes(1, 1))
    }
    fn update(e: u32) -> Weight {
        Self::register(e)
    }
    fn rotate() -> Weight {
        Self::register(0)
    }
    fn deactivate() -> Weight {
        Self::register(0)
    }
}
