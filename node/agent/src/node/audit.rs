//! The node's audit trail of its conversations: every frame sent and received and every
//! session opened becomes a signed event in the node's audit log (digests, lengths and
//! DIDs only; never content). One writer task assigns sequence numbers (each event's
//! `seq` is its leaf index), signs, and appends whole groups with one durable write.
//!
//! Ordering with delivery: every frame that arrives is audited, and acknowledged only
//! once its event and the frame itself are durable; a sent frame is audited when its
//! peer (or the peer's mailbox) acknowledges it, before the outbox forgets it. So no
//! acknowledged frame lacks its event, and a crash in between only means a resent frame
//! is audited twice (the digest shows it).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use talos_audit::event::{AuditEvent, EventKind, SignedEvent};
use talos_identity::keys::IdentityKey;
use talos_primitives::{Did, Ed25519Public, Hash32};
use talos_store::AuditLog;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// Event groups waiting for the writer.
const QUEUE: usize = 1024;

struct Request {
    events: Vec<EventKind>,
    done: oneshot::Sender<bool>,
}

/// A handle to the writer task.
#[derive(Clone)]
pub(crate) struct Auditor {
    tx: mpsc::Sender<Request>,
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
    /// Starts the writer over `log`.
    pub(crate) fn start(
        identity: IdentityKey,
        log: Arc<AuditLog>,
    ) -> (Auditor, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Auditor { tx }, tokio::spawn(writer(identity, log, rx)))
    }

    /// Appends `events`; returns once they are durable (false if the log failed: the
    /// caller then must not acknowledge what the events describe).
    pub(crate) async fn record(&self, events: Vec<EventKind>) -> bool {
        if events.is_empty() {
            return true;
        }
        let (done, wait) = oneshot::channel();
        if self.tx.send(Request { events, done }).await.is_err() {
            return false;
        }
        wait.await.unwrap_or(false)
    }
}

async fn writer(identity: IdentityKey, log: Arc<AuditLog>, mut rx: mpsc::Receiver<Request>) {
    let agent = identity.did();
    while let Some(first) = rx.recv().await {
        let mut group = super::commit::gather(first, &mut rx);
        let (log2, id, agent2) = (log.clone(), identity.clone(), agent);
        let kinds: Vec<Vec<EventKind>> = group
            .iter_mut()
            .map(|r| std::mem::take(&mut r.events))
            .collect();
        let ok = tokio::task::spawn_blocking(move || {
            let ts = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0);
            let mut leaves = Vec::new();
            // The single writer owns the next index, so seq == leaf index.
            for (seq, event) in (log2.size()..).zip(kinds.into_iter().flatten()) {
                let body = AuditEvent {
                    agent: agent2,
                    seq,
                    ts,
                    event,
                };
                leaves.push(SignedEvent::sign(&id, body)?.to_leaf()?);
            }
            log2.append_many(leaves)?;
            Ok::<_, anyhow::Error>(())
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
            let _ = r.done.send(ok);
        }
    }
}
