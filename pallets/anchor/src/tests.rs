//! Every call, every error path, the wrong origin, the events, and the storage
//! migration.

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
        assert_eq!(Revoked::<Test>::get([1; 16], alice()), Some(1));
        assert_eq!(Revoked::<Test>::get([4; 16], alice()), None);
        // Recorded once per (id, revoker): the block of the first revocation stays.
        System::set_block_number(2);
        assert_ok!(Anchor::revoke(signed(alice()), alice(), ids(&[1, 4])));
        assert_eq!(Revoked::<Test>::get([1; 16], alice()), Some(1));
        assert_eq!(Revoked::<Test>::get([4; 16], alice()), Some(2));
        assert_eq!(Revoked::<Test>::iter().count(), 4);
        Anchor::do_try_state().unwrap();
    });
}

/// Finding 3 (issue 17): ids are chosen by issuers, so anyone can revoke an issuer's id
/// first. Storage kept only that first revoker, and a follower restarted from state
/// never saw the issuer's own revocation; every revoker is kept now.
#[test]
fn a_front_run_revocation_does_not_hide_the_issuers_after_restart() {
    new_test_ext().execute_with(|| {
        with_alice();
        assert_ok!(Did::register(signed(bob()), h(2), BoundedVec::new()));
        // Bob (the squatter) front-runs Alice's revocation of her id.
        assert_ok!(Anchor::revoke(signed(bob()), bob(), ids(&[7])));
        System::set_block_number(2);
        assert_ok!(Anchor::revoke(signed(alice()), alice(), ids(&[7])));
        System::assert_last_event(
            Event::Revoked {
                did: alice(),
                ids: ids(&[7]),
            }
            .into(),
        );
        // Both are in state, each with its block: what a restarted follower reads.
        let mut revokers: Vec<_> = Anchor::revokers(&[7; 16]).collect();
        revokers.sort();
        let mut want = vec![(bob(), 1), (alice(), 2)];
        want.sort();
        assert_eq!(revokers, want);
        // The squatter revoking again changes nothing for either.
        assert_ok!(Anchor::revoke(signed(bob()), bob(), ids(&[7])));
        assert_eq!(Anchor::revokers(&[7; 16]).count(), 2);
        assert_eq!(Revoked::<Test>::get([7; 16], alice()), Some(2));
    });
}

mod migration {
    use super::*;
    use crate::migrations::v1::{MigrateV0ToV1, v0};
    use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

    /// A version-0 chain at block 5: ids 1 and 2 revoked by Alice, 3 by Bob.
    fn version_0() {
        StorageVersion::new(0).put::<Anchor>();
        System::set_block_number(5);
        v0::Revoked::<Test>::insert([1; 16], alice());
        v0::Revoked::<Test>::insert([2; 16], alice());
        v0::Revoked::<Test>::insert([3; 16], bob());
    }

    #[test]
    fn v0_to_v1_keeps_every_revocation_dated_at_the_upgrade() {
        new_test_ext().execute_with(|| {
            version_0();
            assert_eq!(Anchor::on_chain_storage_version(), 0);
            let weight = MigrateV0ToV1::<Test>::on_runtime_upgrade();
            // Per entry one read and two writes, plus the version's read and write.
            let db = <Test as frame_system::Config>::DbWeight::get();
            assert_eq!(
                weight,
                db.reads_writes(3, 6).saturating_add(db.reads_writes(1, 1))
            );
            assert_eq!(Anchor::on_chain_storage_version(), 1);
            assert_eq!(
                Anchor::on_chain_storage_version(),
                Anchor::in_code_storage_version()
            );
            let mut all: Vec<_> = Revoked::<Test>::iter().collect();
            all.sort();
            let mut want = vec![
                ([1; 16], alice(), 5),
                ([2; 16], alice(), 5),
                ([3; 16], bob(), 5),
            ];
            want.sort();
            assert_eq!(all, want);
            for id in [[1; 16], [2; 16], [3; 16]] {
                assert!(!v0::Revoked::<Test>::contains_key(id));
            }
            // The new layout is live: the issuer's revocation joins the migrated one.
            assert_ok!(Did::register(signed(alice()), h(1), BoundedVec::new()));
            System::set_block_number(6);
            assert_ok!(Anchor::revoke(signed(alice()), alice(), ids(&[3])));
            assert_eq!(Anchor::revokers(&[3; 16]).count(), 2);
            Anchor::do_try_state().unwrap();
        });
    }

    #[test]
    fn v0_to_v1_runs_once() {
        new_test_ext().execute_with(|| {
            version_0();
            MigrateV0ToV1::<Test>::on_runtime_upgrade();
            let after: Vec<_> = Revoked::<Test>::iter().collect();
            System::set_block_number(9);
            // At version 1 it is a no-op (a single read of the version).
            let weight = MigrateV0ToV1::<Test>::on_runtime_upgrade();
            assert_eq!(
                weight,
                <Test as frame_system::Config>::DbWeight::get().reads(1)
            );
            let again: Vec<_> = Revoked::<Test>::iter().collect();
            assert_eq!(after, again);
        });
    }

    #[test]
    fn an_empty_v0_migrates_to_an_empty_v1() {
        new_test_ext().execute_with(|| {
            StorageVersion::new(0).put::<Anchor>();
            MigrateV0ToV1::<Test>::on_runtime_upgrade();
            assert_eq!(Anchor::on_chain_storage_version(), 1);
            assert_eq!(Revoked::<Test>::iter().count(), 0);
        });
    }

    /// The pre- and post-upgrade checks pass on a real migration, as try-runtime runs
    /// them.
    #[cfg(feature = "try-runtime")]
    #[test]
    fn v0_to_v1_passes_its_try_runtime_checks() {
        new_test_ext().execute_with(|| {
            version_0();
            MigrateV0ToV1::<Test>::try_on_runtime_upgrade(true).unwrap();
            assert_eq!(Revoked::<Test>::iter().count(), 3);
            // And as a no-op at version 1.
            MigrateV0ToV1::<Test>::try_on_runtime_upgrade(true).unwrap();
        });
    }
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
