//! Finding 9 of issue 17: a mailbox's capacity could be used up by strangers. Now each
//! writer has a quota per recipient, and registrations lapse when their recipient stops
//! draining, so a flood of throwaway registrations cannot hold the slots forever.

use std::sync::Arc;

use talos_delivery::Mailbox;
use talos_delivery::mailbox::{MAX_FRAMES_PER_WRITER, MAX_RECIPIENTS, REGISTRATION_TTL_SECS};

use talos_net::{AckStatus, Deposit, Frame, RefuseReason};
use talos_primitives::Ed25519Public;
use talos_store::Store;

use crate::mailroom::Agent;

const T0: u64 = 1_800_000_000;

fn key(i: u32) -> Ed25519Public {
    let mut seed = [0x77; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    talos_testkit::keys::from_seed(seed).public()
}

/// `n` deposits from `from` for `to`, each a real ratchet frame.
fn deposits(from: &Agent, to: &Agent, n: usize) -> Vec<Frame> {
    let (ms, mr) = (from.open(), to.open());
    let bundle = mr.bundle().unwrap();
    let to_key = *to.public().as_bytes();
    (0..n)
        .map(|i| {
            let f = ms
                .send(&to.public(), Some(&bundle), &[(i % 251) as u8; 35])
                .unwrap();
            Deposit::wrap(to_key, &f).unwrap()
        })
        .collect()
}

#[test]
fn mailbox_capacity_cannot_be_used_up_by_one_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (greedy, honest, recipient) = (
        Agent::new(dir.path(), 1),
        Agent::new(dir.path(), 2),
        Agent::new(dir.path(), 3),
    );
    let mailbox = Mailbox::new(Arc::new(Store::open(&dir.path().join("mailbox")).unwrap()));
    assert!(mailbox.register(&recipient.public()).unwrap());

    let quota = usize::try_from(MAX_FRAMES_PER_WRITER).unwrap();
    let flood = deposits(&greedy, &recipient, quota + 5);
    let mut accepted = 0;
    for f in &flood {
        match mailbox.deposit(&greedy.public(), f).unwrap() {
            AckStatus::Accepted => accepted += 1,
            AckStatus::Refused(RefuseReason::MailboxRefused) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted, quota, "one writer holds at most its quota");
    // Another writer still gets through.
    for f in deposits(&honest, &recipient, 3) {
        assert_eq!(
            mailbox.deposit(&honest.public(), &f).unwrap(),
            AckStatus::Accepted
        );
    }
    // Once the recipient took the greedy writer's frames, its quota is free again.
    let held = mailbox.pending(&recipient.public(), 10_000).unwrap();
    let done: Vec<_> = held
        .iter()
        .filter(|(s, _)| *s == greedy.public())
        .map(|(s, f)| (*s, Deposit::parse(f).unwrap().inner.seq()))
        .collect();
    assert_eq!(done.len(), quota);
    mailbox.delivered(&recipient.public(), &done).unwrap();
    assert_eq!(
        mailbox.deposit(&greedy.public(), &flood[quota]).unwrap(),
        AckStatus::Accepted
    );
}

#[test]
fn mailbox_registrations_lapse_and_strangers_cannot_hold_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, recipient) = (Agent::new(dir.path(), 4), Agent::new(dir.path(), 5));
    let mailbox = Mailbox::new(Arc::new(Store::open(&dir.path().join("mailbox")).unwrap()));
    // The real recipient registers, then strangers take every other slot.
    assert!(mailbox.register_at(&recipient.public(), T0).unwrap());
    for i in 1..u32::try_from(MAX_RECIPIENTS).unwrap() {
        assert!(mailbox.register_at(&key(i), T0).unwrap());
    }
    // Full: a newcomer is refused while no registration has lapsed...
    let newcomer = key(1_000_000);
    assert!(!mailbox.register_at(&newcomer, T0 + 60).unwrap());
    // ...the real recipient keeps draining (renewing), the strangers do not...
    let later = T0 + REGISTRATION_TTL_SECS - 60;
    assert!(mailbox.register_at(&recipient.public(), later).unwrap());
    // ...and once theirs lapse, the newcomer takes one of their slots, never the
    // recipient's, whose frames are still accepted and kept.
    let after = T0 + REGISTRATION_TTL_SECS + 60;
    assert!(mailbox.register_at(&newcomer, after).unwrap());
    for f in deposits(&writer, &recipient, 2) {
        assert_eq!(
            mailbox.deposit(&writer.public(), &f).unwrap(),
            AckStatus::Accepted
        );
    }
    assert_eq!(mailbox.pending(&recipient.public(), 10).unwrap().len(), 2);
}
