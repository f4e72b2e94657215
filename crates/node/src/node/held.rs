//! This node's own attestation credentials (about itself), presented to a callee on each
//! call whose leaf has an `att` caveat naming their issuer (docs/attestation.md). Kept in
//! the store's meta family under `attestation/<revocation id>`, at most [`MAX_HELD`].

use std::sync::{Arc, RwLock};

use talos_attest::Verified;
use talos_capability::Token;
use talos_net::invoke::MAX_ATTESTATIONS;
use talos_primitives::Did;
use talos_store::Store;
use talos_store::db::CF_META;

use crate::error::NodeError;

/// Most credentials a node holds about itself.
pub(crate) const MAX_HELD: usize = 8;
const PREFIX: &[u8] = b"attestation/";
/// Most stored credentials read at start.
const SCAN: usize = 1024;

/// The credentials, verified (about this node) when added or loaded.
#[derive(Default)]
pub(crate) struct Held {
    list: RwLock<Vec<(Verified, Arc<str>)>>,
}

fn unix_now() -> u64 {
    super::sidecar::now_ms() / 1000
}

impl Held {
    /// The stored credentials still valid and about `me`, the [`MAX_HELD`] expiring last;
    /// the others (expired, or beyond the bound) are deleted, so a valid one is never
    /// crowded out by stale ones.
    pub(crate) fn load(store: &Store, me: &Did) -> Result<Held, NodeError> {
        let cf = store.cf(CF_META)?;
        let mode = rocksdb::IteratorMode::From(PREFIX, rocksdb::Direction::Forward);
        let (mut list, mut stale) = (Vec::new(), Vec::new());
        // `add` keeps at most MAX_HELD valid ones; the rest can only be ones that expired
        // since, so a scan this long sees them all.
        for item in store.db().iterator_cf(cf, mode).take(SCAN) {
            let (k, v) = item.map_err(|e| NodeError::Internal(e.to_string()))?;
            if !k.starts_with(PREFIX) {
                break;
            }
            let text = String::from_utf8_lossy(&v).into_owned();
            match talos_attest::verify(text.as_bytes(), unix_now()) {
                Ok(verified) if verified.claims.id == *me => {
                    list.push((verified, Arc::from(text)));
                }
                _ => stale.push(k.to_vec()),
            }
        }
        list.sort_by_key(|(v, _)| std::cmp::Reverse(v.valid_until));
        for (v, _) in list.drain(list.len().min(MAX_HELD)..) {
            stale.push(key(&v));
        }
        if !stale.is_empty() {
            let mut batch = rocksdb::WriteBatch::default();
            for k in stale {
                batch.delete_cf(cf, k);
            }
            store.write(batch, true)?;
        }
        Ok(Held {
            list: RwLock::new(list),
        })
    }

    /// Verifies `text` as a credential about `me` valid now, stores it (replacing one with
    /// the same id; the one expiring first makes room when [`MAX_HELD`] are held).
    pub(crate) fn add(&self, store: &Store, me: &Did, text: &str) -> Result<Verified, NodeError> {
        let bad = |e: String| NodeError::BadRequest(format!("attestation credential: {e}"));
        let verified =
            talos_attest::verify(text.as_bytes(), unix_now()).map_err(|e| bad(e.to_string()))?;
        if verified.claims.id != *me {
            return Err(bad("its subject is another DID".into()));
        }
        let mut list = self
            .list
            .write()
            .map_err(|_| NodeError::Internal("held credentials poisoned".into()))?;
        let mut batch = rocksdb::WriteBatch::default();
        let cf = store.cf(CF_META)?;
        list.retain(|(v, _)| v.revocation_id != verified.revocation_id);
        if list.len() >= MAX_HELD {
            list.sort_by_key(|(v, _)| std::cmp::Reverse(v.valid_until));
            if let Some((old, _)) = list.pop() {
                batch.delete_cf(cf, key(&old));
            }
        }
        batch.put_cf(cf, key(&verified), text.as_bytes());
        store.write(batch, true)?;
        list.push((verified.clone(), Arc::from(text)));
        Ok(verified)
    }

    /// The credentials held.
    pub(crate) fn all(&self) -> Vec<Verified> {
        self.list
            .read()
            .map(|l| l.iter().map(|(v, _)| v.clone()).collect())
            .unwrap_or_default()
    }

