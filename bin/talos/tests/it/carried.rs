//! The sender forgets acknowledged frames lazily ("carried": audited and deleted from the
//! outbox a window at a time, or within `FORGET_AFTER`). Two places must forget them at
//! once, before doing something that would otherwise see them still in the outbox:
//!
//! - a refusal, which moves the messages of the refused frame and of every outbox frame
//!   after it onto a new session (`Sender::flush`, `if !x.refused.is_empty()`);
//! - a mailbox deposit, which audits its frames at once (`Sender::send_failed`).
//!
//! Two honest nodes never produce either situation on demand: a receiver refuses a frame
//! only when it cannot open it (a rotated-out prekey, a lost session), and then it
//! refuses every later frame of that session too; a direct send fails only when the peer
//! goes away. So the nodes talk through a relay built here from `talos_net`: toward the
//! sender it is the receiver (its identity, so its PeerId), toward the receiver it is the
//! sender, and it hands each frame on in stream order. It can keep frames in hand until
//! the test opens it, keep some unanswered (the sender's request times out: a failed
//! send), flip one bit of one frame (the receiver refuses that frame, as `Malformed`, and
//! opens the later ones), and serve as the receiver's mailbox (a deposit's inner frame
//! goes on to the receiver like a direct one).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use talos_net::directory::dht_key;
use talos_net::{AckStatus, DirectoryRecord, RefuseReason};
use talos_node::node::Node;
use talos_primitives::Hash32;

// The delivery tests' helpers: the same nodes, configuration, messages and log reads.
use crate::delivery::{audit_events, config, frames, identity, msg, start_with as start};

/// Reads `node`'s inbox (by inbox index: stream seqs skip a refused frame) until a
/// message with body `last` is in; the bodies, in order.
async fn read_through(node: &Node, last: &[u8]) -> Vec<Vec<u8>> {
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut from = 1;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !got.iter().any(|b| b.as_slice() == last) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} messages read in 120 s, the last one never",
            got.len()
        );
        let batch = node
            .wait_inbox(from, 1000, Duration::from_secs(1))
            .await
            .unwrap();
        if let Some(d) = batch.last() {
            from = d.index + 1;
        }
        got.extend(batch.into_iter().map(|d| d.body.to_vec()));
    }
    got
}

