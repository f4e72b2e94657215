//! Revocations: this agent's own (durable before the API answers, then gossiped as a
//! signed notice) and those other issuers publish on the gossip topic (checked, made
//! durable, applied to the links their publisher issued or delegated from, and only
//! then forwarded). Both survive restarts in the `revocations` column family: key
//! `jti` (16 bytes) for our own, `jti ‖ issuer key` (48 bytes) for published ones, and
//! `p:` ‖ `jti` (18 bytes) for our own not yet written to the chain: the next anchoring
//! submits them (a chain revocation is permanent and idempotent) and clears the mark;
//! `jti ‖ 'c' ‖ revoker chain key` (49 bytes) for revocations read from the chain, whose
//! follower resumes from the block in `chain-cursor`.

use std::sync::Arc;

use talos_audit::event::EventKind;
use talos_capability::notice::RevocationNotice;
use talos_net::{Client, GossipMessage, GossipVerdict};
use talos_primitives::{CapabilityId, Did, Ed25519Public, Hash32};
use talos_store::Store;
use talos_store::db::CF_REVOCATIONS;
use tokio::sync::mpsc;
use tracing::{debug, info};

use super::invoke::Sidecar;

/// How far in the future a notice's time may be (clock skew), seconds.
const FUTURE_SKEW: u64 = 300;
/// Length of a chain revocation's key.
const CHAIN_KEY_LEN: usize = 16 + 1 + 32;
/// Where the chain follower resumes (the last block it applied).
const CURSOR: &[u8] = b"chain-cursor";

/// Revocations read from the chain (id, revoker's chain key).
pub(super) type ChainRevocations = Vec<(CapabilityId, Hash32)>;

/// Revocations read from the chain, and the follower's cursor.
pub(super) fn load_chain(store: &Store) -> anyhow::Result<(ChainRevocations, Option<u64>)> {
    let cf = store.cf(CF_REVOCATIONS)?;
    let mut out = Vec::new();
    for item in store.db().iterator_cf(cf, rocksdb::IteratorMode::Start) {
        let (k, _) = item?;
        if k.len() == CHAIN_KEY_LEN && k.get(16) == Some(&b'c') {
            let (Some(id), Some(by)) = (k.get(..16), k.get(17..)) else {
                continue;
            };
            if let (Ok(id), Ok(by)) = (<[u8; 16]>::try_from(id), <[u8; 32]>::try_from(by)) {
                out.push((CapabilityId(id), Hash32(by)));
            }
        }
    }
    let cursor = store
        .get(CF_REVOCATIONS, CURSOR)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes);
    Ok((out, cursor))
}

/// Key prefix of our revocations waiting to be written to the chain.
const PENDING: &[u8] = b"p:";
/// Ids per chain call (the contract's batch bound).
pub(super) const CHAIN_BATCH: usize = 512;

fn pending_key(id: &CapabilityId) -> Vec<u8> {
    [PENDING, &id.0[..]].concat()
}

/// Our revocations not yet on the chain (at most `max`).
pub(super) fn pending(store: &Store, max: usize) -> anyhow::Result<Vec<CapabilityId>> {
    let cf = store.cf(CF_REVOCATIONS)?;
    let mut out = Vec::new();
    for item in store.db().prefix_iterator_cf(cf, PENDING) {
        let (k, _) = item?;
        let Some(id) = k.strip_prefix(PENDING) else {
            break;
        };
        if out.len() >= max {
            break;
        }
        if let Ok(id) = <[u8; 16]>::try_from(id) {
            out.push(CapabilityId(id));
        }
    }
    Ok(out)
}

/// Clears the chain-pending marks of `ids` (they are on the chain now).
pub(super) fn clear_pending(store: &Store, ids: &[CapabilityId]) -> anyhow::Result<()> {
    let mut batch = rocksdb::WriteBatch::default();
    let cf = store.cf(CF_REVOCATIONS)?;
    for id in ids {
        batch.delete_cf(cf, pending_key(id));
    }
    store.write(batch, true)?;
    Ok(())
}

/// Every persisted revocation: (id, `None` for our own or `Some(publisher)`).
pub(super) fn load(store: &Store) -> anyhow::Result<Vec<(CapabilityId, Option<Did>)>> {
    let mut out = Vec::new();
    let cf = store.cf(CF_REVOCATIONS)?;
    for item in store.db().iterator_cf(cf, rocksdb::IteratorMode::Start) {
        let (k, _) = item?;
        let pending = k.len() == PENDING.len() + 16 && k.starts_with(PENDING);
        if pending || k.len() == CHAIN_KEY_LEN || &*k == CURSOR {
            continue;
        }
        let (id, by) = k.split_at_checked(16).unwrap_or((&k, &[]));
        let id = CapabilityId(
            id.try_into()
                .map_err(|_| anyhow::anyhow!("corrupt revocation key"))?,
        );
        let by = match by {
            [] => None,
            key => {
                let key: [u8; 32] = key
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("corrupt revocation key"))?;
                Some(Did::Key(Ed25519Public::from_bytes(key)?))
            }
        };
        out.push((id, by));
    }
    Ok(out)
}

async fn persist(
    store: &Arc<Store>,
    id: CapabilityId,
    by: Option<Ed25519Public>,
) -> anyhow::Result<()> {
    let store = store.clone();
    let mut key = id.0.to_vec();
    if let Some(k) = by {
        key.extend_from_slice(k.as_bytes());
    }
    tokio::task::spawn_blocking(move || {
        let mut batch = rocksdb::WriteBatch::default();
        let cf = store.cf(CF_REVOCATIONS)?;
        batch.put_cf(cf, key, []);
        // Our own: also to be written to the chain at the next anchoring.
        if by.is_none() {
            batch.put_cf(cf, pending_key(&id), []);
        }
        store.write(batch, true)
    })
    .await??;
    Ok(())
}

