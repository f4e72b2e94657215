//! # talos-runtime
//!
//! The runtime of a talos consortium chain: a permissioned proof-of-authority solochain.
//! - Consensus: aura produces blocks, grandpa finalizes them; the validator set is a
//!   membership list (`Validators`) that governance edits, and session rotation hands it
//!   to aura and grandpa (see [`governance`]).
//! - Governance: `pallet-sudo`. A consortium of a few organisations decides off chain
//!   and one key (which can be a multisig account) enacts it: adding members and
//!   validators, runtime upgrades. A collective would put each decision to an on-chain
//!   vote; that is worth its weight once the consortium has more than a handful of
//!   members, and can be added by a runtime upgrade without changing the pallets below.
//! - Membership: `Members` (`pallet-talos-members`) is who may register DIDs and write
//!   anchors: a map, so each check reads one entry however many agents join. Joining
//!   gives the account a provider reference, so an agent's Ed25519 key becomes a usable
//!   chain account without holding any balance.
//! - Fees: zero, and no free-riders: the transaction pool refuses a transaction signed by
//!   anyone but a member, a validator or the sudo key ([`governance::SignersOnly`]), so an
//!   endowed account cannot fill blocks for free. Every talos write is bounded by its
//!   pallet's weights.
//! - talos: `pallet-talos-did` (the DID registry) and `pallet-talos-anchor`
//!   (commitments, revocations, audit roots), both restricted to members.
#![cfg_attr(not(feature = "std"), no_std)]
// `impl_runtime_apis!`, `#[frame_support::runtime]` and `impl_opaque_keys!` generate many
// undocumented public items and use expect/unwrap internally; the hand-written code in
// this crate uses neither (see governance.rs and genesis.rs).
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// The runtime's wasm blob, built by substrate-wasm-builder (std builds only).
#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

mod apis;
mod configs;
pub mod genesis;
pub mod governance;
pub mod weights;

use sp_runtime::{
    MultiAddress, MultiSignature, generic,
    traits::{BlakeTwo256, IdentifyAccount, Verify},
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_talos_anchor;
pub use pallet_talos_did;
pub use pallet_talos_members;

/// A block number.
pub type BlockNumber = u32;
/// Transaction signatures: sr25519 for the well-known development keys, Ed25519 for
/// agents (a DID's key signs its own extrinsics).
pub type Signature = MultiSignature;
/// An account is the public key of its signature scheme (32 bytes).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances (used only for endowment; fees are zero).
pub type Balance = u128;
/// A transaction counter per account.
pub type Nonce = u32;
/// Block and state hashes.
pub type Hash = sp_core::H256;

/// One unit of balance.
pub const UNIT: Balance = 1_000_000_000_000;
/// Existential deposit of an account funded by balance.
pub const EXISTENTIAL_DEPOSIT: Balance = UNIT / 1000;

/// Target block time. A consortium chain anchors audit roots and revocations, so a
/// few seconds to finality matters more than throughput.
pub const MILLISECS_PER_BLOCK: u64 = 2000;
/// Aura's slot length; it cannot change once the chain runs.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;
/// Blocks per session: how soon a validator-set change takes effect (one minute).
pub const SESSION_BLOCKS: BlockNumber = 30;

/// Types the node needs without knowing the runtime's calls.
pub mod opaque {
    use super::*;
    use sp_runtime::impl_opaque_keys;

    pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;
    /// Opaque block header.
    pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
    /// Opaque block.
    pub type Block = generic::Block<Header, UncheckedExtrinsic>;

    impl_opaque_keys! {
        /// A validator's session keys: aura (sr25519) and grandpa (ed25519).
        pub struct SessionKeys {
            pub aura: Aura,
            pub grandpa: Grandpa,
        }
    }
}
pub use apis::RuntimeApi;
pub use opaque::SessionKeys;

/// The runtime's version. `spec_version` must rise with every change to the runtime's
/// logic; `transaction_version` with every change to call encodings.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: alloc::borrow::Cow::Borrowed("talos"),
    impl_name: alloc::borrow::Cow::Borrowed("talos"),
    authoring_version: 1,
    // 101: pallet-talos-anchor keeps every revoker of an id (storage version 1).
    // 102: members in a map (pallet-talos-members); only members, validators and the
    // sudo key may sign.
    // 103: the base block and extrinsic weights measured (`benchmark overhead`).
    // 104: the database weights measured (`benchmark storage`, a populated state).
    // 105: frame_system's extension and call weights and pallet_timestamp's use them.
    spec_version: 105,
    impl_version: 1,
    apis: apis::RUNTIME_API_VERSIONS,
    transaction_version: 1,
    system_version: 1,
};

