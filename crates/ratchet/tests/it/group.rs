use std::collections::BTreeMap;

use talos_identity::IdentityKey;
use talos_primitives::Ed25519Public;
use talos_ratchet::group::{Group, GroupError, GroupMessage, Rekey, SenderKeyDistribution};
use talos_ratchet::membership::{EventKind, GroupId, MembershipError, MembershipEvent};

struct Member {
    key: IdentityKey,
    group: Group,
}

/// Delivers rekeys: in the node each distribution travels over the pairwise session from
/// `from` to the recipient, which authenticates `from`; here they are handed over directly
/// after an encode/parse round trip.
fn deliver(members: &mut BTreeMap<Ed25519Public, Member>, from: Ed25519Public, rekey: Rekey) {
    for (to, d) in rekey {
        let d = SenderKeyDistribution::parse(&d.encode()).unwrap();
        if let Some(m) = members.get_mut(&to) {
            m.group.accept_distribution(&from, &d).unwrap();
        }
    }
}

fn apply_all(members: &mut BTreeMap<Ed25519Public, Member>, ev: &MembershipEvent) {
    apply_except(members, ev, None);
}

fn apply_except(
    members: &mut BTreeMap<Ed25519Public, Member>,
    ev: &MembershipEvent,
    skip: Option<Ed25519Public>,
) {
    let ev = MembershipEvent::parse(&ev.encode()).unwrap();
    let mut rekeys = Vec::new();
    for (k, m) in members.iter_mut().filter(|(k, _)| Some(**k) != skip) {
        rekeys.push((*k, m.group.apply(&mut rand::rng(), &ev).unwrap()));
    }
    for (from, r) in rekeys {
        deliver(members, from, r);
    }
}

/// A group of 5 built by invitations; everyone reads everyone; a removed member reads
/// nothing after the removal; the log is hash-chained and signature-checked.
#[test]
fn group_of_five_rekeys_on_every_change() {
    let creator = IdentityKey::generate().unwrap();
    let gid = GroupId::new_for(&mut rand::rng(), &creator.public());
    let (g, genesis) = Group::create(&mut rand::rng(), &creator, gid).unwrap();
    let mut log = vec![genesis];
    let mut members = BTreeMap::new();
    members.insert(
        creator.public(),
        Member {
            key: creator,
            group: g,
        },
    );
    let creator_pk = *members.keys().next().unwrap();
    for _ in 0..4 {
        let newcomer = IdentityKey::generate().unwrap();
        let invite = members[&creator_pk].group.sign_event(
            &members[&creator_pk].key,
            EventKind::Invited,
            newcomer.public(),
        );
        apply_all(&mut members, &invite);
        log.push(invite);
        let mut ng = Group::from_log(newcomer.public(), &log).unwrap();
        let joined = ng.sign_event(&newcomer, EventKind::Joined, newcomer.public());
        // The newcomer applies its own JOINED too, which gives it its first sender key.
        let its_rekey = ng.apply(&mut rand::rng(), &joined).unwrap();
        let pk = newcomer.public();
        members.insert(
            pk,
            Member {
                key: newcomer,
                group: ng,
            },
        );
        apply_except(&mut members, &joined, Some(pk));
        deliver(&mut members, pk, its_rekey);
        log.push(joined);
    }
    assert_eq!(members.len(), 5);
    let keys: Vec<Ed25519Public> = members.keys().copied().collect();
    for sender in &keys {
        let msg = members
            .get_mut(sender)
            .unwrap()
            .group
            .encrypt(b"to all")
            .unwrap();
        let msg = GroupMessage::parse(msg.as_bytes()).unwrap();
        for r in keys.iter().filter(|k| *k != sender) {
            assert_eq!(
                members.get_mut(r).unwrap().group.decrypt(&msg).unwrap(),
                b"to all"
            );
            assert_eq!(
                members.get_mut(r).unwrap().group.decrypt(&msg).unwrap_err(),
                GroupError::Duplicate(msg.iteration)
            );
        }
    }
    // Remove a member other than the creator (keys are random, so the creator's place in
    // the sorted list is too); it keeps its old state but gets no new keys.
    let removed = *keys.iter().rev().find(|k| **k != creator_pk).unwrap();
    let mut removed_member = members.remove(&removed).unwrap();
    let ev = members[&creator_pk].group.sign_event(
        &members[&creator_pk].key,
        EventKind::Removed,
        removed,
    );
    apply_all(&mut members, &ev);
    let msg = members
        .get_mut(&creator_pk)
        .unwrap()
        .group
        .encrypt(b"after removal")
        .unwrap();
    assert!(removed_member.group.decrypt(&msg).is_err());
    removed_member.group.apply(&mut rand::rng(), &ev).unwrap();
    assert_eq!(
        removed_member.group.decrypt(&msg).unwrap_err(),
        GroupError::NotMember
    );
    assert_eq!(
        removed_member.group.encrypt(b"x").unwrap_err(),
        GroupError::NotMember
    );
    for r in keys.iter().filter(|k| **k != creator_pk && **k != removed) {
        assert_eq!(
            members.get_mut(r).unwrap().group.decrypt(&msg).unwrap(),
            b"after removal"
        );
    }
    // A forged or replayed event is refused with its own error.
    let replay = members
        .get_mut(&creator_pk)
        .unwrap()
        .group
        .apply(&mut rand::rng(), &ev)
        .unwrap_err();
    assert!(matches!(
        replay,
        GroupError::Membership(MembershipError::Sequence { .. })
    ));
    let outsider = IdentityKey::generate().unwrap();
    let forged =
        members[&creator_pk]
            .group
            .sign_event(&outsider, EventKind::Invited, outsider.public());
    let err = members
        .get_mut(&creator_pk)
        .unwrap()
        .group
        .apply(&mut rand::rng(), &forged)
        .unwrap_err();
    assert_eq!(err, GroupError::Membership(MembershipError::NotAllowed));
    let mut broken = members[&creator_pk].group.sign_event(
        &members[&creator_pk].key,
        EventKind::Closed,
        creator_pk,
    );
    broken.prev_digest = [9; 32];
    let err = members
        .get_mut(&creator_pk)
        .unwrap()
        .group
        .apply(&mut rand::rng(), &broken)
        .unwrap_err();
    assert_eq!(err, GroupError::Membership(MembershipError::BrokenChain));
}

