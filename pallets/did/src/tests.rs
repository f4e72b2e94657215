//! Every call, every error path, the wrong origin, and the events.

use crate::{Dids, Error, Event, mock::*};
use frame_support::{BoundedVec, assert_noop, assert_ok};
use sp_core::H256;
use sp_runtime::DispatchError;

fn h(n: u8) -> H256 {
    H256::repeat_byte(n)
}

fn endpoints(n: usize) -> crate::Endpoints<Test> {
    let one: crate::Endpoint<Test> = BoundedVec::truncate_from(b"/dns/a.example/tcp/4001".to_vec());
    BoundedVec::truncate_from(vec![one; n])
}

fn signed(a: sp_runtime::AccountId32) -> RuntimeOrigin {
    RuntimeOrigin::signed(a)
}

#[test]
fn register_update_rotate_deactivate() {
    new_test_ext().execute_with(|| {
        assert_ok!(Did::register(signed(alice()), h(1), endpoints(2)));
        System::assert_last_event(
            Event::Registered {
                did: alice(),
                doc_hash: h(1),
            }
            .into(),
        );
        let r = Dids::<Test>::get(alice()).unwrap();
        assert_eq!((r.version, r.prev, r.endpoints.len()), (1, None, 2));

        assert_ok!(Did::update(signed(alice()), alice(), h(2), endpoints(1)));
        System::assert_last_event(
            Event::Updated {
                did: alice(),
                version: 2,
                doc_hash: h(2),
            }
            .into(),
        );
        let r = Dids::<Test>::get(alice()).unwrap();
        assert_eq!((r.version, r.prev, r.doc_hash), (2, Some(h(1)), h(2)));

        // The old key signs the hand-over; from then on only the new key may write.
        let new_key = account(7);
        assert_ok!(Did::rotate(signed(alice()), alice(), new_key.clone(), h(3)));
        System::assert_last_event(
            Event::Rotated {
                did: alice(),
                controller: new_key.clone(),
                version: 3,
            }
            .into(),
        );
        assert_noop!(
            Did::update(signed(alice()), alice(), h(4), endpoints(0)),
            Error::<Test>::NotController
        );
        assert_ok!(Did::update(
            signed(new_key.clone()),
            alice(),
            h(4),
            endpoints(0)
        ));

        assert_ok!(Did::deactivate(signed(new_key.clone()), alice()));
        System::assert_last_event(Event::Deactivated { did: alice() }.into());
        assert_noop!(
            Did::update(signed(new_key.clone()), alice(), h(5), endpoints(0)),
            Error::<Test>::Deactivated
        );
        assert_noop!(
            Did::rotate(signed(new_key.clone()), alice(), bob(), h(5)),
            Error::<Test>::Deactivated
        );
        assert_noop!(
            Did::deactivate(signed(new_key), alice()),
            Error::<Test>::Deactivated
        );
        Did::do_try_state().unwrap();
    });
}

#[test]
fn every_error_path() {
    new_test_ext().execute_with(|| {
        assert_ok!(Did::register(signed(alice()), h(1), endpoints(0)));
        assert_noop!(
            Did::register(signed(alice()), h(1), endpoints(0)),
            Error::<Test>::AlreadyRegistered
        );
        assert_noop!(
            Did::update(signed(bob()), bob(), h(1), endpoints(0)),
            Error::<Test>::UnknownDid
        );
        assert_noop!(
            Did::rotate(signed(bob()), bob(), alice(), h(1)),
            Error::<Test>::UnknownDid
        );
        assert_noop!(
            Did::deactivate(signed(bob()), bob()),
            Error::<Test>::UnknownDid
        );
        assert_noop!(
            Did::update(signed(bob()), alice(), h(2), endpoints(0)),
            Error::<Test>::NotController
        );
        assert_noop!(
            Did::rotate(signed(bob()), alice(), bob(), h(2)),
            Error::<Test>::NotController
        );
        assert_noop!(
            Did::deactivate(signed(bob()), alice()),
            Error::<Test>::NotController
        );
        // A version at its maximum cannot be bumped (checked arithmetic, no panic).
        Dids::<Test>::mutate(alice(), |r| {
            if let Some(r) = r {
                r.version = u32::MAX;
                r.prev = Some(h(0));
            }
        });
        assert_noop!(
            Did::update(signed(alice()), alice(), h(2), endpoints(0)),
            Error::<Test>::VersionOverflow
        );
    });
}

#[test]
fn wrong_origins_are_bad_origin() {
    new_test_ext().execute_with(|| {
        // Not a consortium member.
        assert_noop!(
            Did::register(signed(mallory()), h(1), endpoints(0)),
            DispatchError::BadOrigin
        );
        // Unsigned and root are not DIDs.
        assert_noop!(
            Did::register(RuntimeOrigin::none(), h(1), endpoints(0)),
            DispatchError::BadOrigin
        );
        assert_noop!(
            Did::register(RuntimeOrigin::root(), h(1), endpoints(0)),
            DispatchError::BadOrigin
        );
        assert_ok!(Did::register(signed(alice()), h(1), endpoints(0)));
        assert_noop!(
            Did::update(RuntimeOrigin::none(), alice(), h(2), endpoints(0)),
            DispatchError::BadOrigin
        );
        assert_noop!(
            Did::rotate(RuntimeOrigin::root(), alice(), bob(), h(2)),
            DispatchError::BadOrigin
        );
        assert_noop!(
            Did::deactivate(RuntimeOrigin::none(), alice()),
            DispatchError::BadOrigin
        );
    });
}

#[test]
fn endpoints_are_bounded_in_the_type() {
    // More endpoints, or a longer one, than the runtime allows cannot even be built, so
    // they cannot be decoded from an extrinsic either.
    let too_many: Result<crate::Endpoints<Test>, _> =
        BoundedVec::try_from(vec![BoundedVec::truncate_from(vec![0u8; 1]); 5]);
    assert!(too_many.is_err());
    let too_long: Result<crate::Endpoint<Test>, _> = BoundedVec::try_from(vec![0u8; 65]);
    assert!(too_long.is_err());
}
