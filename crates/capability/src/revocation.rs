//! Revocation: by token id, checked per link in O(1) for the verifier's own and in
//! O(issuers above the link) for published ones (a chain has at most a handful).

use std::collections::HashSet;

use talos_primitives::{CapabilityId, Did};

use crate::published::{Publication, Published};

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
    /// Called by [`crate::chain::verify_chain`] with the issuers (root first) of a chain
    /// whose root is trusted and whose links and signatures verified, before its
    /// revocations are checked: the keys whose published revocations can matter here. A
    /// set bounding the publishers it remembers uses them to keep those over strangers'
    /// (see [`Revocations::note_issuers`], which a caller holding the set mutably feeds
    /// with what this reported, as the node's gate does). By default: nothing.
    fn saw_issuers(&self, issuers: &[Did]) {
        let _ = issuers;
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

/// What a node keeps: its own revocations, which apply to any link, and revocations
/// published by issuers, each applying only to links that issuer made or that descend
/// from one it made. Published ones are kept per (publisher, id), each publisher under its
/// own quota, with a bounded table of publishers where issuers of chains seen here are
/// never displaced by strangers ([`crate::published`]).
#[derive(Debug, Default, Clone)]
pub struct Revocations {
    own: HashSet<CapabilityId>,
    published: Published<Did>,
    epoch: u64,
}

impl Revocations {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set whose published part has other bounds (see [`Published::with_limits`]).
    pub fn with_limits(max_publishers: usize, per_publisher: usize, max_known: usize) -> Self {
        Self {
            own: HashSet::new(),
            published: Published::with_limits(max_publishers, per_publisher, max_known),
            epoch: 0,
        }
    }

    /// Revokes `id` outright. Returns false if it already was.
    pub fn revoke(&mut self, id: CapabilityId) -> bool {
        let added = self.own.insert(id);
        if added {
            self.epoch = self.epoch.saturating_add(1);
        }
        added
    }

    /// Records that `issuer` revoked `id`. Returns false if already known, or refused by
    /// the bounds (the publisher's quota is full, or no room for another publisher).
    pub fn revoke_published(&mut self, issuer: Did, id: CapabilityId) -> bool {
        self.publish(issuer, id, false).applied()
    }

    /// [`Self::revoke_published`], saying what happened (a stranger displaced to make
    /// room, whose durable copies the caller deletes). `pinned`: the caller knows the
    /// issuer is pinned (a durable mark, when restoring).
    pub fn publish(&mut self, issuer: Did, id: CapabilityId, pinned: bool) -> Publication<Did> {
        self.published.publish(issuer, id, pinned)
    }

    /// Notes the issuers of a chain seen here (rooted at a trusted root, signatures
    /// checked; see [`RevocationSet::saw_issuers`]): their publications are pinned.
    pub fn note_issuers(&mut self, issuers: &[Did]) {
        for d in issuers {
            self.published.note(*d);
        }
    }

    /// The published part (counts, pins).
    pub fn published(&self) -> &Published<Did> {
        &self.published
    }

    /// Issuers pinned after they first published, whose pin is not durable yet.
    pub fn take_unsaved_pins(&mut self) -> Vec<Did> {
        self.published.take_unsaved_pins()
    }

    /// Ids revoked outright plus (publisher, id) pairs published.
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
        // Only (issuer of this link or of one above it, id) pairs are consulted: a
        // publisher that issued none of the chain's links cannot affect its verdict.
        self.own.contains(id)
            || (!self.published.is_empty()
                && issuers.iter().any(|d| self.published.contains(d, id)))
    }

    fn epoch(&self) -> u64 {
        // Both only move forward, so the sum changes whenever either does.
        self.epoch.wrapping_add(self.published.epoch())
    }
}
