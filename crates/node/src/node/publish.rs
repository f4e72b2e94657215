//! Publishing checkpoints: the signed note of a head that the node stands behind in
//! public. The anchoring schedule publishes before it anchors (so `/checkpoint` on the
//! public read API is the note whose root is on the chain); a node with a public log and
//! no chain publishes on its own schedule. The published note is kept durably in the
//! audit log's database, never goes back in size, and is what the public tiles are cut
//! at (nothing past it is served).
//!
//! With witnesses configured, each new checkpoint is submitted to all of them (C2SP
//! `tlog-witness`) and published with the cosignatures that arrive within the timeout.
//! Fewer than the policy's quorum does not stop publication or anchoring (a log must
//! not stall because witnesses are down); the shortfall is audited as a
//! `witness_shortfall` event.

use std::sync::Arc;
use std::time::Duration;

use talos_audit::checkpoint::{self, Checkpoint};
use talos_identity::IdentityKey;
use talos_primitives::TreeHead;
use talos_store::AuditLog;
use tokio::sync::{Mutex, watch};
use tracing::warn;

use talos_transparency::witness::client::{WitnessPeer, Witnesses};

use super::audit::Auditor;
use crate::error::NodeError;

/// The witnesses a node submits its checkpoints to.
#[derive(Debug, Clone, Default)]
pub struct WitnessPolicy {
    /// The witnesses.
    pub peers: Vec<WitnessPeer>,
    /// Cosignatures wanted (0: all of them).
    pub quorum: usize,
    /// How long each witness has to answer (zero: 5 s).
    pub timeout: Duration,
}

/// A published checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The signed note (with any cosignatures).
    pub note: String,
    /// The head it signs.
    pub head: TreeHead,
}

pub(crate) struct Publisher {
    log: Arc<AuditLog>,
    key: IdentityKey,
    /// The latest publication; subscribers (the static copy) wake on each.
    latest: watch::Sender<Option<Published>>,
    /// Serializes publishing (signing, cosigning, storing).
    turn: Mutex<()>,
    witnesses: Option<(Witnesses, usize)>,
    auditor: Auditor,
}

impl Publisher {
    /// Loads the published note, if any; one that does not verify under this node's key
    /// or names a head the log does not have is refused (the store is corrupt).
    pub(crate) fn open(
        log: Arc<AuditLog>,
        key: IdentityKey,
        policy: &WitnessPolicy,
        auditor: Auditor,
    ) -> Result<Self, NodeError> {
        let latest = match log.published()? {
            None => None,
            Some(note) => {
                let verifier = checkpoint::talos_verifier(&key.did())
                    .ok_or_else(|| NodeError::Internal("the agent's DID carries no key".into()))?;
                let (cp, _) = Checkpoint::verify(&note, &verifier)
                    .map_err(|e| NodeError::Internal(format!("published checkpoint: {e}")))?;
                let ours = cp.head.size <= log.size() && log.root_at(cp.head.size)? == cp.head.root;
                if cp.origin != checkpoint::talos_origin(&key.did()) || !ours {
                    return Err(NodeError::Internal(
                        "the published checkpoint is not of this log".into(),
                    ));
                }
                Some(Published {
                    note,
                    head: cp.head,
                })
            }
        };
        let witnesses = if policy.peers.is_empty() {
            None
        } else {
            let timeout = if policy.timeout.is_zero() {
                Duration::from_secs(5)
            } else {
                policy.timeout
            };
            let w = Witnesses::new(policy.peers.clone(), timeout).map_err(NodeError::Internal)?;
            let quorum = match policy.quorum {
                0 => policy.peers.len(),
                q => q.min(policy.peers.len()),
            };
            Some((w, quorum))
        };
        Ok(Self {
            log,
            key,
            latest: watch::Sender::new(latest),
            turn: Mutex::new(()),
            witnesses,
            auditor,
        })
    }

