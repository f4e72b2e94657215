//! Weights for pallet-talos-anchor.
//!
//! Not yet generated: see pallet-talos-did's `weights.rs`. Until `frame-omni-bencher`
//! output from the talos runtime replaces this file, each call is weighed by its storage
//! accesses (the DID record read, then per item one read and one write) plus a fixed
//! execution cost.
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::traits::Get;
use frame_support::weights::{Weight, constants::RocksDbWeight};

/// Weight functions needed for pallet-talos-anchor.
pub trait WeightInfo {
    fn commit(n: u32) -> Weight;
    fn revoke(n: u32) -> Weight;
    fn anchor_root() -> Weight;
}

const BASE: u64 = 20_000_000;
const PER_ITEM: u64 = 2_000_000;
const PROOF: u64 = 4_096;
const PER_ITEM_PROOF: u64 = 128;

fn items(n: u32, db: frame_support::weights::RuntimeDbWeight) -> Weight {
    Weight::from_parts(
        BASE.saturating_add(PER_ITEM.saturating_mul(n.into())),
        PROOF.saturating_add(PER_ITEM_PROOF.saturating_mul(n.into())),
    )
    .saturating_add(db.reads(1))
    .saturating_add(db.reads_writes(n.into(), n.into()))
}

/// Weights for a runtime on RocksDB.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
    fn commit(n: u32) -> Weight {
        items(n, T::DbWeight::get())
    }
    fn revoke(n: u32) -> Weight {
        items(n, T::DbWeight::get())
    }
    fn anchor_root() -> Weight {
        Weight::from_parts(BASE, PROOF).saturating_add(T::DbWeight::get().reads_writes(2, 2))
    }
}

/// For tests.
impl WeightInfo for () {
    fn commit(n: u32) -> Weight {
        items(n, RocksDbWeight::get())
    }
    fn revoke(n: u32) -> Weight {
        items(n, RocksDbWeight::get())
    }
    fn anchor_root() -> Weight {
        Weight::from_parts(BASE, PROOF).saturating_add(RocksDbWeight::get().reads_writes(2, 2))
    }
}
