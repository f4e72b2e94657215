//! Group commit on both paths. Under load many sends (and many inbound frames) are
//! waiting at once; each task takes whatever is queued, up to [`MAX_GROUP`], and makes it
//! durable with one synced RocksDB write. Alone, a message is its own group, so latency
//! stays one fsync; under load the fsync is shared, which is what makes the throughput.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use talos_audit::event::{EventKind, FrameRef, MAX_FRAMES_PER_EVENT};
use talos_delivery::{DeliveryError, Mailroom, Outcome, Receipt};
use talos_identity::peer_id::key_of;
use talos_net::{AckStatus, Client, Deposit, Frame, FrameKind, InboundFrame, PeerId, Responder};
use talos_primitives::Ed25519Public;
use talos_ratchet::PreKeyBundle;
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::{debug, warn};
use zeroize::Zeroizing;

use super::audit::{Auditor, did, session_id};
use super::receipts::Rounds;

/// Most messages or frames in one group (one synced write).
pub(super) const MAX_GROUP: usize = 256;
/// Peers whose keys the inbound task remembers.
const KEY_CACHE: usize = 4096;

/// A message waiting to be made durable.
pub(super) struct SendJob {
    pub(super) peer: Ed25519Public,
    pub(super) bundle: Option<PreKeyBundle>,
    pub(super) plaintext: Zeroizing<Vec<u8>>,
    pub(super) reply: oneshot::Sender<Result<Frame, DeliveryError>>,
}

/// Takes up to `MAX_GROUP - 1` more items that are already queued, without waiting.
pub(super) fn gather<T>(first: T, rx: &mut mpsc::Receiver<T>) -> Vec<T> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match rx.try_recv() {
            Ok(item) => group.push(item),
            Err(_) => break,
        }
    }
    group
}

/// Frames just made durable, handed to the sender so it need not read them back from
/// the outbox (a blocking-pool hop and a RocksDB scan on every message's path). Only a
/// shortcut: the outbox stays the truth, and the sender reads it whenever the frames here
/// do not start exactly at its cursor.
#[derive(Clone, Default)]
pub(super) struct Fresh(Arc<std::sync::Mutex<FreshFrames>>);

#[derive(Default)]
struct FreshFrames {
    peers: HashMap<Ed25519Public, VecDeque<Frame>>,
    bytes: usize,
}

impl FreshFrames {
    fn prune(&mut self, peer: &Ed25519Public, cursor: u64) {
        let mut freed = 0;
        if let Some(q) = self.peers.get_mut(peer) {
            while q.front().is_some_and(|fr| fr.seq() < cursor) {
                if let Some(fr) = q.pop_front() {
                    freed += fr.encode_len();
                }
            }
            if q.is_empty() {
                self.peers.remove(peer);
            }
        }
        self.bytes = self.bytes.saturating_sub(freed);
    }
}

/// Frame bytes kept across all peers (beyond it, frames are read from the outbox).
const FRESH_BYTES: usize = 8 << 20;

impl Fresh {
    fn push(&self, peer: Ed25519Public, frame: Frame) {
        let Ok(mut f) = self.0.lock() else {
            return;
        };
        let len = frame.encode_len();
        if f.bytes.saturating_add(len) > FRESH_BYTES {
            return;
        }
        f.bytes += len;
        f.peers.entry(peer).or_default().push_back(frame);
    }

    /// Drops `peer`'s frames below `cursor` (acknowledged, deposited, or read from the
    /// outbox instead).
    pub(super) fn prune(&self, peer: &Ed25519Public, cursor: u64) {
        if let Ok(mut f) = self.0.lock() {
            f.prune(peer, cursor);
        }
    }

    /// Up to `max` frames for `peer` from `cursor` on, if the kept ones start there.
    pub(super) fn take(&self, peer: &Ed25519Public, cursor: u64, max: usize) -> Option<Vec<Frame>> {
        let mut f = self.0.lock().ok()?;
        f.prune(peer, cursor);
        let q = f.peers.get_mut(peer)?;
        if q.front().map(Frame::seq) != Some(cursor) {
            return None;
        }
        let mut out = Vec::new();
        let mut next = cursor;
        while out.len() < max && q.front().is_some_and(|fr| fr.seq() == next) {
            if let Some(fr) = q.pop_front() {
                next = next.saturating_add(1);
                out.push(fr);
            }
        }
        if q.is_empty() {
            f.peers.remove(peer);
        }
        let taken: usize = out.iter().map(Frame::encode_len).sum();
        f.bytes = f.bytes.saturating_sub(taken);
        Some(out)
    }
}

