//! Group traffic on its way out: a group message staged once per member as pairwise
//! frames, and the bounded queue that holds them while a member has no session yet.

use std::collections::HashMap;

use talos_primitives::Ed25519Public;
use talos_store::db::{CF_GROUPS, CF_SESSIONS};
use tracing::warn;

use super::super::group_store::{MAX_QUEUED, QUEUE, QUEUE_RANGE, key, numbered, range, set_range};
use super::super::staged::Staged;
use super::super::{Mailroom, short_id};
use super::CONTENT_GROUP;
use crate::error::DeliveryError;
use talos_ratchet::group::wire::GroupWire;

impl Mailroom {
    /// Peers with group sends waiting for a session (up to `max`), after `after` in key
    /// order (a cursor, so peers whose bundles cannot be found do not starve the rest).
    pub fn queued_peers(
        &self,
        after: Option<&Ed25519Public>,
        max: usize,
    ) -> Result<Vec<Ed25519Public>, DeliveryError> {
        Ok(self
            .ids_under(QUEUE_RANGE, after.map(|p| p.as_bytes()), max)?
            .into_iter()
            .filter_map(|id| Ed25519Public::from_bytes(id).ok())
            .collect())
    }

    /// Moves the group sends queued for `peer` into the outbox, starting the session
    /// from `bundle` if there is none. Returns how many moved.
    pub fn flush_queued(
        &self,
        peer: &Ed25519Public,
        bundle: Option<&talos_ratchet::PreKeyBundle>,
    ) -> Result<usize, DeliveryError> {
        let _guard = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let mut txn = Staged::new(&self.store);
        let (head, tail) = range(&txn, &key(QUEUE_RANGE, peer.as_bytes()))?;
        if head == tail {
            return Ok(0);
        }
        let (mut record, _) = self.session_for(&txn, &mut HashMap::new(), peer, bundle)?;
        let n = self.drain_queue(&mut txn, peer, &mut record)?;
        self.put_session(&mut txn, peer, &record)?;
        txn.commit()?;
        Ok(n)
    }

    /// Encrypts the sends queued for `peer` on `record`, in order, and empties the queue.
    /// Returns how many there were.
    pub(in crate::mailroom) fn drain_queue(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        record: &mut super::super::SessionRecord,
    ) -> Result<usize, DeliveryError> {
        let range_key = key(QUEUE_RANGE, peer.as_bytes());
        let (head, tail) = range(txn, &range_key)?;
        for n in head..tail {
            let k = numbered(QUEUE, peer.as_bytes(), n);
            let plain = self
                .open_get(txn, &k, "queued send does not unseal")?
                .ok_or(DeliveryError::Corrupt("queued send missing"))?;
            let (content, body) = plain
                .split_first()
                .ok_or(DeliveryError::Corrupt("queued send"))?;
            self.encrypt_into(txn, peer, record, *content, body)?;
            txn.delete(CF_GROUPS, &k)?;
        }
        if head != tail {
            set_range(txn, &range_key, tail, tail)?;
            txn.touch(*peer);
        }
        Ok(usize::try_from(tail - head).unwrap_or(usize::MAX))
    }

    /// Sends a group item to `peer` in this commit: straight into the outbox when a
    /// session exists and nothing is queued before it, otherwise into the peer's queue
    /// (in order) until the node has found the peer's bundle. False when that queue is
    /// full: a peer whose bundle has not been found for `MAX_QUEUED` sends is skipped
    /// (and logged) rather than holding up the whole group.
    pub(super) fn stage_group_send(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        item: &GroupWire,
    ) -> Result<bool, DeliveryError> {
        let bytes = item.encode();
        let range_key = key(QUEUE_RANGE, peer.as_bytes());
        let (head, tail) = range(txn, &range_key)?;
        if head == tail && txn.get(CF_SESSIONS, peer.as_bytes())?.is_some() {
            self.stage_send(txn, peer, None, CONTENT_GROUP, &bytes)?;
            txn.touch(*peer);
            return Ok(true);
        }
        if tail - head >= MAX_QUEUED {
            warn!(peer = %short_id(peer), "group send queue full (no session found); skipped");
            return Ok(false);
        }
        let mut plain = zeroize::Zeroizing::new(Vec::with_capacity(1 + bytes.len()));
        plain.push(CONTENT_GROUP);
        plain.extend_from_slice(&bytes);
        self.seal_put(txn, &numbered(QUEUE, peer.as_bytes(), tail), &plain)?;
        set_range(txn, &range_key, head, tail + 1)?;
        txn.touch_queue();
        Ok(true)
    }

    /// Appends `content ‖ body` of a message the peer refused to its queue of sends
    /// waiting for a session (`resend.rs`). Not bounded by `MAX_QUEUED`: these are the
    /// agent's own messages, already accepted as durable, and the outbox they came from
    /// bounded them.
    pub(in crate::mailroom) fn requeue(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        plain: &[u8],
    ) -> Result<(), DeliveryError> {
        let range_key = key(QUEUE_RANGE, peer.as_bytes());
        let (head, tail) = range(txn, &range_key)?;
        let after = tail
            .checked_add(1)
            .ok_or(DeliveryError::Corrupt("send queue exhausted"))?;
        self.seal_put(txn, &numbered(QUEUE, peer.as_bytes(), tail), plain)?;
        set_range(txn, &range_key, head, after)?;
        txn.touch_queue();
        Ok(())
    }
}
