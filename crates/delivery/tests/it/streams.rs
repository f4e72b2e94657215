//! Stream robustness: simultaneous session starts, a relayed frame that never opens,
//! and a peer whose stored session cannot be read.

use talos_delivery::Receipt;
use talos_net::{AckStatus, Frame, FrameKind};
use talos_store::Store;

use super::mailroom::{Agent, bodies};

/// Both sides start a session before either sees the other's initial messages, in both
/// arrival orders, with a reopen in between: every message arrives, and afterwards both
/// directions keep working on one session.
#[test]
fn simultaneous_starts_resolve_to_one_session() {
    for (sa, sb, a_first) in [(5u8, 6u8, true), (5, 6, false), (6, 5, true), (6, 5, false)] {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Agent::new(dir.path(), sa), Agent::new(dir.path(), sb));
        let (ma, mb) = (a.open(), b.open());
        let (ba, bb) = (ma.bundle().unwrap(), mb.bundle().unwrap());
        let fa: Vec<Frame> = (0..3u8)
            .map(|i| ma.send(&b.public(), Some(&bb), &[b'a', i]).unwrap())
            .collect();
        let fb: Vec<Frame> = (0..3u8)
            .map(|i| mb.send(&a.public(), Some(&ba), &[b'b', i]).unwrap())
            .collect();
        let accepted = Receipt::Ack(AckStatus::Accepted);
        // One frame each way, in either order; then a reopen; then the rest.
        if a_first {
            assert_eq!(mb.receive(&a.public(), &fa[0]).unwrap(), accepted);
            assert_eq!(ma.receive(&b.public(), &fb[0]).unwrap(), accepted);
        } else {
            assert_eq!(ma.receive(&b.public(), &fb[0]).unwrap(), accepted);
            assert_eq!(mb.receive(&a.public(), &fa[0]).unwrap(), accepted);
        }
        drop((ma, mb));
        let (ma, mb) = (a.open(), b.open());
        // Later sends go over whichever session both kept.
        let la = ma.send(&b.public(), None, b"a later").unwrap();
        let lb = mb.send(&a.public(), None, b"b later").unwrap();
        for f in fa[1..].iter().chain([&la]) {
            assert_eq!(mb.receive(&a.public(), f).unwrap(), accepted);
        }
        for f in fb[1..].iter().chain([&lb]) {
            assert_eq!(ma.receive(&b.public(), f).unwrap(), accepted);
        }
        for _ in 0..3 {
            let f = ma.send(&b.public(), None, b"ping").unwrap();
            assert_eq!(mb.receive(&a.public(), &f).unwrap(), accepted);
            let f = mb.send(&a.public(), None, b"pong").unwrap();
            assert_eq!(ma.receive(&b.public(), &f).unwrap(), accepted);
        }
        assert_eq!(bodies(&mb).len(), 7);
        assert_eq!(bodies(&ma).len(), 7);
        assert_eq!(bodies(&mb)[3].1, b"a later".to_vec());
    }
}

/// A relayed frame that never opens (here a mailbox's forgery standing in for the
/// sender's first frame, which the sender no longer has) stops the stream only until
/// `skip_stalled` gives up on it; then what was held behind it is delivered.
#[test]
fn a_stalled_relayed_frame_is_given_up_after_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let (ma, mb) = (a.open(), b.open());
    let bundle = mb.bundle().unwrap();
    let frames: Vec<Frame> = (0..3u8)
        .map(|i| ma.send(&b.public(), Some(&bundle), &[i; 35]).unwrap())
        .collect();
    let forged = Frame::new(FrameKind::Initial, 1, frames[1].body().to_vec()).unwrap();
    let items = [
        (a.public(), &forged),
        (a.public(), &frames[1]),
        (a.public(), &frames[2]),
    ];
    let receipts = mb.receive_relayed_many(&items).unwrap();
    assert!(matches!(receipts[0], Receipt::Ack(AckStatus::Refused(_))));
    assert_eq!(receipts[1], Receipt::Ack(AckStatus::Accepted));
    assert!(bodies(&mb).is_empty(), "held behind seq 1");
    let now = 4_000_000_000;
    // Not yet old enough: nothing moves.
    assert!(mb.skip_stalled(0, 600).unwrap().is_empty());
    assert!(bodies(&mb).is_empty());
    // Reopened (a restart keeps the marker), then given up on.
    drop(mb);
    let mb = b.open();
    assert_eq!(mb.skip_stalled(now, 600).unwrap(), vec![(a.public(), 1)]);
    assert_eq!(
        bodies(&mb),
        vec![(2, [1u8; 35].to_vec()), (3, [2u8; 35].to_vec())]
    );
    // The marker is gone, and the genuine first frame, should it still come, is a
    // duplicate: the stream does not go back.
    assert!(mb.skip_stalled(now, 0).unwrap().is_empty());
    assert_eq!(
        mb.receive(&a.public(), &frames[0]).unwrap(),
        Receipt::Ack(AckStatus::Duplicate)
    );
}

