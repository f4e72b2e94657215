//! One flush of a peer's outbox: offer frames a window at a time ([`Sender::exchange`]),
//! then apply how it ended in one place ([`Sender::settle`]).

use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use talos_identity::peer_id::peer_id_of;
use talos_net::{Ack, AckStatus, Frame, PeerId, RefuseReason};
use talos_primitives::Ed25519Public;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::{Due, FORGET_AFTER, Sender};

/// What one flush saw, frame by frame.
#[derive(Default)]
struct Exchange {
    /// The next seq to read from the outbox.
    cursor: u64,
    /// The outbox had fewer frames than asked for: from then on only frames the send
    /// path hands over in memory (`commit::Fresh`) are offered.
    exhausted: bool,
    /// Frames offered so far in this flush.
    offered: usize,
    /// Frames in the requests in flight (a request carries a batch of them).
    in_frames: usize,
    /// Acknowledged, not yet handed to `forget`.
    acked: Vec<Frame>,
    /// Offered but not taken (deferred, over quota, or the send failed).
    unsent: Vec<Frame>,
    /// Refused as unreadable (`Malformed`, `NoSession`): sent again on a new session.
    refused: Vec<u64>,
    /// The lowest seq acknowledged but not forgotten (audit log or store failing).
    unforgotten: Option<u64>,
    /// A send failed, or the outbox could not be read.
    failed: bool,
    /// The peer answered `Later` (busy, or a frame too far ahead): alive, so no backoff,
    /// lookup or deposit; the frames are offered again soon.
    deferred: bool,
    /// The peer answered `OverQuota` (its agent has not read our earlier messages): the
    /// frames wait here and we back off instead of asking again at once.
    over_quota: bool,
}

/// Most frames one flush offers, in windows: then the flush ends and the run loop serves
/// the other peers that are due before this one again (it stays due while its outbox
/// holds frames), so one peer's steady stream cannot hold every other peer back.
const FLUSH_WINDOWS: usize = 16;

/// How a flush ended.
enum Ended {
    /// Acknowledged frames could not be forgotten: offered again from `from` after a
    /// backoff (the peer answers `Duplicate` and they are audited then).
    Unforgotten { from: u64 },
    /// The peer deferred some frames; `first` is the first of them.
    Deferred {
        first: Option<u64>,
        over_quota: bool,
    },
    /// The peer took everything offered.
    Answered,
    /// A send failed: offered again from the first failed frame, after a backoff, a fresh
    /// directory lookup and perhaps a mailbox deposit.
    Failed,
}

impl Exchange {
    fn wants_more(&self, window: usize) -> bool {
        !self.failed
            && !self.deferred
            && self.in_frames <= window / 2
            && self.offered < window.saturating_mul(FLUSH_WINDOWS)
    }

    fn first_unsent(&self) -> Option<u64> {
        self.unsent.iter().map(Frame::seq).min()
    }

    fn keep_unforgotten(&mut self, kept: u64) {
        self.unforgotten = Some(self.unforgotten.map_or(kept, |u| u.min(kept)));
    }

    /// Sorts a request's frames by the peer's answer to each.
    fn answered(&mut self, peer_id: &PeerId, frames: Vec<Frame>, acks: Vec<Ack>) {
        for (frame, ack) in frames.into_iter().zip(acks) {
            match ack.status {
                AckStatus::Later => {
                    debug!(peer = %peer_id, seq = ack.seq, "frame deferred by the peer");
                    self.unsent.push(frame);
                    self.deferred = true;
                }
                AckStatus::OverQuota => {
                    debug!(peer = %peer_id, seq = ack.seq, "peer's inbox quota for us is full");
                    self.unsent.push(frame);
                    self.deferred = true;
                    self.over_quota = true;
                }
                // The peer cannot open it (a rotated-out prekey, a lost session): sent
                // again on a new session (`refused_again`).
                AckStatus::Refused(RefuseReason::Malformed | RefuseReason::NoSession) => {
                    self.refused.push(frame.seq());
                }
                AckStatus::Refused(reason) => {
                    warn!(peer = %peer_id, seq = ack.seq, ?reason, "frame refused by the peer");
                    self.acked.push(frame);
                }
                AckStatus::Accepted | AckStatus::Duplicate => self.acked.push(frame),
            }
        }
    }

