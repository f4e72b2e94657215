//! A bounded map keyed by text, evicting the oldest insertion first: the one mechanism
//! behind both the verified-chain cache and the DID resolver cache.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// At most `capacity` entries; insertion order is remembered for eviction.
pub(crate) struct FifoMap<V> {
    map: HashMap<Arc<str>, V, foldhash::fast::RandomState>,
    order: VecDeque<Arc<str>>,
    capacity: usize,
}

impl<V> FifoMap<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            // Grown on demand: an idle node should not hold a full cache's table.
            map: HashMap::with_hasher(foldhash::fast::RandomState::default()),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.map.remove(key);
        // Keys of removed entries stay in `order` until popped; compact before that
        // queue can outgrow the map by much, so it stays bounded too.
        if self.order.len() > 2 * self.capacity {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    /// Inserts unless present, evicting the oldest entries to stay within capacity.
    pub(crate) fn insert(&mut self, key: &str, value: V) {
        if self.map.contains_key(key) {
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
        let k: Arc<str> = Arc::from(key);
        self.order.push_back(k.clone());
        self.map.insert(k, value);
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) const fn capacity(&self) -> usize {
        self.capacity
    }
}