/// The send path: groups of messages, one write each, then the sender is woken.
pub(super) async fn sends(
    mailroom: Arc<Mailroom>,
    mut jobs: mpsc::Receiver<SendJob>,
    wake: mpsc::Sender<Ed25519Public>,
    fresh: Fresh,
) {
    while let Some(first) = jobs.recv().await {
        let group = gather(first, &mut jobs);
        let mut replies = Vec::with_capacity(group.len());
        let mut items = Vec::with_capacity(group.len());
        for job in group {
            replies.push((job.peer, job.reply));
            items.push((job.peer, job.bundle, job.plaintext));
        }
        let m = mailroom.clone();
        let result = tokio::task::spawn_blocking(move || {
            let borrowed: Vec<_> = items
                .iter()
                .map(|(p, b, t)| (*p, b.as_ref(), t.as_slice()))
                .collect();
            m.send_many(&borrowed)
        })
        .await;
        match result {
            Ok(Ok(results)) => {
                let mut woken: Vec<Ed25519Public> = Vec::new();
                for ((peer, reply), r) in replies.into_iter().zip(results) {
                    if let Ok(frame) = &r {
                        fresh.push(peer, frame.clone());
                        if !woken.contains(&peer) {
                            woken.push(peer);
                        }
                    }
                    let _ = reply.send(r);
                }
                // One wake per peer per group: each wake is a flush, and one flush sends
                // all of a peer's new frames (a wake per message made ~250 empty flushes
                // per group, each a blocking-pool hop). A full wake queue only delays the
                // send to the next retry pass.
                for peer in woken {
                    let _ = wake.try_send(peer);
                }
            }
            Ok(Err(e)) => {
                warn!(%e, "send group not stored");
                let msg = e.to_string();
                for (_, reply) in replies {
                    let _ = reply.send(Err(DeliveryError::Unavailable(msg.clone())));
                }
            }
            Err(e) => warn!(%e, "send group task failed"),
        }
    }
}

/// What the receive path needs.
pub(super) struct Inbound {
    pub(super) mailroom: Arc<Mailroom>,
    pub(super) auditor: Auditor,
    pub(super) client: Client,
    pub(super) delivered: Arc<Notify>,
    /// Where the entries just delivered are handed to waiting readers.
    pub(super) arrived: super::arrived::Arrived,
    /// This node's own mailboxes: their deposits are frames handed on to us.
    pub(super) mailboxes: Vec<Ed25519Public>,
    /// When this node serves as a mailbox: the store and the hand-on queue.
    pub(super) serving: Option<(Arc<talos_delivery::Mailbox>, mpsc::Sender<Ed25519Public>)>,
    /// The sender's wake queue (group traffic a received frame caused).
    pub(super) wake: mpsc::Sender<Ed25519Public>,
    /// The group pump (group sends waiting for a session).
    pub(super) pump: Arc<Notify>,
    pub(super) metrics: Arc<super::metrics::Metrics>,
}

type Pending = Vec<((PeerId, Responder), (Ed25519Public, Frame))>;

