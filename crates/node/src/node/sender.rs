//! The sender: offers each peer its unacknowledged frames, a window at a time, until they
//! are acknowledged; a peer that fails waits with exponential backoff. Its table of peers
//! is bounded by `NodeConfig::max_peers`; the outbox on disk is the real queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use talos_delivery::Mailroom;
use talos_identity::peer_id::peer_id_of;
use talos_net::{AckStatus, Client};
use talos_primitives::Ed25519Public;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::NodeConfig;

mod flush;

/// When a peer is next due, and the delay it backs off with.
struct Due {
    at: Instant,
    delay: Duration,
    /// Failed direct attempts in a row.
    failures: u32,
}

/// How long acknowledged frames may wait to be audited and forgotten together with
/// later ones. Each forget is a synced write: one per message in a one-at-a-time stream
/// made the sender's disk sync twice per message, and the second sync delayed the next
/// message's. A window's worth is forgotten at once, whatever the time; frames left
/// unforgotten by a crash are offered again and the peer answers `Duplicate`.
const FORGET_AFTER: Duration = Duration::from_millis(10);

/// Acknowledged frames waiting for [`FORGET_AFTER`].
pub(super) struct Carried {
    frames: Vec<talos_net::Frame>,
    due: Instant,
}

/// Peers' mailboxes as their directory records name them (filled by lookups).
pub(super) type MailboxCache = Arc<std::sync::Mutex<HashMap<Ed25519Public, Vec<Ed25519Public>>>>;

pub(super) struct Sender {
    client: Client,
    mailroom: Arc<Mailroom>,
    auditor: super::audit::Auditor,
    me: Ed25519Public,
    retry_min: Duration,
    retry_max: Duration,
    window: usize,
    max_peers: usize,
    deposit_after: u32,
    mailboxes: MailboxCache,
    due: HashMap<Ed25519Public, Due>,
    /// Per peer, the seq below which every frame is acknowledged (forgotten, or carried
    /// or being forgotten: `carried`, `forgetting`): reading the outbox from there skips
    /// the deleted frames' tombstones, which RocksDB would otherwise walk on every pass
    /// until compaction.
    cursors: HashMap<Ed25519Public, u64>,
    /// Frames the send path just stored, so a woken flush need not read them back.
    fresh: super::commit::Fresh,
    /// Per peer, the audit write of the last flush's acknowledged frames, if it had not
    /// ended when the flush did (bounded by `max_peers`).
    forgetting: HashMap<Ed25519Public, flush::Forgetting>,
    /// Per peer, acknowledged frames not yet handed to `forget`, and when they must be
    /// (bounded by `max_peers`).
    carried: HashMap<Ed25519Public, Carried>,
    /// Wakes the pump that starts sessions for queued sends (refused frames go there).
    pump: Arc<tokio::sync::Notify>,
    /// Counts flushes (`talos_sender_flushes_total`).
    flushes: prometheus_client::metrics::counter::Counter,
    /// Counts frames left with mailboxes (`talos_frames_deposited_total`).
    deposited: prometheus_client::metrics::counter::Counter,
}

impl Sender {
    pub(super) fn new(
        client: Client,
        mailroom: Arc<Mailroom>,
        auditor: super::audit::Auditor,
        fresh: super::commit::Fresh,
        pump: Arc<tokio::sync::Notify>,
        metrics: &super::metrics::Metrics,
        config: &NodeConfig,
    ) -> Self {
        Sender {
            client,
            me: mailroom.identity(),
            mailroom,
            auditor,
            retry_min: config.retry_min,
            retry_max: config.retry_max,
            window: config.window.max(1),
            max_peers: config.max_peers,
            deposit_after: config.deposit_after.max(1),
            mailboxes: Arc::new(std::sync::Mutex::new(HashMap::new())),
            due: HashMap::new(),
            cursors: HashMap::new(),
            fresh,
            forgetting: HashMap::new(),
            carried: HashMap::new(),
            pump,
            flushes: metrics.sender_flushes.clone(),
            deposited: metrics.frames_deposited.clone(),
        }
    }

