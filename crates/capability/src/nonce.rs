//! A bounded replay cache for invocation nonces.
//!
//! An invocation is accepted only if its `iat` is within `ttl` of now and its nonce has
//! not been seen. Entries expire after `ttl`. When the cache is full, the oldest entry is
//! evicted and the cache's floor rises to that entry's `iat`: from then on nothing issued at
//! or before the floor is accepted, so an evicted nonce can never be replayed. Under a flood
//! larger than the capacity within one second, fresh invocations from that second are
//! refused too: the cache fails closed, never open.

use std::collections::{HashMap, VecDeque};

use crate::error::CapError;

/// Bounded nonce memory.
#[derive(Debug)]
pub struct NonceCache {
    ttl: u64,
    capacity: usize,
    seen: HashMap<[u8; 16], u64>,
    order: VecDeque<([u8; 16], u64)>,
    floor: Option<u64>,
}

impl NonceCache {
    /// A cache remembering up to `capacity` nonces for `ttl` seconds.
    pub fn new(ttl: u64, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            ttl,
            capacity,
            seen: HashMap::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::new(),
            floor: None,
        }
    }

    /// Accepts a fresh `(nonce, iat)` once; refuses replays and stale or future-dated ones.
    pub fn check(&mut self, nonce: [u8; 16], iat: u64, now: u64) -> Result<(), CapError> {
        while let Some(&(n, t)) = self.order.front() {
            if t.saturating_add(self.ttl) >= now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&n);
        }
        let stale = iat.saturating_add(self.ttl) < now;
        let future = iat > now.saturating_add(self.ttl);
        let below_floor = self.floor.is_some_and(|f| iat <= f);
        if stale || future || below_floor || self.seen.contains_key(&nonce) {
            return Err(CapError::Replay);
        }
        if self.seen.len() >= self.capacity
            && let Some((n, t)) = self.order.pop_front()
        {
            self.seen.remove(&n);
            self.floor = Some(self.floor.map_or(t, |f| f.max(t)));
            if iat <= t {
                return Err(CapError::Replay);
            }
        }
        self.seen.insert(nonce, iat);
        self.order.push_back((nonce, iat));
        Ok(())
    }

    /// Nonces currently remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_stale_future_and_eviction() {
        let mut c = NonceCache::new(60, 2);
        c.check([1; 16], 100, 100).unwrap();
        assert_eq!(c.check([1; 16], 100, 101), Err(CapError::Replay));
        assert_eq!(c.check([2; 16], 10, 100), Err(CapError::Replay));
        assert_eq!(c.check([3; 16], 500, 100), Err(CapError::Replay));
        c.check([2; 16], 101, 101).unwrap();
        // Full: the oldest (iat 100) is evicted and the floor rises to 100.
        c.check([3; 16], 102, 102).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.check([1; 16], 100, 102), Err(CapError::Replay));
        // After the TTL, entries expire.
        c.check([4; 16], 300, 300).unwrap();
        assert_eq!(c.len(), 1);
    }
}