/// The receive path: groups of inbound frames, one write each, then every ack. Session
/// frames go to the mailroom; deposits from our own mailboxes are handed-on session
/// frames; other deposits and drains are for the mailbox service.
pub(super) async fn inbound(ctx: Inbound, mut frames: mpsc::Receiver<InboundFrame>) {
    let me = ctx.mailroom.identity();
    // PeerId → key, remembered: parsing one decompresses the curve point twice, which
    // was a visible share of the receive path's CPU. Bounded: cleared when full.
    let mut keys: std::collections::HashMap<PeerId, Ed25519Public> = Default::default();
    let mut rounds = Rounds::new();
    while let Some(first) = frames.recv().await {
        let group = gather(first, &mut frames);
        let (mut direct, mut relayed): (Pending, Pending) = (Vec::new(), Vec::new());
        for InboundFrame {
            peer,
            frame,
            responder,
        } in group
        {
            let key = match keys.get(&peer) {
                Some(k) => *k,
                None => {
                    let Ok(key) = key_of(&peer) else {
                        debug!(%peer, "frame from a peer without an Ed25519 identity; dropped");
                        continue;
                    };
                    if keys.len() >= KEY_CACHE {
                        keys.clear();
                    }
                    keys.insert(peer, key);
                    key
                }
            };
            match frame.kind() {
                FrameKind::Initial | FrameKind::Ratchet => {
                    direct.push(((peer, responder), (key, frame)))
                }
                FrameKind::Relay if ctx.mailboxes.contains(&key) => {
                    match Deposit::parse(&frame).ok().and_then(|d| {
                        Ed25519Public::from_bytes(d.party)
                            .ok()
                            .map(|p| (p, d.inner))
                    }) {
                        Some(item) => relayed.push(((peer, responder), item)),
                        None => {
                            let refused = AckStatus::Refused(talos_net::RefuseReason::Malformed);
                            let _ = ctx.client.respond(responder, refused).await;
                        }
                    }
                }
                FrameKind::Relay => {
                    // Only our own mailboxes hand frames on to us.
                    let refused = AckStatus::Refused(talos_net::RefuseReason::Unauthorized);
                    let _ = ctx.client.respond(responder, refused).await;
                }
                FrameKind::Deposit | FrameKind::Drain => {
                    let status = match &ctx.serving {
                        Some((mailbox, drains)) => {
                            super::mailbox::serve(mailbox, drains, key, frame).await
                        }
                        None => AckStatus::Refused(talos_net::RefuseReason::MailboxRefused),
                    };
                    let _ = ctx.client.respond(responder, status).await;
                }
            }
        }
        // In each peer's stream order: the requests of one window travel on separate
        // streams and arrive in any order, and a frame ahead of a gap is written to the
        // held frames, read back and opened again once the gap fills. Within a group the
        // order is free (every frame keeps its own responder).
        direct
            .sort_by(|x, y| (x.1.0.as_bytes(), x.1.1.seq()).cmp(&(y.1.0.as_bytes(), y.1.1.seq())));
        relayed
            .sort_by(|x, y| (x.1.0.as_bytes(), x.1.1.seq()).cmp(&(y.1.0.as_bytes(), y.1.1.seq())));
        deliver(&ctx, &mut rounds, &me, direct, false).await;
        deliver(&ctx, &mut rounds, &me, relayed, true).await;
    }
}

