//! Storage migrations, each wrapped in `VersionedMigration` so it runs once, only from
//! the storage version it was written for, and sets the next one.

/// Storage version 0 → 1: `Revoked` from (id → the first revoker) to
/// ((id, revoker) → block).
///
/// Version 0 kept one revoker per id, so a front-runner who revoked an issuer's id first
/// hid the issuer's own revocation from anyone reading state. Every version-0 entry
/// becomes ((id, its revoker) → the last block before the upgrade): the block each was
/// revoked in is not in state, and that block bounds it from above (the migration runs
/// before the upgrade block is initialized, so `block_number()` is still the parent's).
/// Revocations the events named but version 0 did not keep (the later revokers of an
/// id) cannot be recovered from state: readers that need them replay the events.
///
/// A single-block migration: it reads every version-0 entry into memory (48 bytes each
/// on the runtime's 32-byte accounts) before writing the new ones, since both maps
/// share the storage prefix `TalosAnchor::Revoked` and writing while iterating would
/// visit the new entries. Its weight is one read and two writes per entry, which a
/// consortium's revocation count keeps within an upgrade block.
pub mod v1 {
    use alloc::vec::Vec;

    use frame_support::{
        migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
    };

    use crate::pallet::{CapabilityId, Config, Pallet, Revoked};

    /// The version-0 layout.
    pub(crate) mod v0 {
        use frame_support::{Blake2_128Concat, storage_alias};

        use crate::pallet::{CapabilityId, Config, Pallet};

        /// Revoked capability id → the DID that revoked it first.
        #[storage_alias]
        pub(crate) type Revoked<T: Config> = StorageMap<
            Pallet<T>,
            Blake2_128Concat,
            CapabilityId,
            <T as frame_system::Config>::AccountId,
        >;
    }

    /// The migration without its version check: use [`MigrateV0ToV1`].
    pub struct UncheckedMigrateV0ToV1<T>(core::marker::PhantomData<T>);

    impl<T: Config> UncheckedOnRuntimeUpgrade for UncheckedMigrateV0ToV1<T> {
        fn on_runtime_upgrade() -> Weight {
            let block = frame_system::Pallet::<T>::block_number();
            let old: Vec<(CapabilityId, T::AccountId)> = v0::Revoked::<T>::drain().collect();
            let n = u64::try_from(old.len()).unwrap_or(u64::MAX);
            for (id, did) in old {
                Revoked::<T>::insert(id, did, block);
            }
            // Each entry: read and removed by the drain, then written anew.
            T::DbWeight::get().reads_writes(n, n.saturating_mul(2))
        }

        /// Every version-0 entry, to check each one arrives.
        #[cfg(feature = "try-runtime")]
        fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
            let old: Vec<(CapabilityId, T::AccountId)> = v0::Revoked::<T>::iter().collect();
            Ok(old.encode())
        }

        /// Every version-0 (id, revoker) is in the new map, dated no later than now,
        /// nothing else is, and no version-0 key is left.
        #[cfg(feature = "try-runtime")]
        fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
            let old = Vec::<(CapabilityId, T::AccountId)>::decode(&mut state.as_slice())
                .map_err(|_| "the pre-upgrade state does not decode")?;
            let now = frame_system::Pallet::<T>::block_number();
            for (id, did) in &old {
                ensure!(
                    !v0::Revoked::<T>::contains_key(id),
                    "a version-0 entry is left"
                );
                let block = Revoked::<T>::get(id, did).ok_or("a revocation was lost")?;
                ensure!(block <= now, "a migrated revocation is dated in the future");
            }
            ensure!(
                Revoked::<T>::iter().count() == old.len(),
                "the migration made up revocations"
            );
            Ok(())
        }
    }

    /// Storage version 0 → 1 (see the module docs); a no-op at any other version.
    pub type MigrateV0ToV1<T> = VersionedMigration<
        0,
        1,
        UncheckedMigrateV0ToV1<T>,
        Pallet<T>,
        <T as frame_system::Config>::DbWeight,
    >;
}