/// Waits (boundedly) until `node`'s counter `name` reaches `at_least`.
async fn wait_metric(node: &Node, name: &str, at_least: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let text = node.metrics_text().await;
        let value: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if value >= at_least {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} stayed at {value} (waited for {at_least})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

mod relay;
use relay::{Relay, Rules};

/// Case (1) of the review of the carried forgets. In one window the receiver refuses a
/// frame it cannot open (`Malformed`) and takes every frame after it. Refused frames
/// re-queue, for a new session, the messages of the refused frame and of every outbox
/// frame after it; the frames acknowledged after it in the same flush are still in the
/// outbox, not yet forgotten (carried).
///
/// Guards `Sender::flush` (crates/node/src/node/sender/flush.rs), the block
/// `if !x.refused.is_empty() { ... self.forget_all(peer, std::mem::take(&mut x.acked)) ... }`
/// before `self.refused_again(...)`. Without it the acknowledged frames are carried only
/// after `refused_again` (`self.carry(...)` comes later in `flush`), so
/// `Mailroom::refused` → `requeue_from(refused seq)` finds them in the outbox with their
/// resend copies and queues their messages again: the agent gets the messages of frames
/// 6 to 12 twice (the inbox assertion fails), and the sender audits 20 frames, not 13.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_acknowledged_after_a_refused_one_are_sent_once() {
    const N: u32 = 12;
    // The fifth message's frame is the one garbled on the way.
    const REFUSED: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let (b, addr_b) = start(2, &dir.path().join("b"), config()).await;
    // Closed: the first flush's frames wait in the relay (its request pending, so no
    // other flush starts) while the agent stores the rest; once it opens, the same flush
    // offers the rest (the send path's fresh frames) in one more request.
    let relay = Relay::start(
        &addr_b,
        Rules {
            closed: true,
            ..Rules::PASS
        },
    )
    .await;
    let mut ca = config();
    // No request is meant to time out here (one would only be retried); long, so that a
    // loaded machine storing the twelve messages cannot make one.
    ca.net.request_timeout = Duration::from_secs(20);
    let (a, _) = start(1, &dir.path().join("a"), ca).await;
    let kb = identity(2).public();
    a.client()
        .add_address(Node::peer_id(&kb).unwrap(), relay.addr.clone())
        .await
        .unwrap();
    let bundle_b = b.bundle().unwrap();
    let mut seqs = Vec::new();
    for i in 0..N {
        seqs.push(a.send(kb, Some(bundle_b.clone()), msg(i)).await.unwrap());
    }
    let (refused, last) = (seqs[REFUSED], *seqs.last().unwrap());
    relay.set(Rules {
        garble: Some(refused),
        ..Rules::PASS
    });
    // The outbox empties once the flush has forgotten what b took and dropped the
    // refused frame (`Mailroom::refused`, which also drops the session): progress, not
    // a guess at how long that takes.
    assert_eq!(a.drain(Duration::from_secs(120)).await.unwrap(), 0);
    let passed = relay.passed();
    let refusal = *passed
        .iter()
        .find(|p| p.seq == refused)
        .expect("the garbled frame never reached b");
    assert_eq!(
        refusal.status,
        AckStatus::Refused(RefuseReason::Malformed),
        "b did not refuse the garbled frame, so nothing was tested"
    );
    // The premise: the frames after the refused one, in the same window, were taken.
    let mut after: Vec<u64> = passed
        .iter()
        .filter(|p| p.seq > refused && p.seq <= last)
        .filter(|p| matches!(p.status, AckStatus::Accepted | AckStatus::Duplicate))
        .map(|p| p.seq)
        .collect();
    after.sort_unstable();
    after.dedup();
    assert_eq!(
        after,
        seqs[REFUSED + 1..],
        "the frames after the refused one were not all taken: {passed:?}"
    );
    // The refused message waits for a new session; the agent's next message starts one
    // from b's current bundle, and the waiting message goes first.
    a.send(kb, Some(b.bundle().unwrap()), b"after".to_vec())
        .await
        .unwrap();
    let got = read_through(&b, b"after").await;
    // Once each; the refused message comes after the later ones (its seq was spent).
    let mut want: Vec<Vec<u8>> = (0..N).filter(|&i| i as usize != REFUSED).map(msg).collect();
    want.push(msg(REFUSED as u32));
    want.push(b"after".to_vec());
    assert_eq!(got, want, "every message once");
    assert_eq!(a.drain(Duration::from_secs(30)).await.unwrap(), 0);
    drop((a, b, relay));
    let mut sent = frames(&audit_events(&dir.path().join("a")).await, true);
    let mut received = frames(&audit_events(&dir.path().join("b")).await, false);
    // The eleven frames b took, and the two of the new session.
    assert_eq!(sent.len(), N as usize + 1, "frames audited as sent");
    sent.sort_unstable();
    let n = sent.len();
    sent.dedup();
    assert_eq!(sent.len(), n, "a frame audited twice by the sender");
    received.sort_unstable();
    received.dedup();
    // b audits the refusal of the garbled frame too (a peer with a session), perhaps.
    received.retain(|f| *f != refusal.wire);
    assert_eq!(received, sent, "both sides audit the same frames");
}

