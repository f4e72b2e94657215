//! Revocations: this agent's own (durable before the API answers, then gossiped as a
//! signed notice) and those other issuers publish on the gossip topic (checked, applied
//! to the links their publisher issued or delegated from, made durable, and only then
//! forwarded). Both survive restarts in the `revocations` column family: key `jti` (16
//! bytes) for our own, `jti ‖ issuer key` (48 bytes) for published ones, and `p:` ‖ `jti`
//! (18 bytes) for our own not yet written to the chain: the next anchoring submits them
//! (a chain revocation is permanent and idempotent) and clears the mark;
//! `jti ‖ 'c' ‖ revoker chain key` (49 bytes) for revocations read from the chain, whose
//! follower resumes from the block in `chain-cursor`; `k:` ‖ chain key (34 bytes, the
//! DID's `talos_anchor::did_key`) marks a publisher pinned: it issued a link of a chain
//! verified here, so strangers never displace its revocations.
//!
//! Published and chain revocations are bounded per publisher (finding #1 of issue 17:
//! eight throwaway keys used to fill an id's publisher slots and censor the real issuer's
//! notice). The bounds live in `talos_capability::published`; what they displace or
//! refuse is deleted here too, so disk stays as bounded as memory. The layout of each
//! entry is unchanged, so a store written before the bounds opens as is; entries beyond
//! the bounds (only after a flood under the old rules) are dropped on open.

use std::collections::HashSet;
use std::sync::Arc;

use talos_audit::event::EventKind;
use talos_capability::notice::RevocationNotice;
use talos_capability::published::Publication;
use talos_net::{GossipVerdict, Topic};
use talos_primitives::{CapabilityId, Did, Ed25519Public, Hash32};
use talos_store::Store;
use talos_store::db::CF_REVOCATIONS;
use tracing::{debug, info, warn};

use super::gate::Gate;
use super::sidecar::Sidecar;
use crate::error::NodeError;

/// How far in the future a notice's time may be (clock skew), seconds.
const FUTURE_SKEW: u64 = 300;
/// Length of a chain revocation's key.
const CHAIN_KEY_LEN: usize = 16 + 1 + 32;
/// Where the chain follower resumes (the last block it applied).
const CURSOR: &[u8] = b"chain-cursor";
/// Key prefix of a pinned publisher's mark.
const PIN: &[u8] = b"k:";

/// The chain follower's cursor.
fn cursor(store: &Store) -> Result<Option<u64>, NodeError> {
    Ok(store
        .get(CF_REVOCATIONS, CURSOR)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes))
}

fn published_key(id: &CapabilityId, by: &Ed25519Public) -> Vec<u8> {
    [&id.0[..], by.as_bytes()].concat()
}

fn chain_key(id: &CapabilityId, by: &Hash32) -> Vec<u8> {
    [&id.0[..], b"c", &by.0[..]].concat()
}

fn pin_key(key: &Hash32) -> Vec<u8> {
    [PIN, &key.0[..]].concat()
}

/// Key prefix of our revocations waiting to be written to the chain.
const PENDING: &[u8] = b"p:";
/// Ids per chain call (the contract's batch bound).
pub(super) const CHAIN_BATCH: usize = 512;

fn pending_key(id: &CapabilityId) -> Vec<u8> {
    [PENDING, &id.0[..]].concat()
}

