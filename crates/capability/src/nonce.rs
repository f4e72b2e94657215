//! A bounded replay cache for call and invocation nonces, kept per caller.
//!
//! A nonce is accepted only if its date (`iat`) is within `ttl` of now and the caller has
//! not used it before. Entries expire after `ttl`. Memory is bounded three ways: nonces in
//! all, nonces per caller, and callers. Forgetting a nonce early never re-opens it: the
//! forgetting raises a *floor*, and nothing dated at or before a floor is accepted, so the
//! cache fails closed, never open.
//!
//! Why per caller: with one shared cache, a caller whose clock runs ahead (or who lies
//! about it) fills the cache with calls dated in the future; evicting them raised the one
//! floor past every honest clock, and everyone was refused until the real time caught up
//! (finding #6 of issue 17). Now:
//!
//! - each caller has its own entries and its own floor, so filling the cache and its
//!   floor rising hurt only that caller;
//! - a floor never passes `now`: an entry dated ahead of now is never forgotten early
//!   (forgetting it safely would need a floor past now); a caller whose own share is full
//!   of such entries is refused until their dates pass, and nobody else is affected;
//! - when a whole caller must be forgotten (too many callers, or all nonces in use), the
//!   least recently used caller whose calls are all dated at or before now goes, and its
//!   highest date is kept as a floor in one of [`TOMBS`] buckets picked by a keyed hash of
//!   the caller. When that caller comes back, its floor starts from its bucket, so none of
//!   its forgotten nonces can be replayed. A bucket is shared by the callers hashing to it,
//!   but its floor is at most the time of the forgetting (never ahead of now), the hash is
//!   keyed per process so nobody can aim at another caller's bucket, and it costs a caller
//!   new to the cache (or forgotten by it) only calls dated before that moment.
//!
//! Replays are by the same caller: the caller is the authenticated key that signed the
//! invocation (or owns the connection), so a captured call sent by anyone else fails the
//! holder check before it reaches this cache.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

use crate::error::CapError;

/// Buckets keeping the floors of forgotten callers: 8 bytes each.
pub const TOMBS: usize = 4096;
/// Callers [`ReplayCache::new`] tracks at most.
const DEFAULT_CALLERS: usize = 1024;

/// One caller's nonces.
#[derive(Debug)]
struct Slot {
    seen: HashMap<[u8; 16], u64>,
    /// Arrival order, for expiry and for forgetting the oldest first.
    order: VecDeque<([u8; 16], u64)>,
    /// Nothing dated at or before this is accepted; never ahead of the `now` that set it.
    floor: Option<u64>,
    /// The highest date this caller used (and at least its floor): the floor to keep if
    /// the whole caller is forgotten. Above now, it pins the caller in the cache.
    high: u64,
    /// When this caller last had a nonce accepted (the cache's tick), for LRU.
    used: u64,
}

impl Slot {
    fn new(floor: Option<u64>) -> Self {
        Self {
            seen: HashMap::new(),
            order: VecDeque::new(),
            floor,
            high: floor.unwrap_or(0),
            used: 0,
        }
    }

    /// Forgets the entries past the window (a replay of them is stale); how many.
    fn expire(&mut self, ttl: u64, now: u64) -> usize {
        let mut gone = 0;
        while let Some(&(n, t)) = self.order.front() {
            if t.saturating_add(ttl) >= now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&n);
            gone += 1;
        }
        // Give back the room of a share that has mostly expired: maps never shrink by
        // themselves, and many callers each once full would otherwise hold far more
        // memory than the nonces counted. Shrinking only below a quarter keeps the cost
        // amortized over the entries expired.
        if gone > 0 && self.seen.capacity() > 64 && self.seen.len() < self.seen.capacity() / 4 {
            let keep = self.seen.len().saturating_mul(2);
            self.seen.shrink_to(keep);
            self.order.shrink_to(keep);
        }
        gone
    }

    fn refuses(&self, nonce: &[u8; 16], iat: u64) -> bool {
        self.floor.is_some_and(|f| iat <= f) || self.seen.contains_key(nonce)
    }

    /// Forgets the oldest nonce to make room, raising the floor to its date so it cannot
    /// come back: the date forgotten. `None` (nothing forgotten) when there is none or it
    /// is dated ahead of `now`, as the floor would then pass now.
    fn forget_oldest(&mut self, now: u64) -> Option<u64> {
        let &(n, t) = self.order.front()?;
        if t > now {
            return None;
        }
        self.order.pop_front();
        self.seen.remove(&n);
        self.floor = Some(self.floor.map_or(t, |f| f.max(t)));
        Some(t)
    }

    fn remember(&mut self, nonce: [u8; 16], iat: u64, tick: u64) {
        self.seen.insert(nonce, iat);
        self.order.push_back((nonce, iat));
        self.high = self.high.max(iat);
        self.used = tick;
    }
}