    /// What the directory record carries: credentials valid now that fit its bound
    /// (`MAX_ATTESTATION` bytes), latest expiry first, at most two.
    pub(crate) fn published(&self) -> Vec<Arc<str>> {
        let now = unix_now();
        let Ok(list) = self.list.read() else {
            return Vec::new();
        };
        let mut out: Vec<(u64, Arc<str>)> = list
            .iter()
            .filter(|(v, t)| {
                v.valid_from <= now
                    && now <= v.valid_until
                    && t.len() <= talos_net::directory::MAX_ATTESTATION
            })
            .map(|(v, t)| (v.valid_until, t.clone()))
            .collect();
        out.sort_by_key(|(until, _)| std::cmp::Reverse(*until));
        out.into_iter()
            .take(talos_net::directory::MAX_RECORD_ATTESTATIONS)
            .map(|(_, t)| t)
            .collect()
    }

    /// What to present with a call under `chain`: credentials valid now whose issuer an
    /// `att` caveat of the leaf names, latest expiry first, at most `MAX_ATTESTATIONS`.
    pub(crate) fn for_chain(&self, chain: &[String]) -> Vec<String> {
        // Most nodes hold none: then no call pays for parsing its leaf here.
        if self.list.read().map(|l| l.is_empty()).unwrap_or(true) {
            return Vec::new();
        }
        let Some(leaf) = chain.last().and_then(|t| Token::parse(t).ok()) else {
            return Vec::new();
        };
        let wanted: Vec<&Did> = leaf
            .claims()
            .cap
            .iter()
            .filter_map(|c| c.cav.att.as_ref())
            .flat_map(|a| a.iss.iter())
            .collect();
        if wanted.is_empty() {
            return Vec::new();
        }
        let now = unix_now();
        let Ok(list) = self.list.read() else {
            return Vec::new();
        };
        let mut fit: Vec<&(Verified, Arc<str>)> = list
            .iter()
            .filter(|(v, _)| {
                wanted.contains(&&v.issuer) && v.valid_from <= now && now <= v.valid_until
            })
            .collect();
        fit.sort_by_key(|(v, _)| std::cmp::Reverse(v.valid_until));
        fit.iter()
            .take(MAX_ATTESTATIONS)
            .map(|(_, t)| t.to_string())
            .collect()
    }
}

fn key(v: &Verified) -> Vec<u8> {
    [PREFIX, v.revocation_id.to_string().as_bytes()].concat()
}

impl super::Node {
    /// Adds an attestation credential about this node (verified first), presented from
    /// now on to callees that ask for its issuer.
    pub async fn add_attestation(&self, text: String) -> Result<Verified, NodeError> {
        let (held, store, me) = (self.held.clone(), self.store.clone(), self.identity.did());
        let v = tokio::task::spawn_blocking(move || held.add(&store, &me, &text)).await??;
        // Peers see it in the directory record from now on, published beside the answer
        // (a DHT put can take its query timeout; a lone node's reaches no one yet, and the
        // schedule publishes again).
        let (client, identity, mailroom) = (
            self.client.clone(),
            self.identity.clone(),
            self.mailroom.clone(),
        );
        let (config, held) = (self.config.clone(), self.held.clone());
        tokio::spawn(async move {
            let published =
                super::directory::publish(&client, &identity, &mailroom, &config, &held).await;
            if let Err(e) = published {
                tracing::debug!(%e, "directory record with the new credential not replicated yet");
            }
        });
        Ok(v)
    }

    /// `peer`'s attestation credentials from its directory record, each verified: about
    /// `peer`, valid now (this agent's own: those it holds).
    pub async fn peer_attestations(
        &self,
        peer: &talos_primitives::Ed25519Public,
    ) -> Result<Vec<Verified>, NodeError> {
        if *peer == self.identity.public() {
            return Ok(self.held.all());
        }
        let record = super::directory::lookup(&self.client, peer).await?;
        let (me, now) = (Did::Key(*peer), unix_now());
        Ok(record
            .attestations
            .iter()
            .filter_map(|a| talos_attest::verify(a, now).ok())
            .filter(|v| v.claims.id == me)
            .collect())
    }

    /// The attestation credentials this node holds about itself.
    pub fn attestations(&self) -> Vec<Verified> {
        self.held.all()
    }
}