/// Our revocations not yet on the chain (at most `max`).
pub(super) fn pending(store: &Store, max: usize) -> Result<Vec<CapabilityId>, NodeError> {
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
pub(super) fn clear_pending(store: &Store, ids: &[CapabilityId]) -> Result<(), NodeError> {
    let mut batch = rocksdb::WriteBatch::default();
    let cf = store.cf(CF_REVOCATIONS)?;
    for id in ids {
        batch.delete_cf(cf, pending_key(id));
    }
    store.write(batch, true)?;
    Ok(())
}

/// One persisted entry.
enum Entry {
    Own(CapabilityId),
    Published(CapabilityId, Ed25519Public),
    Chain(CapabilityId, Hash32),
    Pin(Hash32),
}

fn entry(k: &[u8]) -> Result<Option<Entry>, NodeError> {
    let corrupt = || NodeError::Internal("corrupt revocation key".into());
    let id = |b: &[u8]| -> Result<CapabilityId, NodeError> {
        let b: [u8; 16] = b
            .get(..16)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(corrupt)?;
        Ok(CapabilityId(b))
    };
    let key32 = |from: usize| -> Result<[u8; 32], NodeError> {
        k.get(from..)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(corrupt)
    };
    let pending = k.len() == PENDING.len() + 16 && k.starts_with(PENDING);
    if pending || k == CURSOR {
        return Ok(None);
    }
    Ok(Some(match k.len() {
        16 => Entry::Own(id(k)?),
        48 => {
            let key = Ed25519Public::from_bytes(key32(16)?).map_err(|_| corrupt())?;
            Entry::Published(id(k)?, key)
        }
        CHAIN_KEY_LEN if k.get(16) == Some(&b'c') => Entry::Chain(id(k)?, Hash32(key32(17)?)),
        // Never written; skipped as before rather than refusing to open.
        CHAIN_KEY_LEN => return Ok(None),
        34 if k.starts_with(PIN) => Entry::Pin(Hash32(key32(2)?)),
        _ => return Err(corrupt()),
    }))
}

/// Loads every persisted revocation into `gate`: pins first, so a pinned publisher's
/// entries are restored as pinned. Entries the bounds leave out (refused, or a stranger
/// displaced) and marks of publishers no longer tracked are deleted, so what is on disk
/// is what is in force.
pub(super) fn restore(store: &Store, gate: &mut Gate) -> Result<(), NodeError> {
    let cf = store.cf(CF_REVOCATIONS)?;
    let mut entries = Vec::new();
    let mut pins = HashSet::new();
    for item in store.db().iterator_cf(cf, rocksdb::IteratorMode::Start) {
        let (k, _) = item?;
        match entry(&k)? {
            Some(Entry::Pin(key)) => {
                pins.insert(key);
            }
            Some(e) => entries.push(e),
            None => {}
        }
    }
    let mut stale = rocksdb::WriteBatch::default();
    let mut kept_pins = HashSet::new();
    for e in entries {
        match e {
            Entry::Own(id) => {
                gate.revoke(id);
            }
            Entry::Published(id, by) => {
                let did = Did::Key(by);
                let pin = talos_anchor::did_key(&did);
                match gate.revoke_published(did, id, pins.contains(&pin)) {
                    Publication::Applied { pinned, evicted } => {
                        if pinned {
                            kept_pins.insert(pin);
                        }
                        drop_published(&mut stale, cf, evicted);
                    }
                    Publication::Refused => stale.delete_cf(cf, published_key(&id, &by)),
                    Publication::Known => {}
                }
            }
            Entry::Chain(id, by) => match gate.revoke_on_chain(by, id, pins.contains(&by)) {
                Publication::Applied { pinned, evicted } => {
                    if pinned {
                        kept_pins.insert(by);
                    }
                    drop_chain(&mut stale, cf, evicted);
                }
                Publication::Refused => stale.delete_cf(cf, chain_key(&id, &by)),
                Publication::Known => {}
            },
            Entry::Pin(_) => {}
        }
    }
    for key in pins.difference(&kept_pins) {
        stale.delete_cf(cf, pin_key(key));
    }
    if !stale.is_empty() {
        warn!(
            entries = stale.len(),
            "revocations beyond the per-publisher bounds dropped on open"
        );
        store.write(stale, true)?;
    }
    Ok(())
}

/// Deletes the entries of a stranger displaced from the gossiped revocations.
fn drop_published(
    batch: &mut rocksdb::WriteBatch,
    cf: &rocksdb::ColumnFamily,
    evicted: Option<(Did, Vec<CapabilityId>)>,
) {
    if let Some((Did::Key(by), ids)) = evicted {
        for id in &ids {
            batch.delete_cf(cf, published_key(id, &by));
        }
    }
}

/// Deletes the entries of a stranger displaced from the chain revocations.
fn drop_chain(
    batch: &mut rocksdb::WriteBatch,
    cf: &rocksdb::ColumnFamily,
    evicted: Option<(Hash32, Vec<CapabilityId>)>,
) {
    if let Some((by, ids)) = evicted {
        for id in &ids {
            batch.delete_cf(cf, chain_key(id, &by));
        }
    }
}

/// Makes our own revocation durable, marked for the chain.
async fn persist_own(store: &Arc<Store>, id: CapabilityId) -> Result<(), NodeError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut batch = rocksdb::WriteBatch::default();
        let cf = store.cf(CF_REVOCATIONS)?;
        batch.put_cf(cf, id.0, []);
        // Also to be written to the chain at the next anchoring.
        batch.put_cf(cf, pending_key(&id), []);
        store.write(batch, true)
    })
    .await??;
    Ok(())
}

