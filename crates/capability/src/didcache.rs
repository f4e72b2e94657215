//! A bounded resolver cache for the did:key DIDs that tokens name.
//!
//! Parsing a did:key validates the point (decompression and a small-order check, about
//! 3.5 µs on our bench machine), and a token names two or three DIDs. A verifier sees the
//! same issuers and holders again and again, so, as a JWT verifier keeps a JWKS, we keep
//! each parsed DID with its ready `VerifyingKey`. Entries are immutable facts about a
//! string (a did:key never changes its key), so the cache needs no invalidation, only a
//! bound.

use ed25519_dalek::VerifyingKey;
use talos_primitives::{Did, DidError};

use crate::fifo::FifoMap;

/// A parsed DID and, for did:key, its verifying key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    pub(crate) did: Did,
    pub(crate) key: Option<VerifyingKey>,
}

/// Parsed DIDs by their text, oldest evicted first.
pub struct DidCache {
    entries: FifoMap<Resolved>,
}

impl std::fmt::Debug for DidCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DidCache")
            .field("len", &self.entries.len())
            .finish()
    }
}

impl DidCache {
    /// Remembers up to `capacity` DIDs.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: FifoMap::new(capacity),
        }
    }

    pub(crate) fn resolve(&mut self, s: &str) -> Result<Resolved, DidError> {
        if let Some(r) = self.entries.get(s) {
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
        self.entries.insert(s, r);
        Ok(r)
    }
}

impl Default for DidCache {
    fn default() -> Self {
        Self::new(1024)
    }
}