/// A peer whose stored session cannot be read is left out of a receive group (no ack, so
/// its sender keeps the frame), and the rest of the group is delivered.
#[test]
fn one_unreadable_session_does_not_hold_back_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        Agent::new(dir.path(), 1),
        Agent::new(dir.path(), 2),
        Agent::new(dir.path(), 3),
    );
    let (ma, mc) = (a.open(), c.open());
    let bundle = b.open().bundle().unwrap();
    let fa: Vec<Frame> = (0..2u8)
        .map(|i| ma.send(&b.public(), Some(&bundle), &[i; 8]).unwrap())
        .collect();
    let fc = {
        let mb = b.open();
        assert_eq!(
            mb.receive(&a.public(), &fa[0]).unwrap(),
            Receipt::Ack(AckStatus::Accepted)
        );
        // a's handshake used the one-time prekey; c gets the next bundle.
        mc.send(&b.public(), Some(&mb.bundle().unwrap()), b"from c")
            .unwrap()
    };
    {
        // Damage b's stored session with a.
        let store = Store::open(&b.dir).unwrap();
        let mut batch = rocksdb::WriteBatch::default();
        batch.put_cf(
            store.cf(talos_store::db::CF_SESSIONS).unwrap(),
            a.public().as_bytes(),
            b"not a sealed session",
        );
        store.write(batch, true).unwrap();
    }
    let mb = b.open();
    let receipts = mb
        .receive_many(&[(a.public(), &fa[1]), (c.public(), &fc)])
        .unwrap();
    assert_eq!(
        receipts,
        vec![Receipt::Later, Receipt::Ack(AckStatus::Accepted)]
    );
    let got = bodies(&mb);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], (1, b"from c".to_vec()));
}

/// What a sender knows without reading the outbox: nothing before the first frame made
/// since open; afterwards whether a frame at or past a cursor can be queued. A reopen
/// forgets it, and the first new frame bounds the ones queued before it.
#[test]
fn the_outbox_mark_bounds_every_queued_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let bundle = b.open().bundle().unwrap();
    let ma = a.open();
    let peer = b.public();
    assert_eq!(ma.outbox_may_hold(&peer, 1), None);
    for i in 0..3u8 {
        ma.send(&peer, Some(&bundle), &[i; 35]).unwrap();
    }
    assert_eq!(ma.outbox_may_hold(&peer, 3), Some(true));
    assert_eq!(ma.outbox_may_hold(&peer, 4), Some(false));
    assert_eq!(ma.outbox_may_hold(&a.public(), 1), None, "another peer");
    assert_eq!(ma.pending_from(&peer, 3, 10).unwrap().len(), 1);
    assert!(ma.pending_from(&peer, 4, 10).unwrap().is_empty());

    drop(ma);
    let ma = a.open();
    assert_eq!(
        ma.outbox_may_hold(&peer, 1),
        None,
        "frames 1 to 3 are queued, unknown"
    );
    let later = ma.send(&peer, None, b"later").unwrap();
    assert_eq!(later.seq(), 4);
    assert_eq!(ma.outbox_may_hold(&peer, 1), Some(true));
    assert_eq!(ma.outbox_may_hold(&peer, 5), Some(false));
    let queued = ma.pending_from(&peer, 0, 100).unwrap();
    assert_eq!(queued.len(), 4);
    assert!(queued.iter().all(|f| f.seq() <= 4));
}

/// A reader asking for entries past the inbox's end is answered without a read only when
/// none can be there: the mark covers every entry written, and a reopen starts it from
/// the stored counter.
#[test]
fn the_inbox_mark_covers_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (Agent::new(dir.path(), 1), Agent::new(dir.path(), 2));
    let ma = a.open();
    let mb = b.open();
    assert!(!mb.inbox_may_hold(0), "an empty inbox");
    assert!(!mb.inbox_may_hold(1));
    let bundle = mb.bundle().unwrap();
    for i in 0..3u8 {
        let f = ma.send(&b.public(), Some(&bundle), &[i; 35]).unwrap();
        mb.receive(&a.public(), &f).unwrap();
    }
    let entries = mb.inbox(0, 100).unwrap();
    assert_eq!(entries.len(), 3);
    let end = entries.last().unwrap().index + 1;
    assert!(mb.inbox_may_hold(end - 1));
    assert!(!mb.inbox_may_hold(end));
    assert!(mb.inbox(end, 100).unwrap().is_empty());
    drop(mb);
    let mb = b.open();
    assert!(
        mb.inbox_may_hold(end - 1),
        "after a reopen, from the stored counter"
    );
    assert!(!mb.inbox_may_hold(end));
}
