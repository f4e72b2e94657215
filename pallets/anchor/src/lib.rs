//! # pallet-talos-anchor
//!
//! What the talos chain anchors for each DID (the DID registry is `pallet-talos-did`):
//! - capability commitments (SHA-256 of issued tokens; the first committer is kept);
//! - permanent revocations of capability ids, keyed by (id, revoking DID) with the block
//!   of the revocation. Ids are chosen by issuers, so anyone may revoke the same id
//!   first: every revoker is kept, so a front-runner's revocation cannot hide the
//!   issuer's from a reader of state (a restarted follower, `revoked_by`). Revoking
//!   again is a no-op per (id, revoker), so a resubmitted transaction cannot fail or
//!   double-count;
//! - audit-log roots: a tree size that may never shrink, and per size one root, so an
//!   auditor can check an inclusion proof against the root anchored at its size.
//!
//! Every write is signed by the DID's current controller and passes `WriteOrigin`
//! (any signed account, or only a consortium's members). The same semantics as the
//! EVM contract `TalosAnchor.sol`, so the node's `Anchor` trait means one thing on both
//! (on both, the `Revoked` events name every revoker and `revoked_by` the earliest).
//!
//! Storage version 1: `Revoked` became (id, revoker) → block; [`migrations::v1`] moves
//! a version-0 chain's (id → first revoker) map over.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod migrations;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod weights;
pub use weights::WeightInfo;

// See pallet-talos-did: the FRAME macros' generated code needs these allowances; the
// hand-written code here uses no unwrap, expect, panic or indexing.
#[allow(
    missing_docs,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#[frame_support::pallet]
pub mod pallet {
    use super::WeightInfo;
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use sp_core::H256;

    /// A capability id (a token's `jti`): 16 bytes.
    pub type CapabilityId = [u8; 16];

