//! # pallet-talos-members
//!
//! A talos consortium's members: the accounts that may register DIDs and write anchors.
//! An agent's Ed25519 key is its chain account, so at agent scale the members are
//! counted in the hundreds of thousands, not in the handful of organisations
//! `pallet-membership` was made for.
//!
//! - **A map, not a list.** `pallet-membership` keeps every member in one bounded
//!   vector, so each origin check reads the whole vector: at 10,000 members, 320 KB of
//!   proof size in every `register`. Here the members are a map (account → the block it
//!   joined) and [`EnsureMember`] reads one entry. Bounded still: `MaxMembers` caps the
//!   count, kept by the map's counter.
//! - **Usable accounts.** Joining gives the account a provider reference, so an agent's
//!   key can sign (its nonce is kept) without holding any balance; leaving takes it back.
//! - **Governance.** `AddOrigin` and `RemoveOrigin` (the runtime's: sudo, that is the
//!   consortium) add and remove members. The calls keep `pallet-membership`'s names and
//!   indices (`add_member` 0, `remove_member` 1), so clients need no change.
//! - **Upgrade.** [`migrations::FromMembership`] moves a chain that ran
//!   `pallet-membership` under this pallet's name to the map, keeping every member.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
mod origin;
pub mod weights;
pub use origin::EnsureMember;
pub use weights::WeightInfo;

// The FRAME macros generate items (calls, events, storage getters) whose docs come from
// the annotated source; what they add on their own is undocumented, and their generated
// metadata and integrity code uses expect/unwrap. The hand-written code in this module
// uses none of those (checked by review; the lints still apply outside it).
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
    use alloc::vec::Vec;
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use sp_runtime::traits::{StaticLookup, Zero};

    /// `pallet-membership` left its storage at version 4; this pallet's layout of the same
    /// name is the next one (see [`crate::migrations`]).
    pub(crate) const STORAGE_VERSION: StorageVersion = StorageVersion::new(5);

    /// How a call names an account (an address or an index).
    pub type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Configuration.
    #[pallet::config]
    pub trait Config: frame_system::Config {
        /// The overarching event type.
        #[allow(deprecated)]
        type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
        /// Who may add a member.
        type AddOrigin: EnsureOrigin<Self::RuntimeOrigin>;
        /// Who may remove a member.
        type RemoveOrigin: EnsureOrigin<Self::RuntimeOrigin>;
        /// Most members at once.
        #[pallet::constant]
        type MaxMembers: Get<u32>;
        /// Weights of the calls.
        type WeightInfo: WeightInfo;
    }

    /// Member → the block it joined (0 for genesis members and members carried over
    /// from `pallet-membership`, whose joining blocks were not kept).
    #[pallet::storage]
    pub type Members<T: Config> =
        CountedStorageMap<_, Blake2_128Concat, T::AccountId, BlockNumberFor<T>>;

    /// Events.
    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// An account became a member.
        MemberAdded { who: T::AccountId },
        /// An account stopped being a member.
        MemberRemoved { who: T::AccountId },
    }

    /// Errors.
    #[pallet::error]
    pub enum Error<T> {
        /// The account is a member already.
        AlreadyMember,
        /// The account is not a member.
        NotMember,
        /// `MaxMembers` members already.
        TooManyMembers,
    }

    /// The first members.
    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// Accounts that are members from block 0 (duplicates count once).
        pub members: Vec<T::AccountId>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            for who in &self.members {
                if Members::<T>::contains_key(who) {
                    continue;
                }
                // A chain spec naming more members than the runtime allows is refused
                // when the spec is built, before any node runs on it.
                let admitted = Pallet::<T>::admit(who, Zero::zero());
                assert!(
                    admitted.is_ok(),
                    "genesis names more members than MaxMembers"
                );
            }
        }
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
        /// Makes `who` a member; `AddOrigin` only.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::add_member())]
        pub fn add_member(origin: OriginFor<T>, who: AccountIdLookupOf<T>) -> DispatchResult {
            T::AddOrigin::ensure_origin(origin)?;
            let who = T::Lookup::lookup(who)?;
            Self::admit(&who, frame_system::Pallet::<T>::block_number())?;
            Self::deposit_event(Event::MemberAdded { who });
            Ok(())
        }

        /// Removes `who` from the members; `RemoveOrigin` only.
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::remove_member())]
        pub fn remove_member(origin: OriginFor<T>, who: AccountIdLookupOf<T>) -> DispatchResult {
            T::RemoveOrigin::ensure_origin(origin)?;
            let who = T::Lookup::lookup(who)?;
            Members::<T>::take(&who).ok_or(Error::<T>::NotMember)?;
            // Fails only while the account has consumers (it holds something that needs
            // it alive); the reference then stays until those are gone, losing nothing.
            let _ = frame_system::Pallet::<T>::dec_providers(&who);
            Self::deposit_event(Event::MemberRemoved { who });
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        /// Whether `who` is a member: one map read.
        pub fn is_member(who: &T::AccountId) -> bool {
            Members::<T>::contains_key(who)
        }

        /// Inserts a new member joined at `at` and gives its account a provider.
        pub(crate) fn admit(who: &T::AccountId, at: BlockNumberFor<T>) -> DispatchResult {
            ensure!(!Members::<T>::contains_key(who), Error::<T>::AlreadyMember);
            ensure!(
                Members::<T>::count() < T::MaxMembers::get(),
                Error::<T>::TooManyMembers
            );
            Members::<T>::insert(who, at);
            frame_system::Pallet::<T>::inc_providers(who);
            Ok(())
        }

        /// The invariants: the counter equals the entries, within the bound.
        #[cfg(any(feature = "try-runtime", test))]
        pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
            let n = Members::<T>::iter_keys().count();
            ensure!(
                u32::try_from(n).ok() == Some(Members::<T>::count()),
                "the member counter differs from the entries"
            );
            ensure!(
                Members::<T>::count() <= T::MaxMembers::get(),
                "more members than MaxMembers"
            );
            Ok(())
        }
    }
}
