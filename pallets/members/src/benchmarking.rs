//! Benchmarks (frame-benchmarking v2) for every call. A map's cost does not depend on
//! how many members there are, so neither has a parameter; the map is filled with up to
//! 1,000 members first (fewer where `MaxMembers` is lower) so the trie has depth.

use super::*;
use crate::pallet::Members;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use sp_runtime::traits::StaticLookup;

/// Adds members until one more fits, at most 1,000.
fn fill<T: Config>() {
    let room = T::MaxMembers::get().saturating_sub(Members::<T>::count().saturating_add(1));
    for i in 0..room.min(1_000) {
        let who: T::AccountId = account("member", i, 0);
        Members::<T>::insert(
            who,
            frame_system::pallet_prelude::BlockNumberFor::<T>::default(),
        );
    }
}

#[benchmarks]
mod benchmarks {
    use super::*;
    use frame_support::traits::EnsureOrigin;

    #[benchmark]
    fn add_member() -> Result<(), BenchmarkError> {
        fill::<T>();
        let origin =
            T::AddOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
        let who: T::AccountId = account("new", 0, 0);
        let lookup = T::Lookup::unlookup(who.clone());
        #[extrinsic_call]
        _(origin as T::RuntimeOrigin, lookup);
        assert!(Members::<T>::contains_key(&who));
        Ok(())
    }

    #[benchmark]
    fn remove_member() -> Result<(), BenchmarkError> {
        fill::<T>();
        let origin =
            T::RemoveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
        let who: T::AccountId = account("leaving", 0, 0);
        Pallet::<T>::admit(&who, Default::default()).map_err(|_| BenchmarkError::Weightless)?;
        let lookup = T::Lookup::unlookup(who.clone());
        #[extrinsic_call]
        _(origin as T::RuntimeOrigin, lookup);
        assert!(!Members::<T>::contains_key(&who));
        Ok(())
    }

    impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
