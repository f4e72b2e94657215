//! Revocations published by others (gossiped notices, chain events), kept per publisher.
//!
//! Anyone can sign a revocation for any id (ids are chosen by issuers, and keys are free),
//! so storage is keyed by (publisher, id) and each publisher has a quota of its own: a
//! publisher filling its quota hurts only itself, and no stranger can take a slot another
//! publisher needs (there is no per-id cap). Verdicts only consult the pairs whose
//! publisher issued a link of the chain or one above it ([`crate::RevocationSet`]).
//!
//! What is shared is the table of publishers, which must be bounded too. Publishers that
//! issued a link of a chain seen here (rooted at a trusted root, signatures checked;
//! [`Published::note`]) are *pinned*: they are never displaced. A publisher never seen
//! issuing anything here is a *stranger*: when the table is full, a new publisher takes
//! the place of the least recently active stranger, and if every publisher is pinned it is
//! refused. A flood of fresh throwaway keys therefore only churns the strangers' part; an
//! issuer of a chain this node verified keeps its revocations. (A stranger's revocations
//! are best effort under such a flood: an honest issuer whose chains this node has not
//! yet seen is indistinguishable from a throwaway key. The chain, where followed, is the
//! durable path for those.)

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use talos_primitives::CapabilityId;

/// Ids one publisher may have revoked here; beyond it, its new publications are refused
/// (never its old ones forgotten: an applied revocation does not lapse because of its
/// publisher's later activity).
pub const PER_PUBLISHER: usize = 1024;
/// Publishers tracked at once. With [`PER_PUBLISHER`], at most 1,048,576 (publisher, id)
/// pairs: about 40 MB in memory at worst, less than the per-id table this replaced.
pub const MAX_PUBLISHERS: usize = 1024;
/// Issuers of verified chains remembered before they publish anything, so that their
/// first publication is pinned (about 1 MB).
pub const MAX_KNOWN: usize = 16_384;

#[derive(Debug, Clone)]
struct Publisher {
    ids: HashSet<CapabilityId>,
    /// Issued a link of a chain seen here: never displaced.
    pinned: bool,
    /// The tick of its last applied publication (least recently active strangers go first).
    active: u64,
}

/// What became of a publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publication<K> {
    /// Applied. `pinned`: its publisher issued a link of a chain seen here. `evicted`: a
    /// stranger displaced to make room, with the ids it had revoked (the caller deletes
    /// their durable copies, so disk stays as bounded as memory).
    Applied {
        /// The publisher is pinned.
        pinned: bool,
        /// The stranger displaced, and its ids.
        evicted: Option<(K, Vec<CapabilityId>)>,
    },
    /// Already known: nothing changed.
    Known,
    /// Dropped: the publisher's quota is full, or every tracked publisher is pinned.
    Refused,
}

impl<K> Publication<K> {
    /// True when the publication was applied.
    pub fn applied(&self) -> bool {
        matches!(self, Publication::Applied { .. })
    }
}

/// Revocations by publisher `K` (a DID for notices, a chain key for chain events).
#[derive(Debug, Clone)]
pub struct Published<K> {
    by: HashMap<K, Publisher>,
    /// Issuers noted but not (yet) publishing, with the tick they were last noted.
    known: HashMap<K, u64>,
    /// Publishers pinned after their first publication, whose pin is not yet durable.
    unsaved: Vec<K>,
    pairs: usize,
    tick: u64,
    epoch: u64,
    max_publishers: usize,
    per_publisher: usize,
    max_known: usize,
}

impl<K: Copy + Eq + Hash> Default for Published<K> {
    fn default() -> Self {
        Self::with_limits(MAX_PUBLISHERS, PER_PUBLISHER, MAX_KNOWN)
    }
}

