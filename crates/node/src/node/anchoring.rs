//! Anchoring on a schedule: every `anchor_every` the node publishes its audit log's head
//! (`publish.rs`) and anchors that checkpoint's head on the configured chain (registering its DID on first use) and records the
//! confirmation as an audit event. A head that has not grown since the last anchor
//! (apart from that event itself) is not anchored again. The backend is opened on first
//! use, so a node that never anchors never opens a chain. Pending anchors survive a
//! restart in the backend (the embedded chain writes each block synced; the EVM backend
//! persists signed transactions until confirmed).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use talos_anchor::{Anchor, Inclusion};
use talos_audit::event::EventKind;
use talos_identity::IdentityKey;
use talos_primitives::{Did, TreeHead};
use talos_store::AuditLog;
use tokio::sync::{Mutex, OnceCell};
use tracing::{info, warn};

use super::audit::Auditor;
use crate::anchor_target::OpenError;
use crate::error::NodeError;
use crate::records;

/// Opens the chain backend (called once, on first use).
pub type Opener =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Box<dyn Anchor>, OpenError>> + Send + Sync>;

/// A head anchored.
#[derive(Debug, Clone, Copy)]
pub struct Anchored {
    /// The agent's DID (the log's owner on chain).
    pub did: Did,
    /// What was anchored.
    pub head: TreeHead,
    /// Where.
    pub at: Inclusion,
}

pub(crate) struct Anchoring {
    opener: Opener,
    backend: OnceCell<Arc<dyn Anchor>>,
    /// Serializes anchoring; the log size just after our last confirmation event.
    last: Mutex<Option<u64>>,
    log: Arc<AuditLog>,
    key: IdentityKey,
    auditor: Auditor,
    metrics: Arc<super::metrics::Metrics>,
    store: Arc<talos_store::Store>,
    publisher: Arc<super::publish::Publisher>,
}

impl Anchoring {
    pub(crate) fn new(
        opener: Opener,
        log: Arc<AuditLog>,
        key: IdentityKey,
        auditor: Auditor,
        metrics: Arc<super::metrics::Metrics>,
        store: Arc<talos_store::Store>,
        publisher: Arc<super::publish::Publisher>,
    ) -> Self {
        Anchoring {
            publisher,
            metrics,
            store,
            opener,
            backend: OnceCell::new(),
            last: Mutex::new(None),
            log,
            key,
            auditor,
        }
    }

    pub(crate) async fn backend(&self) -> Result<&Arc<dyn Anchor>, NodeError> {
        self.backend
            .get_or_try_init(|| async { Ok(Arc::from((self.opener)().await?)) })
            .await
    }

    /// Anchors the head if it grew since the last anchor; `None` if there was nothing
    /// new.
    pub(crate) async fn anchor(&self) -> Result<Option<Anchored>, NodeError> {
        let mut last = self.last.lock().await;
        let head = self.log.head();
        if head.size == 0 || *last == Some(head.size) {
            return Ok(None);
        }
        let backend = self.backend().await?;
        self.revocations_to_chain(&**backend).await?;
        // What is anchored is what is published: the public `/checkpoint` and the chain
        // name the same head.
        let head = match self.publisher.publish().await? {
            Some(p) => p.head,
            None => return Ok(None),
        };
        let (did, at) = records::anchor_head(&**backend, &self.key, head).await?;
        let event = EventKind::AnchorConfirmed {
            size: head.size,
            root: head.root,
            tx: at.tx,
            block: at.block,
        };
        // What is now covered: the anchored head, plus its own confirmation event (events
        // appended meanwhile by others are not covered and make the next tick anchor).
        *last = if self.auditor.record(vec![event]).await {
            Some(head.size.saturating_add(1))
        } else {
            warn!("audit log failing: anchor confirmation not recorded");
            Some(head.size)
        };
        self.metrics.anchors.inc();
        info!(size = head.size, block = at.block, "audit head anchored");
        Ok(Some(Anchored { did, head, at }))
    }

