//! Benchmarks (frame-benchmarking v2) for every call, worst case: full batches of new
//! items (for `revoke`, ids another DID revoked first, as a front-runner would), a DID
//! with a head to extend.

use super::*;
use crate::pallet::{Head, Heads, Revoked};
use frame_benchmarking::v2::*;
use frame_support::{
    BoundedVec,
    traits::{EnsureOrigin, Get},
};
use sp_core::H256;

/// A registered DID controlled by the write origin's account: (origin, did).
fn writer<T: Config>() -> Result<(T::RuntimeOrigin, T::AccountId), BenchmarkError> {
    let origin = T::WriteOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
    let did =
        T::WriteOrigin::ensure_origin(origin.clone()).map_err(|_| BenchmarkError::Weightless)?;
    pallet_talos_did::Dids::<T>::insert(
        &did,
        pallet_talos_did::DidRecord {
            controller: did.clone(),
            doc_hash: H256::zero(),
            version: 1,
            prev: None,
            endpoints: BoundedVec::new(),
            deactivated: false,
        },
    );
    Ok((origin, did))
}

#[benchmarks]
mod benchmarks {
    use super::*;

    #[benchmark]
    fn commit(n: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
        let (origin, did) = writer::<T>()?;
        let items: BoundedVec<H256, T::MaxBatch> = BoundedVec::truncate_from(
            (0..n)
                .map(|i| {
                    // Distinct commitments: i's bytes in the first four.
                    let mut h = H256::zero();
                    h.as_bytes_mut()
                        .iter_mut()
                        .zip(i.to_le_bytes())
                        .for_each(|(d, s)| *d = s);
                    h
                })
                .collect(),
        );
        #[extrinsic_call]
        _(origin as T::RuntimeOrigin, did, items);
        Ok(())
    }

    #[benchmark]
    fn revoke(n: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
        let (origin, did) = writer::<T>()?;
        let ids: BoundedVec<CapabilityId, T::MaxBatch> = BoundedVec::truncate_from(
            (0..n)
                .map(|i| {
                    let mut id = [0u8; 16];
                    id[..4].copy_from_slice(&i.to_be_bytes());
                    id
                })
                .collect(),
        );
        // Each id already revoked by someone else: the call still records every one.
        let squatter: T::AccountId = account("squatter", 0, 0);
        for id in ids.iter() {
            Revoked::<T>::insert(id, &squatter, frame_system::Pallet::<T>::block_number());
        }
        #[extrinsic_call]
        _(origin as T::RuntimeOrigin, did.clone(), ids.clone());
        for id in ids.iter() {
            assert!(Revoked::<T>::contains_key(id, &did));
            assert!(Revoked::<T>::contains_key(id, &squatter));
        }
        Ok(())
    }

    #[benchmark]
    fn anchor_root() -> Result<(), BenchmarkError> {
        let (origin, did) = writer::<T>()?;
        Heads::<T>::insert(
            &did,
            Head {
                size: 1,
                root: H256::repeat_byte(1),
            },
        );
        #[extrinsic_call]
        _(
            origin as T::RuntimeOrigin,
            did.clone(),
            2,
            H256::repeat_byte(2),
        );
        assert_eq!(Heads::<T>::get(&did).map(|h| h.size), Some(2));
        Ok(())
    }

    impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
