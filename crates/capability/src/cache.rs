//! A bounded cache of verified chains, so the warm path does no signature work.
//!
//! The key is the leaf token's compact text. The leaf's `prf` commits to its parent, and so
//! on up to the root, so the leaf alone names the whole chain; keying by its text (hashed
//! with a fast non-cryptographic hasher, compared in full on lookup) avoids the SHA-256 a
//! commitment key would cost on every request.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::chain::{VerifiedChain, check_time};
use crate::error::CapError;
use crate::revocation::RevocationSet;

struct Entry {
    chain: VerifiedChain,
    epoch: u64,
}

/// Verified chains by leaf, with their expiry and the revocation epoch they were checked at.
pub struct ChainCache {
    map: HashMap<Arc<str>, Entry, foldhash::fast::RandomState>,
    order: VecDeque<Arc<str>>,
    capacity: usize,
}

impl std::fmt::Debug for ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainCache")
            .field("len", &self.map.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl ChainCache {
    /// A cache holding up to `capacity` chains (oldest evicted first).
    pub fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::with_capacity_and_hasher(
                capacity.min(1 << 16),
                foldhash::fast::RandomState::default(),
            ),
            order: VecDeque::new(),
            capacity: capacity.max(1),
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
        let entry = self.map.get_mut(leaf)?;
        if entry.epoch != epoch {
            if let Some(id) = entry.chain.ids.iter().find(|id| revocations.is_revoked(id)) {
                let id = *id;
                self.map.remove(leaf);
                return Some(Err(CapError::Revoked(id)));
            }
            entry.epoch = epoch;
        }
        if let Err(e) = check_time(
            entry.chain.ids.last().copied().unwrap_or_default(),
            entry.chain.nbf,
            entry.chain.exp,
            now,
        ) {
            if matches!(e, CapError::Expired(_)) {
                self.map.remove(leaf);
            }
            return Some(Err(e));
        }
        // Re-borrow immutably for the caller.
        self.map.get(leaf).map(|e| Ok(&e.chain))
    }

    /// Remembers a verified chain.
    pub fn insert(&mut self, leaf: &str, chain: VerifiedChain, epoch: u64) {
        if self.map.contains_key(leaf) {
            return;
        }
        while self.map.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        let key: Arc<str> = Arc::from(leaf);
        self.order.push_back(key.clone());
        self.map.insert(key, Entry { chain, epoch });
    }

    /// Cached chains.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
