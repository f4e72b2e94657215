//! The bounds of issue 17 #2 ("any remote peer can fill the disk"): inbox quotas that
//! back-pressure without loss, the agent's acknowledgement and the retention that
//! delete entries, idle peers' state bounded (and still refused on replay), and
//! duplicates that need an audit event only until their round is settled.

use talos_delivery::{Evidence, Limits, Receipt};
use talos_net::{AckStatus, Frame, FrameKind, RefuseReason};

use super::mailroom::{Agent, bodies};

fn limits(peer_entries: u64, idle: u64) -> Limits {
    Limits {
        peer_inbox_max_entries: peer_entries,
        max_idle_peers: idle,
        ..Limits::default()
    }
}

#[test]
fn a_peer_over_its_inbox_quota_is_answered_over_quota_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open().with_limits(limits(2, 16)));
    let bundle = mb.bundle().unwrap();
    let frames: Vec<Frame> = (0..4u8)
        .map(|i| ma.send(&b.public(), Some(&bundle), &[i]).unwrap())
        .collect();
    let r: Vec<Receipt> = frames
        .iter()
        .map(|f| mb.receive(&a.public(), f).unwrap())
        .collect();
    let over = Receipt::Ack(AckStatus::OverQuota);
    assert_eq!(r[..2], [Receipt::Ack(AckStatus::Accepted); 2]);
    // The third would go past the quota: refused for now, and the stream stays there
    // (the fourth is ahead of it, so it is held, not lost).
    assert_eq!(r[2], over);
    assert_eq!(r[3], Receipt::Ack(AckStatus::Accepted));
    assert_eq!(mb.inbox_usage().unwrap().entries, 2);
    // Again: still over.
    assert_eq!(mb.receive(&a.public(), &frames[2]).unwrap(), over);
    // The agent acknowledges the first entry: room for one more (and the one held
    // behind it comes along).
    let first = mb.inbox(0, 10).unwrap()[0].index;
    assert_eq!(mb.acknowledge_inbox(first).unwrap(), 1);
    assert_eq!(
        mb.receive(&a.public(), &frames[2]).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    let got: Vec<Vec<u8>> = bodies(&mb).into_iter().map(|(_, b)| b).collect();
    assert_eq!(got, vec![vec![1], vec![2], vec![3]]);
    assert_eq!(mb.inbox_usage().unwrap().entries, 3);
}

#[test]
fn acknowledged_and_expired_entries_are_deleted_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    for i in 0..5u8 {
        let f = ma.send(&b.public(), Some(&bundle), &[i]).unwrap();
        mb.receive(&a.public(), &f).unwrap();
    }
    let indexes: Vec<u64> = mb.inbox(0, 10).unwrap().iter().map(|d| d.index).collect();
    assert_eq!(mb.acknowledge_inbox(indexes[2]).unwrap(), 3);
    // Idempotent, and past the end is harmless.
    assert_eq!(mb.acknowledge_inbox(indexes[2]).unwrap(), 0);
    drop(mb);
    let mb = b.open();
    assert_eq!(bodies(&mb), vec![(4, vec![3]), (5, vec![4])]);
    assert_eq!(mb.inbox_usage().unwrap().entries, 2);
    // Retention: nothing is a day old yet; a day from now, everything is.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(mb.expire_inbox(now, 86_400).unwrap(), 0);
    assert_eq!(mb.expire_inbox(now + 86_400 + 120, 86_400).unwrap(), 2);
    assert!(bodies(&mb).is_empty());
    assert_eq!(mb.inbox_usage().unwrap().entries, 0);
    assert_eq!(mb.acknowledge_inbox(u64::MAX).unwrap(), 0);
}

#[test]
fn idle_peers_are_bounded_and_their_replays_stay_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open().with_limits(limits(100, 4)));
    let bundle = mb.bundle().unwrap();
    let kept = ma.send(&b.public(), Some(&bundle), b"kept").unwrap();
    assert_eq!(
        mb.receive(&a.public(), &kept).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    // Twenty strangers: garbage at seq 1 (refused; the stream moves on) and a ratchet
    // frame ahead (refused at once: without a session it can never open).
    let junk = Frame::new(FrameKind::Initial, 1, vec![7; 64]).unwrap();
    let ahead = Frame::new(FrameKind::Ratchet, 2, vec![7; 64]).unwrap();
    let strangers: Vec<Agent> = (100..120u8).map(|s| Agent::new(dir.path(), s)).collect();
    for s in &strangers {
        let r = mb.receive(&s.public(), &ahead).unwrap();
        assert_eq!(r, Receipt::Ack(AckStatus::Refused(RefuseReason::NoSession)));
        let r = mb.receive(&s.public(), &junk).unwrap();
        assert!(matches!(r, Receipt::Ack(AckStatus::Refused(_))), "{r:?}");
    }
    assert_eq!(mb.idle_peers().unwrap(), 4);
    assert_eq!(mb.evicted_peers(), 16);
    // An evicted stranger's replay is refused again; nothing reaches the inbox.
    let r = mb.receive(&strangers[0].public(), &junk).unwrap();
    assert!(matches!(r, Receipt::Ack(AckStatus::Refused(_))), "{r:?}");
    assert_eq!(bodies(&mb), vec![(1, b"kept".to_vec())]);
    // The peer that delivered something keeps its state: its stream goes on.
    let next = ma.send(&b.public(), None, b"still").unwrap();
    assert_eq!(
        mb.receive(&a.public(), &next).unwrap(),
        Receipt::Ack(AckStatus::Accepted)
    );
    assert_eq!(
        mb.receive(&a.public(), &kept).unwrap(),
        Receipt::Ack(AckStatus::Duplicate)
    );
}

