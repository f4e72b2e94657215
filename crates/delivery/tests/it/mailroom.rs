use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use talos_delivery::{Mailroom, Receipt};
use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_net::{AckStatus, Frame, FrameKind, RefuseReason};
use talos_primitives::Ed25519Public;
use talos_ratchet::at_rest::StorageKey;
use talos_ratchet::{PreKeyStore, SessionConfig};
use talos_store::Store;

/// One agent's node state: its identity, storage key and RocksDB directory.
pub(crate) struct Agent {
    seed: u8,
    pub(crate) dir: PathBuf,
    key: [u8; 32],
}

impl Agent {
    pub(crate) fn new(root: &Path, seed: u8) -> Self {
        Agent {
            seed,
            dir: root.join(format!("agent-{seed}")),
            key: [seed ^ 0x5a; 32],
        }
    }

    fn identity(&self) -> IdentityKey {
        IdentityKey::from_seed(&IdentitySeed::from_bytes([self.seed; 32])).unwrap()
    }

    pub(crate) fn public(&self) -> Ed25519Public {
        self.identity().public()
    }

    /// Opens (or reopens, as after a crash) this agent's mailroom.
    pub(crate) fn open(&self) -> Mailroom {
        let store = Arc::new(Store::open(&self.dir).unwrap());
        let identity = self.identity();
        let id2 = self.identity();
        Mailroom::open(
            store,
            identity,
            StorageKey::from_bytes(self.key),
            SessionConfig::default(),
            move || {
                let mut p = PreKeyStore::new(&mut rand::rng(), &id2, true).unwrap();
                p.generate_one_time_prekeys(&mut rand::rng(), 4).unwrap();
                Ok(p)
            },
        )
        .unwrap()
    }
}

pub(crate) fn bodies(m: &Mailroom) -> Vec<(u64, Vec<u8>)> {
    m.inbox(0, 10_000)
        .unwrap()
        .into_iter()
        .map(|d| (d.seq, d.body.to_vec()))
        .collect()
}