    fn ended(&self) -> Ended {
        if let Some(kept) = self.unforgotten {
            let from = self.first_unsent().map_or(kept, |u| u.min(kept));
            Ended::Unforgotten { from }
        } else if self.failed {
            Ended::Failed
        } else if self.deferred {
            Ended::Deferred {
                first: self.first_unsent(),
                over_quota: self.over_quota,
            }
        } else {
            Ended::Answered
        }
    }
}

/// Packs frames into as few requests as fit (one stream and one round trip for the lot
/// instead of one per frame), advancing `cursor` past each.
fn batches(frames: Vec<Frame>, cursor: &mut u64) -> Vec<Vec<Frame>> {
    let mut out: Vec<Vec<Frame>> = Vec::new();
    for f in frames {
        *cursor = f.seq().saturating_add(1);
        match out.last_mut() {
            Some(b) if talos_net::batch_fits(b, &f) => b.push(f),
            _ => out.push(vec![f]),
        }
    }
    out
}

/// An audit write of acknowledged frames in the background; it returns the first seq it
/// could not forget.
pub(super) struct Forgetting {
    handle: tokio::task::JoinHandle<Option<u64>>,
    /// The highest seq it (or an earlier write it waits for) covers.
    pub(super) upto: u64,
}

impl Forgetting {
    pub(super) fn new(handle: tokio::task::JoinHandle<Option<u64>>, upto: u64) -> Self {
        Self { handle, upto }
    }

    pub(super) fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// Takes `h`'s outcome if it has ended (the first seq left unforgotten, if any); leaves
/// it in place otherwise.
async fn reap(h: &mut Option<Forgetting>) -> Option<u64> {
    if !h.as_ref().is_some_and(Forgetting::is_finished) {
        return None;
    }
    outcome(h.take()?).await
}

/// Waits for `h`: the first seq it left unforgotten, if any.
pub(super) async fn outcome(h: Forgetting) -> Option<u64> {
    // A task that panicked or was cancelled may have forgotten nothing: the outbox is
    // read again from its start (the peer answers `Duplicate` to what it already has).
    h.handle.await.unwrap_or(Some(0))
}

impl Sender {
    /// Offers `peer` its pending frames until the outbox is empty or a send fails. Up to
    /// `window` frames are in flight at once, refilled as acks come back; acknowledged
    /// frames are audited and then forgotten in the background, one batch at a time.
    pub(super) async fn flush(&mut self, peer: Ed25519Public) {
        self.flushes.inc();
        let Ok(peer_id) = peer_id_of(&peer) else {
            self.due.remove(&peer);
            return;
        };
        let Some((mut x, mut forgetting, carry_due)) = self.begin(peer).await else {
            return;
        };
        self.exchange(peer, peer_id, &mut x, &mut forgetting).await;
        self.fresh.prune(&peer, x.cursor);
        if !x.refused.is_empty() {
            // Refused frames re-queue the messages of every outbox frame after them: the
            // acknowledged ones must be gone first, or their messages would go twice.
            if let Some(h) = forgetting.take() {
                self.forgetting.insert(peer, h);
            }
            if let Some(kept) = self.forget_all(peer, std::mem::take(&mut x.acked)).await {
                x.keep_unforgotten(kept);
            }
        }
        self.refused_again(peer, std::mem::take(&mut x.refused))
            .await;
        // The last batch's audit write is not waited for: the next message's frame must
        // not queue behind it (a latency of one fsync). Its outcome is taken at the next
        // flush of this peer, which the periodic rescan starts if the frames stay.
        if let Some(kept) = reap(&mut forgetting).await {
            x.keep_unforgotten(kept);
        }
        if let Some(h) = forgetting {
            self.keep_forgetting(peer, h).await;
        }
        // What was acknowledged since the last full window waits to be forgotten with
        // later frames (`FORGET_AFTER`).
        let due = carry_due.unwrap_or_else(|| Instant::now() + FORGET_AFTER);
        self.carry(peer, std::mem::take(&mut x.acked), due).await;
        self.settle(peer, &x).await;
    }