impl<K: Copy + Eq + Hash> Published<K> {
    /// An empty table with the default bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table with other bounds (each at least 1).
    pub fn with_limits(max_publishers: usize, per_publisher: usize, max_known: usize) -> Self {
        Self {
            by: HashMap::new(),
            known: HashMap::new(),
            unsaved: Vec::new(),
            pairs: 0,
            tick: 0,
            epoch: 0,
            max_publishers: max_publishers.max(1),
            per_publisher: per_publisher.max(1),
            max_known: max_known.max(1),
        }
    }

    /// Notes that `key` issued a link of a chain seen here (rooted at a trusted root, its
    /// signatures checked): its publications are pinned from now on. The memory of such
    /// issuers is bounded, least recently noted forgotten first; a publisher already
    /// pinned stays pinned.
    pub fn note(&mut self, key: K) {
        self.tick = self.tick.saturating_add(1);
        if let Some(p) = self.by.get_mut(&key) {
            if !p.pinned {
                p.pinned = true;
                self.unsaved.push(key);
            }
            return;
        }
        if !self.known.contains_key(&key) && self.known.len() >= self.max_known {
            // A linear scan, on the cold path only (a new issuer seen in a verified chain,
            // at most `max_known` entries).
            let oldest = self.known.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.known.remove(&k);
            }
        }
        self.known.insert(key, self.tick);
    }

    /// Applies `key`'s revocation of `id`. `pinned` says the caller knows the publisher is
    /// pinned (a durable mark, on restore); otherwise it is pinned if noted.
    pub fn publish(&mut self, key: K, id: CapabilityId, pinned: bool) -> Publication<K> {
        self.tick = self.tick.saturating_add(1);
        if let Some(p) = self.by.get_mut(&key) {
            if p.ids.contains(&id) {
                return Publication::Known;
            }
            if p.ids.len() >= self.per_publisher {
                return Publication::Refused;
            }
            p.ids.insert(id);
            p.active = self.tick;
            p.pinned |= pinned;
            let pinned = p.pinned;
            self.pairs = self.pairs.saturating_add(1);
            self.epoch = self.epoch.saturating_add(1);
            return Publication::Applied {
                pinned,
                evicted: None,
            };
        }
        let pinned = pinned || self.known.contains_key(&key);
        let mut evicted = None;
        if self.by.len() >= self.max_publishers {
            // Room is made only by displacing a stranger, least recently active first; a
            // pinned publisher is never displaced, so a flood of fresh keys cannot make
            // an issuer of a verified chain lose its revocations.
            let victim = self
                .by
                .iter()
                .filter(|(_, p)| !p.pinned)
                .min_by_key(|(_, p)| p.active)
                .map(|(k, _)| *k);
            let Some(victim) = victim else {
                return Publication::Refused;
            };
            if let Some(p) = self.by.remove(&victim) {
                self.pairs = self.pairs.saturating_sub(p.ids.len());
                evicted = Some((victim, p.ids.into_iter().collect()));
            }
        }
        self.known.remove(&key);
        self.by.insert(
            key,
            Publisher {
                ids: HashSet::from([id]),
                pinned,
                active: self.tick,
            },
        );
        self.pairs = self.pairs.saturating_add(1);
        self.epoch = self.epoch.saturating_add(1);
        Publication::Applied { pinned, evicted }
    }

    /// True when `key` revoked `id`.
    pub fn contains(&self, key: &K, id: &CapabilityId) -> bool {
        self.by.get(key).is_some_and(|p| p.ids.contains(id))
    }

    /// True when `key` is tracked and pinned.
    pub fn is_pinned(&self, key: &K) -> bool {
        self.by.get(key).is_some_and(|p| p.pinned)
    }

    /// Publishers pinned after they first published, whose pin the caller has not made
    /// durable yet (drained; at most one entry per tracked publisher).
    pub fn take_unsaved_pins(&mut self) -> Vec<K> {
        std::mem::take(&mut self.unsaved)
    }

    /// (publisher, id) pairs held.
    pub fn len(&self) -> usize {
        self.pairs
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Publishers tracked.
    pub fn publishers(&self) -> usize {
        self.by.len()
    }

    /// Issuers noted that have not published.
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// Changes whenever a revocation is applied or displaced.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}
