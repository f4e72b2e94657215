//! The inbox's bounds: unread entries counted per sending peer and in all (a frame
//! that would go past them is answered `OverQuota`, so its sender keeps it and tries
//! again later: back-pressure, never loss), the agent's acknowledgement that deletes
//! what it has read, and the retention that deletes what is older than the node keeps.
//!
//! Ages come from minute markers (`inbox-at` ‖ minute → the first index stored in that
//! minute), written with the entries in the same batch, so a marker never names an
//! entry that was not stored and every entry belongs to the marker before it.

use std::collections::HashMap;

use rocksdb::{Direction, IteratorMode};
use talos_primitives::Ed25519Public;
use talos_ratchet::at_rest;
use talos_store::db::{CF_INBOX, CF_STREAMS};

use super::staged::Staged;
use super::{Mailroom, counter_in, inbox_context};
use crate::error::DeliveryError;
use crate::layout::{
    INBOX_AT, INBOX_FIRST, INBOX_NEXT, INBOX_UNREAD, amount, inbox_at, pair, pair_bytes, unread,
};

/// Entries deleted per synced write (and per hold of the mailroom's lock).
const DELETE_CHUNK: usize = 1024;

/// How much the inbox and the per-peer state may hold. Past an inbox bound a frame is
/// answered `OverQuota` (its sender keeps it); past `max_idle_peers` the oldest idle
/// peer's state is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Unread entries one sending peer may have in the inbox.
    pub peer_inbox_max_entries: u64,
    /// Bytes of unread entries one sending peer may have in the inbox (sealed size).
    pub peer_inbox_max_bytes: u64,
    /// Unread entries in all.
    pub inbox_max_entries: u64,
    /// Bytes of unread entries in all.
    pub inbox_max_bytes: u64,
    /// Peers kept that have state here (a counter, a session, held frames) but never had
    /// a frame take effect: neither a message for the agent nor a group item. Identities
    /// cost nothing to make, so these are bounded, oldest dropped first.
    pub max_idle_peers: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            peer_inbox_max_entries: 100_000,
            peer_inbox_max_bytes: 64 << 20,
            inbox_max_entries: 1_000_000,
            inbox_max_bytes: 1 << 30,
            max_idle_peers: 4096,
        }
    }
}

/// Unread inbox entries and their bytes (sealed size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxUsage {
    /// Entries.
    pub entries: u64,
    /// Bytes.
    pub bytes: u64,
}

impl Mailroom {
    /// Sets the bounds (the defaults otherwise).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Unread entries in the inbox, in all.
    pub fn inbox_usage(&self) -> Result<InboxUsage, DeliveryError> {
        let (entries, bytes) = pair(self.store.get(CF_STREAMS, INBOX_UNREAD)?)
            .ok_or(DeliveryError::Corrupt("inbox usage"))?;
        Ok(InboxUsage { entries, bytes })
    }

    /// Whether one more entry from `peer` would go past a bound.
    pub(super) fn over_quota(
        &self,
        txn: &Staged<'_>,
        peer: &Ed25519Public,
    ) -> Result<bool, DeliveryError> {
        let corrupt = || DeliveryError::Corrupt("inbox usage");
        let (n, bytes) = pair(txn.get(CF_STREAMS, &unread(peer))?).ok_or_else(corrupt)?;
        let (total_n, total_bytes) =
            pair(txn.get(CF_STREAMS, INBOX_UNREAD)?).ok_or_else(corrupt)?;
        let l = &self.limits;
        Ok(n >= l.peer_inbox_max_entries
            || bytes >= l.peer_inbox_max_bytes
            || total_n >= l.inbox_max_entries
            || total_bytes >= l.inbox_max_bytes)
    }