    /// A flush's start: the peer's cursor, its carried frames and its running audit
    /// write. `None` when an earlier audit write failed (the cursor moved back and the
    /// peer backs off).
    async fn begin(
        &mut self,
        peer: Ed25519Public,
    ) -> Option<(Exchange, Option<Forgetting>, Option<Instant>)> {
        let cursor = self.cursors.get(&peer).copied().unwrap_or(0);
        // Acknowledged frames stay in the outbox until forgotten: a cursor that went back
        // below them (a deferral, a failure) would offer them again and audit them twice,
        // so they are forgotten first, and waited for. On the usual path the cursor is
        // past them and nothing waits.
        if self.unforgotten_upto(&peer).is_some_and(|u| u >= cursor)
            && let Some(kept) = self.forget_all(peer, Vec::new()).await
        {
            self.cursors.insert(peer, kept.min(cursor));
            self.back_off(peer);
            return None;
        }
        let carried = self.carried.remove(&peer);
        let mut x = Exchange {
            cursor,
            ..Exchange::default()
        };
        // Acknowledged frames still waiting to be forgotten join this flush's.
        let carry_due = carried.as_ref().map(|c| c.due);
        if let Some(c) = carried {
            x.acked = c.frames;
        }
        // The previous flush's last audit write may still be running: it is awaited
        // before this flush hands over its own (one at a time, in order), or now if it
        // has already ended, so a failure moves the cursor back before anything is read.
        let mut forgetting = self.forgetting.remove(&peer);
        if let Some(kept) = reap(&mut forgetting).await {
            self.cursors.insert(peer, kept.min(x.cursor));
            let due = carry_due.unwrap_or_else(|| Instant::now() + FORGET_AFTER);
            self.carry(peer, std::mem::take(&mut x.acked), due).await;
            self.back_off(peer);
            return None;
        }
        Some((x, forgetting, carry_due))
    }

    async fn exchange(
        &mut self,
        peer: Ed25519Public,
        peer_id: PeerId,
        x: &mut Exchange,
        forgetting: &mut Option<Forgetting>,
    ) {
        let mut inflight = FuturesUnordered::new();
        loop {
            if x.wants_more(self.window) {
                let want = self.window - x.in_frames;
                let frames = if x.exhausted {
                    // Messages stored while this flush runs keep the stream going
                    // without ending the exchange: a flush that stopped at the outbox's
                    // end waited for every ack and then for its own audit write before
                    // the next flush could send, which left both nodes idle about a
                    // quarter of the time under a steady stream.
                    self.fresh.take(&peer, x.cursor, want).unwrap_or_default()
                } else {
                    let frames = self.read_outbox(peer, x.cursor, want).await;
                    let frames = frames.unwrap_or_else(|()| {
                        x.failed = true;
                        Vec::new()
                    });
                    x.exhausted = frames.len() < want;
                    frames
                };
                x.offered += frames.len();
                for batch in batches(frames, &mut x.cursor) {
                    x.in_frames += batch.len();
                    let client = self.client.clone();
                    inflight.push(async move {
                        let r = client.send_batch(peer_id, batch.clone()).await;
                        (batch, r)
                    });
                }
            }
            let Some((frames, r)) = inflight.next().await else {
                break;
            };
            x.in_frames = x.in_frames.saturating_sub(frames.len());
            match r {
                Ok(acks) => x.answered(&peer_id, frames, acks),
                Err(e) => {
                    debug!(peer = %peer_id, %e, "send failed; will retry");
                    x.unsent.extend(frames);
                    x.failed = true;
                }
            }
            if x.acked.len() >= self.window {
                // One batch being forgotten at a time: wait for the previous one (which
                // also holds back a sender whose audit writes fall behind its acks).
                if let Some(h) = forgetting.take()
                    && let Some(kept) = outcome(h).await
                {
                    x.keep_unforgotten(kept);
                }
                *forgetting = Some(self.forget(peer, std::mem::take(&mut x.acked), None));
            }
        }
    }

    /// Up to `want` frames from `cursor` on: the ones the send path just stored, else
    /// the outbox. `Err` when the outbox cannot be read.
    async fn read_outbox(
        &mut self,
        peer: Ed25519Public,
        cursor: u64,
        want: usize,
    ) -> Result<Vec<Frame>, ()> {
        if let Some(frames) = self.fresh.take(&peer, cursor, want) {
            return Ok(frames);
        }
        let m = self.mailroom.clone();
        match tokio::task::spawn_blocking(move || m.pending_from(&peer, cursor, want)).await {
            Ok(Ok(f)) => Ok(f),
            Ok(Err(e)) => {
                warn!(%e, "outbox unreadable");
                Err(())
            }
            Err(_) => Err(()),
        }
    }