/// Case (3) of the review of the carried forgets. A flush has a frame acknowledged (in its
/// list of acknowledged frames, not yet forgotten) when its next request fails; with
/// `deposit_after = 1` the failed frames go to the receiver's mailbox at once, and a
/// deposit audits its frames at once.
///
/// Guards `Sender::send_failed` (crates/node/src/node/sender/flush.rs), the
/// `if let Some(kept) = self.forget_all(peer, Vec::new()).await { ... }` before
/// `self.deposit(peer, unsent)`. Without it the deposit's events go into the audit log
/// first and the carried frame's event after them (when `forget_due` gets to it, after
/// the flush): the sender's log no longer follows the stream, and the order assertion
/// fails. (Nothing is lost or duplicated either way: the set assertions hold.)
///
/// The sender's mailbox list comes only from a directory lookup after a failed send, so
/// the relay's DHT serves a record for the receiver (signed with its key here) that
/// names the relay as both its address and its mailbox, and a first message is left
/// with the "mailbox" after two failed sends: from then on the sender knows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposit_right_after_acknowledged_frames_audits_them_in_stream_order() {
    const N: u32 = 7;
    let dir = tempfile::tempdir().unwrap();
    let (b, addr_b) = start(2, &dir.path().join("b"), config()).await;
    // Every direct frame is kept unanswered: the sends fail (timeouts).
    let relay = Relay::start(
        &addr_b,
        Rules {
            hold_above: 0,
            ..Rules::PASS
        },
    )
    .await;
    let kb = identity(2).public();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let record = DirectoryRecord::sign(
        &identity(2),
        now,
        now,
        now + 3600,
        &[relay.addr.to_vec()],
        &[kb],
        &b.bundle().unwrap(),
    )
    .unwrap();
    relay.front.put_record(dht_key(&kb), record).await.unwrap();
    let mut ca = config();
    // The window's first request must still be waiting when the relay opens, so this
    // must outlast storing six messages (milliseconds each, a few fsyncs); a timeout
    // there fails the test loudly ("nothing was tested"), never passes it. Each of the
    // test's three failed sends costs this long.
    ca.net.request_timeout = Duration::from_secs(8);
    ca.deposit_after = 1;
    let (a, _) = start(1, &dir.path().join("a"), ca).await;
    a.client()
        .add_address(Node::peer_id(&kb).unwrap(), relay.addr.clone())
        .await
        .unwrap();
    let bundle_b = b.bundle().unwrap();
    // The first failure looks b's record up (the deposit it tries at once finds no
    // mailbox yet); the second leaves the message with the mailbox.
    let primer = a.send(kb, Some(bundle_b.clone()), msg(0)).await.unwrap();
    wait_metric(&a, "talos_frames_deposited_total", 1).await;
    // The window: its first frame, alone in the flush's first request (the next
    // message is stored only once it has reached the relay), waits in the relay until
    // every message is stored; then it is acknowledged, and the same flush offers the
    // rest (the send path's fresh frames), which the relay keeps unanswered: that
    // request fails, and the flush deposits its frames while the acknowledged one is
    // still carried.
    let first = primer + 1;
    let window = Rules {
        closed: true,
        hold_above: first,
        garble: None,
    };
    relay.set(window);
    let mut seqs = vec![a.send(kb, Some(bundle_b.clone()), msg(1)).await.unwrap()];
    assert_eq!(seqs[0], first);
    relay.wait_arrived(first).await;
    for i in 2..=N {
        seqs.push(a.send(kb, Some(bundle_b.clone()), msg(i)).await.unwrap());
    }
    relay.set(Rules {
        closed: false,
        ..window
    });
    let got = read_through(&b, &msg(N)).await;
    assert_eq!(
        got,
        (0..=N).map(msg).collect::<Vec<_>>(),
        "every message once, in order"
    );
    assert_eq!(a.drain(Duration::from_secs(60)).await.unwrap(), 0);
    let passed = relay.passed();
    drop((a, b, relay));
    let sent = frames(&audit_events(&dir.path().join("a")).await, true);
    let mut received = frames(&audit_events(&dir.path().join("b")).await, false);
    assert_eq!(sent.len(), N as usize + 1, "frames audited as sent");
    let mut sorted = sent.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        sent.len(),
        "a frame audited twice by the sender"
    );
    received.sort_unstable();
    received.dedup();
    assert_eq!(received, sorted, "both sides audit the same frames");
    // Stream order across the deposit: every frame of the window acknowledged directly
    // is audited before every frame of the window left with the mailbox.
    let deposited: Vec<u64> = passed
        .iter()
        .filter(|p| p.deposit && seqs.contains(&p.seq))
        .map(|p| p.seq)
        .collect();
    let direct: Vec<Hash32> = passed
        .iter()
        .filter(|p| !p.deposit && seqs.contains(&p.seq) && !deposited.contains(&p.seq))
        .map(|p| p.frame)
        .collect();
    let left: Vec<Hash32> = passed
        .iter()
        .filter(|p| p.deposit && seqs.contains(&p.seq))
        .map(|p| p.frame)
        .collect();
    assert!(
        !direct.is_empty() && !left.is_empty(),
        "no deposit right after an acknowledged frame, so nothing was tested: {passed:?}"
    );
    let at = |f: &Hash32| {
        sent.iter()
            .position(|s| s == f)
            .expect("a frame b took is not in the sender's audit log")
    };
    let last_direct = direct.iter().map(at).max().unwrap();
    let first_left = left.iter().map(at).min().unwrap();
    assert!(
        last_direct < first_left,
        "the deposit was audited before the frame acknowledged ahead of it \
         (positions {last_direct} and {first_left} in the sender's log)"
    );
}
