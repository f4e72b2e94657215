//! The inbox entries the receive path just made durable, kept (sealed, as stored) so a
//! waiting long-poll or WebSocket is handed them instead of reading them back from
//! RocksDB: a blocking-pool hop and an iterator on every message's path. Only a
//! shortcut: the inbox stays the truth. An entry is served only from an unbroken run
//! that starts exactly at the index asked for, so anything written another way (frames
//! released from a stalled stream) or deleted (acknowledged, expired) is read from the
//! store instead.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use talos_delivery::{Delivered, DeliveryError, Mailroom};

/// Sealed bytes kept at most; beyond it the oldest entries go (they are on disk).
const RECENT_BYTES: usize = 4 << 20;

#[derive(Clone, Default)]
pub(super) struct Arrived(Arc<Mutex<Entries>>);

#[derive(Default)]
struct Entries {
    /// (inbox index, sealed value), in index order.
    kept: VecDeque<(u64, Vec<u8>)>,
    bytes: usize,
}

impl Arrived {
    /// Keeps the inbox puts of a durable group (key: the index, big-endian).
    pub(super) fn keep<'a>(&self, puts: impl Iterator<Item = (&'a [u8], &'a [u8])>) {
        let Ok(mut e) = self.0.lock() else {
            return;
        };
        for (key, value) in puts {
            let Ok(index) = <[u8; 8]>::try_from(key).map(u64::from_be_bytes) else {
                continue;
            };
            // Kept entries are one unbroken run (so an index's place is its distance
            // from the first): after a gap (an entry written another way) or out of
            // order, start again from this one.
            if e.kept
                .back()
                .is_some_and(|(last, _)| last.checked_add(1) != Some(index))
            {
                e.kept.clear();
                e.bytes = 0;
            }
            e.bytes += value.len();
            e.kept.push_back((index, value.to_vec()));
            while e.bytes > RECENT_BYTES {
                match e.kept.pop_front() {
                    Some((_, v)) => e.bytes -= v.len(),
                    None => e.bytes = 0,
                }
            }
        }
    }

    /// Up to `max` entries from `from` on, if the kept ones hold `from`: the unbroken
    /// run of indices from there, unsealed (outside the lock).
    pub(super) fn serve(
        &self,
        mailroom: &Mailroom,
        from: u64,
        max: usize,
    ) -> Result<Option<Vec<Delivered>>, DeliveryError> {
        let Some(run) = self.run(from, max) else {
            return Ok(None);
        };
        let got = run
            .iter()
            .map(|(index, sealed)| mailroom.unseal_inbox(*index, sealed))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(got))
    }

    /// The sealed entries [`Arrived::serve`] unseals.
    fn run(&self, from: u64, max: usize) -> Option<Vec<(u64, Vec<u8>)>> {
        let e = self.0.lock().ok()?;
        let first = e.kept.front().map(|(i, _)| *i)?;
        let at = usize::try_from(from.checked_sub(first)?).ok()?;
        if e.kept.get(at)?.0 != from {
            return None;
        }
        Some(
            (from..)
                .zip(e.kept.iter().skip(at))
                .take(max)
                .take_while(|(want, (index, _))| index == want)
                .map(|(_, (index, sealed))| (*index, sealed.clone()))
                .collect(),
        )
    }

    /// The agent is done with everything through `through`: it is deleted, so it is
    /// never served again.
    pub(super) fn forget_through(&self, through: u64) {
        if let Ok(mut e) = self.0.lock() {
            while e.kept.front().is_some_and(|(i, _)| *i <= through) {
                if let Some((_, v)) = e.kept.pop_front() {
                    e.bytes = e.bytes.saturating_sub(v.len());
                }
            }
        }
    }

    /// Entries may have been deleted out of order (expiry): forget them all.
    pub(super) fn clear(&self) {
        if let Ok(mut e) = self.0.lock() {
            e.kept.clear();
            e.bytes = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(a: &Arrived, indices: &[u64]) {
        let owned: Vec<([u8; 8], Vec<u8>)> = indices
            .iter()
            .map(|i| (i.to_be_bytes(), vec![*i as u8; 10]))
            .collect();
        a.keep(owned.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
    }

    fn served(a: &Arrived, from: u64, max: usize) -> Option<Vec<u64>> {
        a.run(from, max)
            .map(|r| r.into_iter().map(|(i, _)| i).collect())
    }

    /// Served only from the index asked for, along an unbroken run; acknowledged and
    /// expired entries are never served; the kept bytes are bounded.
    #[test]
    fn serves_only_unbroken_runs_it_holds() {
        let a = Arrived::default();
        assert_eq!(served(&a, 1, 10), None);
        keep(&a, &[3, 4, 5]);
        assert_eq!(served(&a, 3, 10), Some(vec![3, 4, 5]));
        assert_eq!(served(&a, 4, 1), Some(vec![4]));
        assert_eq!(served(&a, 2, 10), None, "before what is kept");
        assert_eq!(served(&a, 6, 10), None, "after what is kept");
        a.forget_through(3);
        assert_eq!(served(&a, 3, 10), None);
        assert_eq!(served(&a, 4, 10), Some(vec![4, 5]));
        keep(&a, &[7, 8]); // 6 was written another way: 4 and 5 go
        assert_eq!(served(&a, 4, 10), None);
        assert_eq!(served(&a, 6, 10), None, "a gap is read from the store");
        assert_eq!(served(&a, 7, 10), Some(vec![7, 8]));
        keep(&a, &[2]); // out of order: everything before is dropped
        assert_eq!(served(&a, 7, 10), None);
        assert_eq!(served(&a, 2, 10), Some(vec![2]));
        a.clear();
        assert_eq!(served(&a, 2, 10), None);
        let big = vec![0u8; 1 << 20];
        for i in 0..10u64 {
            a.keep([(i.to_be_bytes().as_slice(), big.as_slice())].into_iter());
        }
        assert_eq!(served(&a, 0, 10), None, "the oldest went past the bound");
        assert_eq!(served(&a, 6, 10), Some(vec![6, 7, 8, 9]));
    }
}
