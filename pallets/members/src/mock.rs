//! A test runtime: frame-system and this pallet, accounts are Ed25519 keys (as in the
//! talos runtime), root governs, and at most three members.

use crate as pallet_talos_members;
use frame_support::{derive_impl, parameter_types};
use frame_system::EnsureRoot;
use sp_core::{Pair, ed25519};
use sp_runtime::{AccountId32, BuildStorage, traits::IdentityLookup};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Members: pallet_talos_members,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountId = AccountId32;
    type Lookup = IdentityLookup<AccountId32>;
}

/// An account from an Ed25519 seed byte: the agent's key is the account.
pub(crate) fn account(seed: u8) -> AccountId32 {
    AccountId32::from(ed25519::Pair::from_seed(&[seed; 32]).public().0)
}

/// A genesis member.
pub(crate) fn alice() -> AccountId32 {
    account(1)
}
/// A genesis member.
pub(crate) fn bob() -> AccountId32 {
    account(2)
}

parameter_types! {
    pub const MaxMembers: u32 = 3;
}

impl pallet_talos_members::Config for Test {
    type RuntimeEvent = RuntimeEvent;
    type AddOrigin = EnsureRoot<AccountId32>;
    type RemoveOrigin = EnsureRoot<AccountId32>;
    type MaxMembers = MaxMembers;
    type WeightInfo = ();
}

/// Alice and Bob (Alice twice: duplicates count once) are the genesis members.
pub(crate) fn new_test_ext() -> sp_io::TestExternalities {
    let storage = RuntimeGenesisConfig {
        system: Default::default(),
        members: pallet_talos_members::GenesisConfig {
            members: vec![alice(), bob(), alice()],
        },
    }
    .build_storage()
    .unwrap();
    let mut ext = sp_io::TestExternalities::new(storage);
    // Events are recorded from block 1 on.
    ext.execute_with(|| System::set_block_number(1));
    ext
}