    /// Applies how a flush ended: the peer's cursor, its backoff, and what else to try.
    async fn settle(&mut self, peer: Ed25519Public, x: &Exchange) {
        match x.ended() {
            Ended::Unforgotten { from } => {
                self.cursors.insert(peer, from);
                self.back_off(peer);
            }
            Ended::Deferred { first, over_quota } => {
                if let Some(first) = first {
                    self.cursors.insert(peer, first.min(x.cursor));
                }
                self.defer(peer, over_quota);
            }
            Ended::Answered => self.answered(peer, x.cursor).await,
            Ended::Failed => {
                // Failed frames (and anything after them) are offered again from the first.
                match x.first_unsent() {
                    Some(first) => self.cursors.insert(peer, first.min(x.cursor)),
                    None => self.cursors.remove(&peer),
                };
                self.send_failed(peer, &x.unsent).await;
            }
        }
    }

    /// The peer is alive but deferred frames: try again soon, or back off if it is full.
    fn defer(&mut self, peer: Ed25519Public, over_quota: bool) {
        let retry_min = self.retry_min;
        let d = self.due.entry(peer).or_insert(Due {
            at: Instant::now(),
            delay: retry_min,
            failures: 0,
        });
        if over_quota {
            // Alive but full: back off (not a failure, so no mailbox deposit; the delay
            // resets once the peer takes frames again).
            d.at = Instant::now() + d.delay;
            d.delay = (d.delay * 2).min(self.retry_max);
        } else {
            d.at = Instant::now() + retry_min;
        }
    }

    /// The peer took everything: forget its backoff; done if nothing new was queued.
    async fn answered(&mut self, peer: Ed25519Public, cursor: u64) {
        if let Some(d) = self.due.get_mut(&peer) {
            d.failures = 0;
            d.delay = self.retry_min;
            d.at = Instant::now();
        }
        // Everything below the cursor is acknowledged (forgotten, carried, or being
        // forgotten).
        if self.cursors.len() >= self.max_peers && !self.cursors.contains_key(&peer) {
            self.cursors.clear();
        }
        self.cursors.insert(peer, cursor);
        // Nothing queued is known in memory on the usual path (a blocking-pool hop and
        // an outbox read per message otherwise); a frame stored after this look wakes
        // the sender anyway. Only that answer is trusted: the mark stays high after a
        // deposit took frames away or a failed write, and a peer kept due on it alone
        // would be flushed again at once, for ever.
        let more = match self.mailroom.outbox_may_hold(&peer, cursor) {
            Some(false) => false,
            Some(true) | None => {
                let m = self.mailroom.clone();
                let read = tokio::task::spawn_blocking(move || m.pending_from(&peer, cursor, 1));
                !matches!(read.await, Ok(Ok(f)) if f.is_empty())
            }
        };
        if !more {
            self.due.remove(&peer);
        }
    }

    /// A send failed: refresh the peer's directory record in the background (it may have
    /// moved), then hand what failed to its mailbox after enough failures, else back off.
    async fn send_failed(&mut self, peer: Ed25519Public, unsent: &[Frame]) {
        let (client, cache, max) = (self.client.clone(), self.mailboxes.clone(), self.max_peers);
        tokio::spawn(async move {
            let lookup = crate::node::directory::lookup(&client, &peer);
            match tokio::time::timeout(Duration::from_secs(5), lookup).await {
                Ok(Ok(record)) => {
                    if let Ok(mut c) = cache.lock() {
                        if c.len() >= max {
                            c.clear();
                        }
                        c.insert(peer, record.mailboxes);
                    }
                }
                Ok(Err(e)) => debug!(%e, "directory lookup after a failed send"),
                Err(_) => {}
            }
        });
        let failures = self
            .due
            .get(&peer)
            .map_or(0, |d| d.failures)
            .saturating_add(1);
        if failures >= self.deposit_after {
            // A deposit audits its frames at once: the acknowledged ones before them go
            // first, so one peer's events stay in stream order.
            if let Some(kept) = self.forget_all(peer, Vec::new()).await {
                self.unforgotten(peer, kept);
                return;
            }
            if self.deposit(peer, unsent).await {
                // The mailbox took custody of what failed; the run loop comes back at
                // once for whatever else is queued (and finds the peer still down).
                if let Some(d) = self.due.get_mut(&peer) {
                    d.at = Instant::now();
                    d.failures = failures;
                }
                return;
            }
        }
        self.back_off(peer);
    }
}