    fn schedule_now(&mut self, peer: Ed25519Public) {
        if let Some(d) = self.due.get_mut(&peer) {
            // A new message for a peer already scheduled (perhaps backing off): keep its
            // backoff and failure count, so an unreachable peer still backs off and its
            // frames still reach its mailbox. A peer that answers resets them in flush.
            if d.failures == 0 {
                d.at = Instant::now();
            }
        } else if self.due.len() < self.max_peers {
            self.due.insert(
                peer,
                Due {
                    at: Instant::now(),
                    delay: self.retry_min,
                    failures: 0,
                },
            );
        }
        // Otherwise the peer's frames wait on disk until `rescan` finds them.
    }

    pub(super) async fn run(
        mut self,
        mut wake: mpsc::Receiver<Ed25519Public>,
        resume: Vec<Ed25519Public>,
    ) {
        for peer in resume {
            self.schedule_now(peer);
        }
        // A periodic rescan of the outbox catches peers dropped from a full wake queue
        // or a full table.
        let mut rescan = tokio::time::interval(self.retry_max);
        loop {
            // Peers already due are served at once: a timer would round the deadline up
            // to tokio's next millisecond tick, which is most of a message's latency.
            let now = Instant::now();
            let ready: Vec<Ed25519Public> = self
                .due
                .iter()
                .filter(|(_, d)| d.at <= now)
                .map(|(p, _)| *p)
                .collect();
            for peer in ready {
                self.flush(peer).await;
            }
            self.forget_due(now).await;
            let next = self
                .due
                .values()
                .map(|d| d.at)
                .chain(self.carried.values().map(|c| c.due))
                .min();
            tokio::select! {
                peer = wake.recv() => match peer {
                    Some(p) => self.schedule_now(p),
                    None => return,
                },
                _ = sleep_until(next) => {}
                _ = rescan.tick() => {
                    let m = self.mailroom.clone();
                    let max = self.max_peers;
                    if let Ok(Ok(peers)) = tokio::task::spawn_blocking(move || m.peers_with_pending(max)).await {
                        for p in peers {
                            if !self.due.contains_key(&p) {
                                self.schedule_now(p);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Audits the acknowledged frames and forgets them, in the background, in one synced
    /// batch: the outbox drops a frame exactly when its event is durable. After `prev`
    /// (the peer's previous forget, one at a time), whose outcome it carries on.
    fn forget(
        &self,
        peer: Ed25519Public,
        frames: Vec<talos_net::Frame>,
        prev: Option<flush::Forgetting>,
    ) -> flush::Forgetting {
        let mut events = Vec::new();
        super::commit::sent_events(&self.me, &peer, &frames, &mut events);
        let seqs: Vec<u64> = frames.iter().map(|f| f.seq()).collect();
        let first = seqs.iter().copied().min();
        let upto = seqs
            .iter()
            .copied()
            .chain(prev.as_ref().map(|p| p.upto))
            .max()
            .unwrap_or(0);
        let auditor = self.auditor.clone();
        // Returns the first seq it (or `prev`) could not forget: those frames stay in the
        // outbox and must be offered again.
        let handle = tokio::spawn(async move {
            let before = match prev {
                Some(h) => flush::outcome(h).await,
                None => None,
            };
            let writes = talos_delivery::Mailroom::acknowledged_writes(&peer, &seqs);
            if !auditor.record_with(events, writes).await {
                warn!("audit log failing: acknowledged frames kept in the outbox");
                return [before, first].into_iter().flatten().min();
            }
            before
        });
        flush::Forgetting::new(handle, upto)
    }

    /// The highest seq of `peer` acknowledged and perhaps still in the outbox (carried,
    /// or in an audit write not known to have ended).
    fn unforgotten_upto(&self, peer: &Ed25519Public) -> Option<u64> {
        let carried = self
            .carried
            .get(peer)
            .and_then(|c| c.frames.iter().map(talos_net::Frame::seq).max());
        let forgetting = self.forgetting.get(peer).map(|f| f.upto);
        carried.max(forgetting)
    }

    /// Forgets `peer`'s carried frames and `more` now, and waits until every audit write
    /// of the peer has ended: the first seq left unforgotten, if any.
    async fn forget_all(
        &mut self,
        peer: Ed25519Public,
        more: Vec<talos_net::Frame>,
    ) -> Option<u64> {
        let mut frames = self
            .carried
            .remove(&peer)
            .map(|c| c.frames)
            .unwrap_or_default();
        frames.extend(more);
        let prev = self.forgetting.remove(&peer);
        let last = if frames.is_empty() {
            prev
        } else {
            Some(self.forget(peer, frames, prev))
        };
        match last {
            Some(h) => flush::outcome(h).await,
            None => None,
        }
    }

    /// Keeps `frames` (acknowledged) to be forgotten with later ones, by `due` at the
    /// latest; with the table full, they are forgotten now.
    async fn carry(&mut self, peer: Ed25519Public, frames: Vec<talos_net::Frame>, due: Instant) {
        if frames.is_empty() {
            return;
        }
        if self.carried.len() >= self.max_peers.max(1) && !self.carried.contains_key(&peer) {
            self.forget_in_background(peer, frames).await;
            return;
        }
        let c = self.carried.entry(peer).or_insert(Carried {
            frames: Vec::new(),
            due,
        });
        c.frames.extend(frames);
        c.due = c.due.min(due);
    }

    /// The carried frames whose time has come: handed to `forget`, without waiting.
    async fn forget_due(&mut self, now: Instant) {
        let due: Vec<Ed25519Public> = self
            .carried
            .iter()
            .filter(|(_, c)| c.due <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in due {
            if let Some(c) = self.carried.remove(&peer) {
                self.forget_in_background(peer, c.frames).await;
            }
        }
    }

    /// Hands `frames` to `forget`, after the peer's running audit write, and keeps the
    /// new write for the peer's next flush.
    async fn forget_in_background(&mut self, peer: Ed25519Public, frames: Vec<talos_net::Frame>) {
        let prev = self.forgetting.remove(&peer);
        let h = self.forget(peer, frames, prev);
        self.keep_forgetting(peer, h).await;
    }

    /// An audit write of `peer` left `kept` and later seqs in the outbox: the cursor
    /// moves back to them and the peer backs off before they are offered again.
    fn unforgotten(&mut self, peer: Ed25519Public, kept: u64) {
        // No cursor (the table was cleared at `max_peers`) reads the outbox from its
        // start, as `begin()` does: a deferred frame below `kept` must not be skipped.
        let cursor = self.cursors.get(&peer).copied().unwrap_or(0);
        self.cursors.insert(peer, kept.min(cursor));
        self.back_off(peer);
    }

    /// Keeps `h` (the audit write a flush of `peer` left running) for the peer's next
    /// flush. The table is bounded: when full, the writes that have ended are taken, and
    /// failures move their peer's cursor back; if none has ended, this waits for one.
    async fn keep_forgetting(&mut self, peer: Ed25519Public, h: flush::Forgetting) {
        while self.forgetting.len() >= self.max_peers.max(1) {
            let ended: Vec<Ed25519Public> = self
                .forgetting
                .iter()
                .filter(|(_, h)| h.is_finished())
                .map(|(p, _)| *p)
                .collect();
            let taken = if ended.is_empty() {
                // `max_peers` writes still running: wait for any one of them.
                self.forgetting.keys().next().copied().into_iter().collect()
            } else {
                ended
            };
            for p in taken {
                if let Some(h) = self.forgetting.remove(&p)
                    && let Some(kept) = flush::outcome(h).await
                {
                    self.unforgotten(p, kept);
                }
            }
        }
        self.forgetting.insert(peer, h);
    }

    /// Frames the peer could not open: their messages (and every later one) wait for a
    /// new session, which the pump starts from the peer's current bundle. Runs once
    /// nothing is in flight to the peer, so no answer to an old frame can overtake it.
    async fn refused_again(&self, peer: Ed25519Public, seqs: Vec<u64>) {
        if seqs.is_empty() {
            return;
        }
        let m = self.mailroom.clone();
        match tokio::task::spawn_blocking(move || m.refused(&peer, &seqs)).await {
            Ok(Ok(r)) if r.requeued > 0 => self.pump.notify_one(),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => warn!(%e, "refused frames not queued again"),
            Err(e) => warn!(%e, "refused frames not queued again"),
        }
    }

    fn back_off(&mut self, peer: Ed25519Public) {
        let (min, max) = (self.retry_min, self.retry_max);
        let d = self.due.entry(peer).or_insert(Due {
            at: Instant::now(),
            delay: min,
            failures: 0,
        });
        d.at = Instant::now() + d.delay;
        d.delay = (d.delay * 2).min(max);
        d.failures = d.failures.saturating_add(1);
    }

    /// Leaves `frames` for `peer` with one of its mailboxes. True if every frame was
    /// taken (accepted or already held): they leave the outbox, custody has passed.
    async fn deposit(&mut self, peer: Ed25519Public, frames: &[talos_net::Frame]) -> bool {
        let mailboxes = self
            .mailboxes
            .lock()
            .ok()
            .and_then(|c| c.get(&peer).cloned())
            .unwrap_or_default();
        for mailbox in mailboxes {
            let Ok(mailbox_id) = peer_id_of(&mailbox) else {
                continue;
            };
            let wrapped: Vec<_> = frames
                .iter()
                .filter_map(|f| talos_net::Deposit::wrap(*peer.as_bytes(), f).ok())
                .collect();
            if wrapped.len() != frames.len() {
                // A frame too large to wrap can only go directly.
                return false;
            }
            let results = deposit_batches(&self.client, mailbox_id, wrapped).await;
            let taken: Vec<u64> = frames
                .iter()
                .zip(&results)
                .filter(|(_, r)| {
                    matches!(r, Ok(a) if matches!(a.status, AckStatus::Accepted | AckStatus::Duplicate))
                })
                .map(|(f, _)| f.seq())
                .collect();
            let all = taken.len() == frames.len();
            if !all {
                let failed = results.iter().find_map(|r| match r {
                    Ok(a) if matches!(a.status, AckStatus::Accepted | AckStatus::Duplicate) => None,
                    Ok(a) => Some(format!("{:?}", a.status)),
                    Err(e) => Some(e.clone()),
                });
                debug!(%mailbox_id, taken = taken.len(), of = frames.len(), ?failed, "mailbox took part of a deposit");
            }
            let mut events = Vec::new();
            let taken_frames: Vec<talos_net::Frame> = frames
                .iter()
                .filter(|f| taken.contains(&f.seq()))
                .cloned()
                .collect();
            super::commit::sent_events(&self.me, &peer, &taken_frames, &mut events);
            let writes = talos_delivery::Mailroom::acknowledged_writes(&peer, &taken);
            if !self.auditor.record_with(events, writes).await {
                return false;
            }
            self.deposited.inc_by(taken.len() as u64);
            if all {
                debug!(%mailbox_id, n = frames.len(), "frames left with a mailbox");
                return true;
            }
        }
        false
    }
}

/// Sends deposit frames to a mailbox in as few batches as fit (they went one per send,
/// a stream's turn each); one result per frame, in order: a failed batch fails each of
/// its frames.
async fn deposit_batches(
    client: &talos_net::Client,
    mailbox: talos_net::PeerId,
    wrapped: Vec<talos_net::Frame>,
) -> Vec<Result<talos_net::Ack, String>> {
    let mut chunks: Vec<Vec<talos_net::Frame>> = Vec::new();
    for f in wrapped {
        match chunks.last_mut() {
            Some(b) if talos_net::batch_fits(b, &f) => b.push(f),
            _ => chunks.push(vec![f]),
        }
    }
    let sends = chunks.into_iter().map(|batch| {
        let n = batch.len();
        async move { (n, client.send_batch(mailbox, batch).await) }
    });
    let mut results = Vec::new();
    for (n, r) in join_all(sends).await {
        match r {
            Ok(acks) => results.extend(acks.into_iter().map(Ok)),
            Err(e) => results.extend(std::iter::repeat_n(Err(e.to_string()), n)),
        }
    }
    results
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