    /// Counts a new entry of `len` sealed bytes from `peer`, and marks the minute it was
    /// stored in if it is the minute's first.
    pub(super) fn count_entry(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        index: u64,
        len: u64,
    ) -> Result<(), DeliveryError> {
        adjust(txn, &unread(peer), 1, len)?;
        adjust(txn, INBOX_UNREAD, 1, len)?;
        let marker = inbox_at(now() / 60);
        if txn.get(CF_STREAMS, &marker)?.is_none() {
            txn.put(CF_STREAMS, &marker, index.to_be_bytes().to_vec())?;
        }
        Ok(())
    }

    /// The agent is done with every entry up to `through` (inclusive): deletes them,
    /// durably, in synced writes of up to 1024 entries. Returns how many were deleted.
    pub fn acknowledge_inbox(&self, through: u64) -> Result<u64, DeliveryError> {
        let mut deleted = 0u64;
        loop {
            let (n, more) = self.delete_chunk(through)?;
            deleted = deleted.saturating_add(n);
            if !more {
                return Ok(deleted);
            }
        }
    }

    /// Deletes every entry stored before `now - retention` seconds (read or not; to
    /// the minute, never early). Returns how many were deleted.
    pub fn expire_inbox(&self, now: u64, retention: u64) -> Result<u64, DeliveryError> {
        let cutoff = now.saturating_sub(retention) / 60;
        let markers = self.markers()?;
        // The first minute not entirely older than the cutoff: everything before its
        // first index is expired. No such minute: every entry is.
        let keep_from = match markers.iter().find(|(minute, _)| *minute >= cutoff) {
            Some((_, index)) => *index,
            None => counter_in(&Staged::new(&self.store), INBOX_NEXT)?,
        };
        match keep_from.checked_sub(1) {
            Some(through) => self.acknowledge_inbox(through),
            None => Ok(0),
        }
    }