#[test]
fn a_duplicate_needs_an_event_only_until_its_round_is_settled() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    let f1 = ma.send(&b.public(), Some(&bundle), b"one").unwrap();
    let f2 = ma.send(&b.public(), None, b"two").unwrap();
    let peer = a.public();
    let store = mb.store().clone();
    let mut commit =
        |_: &[talos_delivery::Outcome], w: talos_store::Writes| Ok(store.write_all(w, true)?);
    let o = mb
        .receive_audited(&[(peer, &f1)], false, 7, &[], &mut commit)
        .unwrap();
    assert_eq!(o[0].evidence, Evidence::Required);
    assert!(o[0].opened);
    // Round 7's events never became durable (a crash): its resend is a duplicate that
    // still needs its event, even after a later round settles.
    let o = mb
        .receive_audited(&[(peer, &f1)], false, 8, &[], &mut commit)
        .unwrap();
    assert_eq!(o[0].receipt, Receipt::Ack(AckStatus::Duplicate));
    assert_eq!(o[0].evidence, Evidence::Required);
    let o = mb
        .receive_audited(&[(peer, &f2)], false, 9, &[(peer, 9)], &mut commit)
        .unwrap();
    assert_eq!(o[0].evidence, Evidence::Required);
    let o = mb
        .receive_audited(&[(peer, &f1)], false, 10, &[(peer, 9)], &mut commit)
        .unwrap();
    assert_eq!(o[0].evidence, Evidence::Required, "round 7 is still owed");
    // Round 7 settles: duplicates are only counted from then on.
    let o = mb
        .receive_audited(
            &[(peer, &f1), (peer, &f2)],
            false,
            11,
            &[(peer, 7)],
            &mut commit,
        )
        .unwrap();
    assert_eq!(o[0].evidence, Evidence::NotNeeded);
    assert_eq!(o[1].evidence, Evidence::NotNeeded);
    // Refusals say whether the peer had a session.
    let junk = Frame::new(FrameKind::Ratchet, 3, vec![1; 40]).unwrap();
    let o = mb
        .receive_audited(&[(peer, &junk)], false, 12, &[], &mut commit)
        .unwrap();
    assert_eq!(
        o[0].evidence,
        Evidence::Refusal {
            authenticated: true
        }
    );
}

/// With a commit hook, the group is durable only through it: the hook sees the
/// outcomes the call returns; when it fails, nothing of the group is written, so the
/// same frame is new again (not a duplicate) and is delivered once.
#[test]
fn a_failing_commit_hook_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    let f1 = ma.send(&b.public(), Some(&bundle), b"one").unwrap();
    let peer = a.public();
    let mut fail = |o: &[talos_delivery::Outcome], w: talos_store::Writes| {
        assert_eq!(o.len(), 1);
        assert!(!w.is_empty());
        Err(talos_delivery::DeliveryError::Unavailable("disk".into()))
    };
    assert!(
        mb.receive_audited(&[(peer, &f1)], false, 1, &[], &mut fail)
            .is_err()
    );
    assert!(mb.inbox(0, 10).unwrap().is_empty());
    let store = mb.store().clone();
    let mut seen = Vec::new();
    let mut commit = |o: &[talos_delivery::Outcome], w: talos_store::Writes| {
        seen.extend(o.iter().map(|o| o.receipt));
        Ok(store.write_all(w, true)?)
    };
    let o = mb
        .receive_audited(&[(peer, &f1)], false, 2, &[], &mut commit)
        .unwrap();
    assert_eq!(o[0].receipt, Receipt::Ack(AckStatus::Accepted));
    assert_eq!(seen, vec![o[0].receipt]);
    assert_eq!(mb.inbox(0, 10).unwrap().len(), 1);
}
