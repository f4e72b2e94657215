//! Each pallet's configuration.

use frame_support::{
    derive_impl,
    dispatch::DispatchClass,
    parameter_types,
    traits::{ConstBool, ConstU8, ConstU32, ConstU64, ConstU128, VariantCountOf},
    weights::{ConstantMultiplier, Weight, constants::WEIGHT_REF_TIME_PER_SECOND},
};
use frame_system::{
    EnsureRoot,
    limits::{BlockLength, BlockWeights},
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{Perbill, traits::One};
use sp_version::RuntimeVersion;

use crate::weights::{block_weights::BlockExecutionWeight, extrinsic_weights::ExtrinsicBaseWeight};
use crate::{
    AccountId, Aura, Balance, Balances, Block, BlockNumber, EXISTENTIAL_DEPOSIT, Hash, Nonce,
    PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason,
    RuntimeOrigin, RuntimeTask, SESSION_BLOCKS, SLOT_DURATION, SessionKeys, System, VERSION,
    governance,
};

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
    pub const BlockHashCount: BlockNumber = 2400;
    pub const Version: RuntimeVersion = VERSION;
    /// Half a second of compute per two-second block. As frame's `with_sensible_defaults`,
    /// but with this runtime's measured base weights (`weights::block_weights`,
    /// `weights::extrinsic_weights`: 200 µs per block, 93 µs per extrinsic on the
    /// reference VM) instead of frame's reference ones (432 µs, 108 µs).
    pub RuntimeBlockWeights: BlockWeights = block_weights();
    /// 5 MiB per block, three quarters of it for normal transactions.
    pub RuntimeBlockLength: BlockLength = BlockLength::builder()
        .max_length(5 * 1024 * 1024)
        .modify_max_length_for_class(DispatchClass::Normal, |m| *m = NORMAL_DISPATCH_RATIO * *m)
        .build();
    pub const SS58Prefix: u8 = 42;
}

fn block_weights() -> BlockWeights {
    let max = Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND / 2, u64::MAX);
    let normal = NORMAL_DISPATCH_RATIO * max;
    BlockWeights::builder()
        .base_block(BlockExecutionWeight::get())
        .for_class(DispatchClass::all(), |w| {
            w.base_extrinsic = ExtrinsicBaseWeight::get();
        })
        .for_class(DispatchClass::Normal, |w| w.max_total = normal.into())
        .for_class(DispatchClass::Operational, |w| {
            w.max_total = max.into();
            w.reserved = (max - normal).into();
        })
        .avg_block_initialization(Perbill::from_percent(10))
        .build_or_panic()
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
    type Block = Block;
    type BlockWeights = RuntimeBlockWeights;
    type BlockLength = RuntimeBlockLength;
    type AccountId = AccountId;
    type Nonce = Nonce;
    type Hash = Hash;
    type BlockHashCount = BlockHashCount;
    type DbWeight = crate::weights::rocksdb_weights::constants::RocksDbWeight;
    type Version = Version;
    type AccountData = pallet_balances::AccountData<Balance>;
    type SS58Prefix = SS58Prefix;
    type MaxConsumers = ConstU32<16>;
    // frame's `()` weights price storage at its reference `RocksDbWeight`; these use
    // `DbWeight` above, the one measured for this chain.
    type SystemWeightInfo = frame_system::weights::SubstrateWeight<Runtime>;
    type ExtensionsWeightInfo = frame_system::SubstrateExtensionsWeight<Runtime>;
}

