//! Every call, every error path, the wrong origin, and the events.

use crate::{Commitments, Error, Event, Head, Heads, Revoked, RootAt, mock::*};
use frame_support::{BoundedVec, assert_noop, assert_ok};
use sp_core::H256;
use sp_runtime::DispatchError;

fn h(n: u8) -> H256 {
    H256::repeat_byte(n)
}

fn signed(a: sp_runtime::AccountId32) -> RuntimeOrigin {
    RuntimeOrigin::signed(a)
}

/// Alice registers her DID.
fn with_alice() {
    assert_ok!(Did::register(signed(alice()), h(1), BoundedVec::new()));
}

fn hashes(v: &[u8]) -> BoundedVec<H256, MaxBatch> {
    BoundedVec::truncate_from(v.iter().map(|n| h(*n)).collect())
}

fn ids(v: &[u8]) -> BoundedVec<[u8; 16], MaxBatch> {
    BoundedVec::truncate_from(v.iter().map(|n| [*n; 16]).collect())
}

#[test]
fn commitments_single_and_batch_keep_the_first_committer() {
    new_test_ext().execute_with(|| {
        with_alice();
        assert_ok!(Did::register(signed(bob()), h(2), BoundedVec::new()));
        assert_ok!(Anchor::commit(signed(alice()), alice(), hashes(&[7])));
        System::assert_last_event(
            Event::Committed {
                did: alice(),
                count: 1,
            }
            .into(),
        );
        assert_ok!(Anchor::commit(signed(bob()), bob(), hashes(&[7, 8, 9])));
        System::assert_last_event(
            Event::Committed {
                did: bob(),
                count: 2,
            }
            .into(),
        );
        assert_eq!(Commitments::<Test>::get(h(7)), Some(alice()));
        assert_eq!(Commitments::<Test>::get(h(8)), Some(bob()));
    });
}

#[test]
fn revocations_are_permanent_and_idempotent() {
    new_test_ext().execute_with(|| {
        with_alice();
        assert_ok!(Anchor::revoke(signed(alice()), alice(), ids(&[1, 2])));
        System::assert_last_event(
            Event::Revoked {
                did: alice(),
                ids: ids(&[1, 2]),
            }
            .into(),
        );
        // Again (a resubmitted transaction): no error; the event still names every id.
        assert_ok!(Anchor::revoke(signed(alice()), alice(), ids(&[2, 3])));
        System::assert_last_event(
            Event::Revoked {
                did: alice(),
                ids: ids(&[2, 3]),
            }
            .into(),
        );
        assert_eq!(Revoked::<Test>::get([1; 16]), Some(alice()));
        assert_eq!(Revoked::<Test>::get([4; 16]), None);
    });
}

#[test]
fn audit_roots_never_shrink() {
    new_test_ext().execute_with(|| {
        with_alice();
        assert_ok!(Anchor::anchor_root(signed(alice()), alice(), 10, h(10)));
        System::assert_last_event(
            Event::RootAnchored {
                did: alice(),
                size: 10,
                root: h(10),
            }
            .into(),
        );
        assert_ok!(Anchor::anchor_root(signed(alice()), alice(), 20, h(20)));
        assert_eq!(
            Heads::<Test>::get(alice()),
            Some(Head {
                size: 20,
                root: h(20)
            })
        );
        assert_eq!(
            RootAt::<Test>::get(alice(), 10).map(|a| (a.root, a.block)),
            Some((h(10), 1))
        );
        // The same head again is a no-op (a resubmission); another root at it is not.
        assert_ok!(Anchor::anchor_root(signed(alice()), alice(), 20, h(20)));
        assert_noop!(
            Anchor::anchor_root(signed(alice()), alice(), 20, h(21)),
            Error::<Test>::RootConflict
        );
        assert_noop!(
            Anchor::anchor_root(signed(alice()), alice(), 19, h(19)),
            Error::<Test>::TreeSizeShrinks
        );
        assert_noop!(
            Anchor::anchor_root(signed(alice()), alice(), 30, H256::zero()),
            Error::<Test>::InvalidRoot
        );
        Anchor::do_try_state().unwrap();
    });
}

#[test]
fn every_error_path() {
    new_test_ext().execute_with(|| {
        // No DID yet.
        assert_noop!(
            Anchor::commit(signed(alice()), alice(), hashes(&[1])),
            Error::<Test>::UnknownDid
        );
        assert_noop!(
            Anchor::revoke(signed(alice()), alice(), ids(&[1])),
            Error::<Test>::UnknownDid
        );
        assert_noop!(
            Anchor::anchor_root(signed(alice()), alice(), 1, h(1)),
            Error::<Test>::UnknownDid
        );
        with_alice();
        // Bob is a member but does not control Alice's DID.
        assert_noop!(
            Anchor::commit(signed(bob()), alice(), hashes(&[1])),
            Error::<Test>::NotController
        );
        assert_noop!(
            Anchor::revoke(signed(bob()), alice(), ids(&[1])),
            Error::<Test>::NotController
        );
        assert_noop!(
            Anchor::anchor_root(signed(bob()), alice(), 1, h(1)),
            Error::<Test>::NotController
        );
        assert_noop!(
            Anchor::commit(signed(alice()), alice(), hashes(&[])),
            Error::<Test>::EmptyBatch
        );
        assert_noop!(
            Anchor::revoke(signed(alice()), alice(), ids(&[])),
            Error::<Test>::EmptyBatch
        );
        assert_ok!(Did::deactivate(signed(alice()), alice()));
        assert_noop!(
            Anchor::commit(signed(alice()), alice(), hashes(&[1])),
            Error::<Test>::Deactivated
        );
        assert_noop!(
            Anchor::revoke(signed(alice()), alice(), ids(&[1])),
            Error::<Test>::Deactivated
        );
        assert_noop!(
            Anchor::anchor_root(signed(alice()), alice(), 1, h(1)),
            Error::<Test>::Deactivated
        );
    });
}

#[test]
fn wrong_origins_are_bad_origin() {
    new_test_ext().execute_with(|| {
        with_alice();
        for origin in [
            RuntimeOrigin::none(),
            RuntimeOrigin::root(),
            signed(mallory()),
        ] {
            assert_noop!(
                Anchor::commit(origin.clone(), alice(), hashes(&[1])),
                DispatchError::BadOrigin
            );
            assert_noop!(
                Anchor::revoke(origin.clone(), alice(), ids(&[1])),
                DispatchError::BadOrigin
            );
            assert_noop!(
                Anchor::anchor_root(origin, alice(), 1, h(1)),
                DispatchError::BadOrigin
            );
        }
    });
}

#[test]
fn batches_are_bounded_in_the_type() {
    let too_many: Result<BoundedVec<H256, MaxBatch>, _> = BoundedVec::try_from(vec![h(0); 9]);
    assert!(too_many.is_err());
}