    /// Writes this agent's revocations that are not on the chain yet, in batches, and
    /// clears their marks once each batch is confirmed.
    async fn revocations_to_chain(&self, backend: &dyn Anchor) -> Result<(), NodeError> {
        use super::revocations::{CHAIN_BATCH, clear_pending, pending};
        loop {
            let store = self.store.clone();
            let ids = tokio::task::spawn_blocking(move || pending(&store, CHAIN_BATCH)).await??;
            if ids.is_empty() {
                return Ok(());
            }
            let did = records::ensure_did(backend, &self.key).await?;
            let at = backend.revoke(&did, &ids).await?;
            info!(
                n = ids.len(),
                block = at.block,
                "revocations written to the chain"
            );
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || clear_pending(&store, &ids)).await??;
        }
    }

    /// The latest head anchored for this agent, as the chain says.
    pub(crate) async fn latest(&self) -> Result<Option<TreeHead>, NodeError> {
        Ok(self.backend().await?.latest_root(&self.key.did()).await?)
    }
}

/// Anchors every `every` until the node stops.
pub(crate) async fn schedule(anchoring: Arc<Anchoring>, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if let Err(e) = anchoring.anchor().await {
            // The chain may be down; the next tick tries again (nothing is lost: the
            // log keeps growing and the next anchor covers it).
            warn!("anchoring failed: {e:#}");
        }
    }
}

impl super::Node {
    /// Anchors the audit log's head through the backend `opener` opens (on first use),
    /// every `every` if given, and on [`Node::anchor_now`].
    pub fn start_anchoring(&mut self, opener: Opener, every: Option<Duration>) {
        let a = Arc::new(Anchoring::new(
            opener,
            self.audit_log.clone(),
            self.identity.clone(),
            self.auditor.clone(),
            self.metrics.clone(),
            self.store.clone(),
            self.publisher.clone(),
        ));
        if let Some(every) = every {
            self.tasks.push(tokio::spawn(schedule(a.clone(), every)));
        }
        self.tasks
            .push(tokio::spawn(super::revocations::follow_chain(
                a.clone(),
                self.sidecar.clone(),
            )));
        self.anchoring = Some(a);
    }

    fn anchoring(&self) -> Result<&Anchoring, NodeError> {
        self.anchoring.as_deref().ok_or(NodeError::NoChain)
    }

    /// Anchors the audit log's head now, if it grew since the last anchor.
    pub async fn anchor_now(&self) -> Result<Option<Anchored>, NodeError> {
        self.anchoring()?.anchor().await
    }

    /// The latest head anchored for this agent, as the chain says.
    pub async fn anchored(&self) -> Result<Option<TreeHead>, NodeError> {
        self.anchoring()?.latest().await
    }

    /// The chain backend anchoring uses (opened now if it was not yet): for reads, such
    /// as an auditor's check of a proof against the anchored root.
    pub async fn anchor_backend(&self) -> Result<Arc<dyn Anchor>, NodeError> {
        Ok(self.anchoring()?.backend().await?.clone())
    }

    /// Registers this agent's DID on the anchoring chain (with the hash of its did:key
    /// document) if it is not yet; returns the chain's record.
    pub async fn publish_did(&self) -> Result<talos_anchor::ChainDid, NodeError> {
        let backend = self.anchor_backend().await?;
        let did = records::ensure_did(&*backend, &self.identity).await?;
        backend
            .resolve_did(&did)
            .await?
            .ok_or_else(|| NodeError::Anchor("the DID was registered but does not resolve".into()))
    }

    /// The chain's record of `did`, if registered.
    pub async fn resolve_did(
        &self,
        did: &Did,
    ) -> Result<Option<talos_anchor::ChainDid>, NodeError> {
        Ok(self.anchor_backend().await?.resolve_did(did).await?)
    }
}
