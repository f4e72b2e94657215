//! The node's audit trail of its conversations: every frame sent and accepted and every
//! session opened becomes a signed event in the node's audit log (digests, lengths and
//! DIDs only; never content). One writer task assigns sequence numbers (each event's
//! `seq` is its leaf index), signs, and appends whole groups with one durable write.
//!
//! Ordering with delivery: a frame that arrives is acknowledged only once it and the
//! event it needs are durable (`receipts.rs`); a sent frame is audited when its
//! peer (or the peer's mailbox) acknowledges it, before the outbox forgets it. So no
//! acknowledged frame lacks its event, and a crash in between only means a resent frame
//! is audited twice (the digest shows it).
//!
//! Refusals go another way: a refusal acknowledges nothing, and anyone can provoke one,
//! so they are queued without waiting (`Auditor::refusal`) in a bounded queue, and shed
//! when it is full (counted in `talos_audit_dropped_refusals_total`). Events that
//! describe something accepted or allowed (frames, sessions, calls) are never shed:
//! their callers wait for them to be durable. Refusals from peers that have no session
//! with this node, and duplicates whose events are durable already, are not audited at
//! all, only counted (`talos_frames_refused_total{peer="unauthenticated"}`,
//! `talos_frames_duplicate_total`).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use talos_audit::event::{AuditEvent, EventKind, SignedEvent};
use talos_capability::budget::Ledger;
use talos_identity::keys::IdentityKey;
use talos_primitives::{Did, Ed25519Public, Hash32};
use talos_store::{AuditLog, Writes};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// Event groups waiting for the writer.
const QUEUE: usize = 1024;
/// Refusal events waiting for the writer; past it they are shed.
const REFUSALS: usize = 1024;

struct Request {
    events: Vec<EventKind>,
    /// Writes of the node's store that go in the same batch as the events (the outbox
    /// entries of frames audited as sent).
    writes: Writes,
    /// A call's budget spend: its events and counters are added by the writer, in the
    /// same write (`budgets.rs`).
    spend: Option<talos_capability::budget::Spend>,
    /// Told once the events are durable; none for a refusal (nobody waits for it).
    done: Option<oneshot::Sender<bool>>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub(crate) struct Auditor {
    tx: mpsc::Sender<Request>,
    refusals: mpsc::Sender<Request>,
    dropped: prometheus_client::metrics::counter::Counter,
    /// For appends made on the caller's thread (`append_now`).
    log: Arc<AuditLog>,
    identity: IdentityKey,
}

/// Signs `kinds` as events `first`, `first + 1`, …: the log calls this while it holds
/// its queue, so each event's `seq` is its leaf index whoever appends.
fn sign_leaves(
    identity: &IdentityKey,
    first: u64,
    kinds: Vec<EventKind>,
) -> Result<Vec<Vec<u8>>, crate::error::NodeError> {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let agent = identity.did();
    let mut leaves = Vec::with_capacity(kinds.len());
    for (seq, event) in (first..).zip(kinds) {
        let body = AuditEvent {
            agent,
            seq,
            ts,
            event,
        };
        leaves.push(SignedEvent::sign(identity, body)?.to_leaf()?);
    }
    Ok(leaves)
}

/// The conversation id recorded with frame events: SHA-256 over both identity keys in
/// byte order, so both ends name the conversation alike.
pub(crate) fn session_id(a: &Ed25519Public, b: &Ed25519Public) -> Hash32 {
    let (lo, hi) = if a.as_bytes() <= b.as_bytes() {
        (a, b)
    } else {
        (b, a)
    };
    let mut h = Sha256::new();
    h.update(b"talos/session-id/v1");
    h.update(lo.as_bytes());
    h.update(hi.as_bytes());
    Hash32(h.finalize().into())
}

/// The DID of a peer key.
pub(crate) fn did(key: &Ed25519Public) -> Did {
    Did::Key(*key)
}

impl Auditor {
    /// Starts the writer over `log`; `dropped` counts the refusal events shed.
    pub(crate) fn start(
        identity: IdentityKey,
        log: Arc<AuditLog>,
        dropped: prometheus_client::metrics::counter::Counter,
        budgets: Ledger,
    ) -> (Auditor, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (refusals, refusals_rx) = mpsc::channel(REFUSALS);
        let auditor = Auditor {
            tx,
            refusals,
            dropped,
            log: log.clone(),
            identity: identity.clone(),
        };
        let task = tokio::spawn(writer(identity, log, rx, refusals_rx, budgets));
        (auditor, task)
    }