#[test]
fn a_conversation_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    for i in 0..3u8 {
        let f = ma.send(&b.public(), Some(&bundle), &[i; 35]).unwrap();
        // Until bob answers, every frame carries the handshake.
        assert_eq!(f.kind(), FrameKind::Initial);
        assert_eq!(
            mb.receive(&a.public(), &f).unwrap(),
            Receipt::Ack(AckStatus::Accepted)
        );
        ma.acknowledged(&b.public(), &[f.seq()]).unwrap();
    }
    let reply = mb.send(&a.public(), None, b"booked").unwrap();
    assert_eq!(reply.kind(), FrameKind::Ratchet);
    assert_eq!(
        ma.receive(&b.public(), &reply).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    let next = ma.send(&b.public(), None, b"thanks").unwrap();
    assert_eq!(next.kind(), FrameKind::Ratchet);
    assert_eq!(
        mb.receive(&a.public(), &next).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    assert_eq!(
        bodies(&mb),
        vec![
            (1, vec![0; 35]),
            (2, vec![1; 35]),
            (3, vec![2; 35]),
            (4, b"thanks".to_vec())
        ]
    );
    assert_eq!(bodies(&ma), vec![(1, b"booked".to_vec())]);
    // A session with nobody and no bundle is a clear error.
    let c = Agent::new(dir.path(), 3);
    assert!(ma.send(&c.public(), None, b"x").is_err());
}

#[test]
fn everything_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let bundle = b.open().bundle().unwrap();
    let frames: Vec<Frame> = {
        let ma = a.open();
        (0..5u8)
            .map(|i| ma.send(&b.public(), Some(&bundle), &[i]).unwrap())
            .collect()
    };
    // "Crash": every handle dropped. The outbox still has all five, in order.
    let ma = a.open();
    let pending = ma.pending(&b.public(), 100).unwrap();
    assert_eq!(pending, frames);
    assert_eq!(ma.peers_with_pending(10).unwrap(), vec![b.public()]);
    {
        let mb = b.open();
        for f in &pending[..3] {
            assert_eq!(
                mb.receive(&a.public(), f).unwrap(),
                Receipt::Ack(AckStatus::Accepted)
            );
        }
    }
    // Bob crashed after acking three; alice never saw the acks and resends all five.
    let mb = b.open();
    let acks: Vec<Receipt> = pending
        .iter()
        .map(|f| mb.receive(&a.public(), f).unwrap())
        .collect();
    assert_eq!(
        acks,
        [
            Receipt::Ack(AckStatus::Duplicate),
            Receipt::Ack(AckStatus::Duplicate),
            Receipt::Ack(AckStatus::Duplicate),
            Receipt::Ack(AckStatus::Accepted),
            Receipt::Ack(AckStatus::Accepted),
        ]
    );
    assert_eq!(
        bodies(&mb).into_iter().map(|(s, _)| s).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let seqs: Vec<u64> = pending.iter().map(Frame::seq).collect();
    ma.acknowledged(&b.public(), &seqs).unwrap();
    assert!(ma.pending(&b.public(), 100).unwrap().is_empty());
    assert!(ma.peers_with_pending(10).unwrap().is_empty());
}

#[test]
fn hostile_frames_are_refused_and_the_stream_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, m) = (
        Agent::new(dir.path(), 1),
        Agent::new(dir.path(), 2),
        Agent::new(dir.path(), 9),
    );
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    let f = ma.send(&b.public(), Some(&bundle), b"for bob").unwrap();
    // Mallory replays alice's handshake over her own authenticated connection.
    assert_eq!(
        mb.receive(&m.public(), &f).unwrap(),
        Receipt::Ack(AckStatus::Refused(RefuseReason::Unauthorized))
    );
    // Garbage in sequence is refused; a ratchet frame without a session likewise.
    let junk = Frame::new(FrameKind::Ratchet, 2, vec![1, 2, 3]).unwrap();
    assert_eq!(
        mb.receive(&m.public(), &junk).unwrap(),
        Receipt::Ack(AckStatus::Refused(RefuseReason::Malformed))
    );
    // Far ahead of the stream: not answered, so the sender tries again later.
    let far = Frame::new(FrameKind::Ratchet, 5000, vec![]).unwrap();
    assert_eq!(mb.receive(&a.public(), &far).unwrap(), Receipt::Later);
    // Alice's real frame still lands.
    assert_eq!(
        mb.receive(&a.public(), &f).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    assert_eq!(bodies(&mb), vec![(1, b"for bob".to_vec())]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The network may reorder and duplicate frames arbitrarily: bob's agent still sees
    /// each message once, in alice's order.
    #[test]
    fn any_arrival_order_delivers_once_in_order(
        n in 1usize..24,
        arrivals in proptest::collection::vec(any::<prop::sample::Index>(), 1..80),
        reply_at in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
        let (ma, mb) = (a.open(), b.open());
        let bundle = mb.bundle().unwrap();
        let reply_at = reply_at.index(n);
        let mut frames = Vec::new();
        for i in 0..n {
            if i == reply_at && !frames.is_empty() {
                // Bob answers midway, so later frames are plain ratchet messages.
                let first: &Frame = &frames[0];
                mb.receive(&a.public(), first).unwrap();
                let r = mb.send(&a.public(), None, b"r").unwrap();
                ma.receive(&b.public(), &r).unwrap();
            }
            frames.push(ma.send(&b.public(), Some(&bundle), &(i as u32).to_be_bytes()).unwrap());
        }
        for ix in &arrivals {
            let f = &frames[ix.index(n)];
            let r = mb.receive(&a.public(), f).unwrap();
            prop_assert!(matches!(r, Receipt::Ack(AckStatus::Accepted | AckStatus::Duplicate)));
        }
        // Then the sender's retries deliver everything still unacknowledged, in order.
        for f in &frames {
            mb.receive(&a.public(), f).unwrap();
        }
        let got = bodies(&mb);
        let want: Vec<(u64, Vec<u8>)> =
            (0..n).map(|i| (i as u64 + 1, (i as u32).to_be_bytes().to_vec())).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn prekeys_rotate_and_replenish_and_old_bundles_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        Agent::new(dir.path(), 1),
        Agent::new(dir.path(), 2),
        Agent::new(dir.path(), 3),
    );
    let (ma, mb, mc) = (a.open(), b.open(), c.open());
    // The first pass records the time and tops one-time prekeys up (4 < 16 / 2).
    let first = mb.maintain_prekeys(1_000, 600, 16).unwrap();
    assert!(!first.rotated);
    assert_eq!(first.added, 12);
    assert_eq!(mb.one_time_prekeys().unwrap(), 16);
    let old = mb.published_bundle().unwrap();
    assert_eq!(old.one_time_prekey, None);
    // Not due yet: nothing changes.
    assert_eq!(
        mb.maintain_prekeys(1_599, 600, 16).unwrap(),
        Default::default()
    );
    let upkeep = mb.maintain_prekeys(1_600, 600, 16).unwrap();
    assert!(upkeep.rotated);
    let new = mb.published_bundle().unwrap();
    assert_ne!(new.signed_prekey_id, old.signed_prekey_id);
    assert_ne!(new.kem_prekey, old.kem_prekey);
    // A handshake from the bundle published before the rotation still completes, and so
    // does one from the new bundle; both survive a reopen of bob's store.
    let f_old = ma
        .send(&b.public(), Some(&old), b"from the old bundle")
        .unwrap();
    let f_new = mc
        .send(&b.public(), Some(&new), b"from the new bundle")
        .unwrap();
    drop(mb);
    let mb = b.open();
    assert_eq!(mb.published_bundle().unwrap(), new);
    assert_eq!(
        mb.receive(&a.public(), &f_old).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    assert_eq!(
        mb.receive(&c.public(), &f_new).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    assert_eq!(bodies(&mb).len(), 2);
}

#[test]
fn groups_commit_many_messages_with_per_item_results() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        Agent::new(dir.path(), 1),
        Agent::new(dir.path(), 2),
        Agent::new(dir.path(), 3),
    );
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    // One group: the first message starts the session, the next ones use it; the one for
    // a peer without a session fails alone.
    let bodies_in: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 35]).collect();
    let mut items: Vec<(Ed25519Public, Option<&talos_ratchet::PreKeyBundle>, &[u8])> = bodies_in
        .iter()
        .map(|m| (b.public(), Some(&bundle), m.as_slice()))
        .collect();
    items.insert(2, (c.public(), None, b"nobody".as_slice()));
    let results = ma.send_many(&items).unwrap();
    assert!(matches!(
        results[2],
        Err(talos_delivery::DeliveryError::NoSession(_))
    ));
    let frames: Vec<Frame> = results.into_iter().filter_map(Result::ok).collect();
    assert_eq!(
        frames.iter().map(Frame::seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    // One receive group, out of order and with duplicates inside the group itself.
    let p = a.public();
    let group = [
        (p, &frames[2]),
        (p, &frames[0]),
        (p, &frames[2]),
        (p, &frames[1]),
        (p, &frames[0]),
        (p, &frames[4]),
        (p, &frames[3]),
    ];
    let receipts = mb.receive_many(&group).unwrap();
    use AckStatus::{Accepted, Duplicate};
    assert_eq!(
        receipts,
        [
            Accepted, Accepted, Duplicate, Accepted, Duplicate, Accepted, Accepted
        ]
        .map(Receipt::Ack)
        .to_vec()
    );
    // All of it survived as one write: reopen and look.
    drop(mb);
    let got = bodies(&b.open());
    assert_eq!(
        got,
        bodies_in
            .iter()
            .enumerate()
            .map(|(i, m)| (i as u64 + 1, m.clone()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn held_frames_are_bounded_in_bytes_per_peer() {
    use talos_delivery::MAX_HELD_BYTES_PER_PEER;
    let dir = tempfile::tempdir().unwrap();
    let (b, x) = (Agent::new(dir.path(), 2), Agent::new(dir.path(), 9));
    let (mb, mx) = (b.open(), x.open());
    // x has a session (a peer without one parks nothing that cannot open).
    let first = mx
        .send(&b.public(), Some(&mb.bundle().unwrap()), b"hi")
        .unwrap();
    assert_eq!(
        mb.receive(&x.public(), &first).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    let big = |seq: u64| Frame::new(FrameKind::Ratchet, seq, vec![0xee; 47 * 1024]).unwrap();
    let frame_len = big(3).encode().len() as u64;
    let fit = MAX_HELD_BYTES_PER_PEER / frame_len;
    // Garbage far ahead of a gap that never closes: held until the byte budget is spent,
    // then left unanswered.
    let receipts: Vec<Receipt> = (3..3 + fit + 10)
        .map(|seq| mb.receive(&x.public(), &big(seq)).unwrap())
        .collect();
    let held = receipts
        .iter()
        .filter(|r| **r == Receipt::Ack(AckStatus::Accepted))
        .count() as u64;
    assert_eq!(held, fit);
    assert!(
        receipts[fit as usize..]
            .iter()
            .all(|r| *r == Receipt::Later)
    );
    // Closing the gap drains (here: refuses) everything held and frees the budget.
    assert_eq!(
        mb.receive(&x.public(), &big(2)).unwrap(),
        Receipt::Ack(AckStatus::Refused(RefuseReason::Malformed))
    );
    let next = 3 + fit + 20;
    assert_eq!(
        mb.receive(&x.public(), &big(next)).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
}

#[test]
fn a_mailbox_holds_ciphertext_and_cannot_forge_or_drop() {
    use talos_delivery::Mailbox;
    use talos_net::Deposit;
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        Agent::new(dir.path(), 1),
        Agent::new(dir.path(), 2),
        Agent::new(dir.path(), 3),
    );
    let (ma, mb) = (a.open(), b.open());
    let mailbox = Mailbox::new(Arc::new(Store::open(&dir.path().join("mailbox")).unwrap()));
    let bundle = mb.bundle().unwrap();
    let frames: Vec<Frame> = (0..3u8)
        .map(|i| ma.send(&b.public(), Some(&bundle), &[i; 35]).unwrap())
        .collect();
    let bkey = *b.public().as_bytes();
    let wrapped: Vec<Frame> = frames
        .iter()
        .map(|f| Deposit::wrap(bkey, f).unwrap())
        .collect();
    // Nobody registered: refused.
    assert_eq!(
        mailbox.deposit(&a.public(), &wrapped[0]).unwrap(),
        AckStatus::Refused(RefuseReason::MailboxRefused)
    );
    assert!(mailbox.register(&b.public()).unwrap());
    for w in &wrapped {
        assert_eq!(
            mailbox.deposit(&a.public(), w).unwrap(),
            AckStatus::Accepted
        );
    }
    assert_eq!(
        mailbox.deposit(&a.public(), &wrapped[1]).unwrap(),
        AckStatus::Duplicate
    );
    // Someone else cannot deposit a's handshake, nor anything that is not a session frame.
    assert_eq!(
        mailbox.deposit(&c.public(), &wrapped[0]).unwrap(),
        AckStatus::Refused(RefuseReason::Unauthorized)
    );
    let junk = Frame::new(FrameKind::Ratchet, 4, vec![7; 100]).unwrap();
    assert_eq!(
        mailbox
            .deposit(&a.public(), &Deposit::wrap(bkey, &junk).unwrap())
            .unwrap(),
        AckStatus::Refused(RefuseReason::Malformed)
    );
    assert_eq!(
        mailbox.recipients_with_pending(10).unwrap(),
        vec![b.public()]
    );

    // The mailbox itself forges a frame at the next expected seq: refused, and the stream
    // does not move, so the genuine frame still gets through.
    let forged = Frame::new(FrameKind::Initial, 1, frames[1].body().to_vec()).unwrap();
    assert!(matches!(
        mb.receive_relayed_many(&[(a.public(), &forged)]).unwrap()[0],
        Receipt::Ack(AckStatus::Refused(_))
    ));
    // Hand on what the mailbox holds, as the node does.
    let held = mailbox.pending(&b.public(), 100).unwrap();
    assert_eq!(held.len(), 3);
    let inner: Vec<(Ed25519Public, Frame)> = held
        .iter()
        .map(|(s, f)| (*s, Deposit::parse(f).unwrap().inner))
        .collect();
    let items: Vec<(Ed25519Public, &Frame)> = inner.iter().map(|(s, f)| (*s, f)).collect();
    let receipts = mb.receive_relayed_many(&items).unwrap();
    assert!(
        receipts
            .iter()
            .all(|r| *r == Receipt::Ack(AckStatus::Accepted))
    );
    mailbox
        .delivered(
            &b.public(),
            &held.iter().map(|(s, f)| (*s, f.seq())).collect::<Vec<_>>(),
        )
        .unwrap();
    assert!(mailbox.pending(&b.public(), 100).unwrap().is_empty());
    assert_eq!(
        bodies(&mb),
        (0..3u8)
            .map(|i| (i as u64 + 1, vec![i; 35]))
            .collect::<Vec<_>>()
    );
}