#[test]
fn tampered_group_message_is_rejected_and_state_unchanged() {
    let a = IdentityKey::generate().unwrap();
    let b = IdentityKey::generate().unwrap();
    let (mut ga, genesis) = Group::create(
        &mut rand::rng(),
        &a,
        GroupId::new_for(&mut rand::rng(), &a.public()),
    )
    .unwrap();
    let invite = ga.sign_event(&a, EventKind::Invited, b.public());
    ga.apply(&mut rand::rng(), &invite).unwrap();
    let mut gb = Group::from_log(b.public(), &[genesis, invite]).unwrap();
    let joined = gb.sign_event(&b, EventKind::Joined, b.public());
    gb.apply(&mut rand::rng(), &joined).unwrap();
    let rekey = ga.apply(&mut rand::rng(), &joined).unwrap();
    for (_, d) in rekey {
        gb.accept_distribution(&a.public(), &d).unwrap();
    }
    // A distribution relayed by someone other than its owner is refused.
    let d = ga.own_distribution().unwrap();
    assert_eq!(
        gb.accept_distribution(&b.public(), &d).unwrap_err(),
        GroupError::WrongDistributor
    );
    let msg = ga.encrypt(b"group hello").unwrap();
    let bytes = msg.as_bytes().to_vec();
    for bit in 0..bytes.len() * 8 {
        let mut f = bytes.clone();
        f[bit / 8] ^= 1 << (bit % 8);
        if let Ok(m) = GroupMessage::parse(&f) {
            assert!(gb.decrypt(&m).is_err(), "bit {bit}");
        }
    }
    assert_eq!(gb.decrypt(&msg).unwrap(), b"group hello");
}

mod state {
    use proptest::prelude::*;

    use super::*;

    /// Two members, `a` and `b`, with sender keys exchanged; `a` sends `sent` messages of
    /// which `b` reads only those in `read` (so `b` holds skipped keys).
    fn pair(sent: usize, read: &[bool]) -> (Group, Group, Vec<GroupMessage>) {
        let a = IdentityKey::generate().unwrap();
        let b = IdentityKey::generate().unwrap();
        let (mut ga, genesis) = Group::create(
            &mut rand::rng(),
            &a,
            GroupId::new_for(&mut rand::rng(), &a.public()),
        )
        .unwrap();
        let invite = ga.sign_event(&a, EventKind::Invited, b.public());
        ga.apply(&mut rand::rng(), &invite).unwrap();
        let mut gb = Group::from_log(b.public(), &[genesis, invite]).unwrap();
        let joined = gb.sign_event(&b, EventKind::Joined, b.public());
        let rb = gb.apply(&mut rand::rng(), &joined).unwrap();
        let ra = ga.apply(&mut rand::rng(), &joined).unwrap();
        for (_, d) in ra {
            gb.accept_distribution(&a.public(), &d).unwrap();
        }
        for (_, d) in rb {
            ga.accept_distribution(&b.public(), &d).unwrap();
        }
        let msgs: Vec<GroupMessage> = (0..sent)
            .map(|i| ga.encrypt(&[i as u8; 20]).unwrap())
            .collect();
        for (m, r) in msgs.iter().zip(read) {
            if *r {
                gb.decrypt(m).unwrap();
            }
        }
        (ga, gb, msgs)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// A group state survives encode/decode: the same bytes again, and the decoded
        /// member decrypts the messages it had not read (skipped keys kept) and refuses
        /// the ones it had, while its own sends still reach the other member.
        #[test]
        fn group_state_round_trips(read in prop::collection::vec(any::<bool>(), 0..24)) {
            let (mut ga, gb, msgs) = pair(read.len(), &read);
            let bytes = gb.encode();
            let mut back = Group::decode(&bytes).unwrap();
            prop_assert_eq!(&back.encode()[..], &bytes[..]);
            for (m, r) in msgs.iter().zip(&read) {
                let got = back.decrypt(m);
                if *r {
                    prop_assert!(got.is_err());
                } else {
                    prop_assert_eq!(got.unwrap(), vec![m.iteration as u8; 20]);
                }
            }
            let reply = back.encrypt(b"after a restart").unwrap();
            prop_assert_eq!(ga.decrypt(&reply).unwrap(), b"after a restart".to_vec());
        }

        /// Truncated, extended or arbitrary bytes are typed errors, never panics.
        #[test]
        fn group_state_decoder_refuses_bad_input(cut in 1usize..64, junk in prop::collection::vec(any::<u8>(), 0..512)) {
            let (_, gb, _) = pair(3, &[true, false, true]);
            let bytes = gb.encode();
            prop_assert!(Group::decode(&bytes[..bytes.len().saturating_sub(cut)]).is_err());
            let mut long = bytes.to_vec();
            long.push(0);
            prop_assert!(Group::decode(&long).is_err());
            let _ = Group::decode(&junk);
        }
    }
}

