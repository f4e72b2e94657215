//! Revocation: by token id, permanent, checked in O(1) per link.

use std::collections::{HashMap, HashSet};

use talos_primitives::{CapabilityId, Did};

/// A set of revoked token ids. The node feeds it from gossip and from the chain.
///
/// `epoch` must change whenever the set grows, so cached verdicts know when to look again.
pub trait RevocationSet {
    /// True when `id` is revoked outright (the verifier's own decision).
    fn is_revoked(&self, id: &CapabilityId) -> bool;
    /// True when the link `id` is revoked, given `issuers`: the issuers of that link and
    /// of every link above it, root first. Revocations published by issuers (gossip, a
    /// chain) count only when their publisher is one of them, so nobody can revoke a
    /// link they neither issued nor delegated it from (ids are chosen by issuers, so
    /// anyone can mint a token with someone else's id). By default: [`Self::is_revoked`].
    fn is_revoked_by(&self, id: &CapabilityId, issuers: &[Did]) -> bool {
        let _ = issuers;
        self.is_revoked(id)
    }
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

/// Ids revoked by publishers, most kept (beyond it, new ones are refused rather than
/// memory grown: anyone can sign a notice for an id of their own making).
pub const MAX_PUBLISHED: usize = 262_144;
/// Publishers remembered per id (a chain has at most a handful of issuers).
const PUBLISHERS_PER_ID: usize = 8;

/// What a node keeps: its own revocations, which apply to any link, and revocations
/// published by issuers, each applying only to links that issuer made or that descend
/// from one it made.
#[derive(Debug, Default, Clone)]
pub struct Revocations {
    own: HashSet<CapabilityId>,
    published: HashMap<CapabilityId, Vec<Did>>,
    epoch: u64,
}

impl Revocations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes `id` outright. Returns false if it already was.
    pub fn revoke(&mut self, id: CapabilityId) -> bool {
        let added = self.own.insert(id);
        if added {
            self.epoch = self.epoch.saturating_add(1);
        }
        added
    }

    /// True when [`Self::revoke_published`] would record (`issuer`, `id`): new, and
    /// within the bounds (check before making a publication durable).
    pub fn would_publish(&self, issuer: &Did, id: &CapabilityId) -> bool {
        match self.published.get(id) {
            Some(by) => !by.contains(issuer) && by.len() < PUBLISHERS_PER_ID,
            None => self.published.len() < MAX_PUBLISHED,
        }
    }

    /// Records that `issuer` revoked `id`. Returns false if already known or if the
    /// bounds are reached.
    pub fn revoke_published(&mut self, issuer: Did, id: CapabilityId) -> bool {
        if !self.would_publish(&issuer, &id) {
            return false;
        }
        self.published.entry(id).or_default().push(issuer);
        self.epoch = self.epoch.saturating_add(1);
        true
    }

    /// Ids revoked outright plus ids with a published revocation.
    pub fn len(&self) -> usize {
        self.own.len() + self.published.len()
    }

    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty() && self.published.is_empty()
    }
}

impl RevocationSet for Revocations {
    fn is_revoked(&self, id: &CapabilityId) -> bool {
        self.own.contains(id)
    }

    fn is_revoked_by(&self, id: &CapabilityId, issuers: &[Did]) -> bool {
        self.own.contains(id)
            || self
                .published
                .get(id)
                .is_some_and(|by| by.iter().any(|d| issuers.contains(d)))
    }

    fn epoch(&self) -> u64 {
        self.epoch
    }
}
