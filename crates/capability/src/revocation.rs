//! Revocation: by token id, permanent, checked in O(1) per link.

use std::collections::HashSet;

use talos_primitives::CapabilityId;

/// A set of revoked token ids. The node feeds it from gossip and from the chain.
///
/// `epoch` must change whenever the set grows, so cached verdicts know when to look again.
pub trait RevocationSet {
    /// True when `id` is revoked.
    fn is_revoked(&self, id: &CapabilityId) -> bool;
    /// A counter that increases with every revocation added.
    fn epoch(&self) -> u64;
}

/// An in-memory revocation set.
#[derive(Debug, Default, Clone)]
pub struct MemoryRevocations {
    ids: HashSet<CapabilityId>,
    epoch: u64,
}

impl MemoryRevocations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes an id. Returns false if it already was.
    pub fn revoke(&mut self, id: CapabilityId) -> bool {
        let added = self.ids.insert(id);
        if added {
            self.epoch = self.epoch.saturating_add(1);
        }
        added
    }

    /// How many ids are revoked.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

impl FromIterator<CapabilityId> for MemoryRevocations {
    fn from_iter<T: IntoIterator<Item = CapabilityId>>(iter: T) -> Self {
        let mut set = Self::new();
        for id in iter {
            set.revoke(id);
        }
        set
    }
}

impl RevocationSet for MemoryRevocations {
    fn is_revoked(&self, id: &CapabilityId) -> bool {
        self.ids.contains(id)
    }

    fn epoch(&self) -> u64 {
        self.epoch
    }
}
