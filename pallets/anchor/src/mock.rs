//! A test runtime: frame-system, the DID registry and this pallet; accounts are Ed25519
//! keys; writing is open to two consortium members only.

use crate as pallet_talos_anchor;
use frame_support::{derive_impl, parameter_types, traits::SortedMembers};
use sp_core::{Pair, ed25519};
use sp_runtime::{AccountId32, BuildStorage, traits::IdentityLookup};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Did: pallet_talos_did,
        Anchor: pallet_talos_anchor,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountId = AccountId32;
    type Lookup = IdentityLookup<AccountId32>;
    // Real database weights, so the migration's weight is checked.
    type DbWeight = frame_support::weights::constants::RocksDbWeight;
}

pub(crate) fn account(seed: u8) -> AccountId32 {
    AccountId32::from(ed25519::Pair::from_seed(&[seed; 32]).public().0)
}
pub(crate) fn alice() -> AccountId32 {
    account(1)
}
pub(crate) fn bob() -> AccountId32 {
    account(2)
}
pub(crate) fn mallory() -> AccountId32 {
    account(9)
}

#[allow(unreachable_pub)] // named by the runtime's public config
pub struct Members;
impl SortedMembers<AccountId32> for Members {
    fn sorted_members() -> Vec<AccountId32> {
        let mut m = vec![alice(), bob()];
        m.sort();
        m
    }
    #[cfg(feature = "runtime-benchmarks")]
    fn add(_: &AccountId32) {}
}

parameter_types! {
    pub const MaxEndpoints: u32 = 4;
    pub const MaxEndpointLen: u32 = 64;
    pub const MaxBatch: u32 = 8;
}

impl pallet_talos_did::Config for Test {
    type RuntimeEvent = RuntimeEvent;
    type RegisterOrigin = frame_system::EnsureSignedBy<Members, AccountId32>;
    type MaxEndpoints = MaxEndpoints;
    type MaxEndpointLen = MaxEndpointLen;
    type WeightInfo = ();
}

impl pallet_talos_anchor::Config for Test {
    type RuntimeEvent = RuntimeEvent;
    type WriteOrigin = frame_system::EnsureSignedBy<Members, AccountId32>;
    type MaxBatch = MaxBatch;
    type WeightInfo = ();
}

pub(crate) fn new_test_ext() -> sp_io::TestExternalities {
    let storage = frame_system::GenesisConfig::<Test>::default()
        .build_storage()
        .unwrap_or_default();
    let mut ext = sp_io::TestExternalities::new(storage);
    ext.execute_with(|| System::set_block_number(1));
    ext
}
