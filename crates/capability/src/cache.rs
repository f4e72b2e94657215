//! A bounded cache of verified chains, so the warm path does no signature work.
//!
//! The key is the leaf token's compact text. The leaf's `prf` commits to its parent, and so
//! on up to the root, so the leaf alone names the whole chain; keying by its text (hashed
//! with a fast non-cryptographic hasher, compared in full on lookup) avoids the SHA-256 a
//! commitment key would cost on every request.

use crate::chain::{VerifiedChain, check_time};
use crate::error::CapError;
use crate::fifo::FifoMap;
use crate::revocation::RevocationSet;

struct Entry {
    chain: VerifiedChain,
    epoch: u64,
}

/// Verified chains by leaf, with their expiry and the revocation epoch they were checked at.
pub struct ChainCache {
    entries: FifoMap<Entry>,
}

impl std::fmt::Debug for ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainCache")
            .field("len", &self.entries.len())
            .field("capacity", &self.entries.capacity())
            .finish()
    }
}

impl ChainCache {
    /// A cache holding up to `capacity` chains (oldest evicted first).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: FifoMap::new(capacity),
        }
    }

    /// Looks up a chain by its leaf. `None` is a miss; `Some(Err)` means the cached chain
    /// is no longer usable (expired, or a link was revoked since), and it is dropped.
    pub fn get(
        &mut self,
        leaf: &str,
        now: u64,
        revocations: &dyn RevocationSet,
    ) -> Option<Result<&VerifiedChain, CapError>> {
        let epoch = revocations.epoch();
        let entry = self.entries.get_mut(leaf)?;
        if entry.epoch != epoch {
            if let Some(id) = crate::chain::revoked_link(
                entry.chain.ids.iter().copied(),
                &entry.chain.issuers,
                revocations,
            ) {
                self.entries.remove(leaf);
                return Some(Err(CapError::Revoked(id)));
            }
            entry.epoch = epoch;
        }
        let (nbf, exp) = (entry.chain.nbf, entry.chain.exp);
        let jti = entry.chain.ids.last().copied().unwrap_or_default();
        if let Err(e) = check_time(jti, nbf, exp, now) {
            if matches!(e, CapError::Expired(_)) {
                self.entries.remove(leaf);
            }
            return Some(Err(e));
        }
        // Re-borrow immutably for the caller.
        self.entries.get(leaf).map(|e| Ok(&e.chain))
    }

    /// Remembers a verified chain.
    pub fn insert(&mut self, leaf: &str, chain: VerifiedChain, epoch: u64) {
        self.entries.insert(leaf, Entry { chain, epoch });
    }

    /// Cached chains.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }
}