impl Sidecar {
    /// Revokes `id` for good: durable (synced) before this returns, then in force for
    /// every later call, audited, and published as a signed notice so other verifiers
    /// learn it in seconds. Returns false if it was already revoked.
    pub(crate) async fn revoke(self: &Arc<Self>, id: CapabilityId) -> anyhow::Result<bool> {
        persist(&self.store, id, None).await?;
        let fresh = self
            .gate
            .lock()
            .map_err(|_| anyhow::anyhow!("the gate is poisoned"))?
            .revoke(id);
        if fresh {
            self.metrics.revocations.inc();
            self.auditor
                .record(vec![EventKind::CapabilityRevoked { id }])
                .await;
        }
        let notice = RevocationNotice::sign(&self.identity, id, super::directory::now())?;
        if let Err(e) = self.client.publish(notice.into_bytes()).await {
            // Alone on the network: the revocation holds here, and the chain carries it.
            debug!(%e, "revocation notice not gossiped");
        }
        Ok(fresh)
    }

    /// Checks a gossiped notice and applies it. Only a notice that is valid and new
    /// within the bounds is made durable, applied and forwarded: one already known, or
    /// past the bounds, is ignored (not stored, so a flood of self-signed notices costs
    /// no disk; past the bounds new publications are dropped).
    async fn apply_notice(&self, data: &[u8]) -> GossipVerdict {
        let Ok(text) = std::str::from_utf8(data) else {
            return GossipVerdict::Reject;
        };
        let Ok(n) = RevocationNotice::verify(text) else {
            return GossipVerdict::Reject;
        };
        let Some(issuer) = n.iss.as_key() else {
            return GossipVerdict::Reject;
        };
        if n.iat > super::directory::now().saturating_add(FUTURE_SKEW) {
            return GossipVerdict::Reject;
        }
        let wanted = self
            .gate
            .lock()
            .map(|g| g.would_publish(&n.iss, &n.jti))
            .unwrap_or(false);
        if !wanted {
            return GossipVerdict::Ignore;
        }
        if let Err(e) = persist(&self.store, n.jti, Some(*issuer)).await {
            // Not durable, so not applied or forwarded; nobody's fault but ours.
            debug!(%e, "published revocation not stored");
            return GossipVerdict::Ignore;
        }
        if let Ok(mut gate) = self.gate.lock()
            && gate.revoke_published(n.iss, n.jti)
        {
            info!(issuer = %n.iss, "revocation published by an issuer applied");
        }
        GossipVerdict::Accept
    }
}

/// The gossip task: validates every notice, then tells gossipsub whether to forward it.
pub(crate) async fn gossip(
    sidecar: Arc<Sidecar>,
    client: Client,
    mut rx: mpsc::Receiver<GossipMessage>,
) {
    while let Some(m) = rx.recv().await {
        let verdict = sidecar.apply_notice(&m.data).await;
        if client.validated(&m, verdict).await.is_err() {
            return;
        }
    }
}

/// The chain follower: applies every revocation the chain records (from the cursor's
/// block, then live; re-reading that block is harmless, applying is idempotent), each
/// durable with the cursor before it is applied.
///
/// Only chains where a DID's account is the DID's own key are followed (the Substrate
/// pallet). On an EVM chain a DID is registered first come, first served by any
/// secp256k1 account, with no proof of the Ed25519 key, so anyone could register a
/// victim's DID there and "revoke" its links: those revocations are not trusted. The
/// embedded chain holds only this node's own writes.
pub(crate) async fn follow_chain(
    anchoring: Arc<super::anchoring::Anchoring>,
    sidecar: Arc<Sidecar>,
) {
    // Let the node come up before opening the chain.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    loop {
        let backend = match anchoring.backend().await {
            Ok(b) => b.clone(),
            Err(e) => {
                debug!("chain not reachable for revocations: {e:#}");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        if backend.kind() != "substrate" {
            return;
        }
        let store = sidecar.store.clone();
        let from = match tokio::task::spawn_blocking(move || load_chain(&store)).await {
            Ok(Ok((_, cursor))) => cursor.unwrap_or(0),
            _ => 0,
        };
        if let Ok(mut stream) = backend.revocations(from).await {
            while let Some(Ok(event)) = stream.next().await {
                if sidecar.apply_chain(&event).await.is_err() {
                    break;
                }
            }
        }
        // The stream ended (an error or the backend restarted): resume from the cursor.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

impl Sidecar {
    /// Makes a chain revocation event durable (with the cursor), then applies it.
    async fn apply_chain(&self, event: &talos_anchor::RevocationEvent) -> anyhow::Result<()> {
        let store = self.store.clone();
        let (ids, by, block) = (event.ids.clone(), event.did, event.at.block);
        tokio::task::spawn_blocking(move || {
            let mut batch = rocksdb::WriteBatch::default();
            let cf = store.cf(CF_REVOCATIONS)?;
            for id in &ids {
                let key = [&id.0[..], b"c", &by.0[..]].concat();
                batch.put_cf(cf, key, []);
            }
            batch.put_cf(cf, CURSOR, block.to_be_bytes());
            store.write(batch, true)
        })
        .await??;
        let mut gate = self
            .gate
            .lock()
            .map_err(|_| anyhow::anyhow!("the gate is poisoned"))?;
        for id in &event.ids {
            gate.revoke_on_chain(event.did, *id);
        }
        Ok(())
    }
}