    /// Queues a refusal's event without waiting; sheds it (and counts it) when the queue
    /// is full. A refusal acknowledges nothing, so a lost one leaves no frame or call
    /// without its event: what it costs is the record of an attempt.
    pub(crate) fn refusal(&self, event: EventKind) {
        let request = Request {
            events: vec![event],
            writes: Writes::default(),
            spend: None,
            done: None,
        };
        if self.refusals.try_send(request).is_err() {
            self.dropped.inc();
        }
    }

    /// Queues `events` behind everything queued so far, never shed, without waiting for
    /// them to be durable (waits only while the queue is full): for records that follow
    /// one already durable, such as a call's outcome after its `capability_used`.
    pub(crate) async fn record_later(&self, events: Vec<EventKind>) {
        if events.is_empty() {
            return;
        }
        let request = Request {
            events,
            writes: Writes::default(),
            spend: None,
            done: None,
        };
        let _ = self.tx.send(request).await;
    }

    /// Appends `events`; returns once they are durable (false if the log failed: the
    /// caller then must not acknowledge what the events describe).
    pub(crate) async fn record(&self, events: Vec<EventKind>) -> bool {
        self.record_spend(events, None).await
    }

    /// [`Auditor::record`], with a call's budget spend: its `budget_spent` events follow
    /// `events`, and the counters are written in the same synced batch.
    pub(crate) async fn record_spend(
        &self,
        events: Vec<EventKind>,
        spend: Option<talos_capability::budget::Spend>,
    ) -> bool {
        self.request(events, Writes::default(), spend).await
    }

    /// [`Auditor::record`], with `writes` to the node's store in the same synced batch
    /// as the events (and nothing of either written if the log fails).
    pub(crate) async fn record_with(&self, events: Vec<EventKind>, writes: Writes) -> bool {
        self.request(events, writes, None).await
    }

    /// Appends `events` with `writes` on this thread (a blocking one), in one synced
    /// batch, bypassing the writer's queue: for the receive path, which holds the
    /// mailroom's lock until its state and the events are durable together.
    pub(crate) fn append_now(
        &self,
        events: Vec<EventKind>,
        writes: Writes,
    ) -> Result<(), crate::error::NodeError> {
        let identity = &self.identity;
        self.log.append_built(
            events.len(),
            |first| sign_leaves(identity, first, events),
            writes,
        )?;
        Ok(())
    }

    /// Appends `event` on this thread (a blocking one), bypassing the writer's queue, in
    /// one synced batch with the writes `writes` makes from the index the event gets;
    /// returns that index once both are durable (the aggregator's record of where it
    /// logged a checkpoint).
    pub(crate) fn append_indexed(
        &self,
        event: EventKind,
        writes: impl FnOnce(u64) -> Result<Writes, crate::error::NodeError>,
    ) -> Result<u64, crate::error::NodeError> {
        let identity = &self.identity;
        let range = self.log.append_built_with(1, |first| {
            Ok::<_, crate::error::NodeError>((
                sign_leaves(identity, first, vec![event])?,
                writes(first)?,
            ))
        })?;
        Ok(range.start)
    }

