//! The node's public records: anchoring its audit log's head, DIDs on the anchoring
//! chain, proofs and checkpoints of the log, the capabilities it issues, and metrics.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::{Anchored, Node, Opener, anchoring, revocations};

impl Node {
    /// Anchors the audit log's head through the backend `opener` opens (on first use),
    /// every `every` if given, and on [`Node::anchor_now`].
    pub fn start_anchoring(&mut self, opener: Opener, every: Option<Duration>) {
        let a = Arc::new(anchoring::Anchoring::new(
            opener,
            self.audit_log.clone(),
            self.identity.clone(),
            self.auditor.clone(),
            self.metrics.clone(),
            self.store.clone(),
        ));
        if let Some(every) = every {
            self.tasks
                .push(tokio::spawn(anchoring::schedule(a.clone(), every)));
        }
        self.tasks.push(tokio::spawn(revocations::follow_chain(
            a.clone(),
            self.sidecar.clone(),
        )));
        self.anchoring = Some(a);
    }

    fn anchoring(&self) -> anyhow::Result<&anchoring::Anchoring> {
        self.anchoring
            .as_deref()
            .context("this node has no chain configured for anchoring")
    }

    /// Anchors the audit log's head now, if it grew since the last anchor.
    pub async fn anchor_now(&self) -> anyhow::Result<Option<Anchored>> {
        self.anchoring()?.anchor().await
    }

    /// The latest head anchored for this agent, as the chain says.
    pub async fn anchored(&self) -> anyhow::Result<Option<talos_primitives::TreeHead>> {
        self.anchoring()?.latest().await
    }

    /// The chain backend anchoring uses (opened now if it was not yet): for reads, such
    /// as an auditor's check of a proof against the anchored root.
    pub async fn anchor_backend(&self) -> anyhow::Result<Arc<dyn talos_anchor::Anchor>> {
        Ok(self.anchoring()?.backend().await?.clone())
    }

    /// The Prometheus text exposition of this node's metrics.
    pub async fn metrics_text(&self) -> String {
        let peers = self
            .client
            .connected_peers()
            .await
            .map(|p| p.len())
            .unwrap_or(0);
        let m = self.mailroom.clone();
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, talos_delivery::DeliveryError>((
                m.inbox_usage()?,
                m.idle_peers()?,
                m.evicted_peers(),
            ))
        })
        .await;
        if let Ok(Ok((usage, idle, evicted))) = read {
            self.metrics.set_delivery(usage, idle, evicted);
        }
        self.metrics
            .encode(self.audit_log.size(), peers, self.sidecar.waiting_len())
    }

    /// Registers this agent's DID on the anchoring chain (with the hash of its did:key
    /// document) if it is not yet; returns the chain's record.
    pub async fn publish_did(&self) -> anyhow::Result<talos_anchor::ChainDid> {
        let backend = self.anchor_backend().await?;
        let did = crate::records::ensure_did(&*backend, &self.identity).await?;
        backend
            .resolve_did(&did)
            .await?
            .context("the DID was registered but does not resolve")
    }

    /// The chain's record of `did`, if registered.
    pub async fn resolve_did(
        &self,
        did: &talos_primitives::Did,
    ) -> anyhow::Result<Option<talos_anchor::ChainDid>> {
        Ok(self.anchor_backend().await?.resolve_did(did).await?)
    }

    /// This node's audit log (read-only use: proofs and checkpoints).
    pub fn audit_log(&self) -> &Arc<talos_store::AuditLog> {
        &self.audit_log
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
    ) -> anyhow::Result<()> {
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
        anyhow::ensure!(
            self.auditor.record(vec![event]).await,
            "the audit log is failing; the capability was not recorded"
        );
        Ok(())
    }
}
