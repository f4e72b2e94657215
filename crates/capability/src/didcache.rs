//! A bounded resolver cache for the did:key DIDs that tokens name.
//!
//! Parsing a did:key validates the point (decompression and a small-order check, about
//! 3.5 µs on our bench machine), and a token names two or three DIDs. A verifier sees the
//! same issuers and holders again and again, so, as a JWT verifier keeps a JWKS, we keep
//! each parsed DID with its ready `VerifyingKey`. Entries are immutable facts about a
//! string (a did:key never changes its key), so the cache needs no invalidation, only a
//! bound.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use talos_primitives::{Did, DidError};

/// A parsed DID and, for did:key, its verifying key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    pub(crate) did: Did,
    pub(crate) key: Option<VerifyingKey>,
}

/// Parsed DIDs by their text, oldest evicted first.
pub struct DidCache {
    map: HashMap<Arc<str>, Resolved, foldhash::fast::RandomState>,
    order: VecDeque<Arc<str>>,
    capacity: usize,
}

impl std::fmt::Debug for DidCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DidCache")
            .field("len", &self.map.len())
            .finish()
    }
}

impl DidCache {
    /// Remembers up to `capacity` DIDs.
    pub fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::with_capacity_and_hasher(
                capacity.min(4096),
                foldhash::fast::RandomState::default(),
            ),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn resolve(&mut self, s: &str) -> Result<Resolved, DidError> {
        if let Some(r) = self.map.get(s) {
            return Ok(*r);
        }
        let did = Did::parse(s)?;
        let key = match did.as_key() {
            // Ed25519Public has already rejected non-points and weak keys.
            Some(k) => Some(
                VerifyingKey::from_bytes(k.as_bytes())
                    .map_err(|_| DidError::Key(talos_primitives::KeyError::NotOnCurve))?,
            ),
            None => None,
        };
        let r = Resolved { did, key };
        while self.map.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        let k: Arc<str> = Arc::from(s);
        self.order.push_back(k.clone());
        self.map.insert(k, r);
        Ok(r)
    }
}

impl Default for DidCache {
    fn default() -> Self {
        Self::new(1024)
    }
}