    /// One chunk of [`Self::acknowledge_inbox`]: (deleted, whether more may be left).
    fn delete_chunk(&self, through: u64) -> Result<(u64, bool), DeliveryError> {
        // The mailroom's lock: counts are read and written by the receive path too.
        let _guard = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let mut txn = Staged::new(&self.store);
        let first = amount(txn.get(CF_STREAMS, INBOX_FIRST)?)
            .ok_or(DeliveryError::Corrupt("inbox first"))?;
        let end = through.saturating_add(1).min(counter_in(&txn, INBOX_NEXT)?);
        if first >= end {
            return Ok((0, false));
        }
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_INBOX)?,
            IteratorMode::From(&first.to_be_bytes(), Direction::Forward),
        );
        let mut per_peer: HashMap<Ed25519Public, (u64, u64)> = HashMap::new();
        let (mut deleted, mut total_bytes, mut reached) = (0u64, 0u64, end);
        for item in iter {
            let (key, value) = item?;
            let index = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .map_err(|_| DeliveryError::Corrupt("inbox key"))?;
            if index >= end {
                break;
            }
            if deleted as usize >= DELETE_CHUNK {
                reached = index;
                break;
            }
            let len = value.len() as u64;
            // The sender is inside the sealed entry; one that does not unseal is
            // deleted all the same and counted off the total only.
            if let Some(peer) = self.entry_peer(index, &value) {
                let e = per_peer.entry(peer).or_default();
                *e = (e.0 + 1, e.1.saturating_add(len));
            }
            txn.delete(CF_INBOX, &key)?;
            deleted += 1;
            total_bytes = total_bytes.saturating_add(len);
        }
        for (peer, (n, bytes)) in &per_peer {
            release(&mut txn, &unread(peer), *n, *bytes)?;
        }
        release(&mut txn, INBOX_UNREAD, deleted, total_bytes)?;
        txn.put(CF_STREAMS, INBOX_FIRST, reached.to_be_bytes().to_vec())?;
        self.prune_markers(&mut txn, reached)?;
        txn.commit()?;
        Ok((deleted, reached < end))
    }

    fn entry_peer(&self, index: u64, sealed: &[u8]) -> Option<Ed25519Public> {
        let opened = at_rest::open(&self.storage_key, &inbox_context(index), sealed).ok()?;
        let peer: [u8; 32] = opened.get(..32)?.try_into().ok()?;
        // Sealed at rest: the key the transport authenticated when it was stored.
        Some(Ed25519Public::dangerous_from_checked_bytes(peer))
    }

    /// Minute markers, oldest first: (minute, first index).
    fn markers(&self) -> Result<Vec<(u64, u64)>, DeliveryError> {
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_STREAMS)?,
            IteratorMode::From(INBOX_AT, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            let (k, v) = item?;
            if !k.starts_with(INBOX_AT) {
                break;
            }
            // A peer key could start with the same bytes; markers are 16 bytes long.
            let minute = k.get(8..).and_then(|m| <[u8; 8]>::try_from(m).ok());
            let index = <[u8; 8]>::try_from(v.as_ref()).ok();
            if let (Some(m), Some(i)) = (minute, index) {
                out.push((u64::from_be_bytes(m), u64::from_be_bytes(i)));
            }
        }
        Ok(out)
    }

    /// Drops the markers of minutes whose every entry is below `first` (the last
    /// marker stays: the entries after it belong to it).
    fn prune_markers(&self, txn: &mut Staged<'_>, first: u64) -> Result<(), DeliveryError> {
        let markers = self.markers()?;
        for pair in markers.windows(2) {
            if let [(minute, _), (_, next_first)] = pair
                && *next_first <= first
            {
                txn.delete(CF_STREAMS, &inbox_at(*minute))?;
            }
        }
        Ok(())
    }

    /// At open, once: an inbox stored before there were markers and counts is dated now
    /// (so the retention counts from the upgrade instead of deleting it at once) and
    /// counted per sender. Markers never all go (the last one stays), so this runs on
    /// the first open of a store only.
    pub(super) fn upgrade_inbox(&self, txn: &mut Staged<'_>) -> Result<(), DeliveryError> {
        if !self.markers()?.is_empty() {
            return Ok(());
        }
        let first = amount(txn.get(CF_STREAMS, INBOX_FIRST)?)
            .ok_or(DeliveryError::Corrupt("inbox first"))?;
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_INBOX)?,
            IteratorMode::From(&first.to_be_bytes(), Direction::Forward),
        );
        let mut oldest = None;
        for item in iter {
            let (key, value) = item?;
            let index = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .map_err(|_| DeliveryError::Corrupt("inbox key"))?;
            oldest.get_or_insert(index);
            let len = value.len() as u64;
            if let Some(peer) = self.entry_peer(index, &value) {
                adjust(txn, &unread(&peer), 1, len)?;
            }
            adjust(txn, INBOX_UNREAD, 1, len)?;
        }
        let dated = oldest.unwrap_or(first);
        txn.put(
            CF_STREAMS,
            &inbox_at(now() / 60),
            dated.to_be_bytes().to_vec(),
        )
    }
}

/// Adds `n` entries of `bytes` to a count pair.
fn adjust(txn: &mut Staged<'_>, key: &[u8], n: u64, bytes: u64) -> Result<(), DeliveryError> {
    let (c, b) = pair(txn.get(CF_STREAMS, key)?).ok_or(DeliveryError::Corrupt("inbox usage"))?;
    txn.put(
        CF_STREAMS,
        key,
        pair_bytes(c.saturating_add(n), b.saturating_add(bytes)),
    )
}

/// Takes `n` entries of `bytes` off a count pair; a pair that reaches zero is deleted (a
/// peer with nothing unread keeps no key for it).
fn release(txn: &mut Staged<'_>, key: &[u8], n: u64, bytes: u64) -> Result<(), DeliveryError> {
    let (c, b) = pair(txn.get(CF_STREAMS, key)?).ok_or(DeliveryError::Corrupt("inbox usage"))?;
    let (c, b) = (c.saturating_sub(n), b.saturating_sub(bytes));
    if c == 0 {
        txn.delete(CF_STREAMS, key)
    } else {
        txn.put(CF_STREAMS, key, pair_bytes(c, b))
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
