//! Storage migrations, each wrapped in `VersionedMigration` so it runs once, only from
//! the storage version it was written for, and sets the next one.

#[cfg(feature = "try-runtime")]
use alloc::vec::Vec;

use frame_support::{
    migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

use frame_system::pallet_prelude::BlockNumberFor;

use crate::pallet::{Config, Members, Pallet};

/// `pallet-membership`'s layout (its storage version 4), as it sat under this pallet's
/// name: the members in one sorted vector, and an optional prime member.
pub(crate) mod v4 {
    use alloc::vec::Vec;

    use frame_support::storage_alias;

    use crate::pallet::{Config, Pallet};

    /// All members, sorted. The key is the new map's prefix itself, so the two never
    /// overlap: a map entry's key is the prefix followed by its hashed account.
    #[storage_alias]
    pub(crate) type Members<T: Config> =
        StorageValue<Pallet<T>, Vec<<T as frame_system::Config>::AccountId>>;

    /// The prime member, which talos never used.
    #[storage_alias]
    pub(crate) type Prime<T: Config> =
        StorageValue<Pallet<T>, <T as frame_system::Config>::AccountId>;
}

/// The migration without its version check: use [`FromMembership`].
///
/// Each member of the old vector becomes a map entry joined at block 0 (the old layout
/// kept no joining blocks). Provider references are left as they are: the runtime's
/// membership hook gave each member one when it joined, and that reference is the one
/// [`crate::Pallet`] takes back when the member leaves. More old members than
/// `MaxMembers` are all kept (none is dropped); the bound then refuses new members
/// until enough have left. The prime member is discarded.
pub struct UncheckedFromMembership<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedFromMembership<T> {
    fn on_runtime_upgrade() -> Weight {
        let old = v4::Members::<T>::take().unwrap_or_default();
        let n = u64::try_from(old.len()).unwrap_or(u64::MAX);
        for who in old {
            Members::<T>::insert(who, BlockNumberFor::<T>::default());
        }
        v4::Prime::<T>::kill();
        // The vector and the prime read and removed; per member, the counter read and
        // written with the entry.
        T::DbWeight::get().reads_writes(n.saturating_add(2), n.saturating_mul(2).saturating_add(2))
    }

    /// The old members, to check each one arrives.
    #[cfg(feature = "try-runtime")]
    fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
        Ok(v4::Members::<T>::get().unwrap_or_default().encode())
    }

    /// Every old member is in the map, nothing else is, and the old keys are gone.
    #[cfg(feature = "try-runtime")]
    fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
        let old = Vec::<T::AccountId>::decode(&mut state.as_slice())
            .map_err(|_| "the pre-upgrade state does not decode")?;
        check_moved::<T>(&old)
    }
}

/// Every one of `old` is a member, the map holds nothing else, and the old keys are gone.
#[cfg(any(feature = "try-runtime", test))]
pub(crate) fn check_moved<T: Config>(
    old: &[T::AccountId],
) -> Result<(), sp_runtime::TryRuntimeError> {
    ensure!(!v4::Members::<T>::exists(), "the old member vector is left");
    ensure!(!v4::Prime::<T>::exists(), "the old prime is left");
    for who in old {
        ensure!(Members::<T>::contains_key(who), "a member was lost");
    }
    ensure!(
        u32::try_from(old.len()).ok() == Some(Members::<T>::count()),
        "the migration made up members"
    );
    Ok(())
}

/// `pallet-membership` (storage version 4) → this pallet's map (version 5); a no-op at
/// any other version, so a chain that started on this pallet never runs it.
pub type FromMembership<T> = VersionedMigration<
    4,
    5,
    UncheckedFromMembership<T>,
    Pallet<T>,
    <T as frame_system::Config>::DbWeight,
>;