mod wire {
    use proptest::prelude::*;
    use talos_ratchet::group::wire::{GroupWire, MAX_INVITE_EVENTS};

    use super::*;

    /// One item of every kind, from a real two-member group.
    fn items(log_len: usize) -> Vec<GroupWire> {
        let a = IdentityKey::generate().unwrap();
        let gid = GroupId::new_for(&mut rand::rng(), &a.public());
        let (mut ga, genesis) = Group::create(&mut rand::rng(), &a, gid).unwrap();
        let mut log = vec![genesis];
        for _ in 1..log_len {
            let b = IdentityKey::generate().unwrap();
            let ev = ga.sign_event(&a, EventKind::Invited, b.public());
            ga.apply(&mut rand::rng(), &ev).unwrap();
            log.push(ev);
        }
        vec![
            GroupWire::Invite(log.clone()),
            GroupWire::Event(log.last().unwrap().clone()),
            GroupWire::Reject {
                group: gid,
                next_seq: log.len() as u64,
            },
            GroupWire::Distribution(ga.own_distribution().unwrap()),
            GroupWire::Message(ga.encrypt(b"to the group").unwrap()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Every kind parses back to itself from its own bytes.
        #[test]
        fn group_items_round_trip(log_len in 1usize..12) {
            for item in items(log_len) {
                let bytes = item.encode();
                prop_assert_eq!(GroupWire::parse(&bytes).unwrap(), item);
            }
        }

        /// The fixed-size kinds refuse any truncation or extension; any bytes at all give
        /// a typed error or an item that re-encodes to them, never a panic.
        #[test]
        fn group_item_decoder_refuses_bad_input(
            cut in 1usize..40,
            junk in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            for item in items(3).into_iter().take(4) {
                let bytes = item.encode();
                prop_assert!(GroupWire::parse(&bytes[..bytes.len().saturating_sub(cut)]).is_err());
                let mut long = bytes.to_vec();
                long.push(0);
                prop_assert!(GroupWire::parse(&long).is_err());
            }
            if let Ok(item) = GroupWire::parse(&junk) {
                prop_assert_eq!(&item.encode()[..], &junk[..]);
            }
        }
    }

    #[test]
    fn invites_are_bounded_and_one_group_only() {
        let [invite, ..] = &items(2)[..] else {
            unreachable!()
        };
        let GroupWire::Invite(log) = invite else {
            unreachable!()
        };
        let too_long = vec![log[0].clone(); MAX_INVITE_EVENTS + 1];
        let mut bytes = vec![1u8];
        bytes.extend_from_slice(&(too_long.len() as u16).to_be_bytes());
        for e in &too_long {
            bytes.extend_from_slice(&e.encode());
        }
        assert!(GroupWire::parse(&bytes).is_err());
        let GroupWire::Invite(other) = &items(1)[0] else {
            unreachable!()
        };
        let mixed = GroupWire::Invite(vec![log[0].clone(), other[0].clone()]);
        let mut other_group = mixed.encode().to_vec();
        // The second event's group id (after tag, count, the first event, version, kind
        // and event kind) names another group.
        other_group[3 + 203 + 3] ^= 1;
        assert!(GroupWire::parse(&other_group).is_err());
        assert!(GroupWire::parse(&[]).is_err());
        assert!(GroupWire::parse(&[9]).is_err());
    }
}

/// A genesis under an id another creator's group could have (not bound to its actor) is
/// refused, so nobody can shadow a group by starting one under its id first.
#[test]
fn group_ids_are_bound_to_their_creator() {
    let alice = IdentityKey::generate().unwrap();
    let mallory = IdentityKey::generate().unwrap();
    let id = GroupId::new_for(&mut rand::rng(), &alice.public());
    assert!(id.is_bound_to(&alice.public()));
    assert!(!id.is_bound_to(&mallory.public()));
    assert!(Group::create(&mut rand::rng(), &alice, id).is_ok());
    assert!(matches!(
        Group::create(&mut rand::rng(), &mallory, id),
        Err(talos_ratchet::group::GroupError::Membership(
            talos_ratchet::membership::MembershipError::UnboundGroupId
        ))
    ));
}