/// Makes an applied publication durable: its entry, its publisher's pin mark if pinned,
/// and the deletion of the stranger it displaced, in one write.
async fn persist_published(
    store: &Arc<Store>,
    id: CapabilityId,
    by: Ed25519Public,
    pinned: bool,
    evicted: Option<(Did, Vec<CapabilityId>)>,
) -> Result<(), NodeError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut batch = rocksdb::WriteBatch::default();
        let cf = store.cf(CF_REVOCATIONS)?;
        batch.put_cf(cf, published_key(&id, &by), []);
        if pinned {
            batch.put_cf(cf, pin_key(&talos_anchor::did_key(&Did::Key(by))), []);
        }
        drop_published(&mut batch, cf, evicted);
        store.write(batch, true)
    })
    .await??;
    Ok(())
}

impl Sidecar {
    /// Revokes `id` for good: durable (synced) before this returns, then in force for
    /// every later call, audited, and published as a signed notice so other verifiers
    /// learn it in seconds. Returns false if it was already revoked.
    pub(crate) async fn revoke(self: &Arc<Self>, id: CapabilityId) -> Result<bool, NodeError> {
        persist_own(&self.store, id).await?;
        let fresh = self
            .gate
            .lock()
            .map_err(|_| NodeError::Internal("the gate is poisoned".into()))?
            .revoke(id);
        if fresh {
            self.metrics.revocations.inc();
            self.auditor
                .record(vec![EventKind::CapabilityRevoked { id }])
                .await;
        }
        let notice = RevocationNotice::sign(&self.identity, id, super::directory::now())?;
        if let Err(e) = self
            .client
            .publish(Topic::Revocations, notice.into_bytes())
            .await
        {
            // Alone on the network: the revocation holds here, and the chain carries it.
            debug!(%e, "revocation notice not gossiped");
        }
        Ok(fresh)
    }

    /// Checks a gossiped notice and applies it. Only a notice that is valid and new
    /// within its publisher's bounds is applied, made durable and forwarded: one already
    /// known, or past the bounds, is ignored (not stored: a publisher flooding notices
    /// fills only its own quota, and fresh publishers displace only strangers).
    ///
    /// Applied before it is durable, unlike our own: the bounds decide under the gate's
    /// lock what a publication displaces, and that decision is what gets written. If the
    /// write fails the notice is in force here until a restart but not forwarded.
    pub(super) async fn apply_notice(&self, data: &[u8]) -> GossipVerdict {
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
        let outcome = match self.gate.lock() {
            Ok(mut gate) => gate.revoke_published(n.iss, n.jti, false),
            Err(_) => return GossipVerdict::Ignore,
        };
        let Publication::Applied { pinned, evicted } = outcome else {
            return GossipVerdict::Ignore;
        };
        if pinned {
            info!(issuer = %n.iss, "revocation published by an issuer applied");
        } else {
            // A stranger's: kept on a best-effort basis, and not worth a line each (anyone
            // can send many).
            debug!(issuer = %n.iss, "revocation published by a stranger applied");
        }
        if let Err(e) = persist_published(&self.store, n.jti, *issuer, pinned, evicted).await {
            // Not durable, so not forwarded; nobody's fault but ours.
            debug!(%e, "published revocation not stored");
            return GossipVerdict::Ignore;
        }
        self.metrics.revocations_learned.inc();
        GossipVerdict::Accept
    }
}