/// Bounded nonce memory, per caller `K`.
#[derive(Debug)]
pub struct ReplayCache<K> {
    ttl: u64,
    capacity: usize,
    per_caller: usize,
    callers: usize,
    slots: HashMap<K, Slot, foldhash::fast::RandomState>,
    /// Nonces remembered, over all callers.
    total: usize,
    /// One past the highest date of the callers forgotten into each bucket (0: none), so
    /// a caller starting afresh refuses `iat < bucket`.
    tombs: Box<[u64]>,
    /// Keyed per instance, so a caller cannot pick a key landing in another's bucket.
    tomb_hash: foldhash::fast::RandomState,
    tick: u64,
}

impl<K: Hash + Eq + Clone> ReplayCache<K> {
    /// A cache remembering up to `capacity` nonces for `ttl` (in the unit of the dates
    /// given to [`check`](Self::check)). One caller may hold an eighth of them (all of a
    /// small cache of up to 64), and up to 1024 callers are tracked.
    pub fn new(ttl: u64, capacity: usize) -> Self {
        let per_caller = (capacity / 8).max(capacity.min(64));
        Self::with_limits(ttl, capacity, per_caller, capacity.min(DEFAULT_CALLERS))
    }

    /// A cache remembering up to `capacity` nonces in all, `per_caller` for any one
    /// caller, and `callers` callers, each for `ttl`.
    pub fn with_limits(ttl: u64, capacity: usize, per_caller: usize, callers: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            ttl,
            capacity,
            per_caller: per_caller.clamp(1, capacity),
            callers: callers.max(1),
            // Grown on demand, bounded by `callers`.
            slots: HashMap::with_hasher(foldhash::fast::RandomState::default()),
            total: 0,
            tombs: vec![0; TOMBS].into_boxed_slice(),
            tomb_hash: foldhash::fast::RandomState::default(),
            tick: 0,
        }
    }

    /// Accepts `caller`'s fresh `(nonce, iat)` once; refuses replays, stale or
    /// future-dated ones (more than `ttl` from `now`), and, failing closed, calls it has
    /// no room to remember. Every refusal is [`CapError::Replay`].
    pub fn check(
        &mut self,
        caller: &K,
        nonce: [u8; 16],
        iat: u64,
        now: u64,
    ) -> Result<(), CapError> {
        if iat.saturating_add(self.ttl) < now || iat > now.saturating_add(self.ttl) {
            return Err(CapError::Replay);
        }
        self.tick = self.tick.saturating_add(1);
        let tick = self.tick;
        let Some(slot) = self.slots.get_mut(caller) else {
            return self.admit(caller, nonce, iat, now);
        };
        self.total = self.total.saturating_sub(slot.expire(self.ttl, now));
        if slot.refuses(&nonce, iat) {
            return Err(CapError::Replay);
        }
        if slot.seen.len() >= self.per_caller {
            // This caller's share is full: only its own oldest nonce makes way.
            let t = slot.forget_oldest(now).ok_or(CapError::Replay)?;
            self.total = self.total.saturating_sub(1);
            if iat <= t {
                return Err(CapError::Replay);
            }
        }
        if self.total < self.capacity {
            // The warm path: one lookup of the caller, no allocation once its share has
            // grown.
            slot.remember(nonce, iat, tick);
            self.total += 1;
            return Ok(());
        }
        // All nonces in use: forget the least recently used other caller (one may hold
        // none, hence the loop), else this caller's own oldest nonce.
        while self.total >= self.capacity {
            if !self.forget_caller(Some(caller), now) {
                let slot = self.slots.get_mut(caller).ok_or(CapError::Replay)?;
                let t = slot.forget_oldest(now).ok_or(CapError::Replay)?;
                self.total = self.total.saturating_sub(1);
                if iat <= t {
                    return Err(CapError::Replay);
                }
            }
        }
        let slot = self.slots.get_mut(caller).ok_or(CapError::Replay)?;
        slot.remember(nonce, iat, tick);
        self.total += 1;
        Ok(())
    }

    /// A caller new to the cache (or forgotten by it): its floor comes from its bucket.
    fn admit(&mut self, caller: &K, nonce: [u8; 16], iat: u64, now: u64) -> Result<(), CapError> {
        let bucket = self.bucket(caller);
        let tomb = self.tombs.get(bucket).copied().unwrap_or(0);
        if iat < tomb {
            return Err(CapError::Replay);
        }
        if self.slots.len() >= self.callers && !self.forget_caller(None, now) {
            return Err(CapError::Replay);
        }
        while self.total >= self.capacity {
            if !self.forget_caller(None, now) {
                return Err(CapError::Replay);
            }
        }
        let mut slot = Slot::new(tomb.checked_sub(1));
        slot.remember(nonce, iat, self.tick);
        self.slots.insert(caller.clone(), slot);
        self.total += 1;
        Ok(())
    }

    /// Forgets the least recently used caller other than `keep` whose calls are all dated
    /// at or before `now`, keeping its highest date in its bucket (so that floor is at most
    /// now). False when there is none: callers with calls dated ahead of now stay until
    /// those dates pass, as forgetting them safely would need a floor past now.
    fn forget_caller(&mut self, keep: Option<&K>, now: u64) -> bool {
        let victim = self
            .slots
            .iter()
            .filter(|(k, s)| s.high <= now && keep.is_none_or(|c| c != *k))
            .min_by_key(|(_, s)| s.used)
            .map(|(k, _)| k.clone());
        let Some(victim) = victim else {
            return false;
        };
        let bucket = self.bucket(&victim);
        if let Some(slot) = self.slots.remove(&victim) {
            self.total = self.total.saturating_sub(slot.seen.len());
            // Past the window everything it sent is stale anyway: no floor needed.
            if slot.high.saturating_add(self.ttl) >= now
                && let Some(tomb) = self.tombs.get_mut(bucket)
            {
                *tomb = (*tomb).max(slot.high.saturating_add(1));
            }
        }
        true
    }

    fn bucket(&self, caller: &K) -> usize {
        // Truncating the hash is fine: any bits pick a bucket.
        (self.tomb_hash.hash_one(caller) as usize) % TOMBS
    }

    /// Nonces currently remembered, over all callers.
    pub fn len(&self) -> usize {
        self.total
    }

    /// True when no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Callers currently tracked.
    pub fn callers(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_stale_future_and_eviction() {
        let mut c = ReplayCache::with_limits(60, 8, 2, 4);
        let a = 1u8;
        c.check(&a, [1; 16], 100, 100).unwrap();
        assert_eq!(c.check(&a, [1; 16], 100, 101), Err(CapError::Replay));
        assert_eq!(c.check(&a, [2; 16], 10, 100), Err(CapError::Replay));
        assert_eq!(c.check(&a, [3; 16], 500, 100), Err(CapError::Replay));
        c.check(&a, [2; 16], 101, 101).unwrap();
        // The caller's share is full: its oldest (iat 100) is forgotten and its floor
        // rises to 100.
        c.check(&a, [3; 16], 102, 102).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.check(&a, [1; 16], 100, 102), Err(CapError::Replay));
        // Another caller is not affected by that floor.
        c.check(&2u8, [9; 16], 100, 102).unwrap();
        // After the TTL, entries expire.
        c.check(&a, [4; 16], 300, 300).unwrap();
        assert_eq!(c.check(&a, [4; 16], 300, 300), Err(CapError::Replay));
    }
}