impl pallet_timestamp::Config for Runtime {
    type Moment = u64;
    type OnTimestampSet = Aura;
    type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
    type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

impl pallet_aura::Config for Runtime {
    type AuthorityId = AuraId;
    type DisabledValidators = ();
    type MaxAuthorities = ConstU32<32>;
    type AllowMultipleBlocksPerSlot = ConstBool<false>;
    type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type WeightInfo = ();
    type MaxAuthorities = ConstU32<32>;
    type MaxNominators = ConstU32<0>;
    type MaxSetIdSessionEntries = ConstU64<0>;
    // No equivocation reports: a permissioned chain removes a misbehaving validator
    // through governance, not slashing.
    type KeyOwnerProof = sp_core::Void;
    type EquivocationReportSystem = ();
}

impl pallet_balances::Config for Runtime {
    type MaxLocks = ConstU32<50>;
    type MaxReserves = ();
    type ReserveIdentifier = [u8; 8];
    type Balance = Balance;
    type RuntimeEvent = RuntimeEvent;
    type DustRemoval = ();
    type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
    type AccountStore = System;
    type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
    type FreezeIdentifier = RuntimeFreezeReason;
    type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
    type RuntimeHoldReason = RuntimeHoldReason;
    type RuntimeFreezeReason = RuntimeFreezeReason;
    type DoneSlashHandler = ();
}

parameter_types! {
    pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    // Zero fees, and only members, validators and the sudo key may sign.
    type OnChargeTransaction = governance::SignersOnly<FungibleAdapter<Balances, ()>>;
    type OperationalFeeMultiplier = ConstU8<5>;
    // Zero fees: who may sign is decided by membership, not by price.
    type WeightToFee = ConstantMultiplier<Balance, ConstU128<0>>;
    type LengthToFee = ConstantMultiplier<Balance, ConstU128<0>>;
    type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
    type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
    /// Agents' keys are members, so the bound is in agents: a million, each check one
    /// map read whatever the count.
    pub const MaxMembers: u32 = 1_000_000;
}

/// Members: who may register DIDs and write anchors.
impl pallet_talos_members::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type AddOrigin = EnsureRoot<AccountId>;
    type RemoveOrigin = EnsureRoot<AccountId>;
    type MaxMembers = MaxMembers;
    type WeightInfo = crate::weights::pallet_talos_members::WeightInfo<Runtime>;
}

/// Validators: the authority set from the next session on.
impl pallet_membership::Config<pallet_membership::Instance2> for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type AddOrigin = EnsureRoot<AccountId>;
    type RemoveOrigin = EnsureRoot<AccountId>;
    type SwapOrigin = EnsureRoot<AccountId>;
    type ResetOrigin = EnsureRoot<AccountId>;
    type PrimeOrigin = EnsureRoot<AccountId>;
    type MembershipInitialized = ();
    type MembershipChanged = ();
    type MaxMembers = ConstU32<32>;
    type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
    pub const SessionPeriod: BlockNumber = SESSION_BLOCKS;
    pub const SessionOffset: BlockNumber = 0;
}

impl pallet_session::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type ValidatorId = AccountId;
    type ValidatorIdOf = sp_runtime::traits::ConvertInto;
    type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
    type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
    type SessionManager = governance::ValidatorsFromMembership;
    type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
    type Keys = SessionKeys;
    type DisablingStrategy = ();
    type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
    type Currency = Balances;
    type KeyDeposit = ConstU128<0>;
}

parameter_types! {
    pub const MaxEndpoints: u32 = 8;
    pub const MaxEndpointLen: u32 = 256;
    /// The EVM contract's batch limit too, so the node's `Anchor` bound is one number.
    pub const MaxBatch: u32 = 512;
}

impl pallet_talos_did::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RegisterOrigin = pallet_talos_members::EnsureMember<Runtime>;
    type MaxEndpoints = MaxEndpoints;
    type MaxEndpointLen = MaxEndpointLen;
    type WeightInfo = crate::weights::pallet_talos_did::WeightInfo<Runtime>;
}

impl pallet_talos_anchor::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type WriteOrigin = pallet_talos_members::EnsureMember<Runtime>;
    type MaxBatch = MaxBatch;
    type WeightInfo = crate::weights::pallet_talos_anchor::WeightInfo<Runtime>;
}