    async fn request(
        &self,
        events: Vec<EventKind>,
        writes: Writes,
        spend: Option<talos_capability::budget::Spend>,
    ) -> bool {
        if events.is_empty() && writes.is_empty() {
            return true;
        }
        if events.is_empty() {
            // Nothing to sign: the writes alone, synced.
            let log = self.log.clone();
            return matches!(
                tokio::task::spawn_blocking(move || log.store().write_all(writes, true)).await,
                Ok(Ok(()))
            );
        }
        let (done, wait) = oneshot::channel();
        let request = Request {
            events,
            writes,
            spend,
            done: Some(done),
        };
        if self.tx.send(request).await.is_err() {
            return false;
        }
        wait.await.unwrap_or(false)
    }
}

/// The next group of requests: whatever is queued, waited-for events first, then
/// refusals to fill the group (so a refusal flood cannot starve them).
async fn next_group(
    rx: &mut mpsc::Receiver<Request>,
    refusals: &mut mpsc::Receiver<Request>,
) -> Option<Vec<Request>> {
    let first = tokio::select! {
        biased;
        r = rx.recv() => r?,
        r = refusals.recv() => r?,
    };
    let mut group = super::commit::gather(first, rx);
    while group.len() < super::commit::MAX_GROUP {
        match refusals.try_recv() {
            Ok(r) => group.push(r),
            Err(_) => break,
        }
    }
    Some(group)
}

/// Drops expired links' counters from the writer's ledger (in memory, a scan of at most
/// 65,536), then their side records from the disk off the async runtime.
async fn sweep_budgets(budgets: &mut Ledger, log: &Arc<AuditLog>) {
    let dead = super::budgets::expire(budgets, super::sidecar::now_ms() / 1000);
    if dead.is_empty() {
        return;
    }
    let (n, log) = (dead.len(), log.clone());
    match tokio::task::spawn_blocking(move || log.delete_side_records(&dead)).await {
        Ok(Ok(())) => debug!(n, "expired budget counters deleted"),
        Ok(Err(e)) => warn!(%e, "expired budget counters not deleted"),
        Err(e) => warn!(%e, "budget sweep failed"),
    }
}

/// The group's events, each request's budget spend (its `budget_spent` events and the
/// counters' side records, `budgets.rs`) counted into `ledger` behind its own events.
fn take_events(
    group: &mut [Request],
    ledger: &mut Ledger,
    side: &mut talos_store::SideRecords,
    writes: &mut Writes,
) -> Vec<Vec<EventKind>> {
    group
        .iter_mut()
        .map(|r| {
            writes.extend(std::mem::take(&mut r.writes));
            let mut events = std::mem::take(&mut r.events);
            if let Some(spend) = r.spend.take() {
                super::budgets::record(ledger, &spend, &mut events, side);
            }
            events
        })
        .collect()
}

async fn writer(
    identity: IdentityKey,
    log: Arc<AuditLog>,
    mut rx: mpsc::Receiver<Request>,
    mut refusals: mpsc::Receiver<Request>,
    budgets: Ledger,
) {
    // The durable budget counters: only this task counts into them, in log order.
    let mut budgets = budgets;
    let mut swept: Option<std::time::Instant> = None;
    while let Some(mut group) = next_group(&mut rx, &mut refusals).await {
        // Expired links' counters go at the first group and then at most once a minute,
        // between groups (every earlier append is durable by now, so none brings a
        // deleted record back). With no calls nothing grows, so waiting for a group is
        // enough. The gate sweeps two minutes later than this (`sidecar::serve`), so a
        // counter's room is free here before the gate can give it to a new counter.
        if swept.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60)) {
            swept = Some(std::time::Instant::now());
            sweep_budgets(&mut budgets, &log).await;
        }
        let (log2, id) = (log.clone(), identity.clone());
        let (mut side, mut writes) = (talos_store::SideRecords::new(), Writes::default());
        let kinds = take_events(&mut group, &mut budgets, &mut side, &mut writes);
        for (k, v) in side {
            writes.put(
                talos_store::db::CF_META,
                &[talos_store::SIDE_PREFIX, &k].concat(),
                v,
            );
        }
        let ok = tokio::task::spawn_blocking(move || {
            let kinds: Vec<EventKind> = kinds.into_iter().flatten().collect();
            if kinds.is_empty() {
                return Err(crate::error::NodeError::AuditFailing);
            }
            log2.append_built(kinds.len(), |first| sign_leaves(&id, first, kinds), writes)?;
            Ok::<_, crate::error::NodeError>(())
        })
        .await;
        let ok = match ok {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                warn!(%e, "audit append failed");
                false
            }
            Err(e) => {
                warn!(%e, "audit task failed");
                false
            }
        };
        for r in group {
            if let Some(done) = r.done {
                let _ = done.send(ok);
            }
        }
    }
}

impl super::Node {
    /// This node's audit log (read-only use: proofs and checkpoints).
    pub fn audit_log(&self) -> &Arc<talos_store::AuditLog> {
        &self.audit_log
    }

    /// The audit trail's writer.
    pub(crate) fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// The node's store.
    pub(crate) fn store(&self) -> &Arc<talos_store::Store> {
        &self.store
    }

    /// A signed checkpoint of the audit log's head: (note, verifier key).
    pub fn checkpoint(&self) -> Result<(String, String), crate::records::RecordError> {
        crate::records::checkpoint(&self.audit_log, &self.identity)
    }

    /// Audits a capability this agent issued (`parent`: None) or delegated.
    pub async fn record_issued(
        &self,
        token: &talos_capability::Token,
        parent: Option<talos_primitives::Commitment>,
    ) -> Result<(), crate::error::NodeError> {
        let c = token.claims();
        let event = match parent {
            None => talos_audit::event::EventKind::CapabilityIssued {
                id: c.jti,
                commitment: token.commitment(),
                holder: c.aud,
            },
            Some(parent) => talos_audit::event::EventKind::CapabilityDelegated {
                id: c.jti,
                commitment: token.commitment(),
                parent,
                holder: c.aud,
            },
        };
        if self.auditor.record(vec![event]).await {
            Ok(())
        } else {
            // The capability was not recorded, so it is not handed out.
            Err(crate::error::NodeError::AuditFailing)
        }
    }
}
