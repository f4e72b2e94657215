//! Every call, every error path, the wrong origin, the events, the origin check, the
//! migration from `pallet-membership`, and a model check of random add/remove runs.

use std::collections::BTreeSet;

use crate::{
    EnsureMember, Error, Event, Members as MemberMap,
    migrations::{FromMembership, check_moved, v4},
    mock::*,
};
use frame_support::{
    assert_noop, assert_ok,
    traits::{EnsureOrigin, GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};
use proptest::prelude::*;
use sp_runtime::{AccountId32, DispatchError};

fn root() -> RuntimeOrigin {
    RuntimeOrigin::root()
}

#[test]
fn genesis_members_count_once_and_can_sign() {
    new_test_ext().execute_with(|| {
        assert_eq!(MemberMap::<Test>::count(), 2);
        assert!(Members::is_member(&alice()) && Members::is_member(&bob()));
        // One provider each, so an agent's key is a live account without a balance.
        assert_eq!(System::providers(&alice()), 1);
        assert_eq!(MemberMap::<Test>::get(alice()), Some(0));
        assert_ok!(Members::do_try_state());
    });
}

#[test]
fn add_and_remove() {
    new_test_ext().execute_with(|| {
        System::set_block_number(7);
        let carol = account(3);
        assert_eq!(System::providers(&carol), 0);
        assert_ok!(Members::add_member(root(), carol.clone()));
        System::assert_last_event(Event::MemberAdded { who: carol.clone() }.into());
        assert_eq!(MemberMap::<Test>::get(&carol), Some(7));
        assert_eq!(System::providers(&carol), 1);

        assert_ok!(Members::remove_member(root(), carol.clone()));
        System::assert_last_event(Event::MemberRemoved { who: carol.clone() }.into());
        assert!(!Members::is_member(&carol));
        assert_eq!(System::providers(&carol), 0);
        assert_ok!(Members::do_try_state());
    });
}

#[test]
fn refusals() {
    new_test_ext().execute_with(|| {
        let carol = account(3);
        // Only the governing origin adds or removes; a member is not enough.
        assert_noop!(
            Members::add_member(RuntimeOrigin::signed(alice()), carol.clone()),
            DispatchError::BadOrigin
        );
        assert_noop!(
            Members::remove_member(RuntimeOrigin::signed(alice()), bob()),
            DispatchError::BadOrigin
        );
        assert_noop!(
            Members::add_member(root(), alice()),
            Error::<Test>::AlreadyMember
        );
        assert_noop!(
            Members::remove_member(root(), carol.clone()),
            Error::<Test>::NotMember
        );
        // The bound (three): the fourth is refused, and nothing changes.
        assert_ok!(Members::add_member(root(), carol));
        assert_noop!(
            Members::add_member(root(), account(4)),
            Error::<Test>::TooManyMembers
        );
        assert_eq!(System::providers(&account(4)), 0);
    });
}

#[test]
fn ensure_member_admits_signed_members_only() {
    new_test_ext().execute_with(|| {
        let ok = EnsureMember::<Test>::try_origin(RuntimeOrigin::signed(alice()));
        assert_eq!(ok.ok(), Some(alice()));
        assert!(EnsureMember::<Test>::try_origin(RuntimeOrigin::signed(account(3))).is_err());
        assert!(EnsureMember::<Test>::try_origin(root()).is_err());
        assert!(EnsureMember::<Test>::try_origin(RuntimeOrigin::none()).is_err());
        assert_ok!(Members::remove_member(root(), alice()));
        assert!(EnsureMember::<Test>::try_origin(RuntimeOrigin::signed(alice())).is_err());
    });
}

/// A chain that ran `pallet-membership` under this pallet's name: its vector and prime
/// at the map's own prefix, storage version 4, and the provider references its hook
/// gave. The migration keeps every member (even beyond `MaxMembers`) and runs once.
#[test]
fn migrates_from_pallet_membership() {
    let mut ext = sp_io::TestExternalities::new(Default::default());
    ext.execute_with(|| {
        let old: Vec<AccountId32> = (10..15).map(account).collect();
        for who in &old {
            System::inc_providers(who);
        }
        v4::Members::<Test>::put(old.clone());
        v4::Prime::<Test>::put(old[0].clone());
        StorageVersion::new(4).put::<crate::Pallet<Test>>();

        FromMembership::<Test>::on_runtime_upgrade();
        assert_ok!(check_moved::<Test>(&old));
        assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 5);
        // The references are the hook's, not doubled: one each, taken back on removal.
        assert_eq!(System::providers(&old[1]), 1);
        assert_ok!(Members::remove_member(root(), old[1].clone()));
        assert_eq!(System::providers(&old[1]), 0);
        // Five members over a bound of three: kept, and new ones wait.
        assert_noop!(
            Members::add_member(root(), account(20)),
            Error::<Test>::TooManyMembers
        );

        // Run again: a no-op at version 5.
        let before = MemberMap::<Test>::count();
        FromMembership::<Test>::on_runtime_upgrade();
        assert_eq!(MemberMap::<Test>::count(), before);
    });
}

/// A chain that started on this pallet is at version 5 from genesis: the migration
/// leaves it alone.
#[test]
fn migration_skips_a_new_chain() {
    new_test_ext().execute_with(|| {
        assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), 5);
        FromMembership::<Test>::on_runtime_upgrade();
        assert_eq!(MemberMap::<Test>::count(), 2);
        assert!(Members::is_member(&alice()));
    });
}

#[derive(Clone, Debug)]
enum Op {
    Add(u8),
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![(1u8..7).prop_map(Op::Add), (1u8..7).prop_map(Op::Remove)]
}

proptest! {
    /// Any run of adds and removes leaves exactly the model's members, each with one
    /// provider reference, the counter right and the bound kept.
    #[test]
    fn random_runs_match_a_set(ops in proptest::collection::vec(op(), 0..40)) {
        new_test_ext().execute_with(|| {
            let mut model: BTreeSet<u8> = [1u8, 2].into_iter().collect();
            for op in &ops {
                match *op {
                    Op::Add(s) => {
                        let r = Members::add_member(root(), account(s));
                        let fits = model.len() < 3 && !model.contains(&s);
                        assert_eq!(r.is_ok(), fits, "add {s}");
                        if fits {
                            model.insert(s);
                        }
                    }
                    Op::Remove(s) => {
                        let r = Members::remove_member(root(), account(s));
                        assert_eq!(r.is_ok(), model.remove(&s), "remove {s}");
                    }
                }
            }
            for s in 1u8..7 {
                assert_eq!(Members::is_member(&account(s)), model.contains(&s));
                let providers = u32::from(model.contains(&s));
                assert_eq!(System::providers(&account(s)), providers);
            }
            assert_ok!(Members::do_try_state());
        });
    }
}