/// The chain follower: applies every revocation the chain records (from the cursor's
/// block, then live; re-reading that block is harmless, applying is idempotent), each
/// applied within the per-revoker bounds, then durable with the cursor before the next.
///
/// Every revocation the stream yields is the DID's own: on a talos chain a DID's account
/// is its key; on an EVM chain anyone may register any DID, so the backend yields only
/// revocations by accounts the DID's key bound (an owner binding it signed), and reports
/// the rest, like a malformed log, as a skipped notice, counted here and passed over. The
/// embedded chain holds only this node's own writes, so it is not followed.
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
        if backend.kind() == "embedded" {
            return;
        }
        let store = sidecar.store.clone();
        let from = match tokio::task::spawn_blocking(move || cursor(&store)).await {
            Ok(Ok(cursor)) => cursor.unwrap_or(0),
            _ => 0,
        };
        if let Ok(mut stream) = backend.revocations(from).await {
            let mut skipped = 0u64;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(event) => {
                        if sidecar.apply_chain(&event).await.is_err() {
                            break;
                        }
                    }
                    // Not the DID's, or not readable: one such record must not stop the
                    // revocations behind it.
                    Err(talos_anchor::AnchorError::Skipped(why)) => {
                        skipped = skipped.saturating_add(1);
                        debug!(skipped, "chain record passed over: {why}");
                    }
                    Err(e) => {
                        debug!("chain revocation stream ended: {e}");
                        break;
                    }
                }
            }
        }
        // The stream ended (an error or the backend restarted): resume from the cursor.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

impl Sidecar {
    /// Applies a chain revocation event within the per-revoker bounds, then makes what
    /// is in force durable with the cursor (and deletes what it displaced). An id
    /// already known is written again: if an earlier write failed, the follower
    /// re-reads the block from the cursor and this makes it durable before the cursor
    /// moves past it.
    async fn apply_chain(&self, event: &talos_anchor::RevocationEvent) -> Result<(), NodeError> {
        let by = event.did;
        let mut held = Vec::new();
        let mut pin = false;
        let mut displaced = Vec::new();
        {
            let mut gate = self
                .gate
                .lock()
                .map_err(|_| NodeError::Internal("the gate is poisoned".into()))?;
            for id in &event.ids {
                match gate.revoke_on_chain(by, *id, false) {
                    Publication::Applied { pinned, evicted } => {
                        held.push(*id);
                        pin |= pinned;
                        displaced.push(evicted);
                    }
                    Publication::Known => held.push(*id),
                    Publication::Refused => {}
                }
            }
        }
        let store = self.store.clone();
        let block = event.at.block;
        tokio::task::spawn_blocking(move || {
            let mut batch = rocksdb::WriteBatch::default();
            let cf = store.cf(CF_REVOCATIONS)?;
            for id in &held {
                batch.put_cf(cf, chain_key(id, &by), []);
            }
            if pin {
                batch.put_cf(cf, pin_key(&by), []);
            }
            for evicted in displaced {
                drop_chain(&mut batch, cf, evicted);
            }
            batch.put_cf(cf, CURSOR, block.to_be_bytes());
            store.write(batch, true)
        })
        .await??;
        Ok(())
    }

    /// Makes durable the pins of publishers that issued a link of a chain verified here
    /// after they first published (the gate queues them; the sweeper calls this). Not
    /// synced: a pin lost in a crash is learnt again from the next such chain.
    pub(super) async fn save_pins(&self) {
        let keys = match self.gate.lock() {
            Ok(mut gate) => gate.take_unsaved_pins(),
            Err(_) => return,
        };
        if keys.is_empty() {
            return;
        }
        let store = self.store.clone();
        let written = tokio::task::spawn_blocking(move || {
            let mut batch = rocksdb::WriteBatch::default();
            let cf = store.cf(CF_REVOCATIONS)?;
            for key in &keys {
                batch.put_cf(cf, pin_key(key), []);
            }
            store.write(batch, false)
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            debug!("publisher pins not stored");
        }
    }
}

#[cfg(test)]
#[path = "revocations_tests.rs"]
mod tests;