/// The runtime's pallets. Indices are fixed: extrinsics and storage keys name them.
#[frame_support::runtime]
mod runtime {
    #[runtime::runtime]
    #[runtime::derive(
        RuntimeCall,
        RuntimeEvent,
        RuntimeError,
        RuntimeOrigin,
        RuntimeFreezeReason,
        RuntimeHoldReason,
        RuntimeSlashReason,
        RuntimeLockId,
        RuntimeTask,
        RuntimeViewFunction
    )]
    pub struct Runtime;

    #[runtime::pallet_index(0)]
    pub type System = frame_system;
    #[runtime::pallet_index(1)]
    pub type Timestamp = pallet_timestamp;
    #[runtime::pallet_index(2)]
    pub type Balances = pallet_balances;
    #[runtime::pallet_index(3)]
    pub type TransactionPayment = pallet_transaction_payment;
    #[runtime::pallet_index(4)]
    pub type Sudo = pallet_sudo;
    // pallet-membership's first instance until spec 102; the map replaced it in place
    // (`Migrations`).
    #[runtime::pallet_index(5)]
    pub type Members = pallet_talos_members;
    #[runtime::pallet_index(6)]
    pub type Validators = pallet_membership<Instance2>;
    // Session before aura and grandpa: its genesis hands them the first authorities.
    #[runtime::pallet_index(7)]
    pub type Session = pallet_session;
    #[runtime::pallet_index(8)]
    pub type Aura = pallet_aura;
    #[runtime::pallet_index(9)]
    pub type Grandpa = pallet_grandpa;
    #[runtime::pallet_index(20)]
    pub type TalosDid = pallet_talos_did;
    #[runtime::pallet_index(21)]
    pub type TalosAnchor = pallet_talos_anchor;
}

/// How an extrinsic names an account.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// The checks every signed transaction passes.
pub type TxExtension = (
    frame_system::AuthorizeCall<Runtime>,
    frame_system::CheckNonZeroSender<Runtime>,
    frame_system::CheckSpecVersion<Runtime>,
    frame_system::CheckTxVersion<Runtime>,
    frame_system::CheckGenesis<Runtime>,
    frame_system::CheckEra<Runtime>,
    frame_system::CheckNonce<Runtime>,
    frame_system::CheckWeight<Runtime>,
    pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
    frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
    frame_system::WeightReclaim<Runtime>,
);
/// An extrinsic as this runtime decodes it.
pub type UncheckedExtrinsic =
    generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// What a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;
/// Storage migrations the next runtime upgrade runs, in order. Each is versioned: it
/// runs only on the storage version it migrates from (a new chain's genesis is already
/// at the latest), so one left here after its upgrade is a no-op.
pub type Migrations = (
    pallet_talos_anchor::migrations::v1::MigrateV0ToV1<Runtime>,
    pallet_talos_members::migrations::FromMembership<Runtime>,
);

/// Dispatches blocks to the pallets.
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
    Migrations,
>;

#[cfg(feature = "runtime-benchmarks")]
mod benches {
    frame_benchmarking::define_benchmarks!(
        [frame_benchmarking, BaselineBench::<Runtime>]
        [frame_system, SystemBench::<Runtime>]
        [pallet_talos_members, Members]
        [pallet_talos_did, TalosDid]
        [pallet_talos_anchor, TalosAnchor]
    );
}