    /// The latest published checkpoint.
    pub(crate) fn latest(&self) -> Option<Published> {
        self.latest.borrow().clone()
    }

    /// Publishes the log's head if it grew since the last publication; returns what is
    /// published now.
    pub(crate) async fn publish(&self) -> Result<Option<Published>, NodeError> {
        let _turn = self.turn.lock().await;
        let head = self.log.head();
        let last = self.latest();
        if head.size == 0 || last.as_ref().is_some_and(|p| p.head.size >= head.size) {
            return Ok(last);
        }
        let note = checkpoint::sign_talos(&self.key, head)
            .map_err(|e| NodeError::Internal(format!("signing a checkpoint: {e}")))?;
        let note = self.cosign(note, head).await.to_text();
        let (log, n) = (self.log.clone(), note.clone());
        tokio::task::spawn_blocking(move || log.set_published(&n)).await??;
        let p = Published { note, head };
        self.latest.send_replace(Some(p.clone()));
        Ok(Some(p))
    }
}

impl Publisher {
    /// The note with the cosignatures the witnesses gave; a shortfall is audited.
    async fn cosign(
        &self,
        note: talos_audit::note::Note,
        head: TreeHead,
    ) -> talos_audit::note::Note {
        let Some((witnesses, quorum)) = &self.witnesses else {
            return note;
        };
        let log = self.log.clone();
        let proof =
            move |old: u64, new: u64| log.consistency_proof(old, new).map_err(|e| e.to_string());
        let got = witnesses.collect(&note, &proof).await;
        if got.cosigned.len() < *quorum {
            for (name, why) in &got.failed {
                warn!(witness = %name, %why, "a witness did not cosign");
            }
            let event = talos_audit::event::EventKind::WitnessShortfall {
                size: head.size,
                got: u32::try_from(got.cosigned.len()).unwrap_or(u32::MAX),
                need: u32::try_from(*quorum).unwrap_or(u32::MAX),
                missing: got.failed.iter().map(|(n, _)| n.clone()).collect(),
            };
            self.auditor.record_later(vec![event]).await;
        }
        got.note
    }
}

/// Publishes every `every` until the node stops (for a node whose public log has no
/// anchoring schedule to publish for it).
pub(crate) async fn schedule(publisher: Arc<Publisher>, every: Duration) {
    // The first publication after one period, as anchoring's: the published checkpoint
    // (kept across restarts) is served meanwhile.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if let Err(e) = publisher.publish().await {
            warn!("publishing a checkpoint failed: {e:#}");
        }
    }
}

impl super::Node {
    /// The latest published checkpoint.
    pub fn published(&self) -> Option<Published> {
        self.publisher.latest()
    }

    /// Publishes the head now if it grew; returns what is published.
    pub async fn publish_now(&self) -> Result<Option<Published>, NodeError> {
        self.publisher.publish().await
    }

    /// Publishes every `every` (for a public log without an anchoring schedule).
    pub fn start_publishing(&mut self, every: Duration) {
        self.tasks
            .push(tokio::spawn(schedule(self.publisher.clone(), every)));
    }

    /// Writes each publication under `dir` as static files (`public_log::write_static`).
    pub fn start_static_log(&mut self, dir: std::path::PathBuf) {
        let mut rx = self.publisher.latest.subscribe();
        let log = self.audit_log.clone();
        self.tasks.push(tokio::spawn(async move {
            loop {
                let published = rx.borrow_and_update().clone();
                if let Some(p) = published {
                    let (log, dir) = (log.clone(), dir.clone());
                    let written = tokio::task::spawn_blocking(move || {
                        crate::public_log::write_static(&log, &p.note, p.head.size, &dir)
                    })
                    .await;
                    match written {
                        Ok(Ok(n)) => tracing::debug!(files = n, "static log written"),
                        Ok(Err(e)) => warn!("writing the static log failed: {e:#}"),
                        Err(e) => warn!("writing the static log failed: {e}"),
                    }
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        }));
    }
}
