//! Finding 8 of the security review: frames the peer refuses because it cannot open them
//! (its signed prekey rotated out while they waited, or it lost the session) were dropped
//! with the stale session kept, so everything the API had called durable was lost. Now
//! their messages, and every later one, are sent again, in order, on a new session.

use talos_delivery::{Mailroom, Receipt};
use talos_net::{AckStatus, Frame, RefuseReason};
use talos_primitives::Ed25519Public;

use crate::mailroom::{Agent, bodies};

/// Rotates `m`'s signed prekeys three times: more than it keeps
/// (`MAX_SIGNED_PREKEYS` = 3 counting the current one), so the first is gone.
fn rotate_three_times(m: &Mailroom) {
    assert!(!m.maintain_prekeys(1_000, 60, 4).unwrap().rotated);
    for t in [2_000, 3_000, 4_000] {
        assert!(m.maintain_prekeys(t, 60, 4).unwrap().rotated);
    }
}

/// Offers `frame` to `to`; a refusal is reported back to `from` as the node's sender
/// does. Returns the receipt.
fn offer(from: &Mailroom, to: &Mailroom, from_key: &Ed25519Public, f: &Frame) -> Receipt {
    let receipt = to.receive(from_key, f).unwrap();
    match receipt {
        Receipt::Ack(AckStatus::Refused(RefuseReason::Malformed | RefuseReason::NoSession)) => {
            from.refused(&to.identity(), &[f.seq()]).unwrap();
        }
        Receipt::Ack(AckStatus::Accepted | AckStatus::Duplicate) => {
            from.acknowledged(&to.identity(), &[f.seq()]).unwrap();
        }
        _ => {}
    }
    receipt
}

#[test]
fn refused_frames_lose_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open());
    let old = mb.published_bundle().unwrap();
    // Three messages the API called durable, while bob is away.
    let sent: Vec<Frame> = (0..3u8)
        .map(|i| ma.send(&b.public(), Some(&old), &[i; 20]).unwrap())
        .collect();
    rotate_three_times(&mb);
    // Bob is back and refuses the first two: the handshake's prekey is gone.
    for f in &sent[..2] {
        assert_eq!(
            offer(&ma, &mb, &a.public(), f),
            Receipt::Ack(AckStatus::Refused(RefuseReason::Malformed))
        );
    }
    // No session: the node's pump must look up bob's bundle first.
    assert!(ma.flush_queued(&b.public(), None).is_err());
    assert_eq!(
        ma.flush_queued(&b.public(), Some(&mb.published_bundle().unwrap()))
            .unwrap(),
        3
    );
    // A later message follows them on the new session.
    ma.send(&b.public(), None, &[9; 20]).unwrap();
    // The third old frame (still in flight when the others were refused) fills bob's
    // stream up to the new frames; refused, it is forgotten, its message already queued.
    let pending = ma.pending(&b.public(), 100).unwrap();
    assert_eq!(
        pending.iter().map(Frame::seq).collect::<Vec<_>>(),
        vec![3, 4, 5, 6, 7]
    );
    // The new frames arrive before the old one: held until it fills the gap.
    for f in pending.iter().rev() {
        offer(&ma, &mb, &a.public(), f);
    }
    for f in ma.pending(&b.public(), 100).unwrap() {
        offer(&ma, &mb, &a.public(), &f);
    }
    assert!(ma.pending(&b.public(), 100).unwrap().is_empty());
    let got: Vec<Vec<u8>> = bodies(&mb).into_iter().map(|(_, b)| b).collect();
    assert_eq!(
        got,
        vec![vec![0; 20], vec![1; 20], vec![2; 20], vec![9; 20]],
        "every message once, in the order sent"
    );
}

#[test]
fn a_send_after_a_refusal_waits_behind_the_queued_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 3), Agent::new(dir.path(), 4));
    let (ma, mb) = (a.open(), b.open());
    let f = ma
        .send(&b.public(), Some(&mb.published_bundle().unwrap()), b"first")
        .unwrap();
    rotate_three_times(&mb);
    offer(&ma, &mb, &a.public(), &f);
    // Reopened, as after a crash: the queue is durable.
    drop(ma);
    let ma = a.open();
    // The agent's next send brings a fresh bundle: the queued message goes first.
    ma.send(
        &b.public(),
        Some(&mb.published_bundle().unwrap()),
        b"second",
    )
    .unwrap();
    for f in ma.pending(&b.public(), 100).unwrap() {
        assert_eq!(
            offer(&ma, &mb, &a.public(), &f),
            Receipt::Ack(AckStatus::Accepted)
        );
    }
    let got: Vec<Vec<u8>> = bodies(&mb).into_iter().map(|(_, b)| b).collect();
    assert_eq!(got, vec![b"first".to_vec(), b"second".to_vec()]);
}
