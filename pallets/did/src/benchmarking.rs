//! Benchmarks (frame-benchmarking v2) for every call, worst case: the most endpoints.

use super::*;
use crate::pallet::{DidRecord, Dids};
use frame_benchmarking::v2::*;
use frame_support::{
    BoundedVec,
    traits::{EnsureOrigin, Get},
};
use frame_system::RawOrigin;
use sp_core::H256;

fn endpoints<T: Config>(n: u32) -> Endpoints<T> {
    let one: Endpoint<T> = BoundedVec::truncate_from(
        sp_runtime::Vec::from([b'a'; 1]).repeat(T::MaxEndpointLen::get() as usize),
    );
    BoundedVec::truncate_from((0..n).map(|_| one.clone()).collect::<sp_runtime::Vec<_>>())
}

fn registered<T: Config>() -> T::AccountId {
    let did: T::AccountId = whitelisted_caller();
    Dids::<T>::insert(
        &did,
        DidRecord {
            controller: did.clone(),
            doc_hash: H256::zero(),
            version: 1,
            prev: None,
            endpoints: endpoints::<T>(T::MaxEndpoints::get()),
            deactivated: false,
        },
    );
    did
}

#[benchmarks]
mod benchmarks {
    use super::*;

    #[benchmark]
    fn register(e: Linear<0, { T::MaxEndpoints::get() }>) -> Result<(), BenchmarkError> {
        let origin =
            T::RegisterOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
        let did = T::RegisterOrigin::ensure_origin(origin.clone())
            .map_err(|_| BenchmarkError::Weightless)?;
        #[extrinsic_call]
        _(
            origin as T::RuntimeOrigin,
            H256::repeat_byte(1),
            endpoints::<T>(e),
        );
        assert!(Dids::<T>::contains_key(&did));
        Ok(())
    }

    #[benchmark]
    fn update(e: Linear<0, { T::MaxEndpoints::get() }>) {
        let did = registered::<T>();
        #[extrinsic_call]
        _(
            RawOrigin::Signed(did.clone()),
            did.clone(),
            H256::repeat_byte(2),
            endpoints::<T>(e),
        );
        assert_eq!(Dids::<T>::get(&did).map(|r| r.version), Some(2));
    }

    #[benchmark]
    fn rotate() {
        let did = registered::<T>();
        let next: T::AccountId = account("next", 0, 0);
        #[extrinsic_call]
        _(
            RawOrigin::Signed(did.clone()),
            did.clone(),
            next.clone(),
            H256::repeat_byte(3),
        );
        assert_eq!(Dids::<T>::get(&did).map(|r| r.controller), Some(next));
    }

    #[benchmark]
    fn deactivate() {
        let did = registered::<T>();
        #[extrinsic_call]
        _(RawOrigin::Signed(did.clone()), did.clone());
        assert_eq!(Dids::<T>::get(&did).map(|r| r.deactivated), Some(true));
    }

    impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