    /// The latest audit root anchored for a DID.
    #[derive(
        Clone,
        Copy,
        Encode,
        Decode,
        DecodeWithMemTracking,
        Eq,
        PartialEq,
        Debug,
        TypeInfo,
        MaxEncodedLen,
    )]
    pub struct Head {
        /// Tree size.
        pub size: u64,
        /// Merkle root (RFC 9162) at that size.
        pub root: H256,
    }

    /// A root as anchored at one tree size, and the block that anchored it (so an
    /// auditor can find the extrinsic without scanning history).
    #[derive(
        Clone,
        Copy,
        Encode,
        Decode,
        DecodeWithMemTracking,
        Eq,
        PartialEq,
        Debug,
        TypeInfo,
        MaxEncodedLen,
    )]
    pub struct Anchored<BlockNumber> {
        /// The root.
        pub root: H256,
        /// The block it was anchored in.
        pub block: BlockNumber,
    }

    /// The storage layout's version: 1 since `Revoked` is keyed by (id, revoker).
    pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Configuration.
    #[pallet::config]
    pub trait Config: frame_system::Config + pallet_talos_did::Config {
        /// The overarching event type.
        #[allow(deprecated)]
        type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
        /// Who may write (the account must also control the DID written for).
        type WriteOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
        /// Most commitments or revocations in one batch call.
        #[pallet::constant]
        type MaxBatch: Get<u32>;
        /// Weights of the calls.
        type WeightInfo: WeightInfo;
    }

    /// Commitment → the DID that committed it first.
    #[pallet::storage]
    pub type Commitments<T: Config> = StorageMap<_, Identity, H256, T::AccountId>;

    /// (revoked capability id, a DID that revoked it) → the block it revoked it in (for
    /// entries migrated from storage version 0: the last block before the upgrade, an
    /// upper bound). Every revoker of an id is kept, and nothing is ever removed.
    /// Iterating the prefix of an id yields its revokers; both keys are hashed
    /// (`Blake2_128Concat`) since callers choose them.
    #[pallet::storage]
    pub type Revoked<T: Config> = StorageDoubleMap<
        _,
        Blake2_128Concat,
        CapabilityId,
        Blake2_128Concat,
        T::AccountId,
        BlockNumberFor<T>,
    >;

    /// DID → its latest anchored audit head.
    #[pallet::storage]
    pub type Heads<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Head>;

    /// (DID, tree size) → the root anchored at that size.
    #[pallet::storage]
    pub type RootAt<T: Config> = StorageDoubleMap<
        _,
        Blake2_128Concat,
        T::AccountId,
        Twox64Concat,
        u64,
        Anchored<BlockNumberFor<T>>,
    >;

    /// Events.
    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// Commitments recorded for a DID (those committed before by anyone are skipped).
        Committed { did: T::AccountId, count: u32 },
        /// Capability ids revoked by a DID: every id submitted (as the EVM contract emits
        /// them), including ids someone revoked first, since ids are chosen by issuers
        /// and a front-runner must not hide a revocation from event readers.
        Revoked {
            did: T::AccountId,
            ids: BoundedVec<CapabilityId, T::MaxBatch>,
        },
        /// An audit root anchored.
        RootAnchored {
            did: T::AccountId,
            size: u64,
            root: H256,
        },
    }

    /// Errors.
    #[pallet::error]
    pub enum Error<T> {
        /// No such DID in the registry.
        UnknownDid,
        /// The signer does not control the DID.
        NotController,
        /// The DID is deactivated.
        Deactivated,
        /// A batch must hold at least one item.
        EmptyBatch,
        /// A tree size smaller than the one anchored: history cannot be rewritten.
        TreeSizeShrinks,
        /// A different root for a tree size already anchored.
        RootConflict,
        /// The zero root is not a root.
        InvalidRoot,
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Records capability commitments issued under `did`.
        #[pallet::call_index(0)]
        #[pallet::weight(<T as Config>::WeightInfo::commit(commitments.len() as u32))]
        pub fn commit(
            origin: OriginFor<T>,
            did: T::AccountId,
            commitments: BoundedVec<H256, T::MaxBatch>,
        ) -> DispatchResult {
            Self::ensure_writer(origin, &did)?;
            ensure!(!commitments.is_empty(), Error::<T>::EmptyBatch);
            let mut count: u32 = 0;
            for c in commitments {
                if !Commitments::<T>::contains_key(c) {
                    Commitments::<T>::insert(c, did.clone());
                    count = count.saturating_add(1);
                }
            }
            Self::deposit_event(Event::Committed { did, count });
            Ok(())
        }

        /// Revokes capability ids issued under `did`, permanently. Each (id, `did`) is
        /// recorded once, with the block of its first revocation; an id someone else
        /// revoked is recorded again for `did`.
        #[pallet::call_index(1)]
        #[pallet::weight(<T as Config>::WeightInfo::revoke(ids.len() as u32))]
        pub fn revoke(
            origin: OriginFor<T>,
            did: T::AccountId,
            ids: BoundedVec<CapabilityId, T::MaxBatch>,
        ) -> DispatchResult {
            Self::ensure_writer(origin, &did)?;
            ensure!(!ids.is_empty(), Error::<T>::EmptyBatch);
            let block = frame_system::Pallet::<T>::block_number();
            for id in ids.iter() {
                if !Revoked::<T>::contains_key(id, &did) {
                    Revoked::<T>::insert(id, &did, block);
                }
            }
            Self::deposit_event(Event::Revoked { did, ids });
            Ok(())
        }

        /// Anchors `did`'s audit root at tree `size`. The size may not shrink; the same
        /// head again is a no-op; another root at an anchored size is refused.
        #[pallet::call_index(2)]
        #[pallet::weight(<T as Config>::WeightInfo::anchor_root())]
        pub fn anchor_root(
            origin: OriginFor<T>,
            did: T::AccountId,
            size: u64,
            root: H256,
        ) -> DispatchResult {
            Self::ensure_writer(origin, &did)?;
            ensure!(root != H256::zero(), Error::<T>::InvalidRoot);
            if let Some(head) = Heads::<T>::get(&did) {
                ensure!(size >= head.size, Error::<T>::TreeSizeShrinks);
                if size == head.size {
                    ensure!(root == head.root, Error::<T>::RootConflict);
                    return Ok(());
                }
            }
            Heads::<T>::insert(&did, Head { size, root });
            let block = frame_system::Pallet::<T>::block_number();
            RootAt::<T>::insert(&did, size, Anchored { root, block });
            Self::deposit_event(Event::RootAnchored { did, size, root });
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        /// The origin passes `WriteOrigin` and is the DID's current, active controller.
        fn ensure_writer(origin: OriginFor<T>, did: &T::AccountId) -> DispatchResult {
            let who = T::WriteOrigin::ensure_origin(origin)?;
            let record = pallet_talos_did::Dids::<T>::get(did).ok_or(Error::<T>::UnknownDid)?;
            ensure!(record.controller == who, Error::<T>::NotController);
            ensure!(!record.deactivated, Error::<T>::Deactivated);
            Ok(())
        }

        /// The DIDs that revoked `id`, each with the block it revoked it in (in key
        /// order, not revocation order).
        pub fn revokers(
            id: &CapabilityId,
        ) -> impl Iterator<Item = (T::AccountId, BlockNumberFor<T>)> {
            Revoked::<T>::iter_prefix(id)
        }

        /// The invariants: each DID's latest head is recorded at its size, no root is
        /// zero, and no revocation is dated after the current block.
        #[cfg(any(feature = "try-runtime", test))]
        pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
            let now = frame_system::Pallet::<T>::block_number();
            for (_, _, block) in Revoked::<T>::iter() {
                ensure!(block <= now, "a revocation dated after the current block");
            }
            for (did, head) in Heads::<T>::iter() {
                ensure!(head.root != H256::zero(), "a zero root anchored");
                ensure!(
                    RootAt::<T>::get(&did, head.size).map(|a| a.root) == Some(head.root),
                    "the latest head is not recorded at its size"
                );
            }
            Ok(())
        }
    }
}