async fn deliver(
    ctx: &Inbound,
    rounds: &mut Rounds,
    me: &Ed25519Public,
    group: Pending,
    relayed: bool,
) {
    if group.is_empty() {
        return;
    }
    let (responders, items): (Vec<_>, Vec<_>) = group.into_iter().unzip();
    // The mailroom's writes and the events the outcomes call for are one batch and one
    // fsync (`receipts.rs`); acks go out only once it is durable.
    let (round, settled) = (rounds.next(), rounds.take_settled());
    let (m, auditor, me2) = (ctx.mailroom.clone(), ctx.auditor.clone(), *me);
    let arrived = ctx.arrived.clone();
    let kept = settled.clone();
    let store = tokio::task::spawn_blocking(move || {
        let r = {
            let borrowed: Vec<_> = items.iter().map(|(k, f)| (*k, f)).collect();
            let mut commit = |outcomes: &[Outcome], writes: talos_store::Writes| {
                let events = super::receipts::needed(&me2, &items, outcomes);
                let inbox: Vec<(Vec<u8>, Vec<u8>)> = writes
                    .puts_to(talos_store::db::CF_INBOX)
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect();
                auditor
                    .append_now(events, writes)
                    .map_err(|e| DeliveryError::Unavailable(e.to_string()))?;
                arrived.keep(inbox.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
                Ok(())
            };
            m.receive_audited(&borrowed, relayed, round, &settled, &mut commit)
        };
        (items, r)
    });
    let (items, result) = match store.await {
        Ok(done) => done,
        Err(e) => {
            rounds.restore(kept);
            warn!(%e, "receive task failed");
            return;
        }
    };
    let outcomes = match result {
        Ok(o) => o,
        // Our store (or audit log) failed: no acks, so the senders keep the frames.
        Err(e) => {
            rounds.restore(kept);
            warn!(%e, "inbound group not stored; left to the senders' retries");
            return;
        }
    };
    super::groups::after_commit(&ctx.mailroom, &ctx.wake, &ctx.pump);
    super::receipts::count(me, &items, &outcomes, &ctx.auditor, &ctx.metrics);
    rounds.settle(&items, &outcomes, round);
    respond_all(ctx, responders, outcomes).await;
    // After the acks are handed on: the task woken last runs first (tokio's LIFO slot),
    // so a reader waiting on this node gets its message before the acks are written.
    ctx.delivered.notify_waiters();
}

/// Sends each frame's ack (the frames and their events are durable).
async fn respond_all(ctx: &Inbound, responders: Vec<(PeerId, Responder)>, outcomes: Vec<Outcome>) {
    let fresh = outcomes
        .iter()
        .filter(|o| o.receipt == Receipt::Ack(AckStatus::Accepted))
        .count();
    ctx.metrics.frames_received.inc_by(fresh as u64);
    for ((peer, responder), o) in responders.into_iter().zip(outcomes) {
        // Too far ahead: no ack, so the sender keeps the frame and resends.
        if let Receipt::Ack(status) = o.receipt
            && ctx.client.respond(responder, status).await.is_err()
        {
            debug!(%peer, "network stopped before the ack");
        }
    }
}

/// The events for frames sent to one peer that it (or its mailbox) acknowledged: the
/// session if the first frame of the stream is among them, then the frames.
pub(super) fn sent_events(
    me: &Ed25519Public,
    peer: &Ed25519Public,
    frames: &[Frame],
    out: &mut Vec<EventKind>,
) {
    if frames.iter().any(|f| f.seq() == 1) {
        out.push(EventKind::SessionOpened {
            peer: did(peer),
            session: session_id(me, peer),
        });
    }
    out.extend(frame_events(me, frames.iter().map(|f| (peer, f)), true));
}

/// The events for frames received (see [`frame_events`]).
pub(super) fn received_events<'a>(
    me: &Ed25519Public,
    frames: impl Iterator<Item = (&'a Ed25519Public, &'a Frame)>,
) -> Vec<EventKind> {
    frame_events(me, frames, false)
}

/// One event per peer for a group of frames, in order of first appearance: the single
/// frame kind for one frame, the batch kind for several (each event is signed, and a
/// signature per frame was a fifth of the CPU under load).
fn frame_events<'a>(
    me: &Ed25519Public,
    frames: impl Iterator<Item = (&'a Ed25519Public, &'a Frame)>,
    sent: bool,
) -> Vec<EventKind> {
    let mut per_peer: Vec<(Ed25519Public, Vec<FrameRef>)> = Vec::new();
    for (peer, frame) in frames {
        let r = FrameRef::of(&frame.encode());
        match per_peer.iter_mut().find(|(p, _)| p == peer) {
            Some((_, refs)) if refs.len() < MAX_FRAMES_PER_EVENT => refs.push(r),
            _ => per_peer.push((*peer, vec![r])),
        }
    }
    per_peer
        .into_iter()
        .map(|(peer, refs)| {
            let (peer_did, session) = (did(&peer), session_id(me, &peer));
            match (refs.as_slice(), sent) {
                ([one], true) => EventKind::FrameSent {
                    peer: peer_did,
                    session,
                    frame: one.frame,
                    len: one.len,
                },
                ([one], false) => EventKind::FrameReceived {
                    peer: peer_did,
                    session,
                    frame: one.frame,
                    len: one.len,
                },
                (_, true) => EventKind::FramesSent {
                    peer: peer_did,
                    session,
                    frames: refs,
                },
                (_, false) => EventKind::FramesReceived {
                    peer: peer_did,
                    session,
                    frames: refs,
                },
            }
        })
        .collect()
}
