//! Idle peers: peers with state on this node (a stream counter moved on by refused
//! frames, a session whose frames carried nothing that took effect, frames held ahead
//! of a gap) that never had a frame take effect. Identities cost nothing to make, so
//! their number is bounded (`Limits::max_idle_peers`) and the oldest go first.
//!
//! Why dropping one is safe: a peer enters this set only while it has no session, and
//! leaves it for good the first time one of its frames takes effect (a message reaches
//! the inbox, or a group item is taken) or this node sends to it. So an evicted peer
//! never had a frame take effect; replaying its old frames can at most make each take
//! effect once, never twice (a frame that then does makes the peer a kept one). Its
//! refused frames are refused again (a spent one-time prekey, a rotated signed prekey,
//! a ratchet frame without a session, garbage: none of that heals). Its held frames go
//! with it; they were acknowledged, so a genuine peer's frames could only be lost if
//! `max_idle_peers` newer idle peers came between a frame ahead of a gap and the frame
//! that fills it, a window of one round trip.

use rocksdb::{Direction, IteratorMode};
use talos_primitives::Ed25519Public;
use talos_store::db::{CF_HELD, CF_SESSIONS, CF_STREAMS};
use tracing::{debug, warn};

use super::staged::Staged;
use super::{Mailroom, short_id};
use crate::error::DeliveryError;
use crate::layout::{
    HELD_TOTAL, IDLE_COUNT, IDLE_NEXT, IDLE_ORDER, amount, frame_key, held_bytes, idle_member,
    idle_order, next_in, next_out, stalled, unaudited,
};

/// Peers evicted per write.
const EVICT_CHUNK: u64 = 256;

impl Mailroom {
    /// Notes `peer` as idle, unless it already is.
    pub(super) fn idle_add(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
    ) -> Result<(), DeliveryError> {
        if txn.get(CF_STREAMS, &idle_member(peer))?.is_some() {
            return Ok(());
        }
        let ordinal = number(txn, IDLE_NEXT)?;
        let count = number(txn, IDLE_COUNT)?;
        txn.put(
            CF_STREAMS,
            &idle_member(peer),
            ordinal.to_be_bytes().to_vec(),
        )?;
        txn.put(CF_STREAMS, &idle_order(ordinal, peer), Vec::new())?;
        txn.put(
            CF_STREAMS,
            IDLE_NEXT,
            ordinal.saturating_add(1).to_be_bytes().to_vec(),
        )?;
        txn.put(
            CF_STREAMS,
            IDLE_COUNT,
            count.saturating_add(1).to_be_bytes().to_vec(),
        )
    }

    /// `peer` had a frame take effect (or this node sent to it): it is kept for good.
    pub(super) fn unidle(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
    ) -> Result<(), DeliveryError> {
        let Some(ordinal) = txn.get(CF_STREAMS, &idle_member(peer))? else {
            return Ok(());
        };
        let ordinal = <[u8; 8]>::try_from(ordinal.as_slice())
            .map(u64::from_be_bytes)
            .map_err(|_| DeliveryError::Corrupt("idle ordinal"))?;
        self.forget_idle(txn, peer, ordinal)
    }

    fn forget_idle(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        ordinal: u64,
    ) -> Result<(), DeliveryError> {
        let count = number(txn, IDLE_COUNT)?;
        txn.delete(CF_STREAMS, &idle_member(peer))?;
        txn.delete(CF_STREAMS, &idle_order(ordinal, peer))?;
        txn.put(
            CF_STREAMS,
            IDLE_COUNT,
            count.saturating_sub(1).to_be_bytes().to_vec(),
        )
    }

    /// Idle peers now.
    pub fn idle_peers(&self) -> Result<u64, DeliveryError> {
        number(&Staged::new(&self.store), IDLE_COUNT)
    }

    /// Idle peers dropped since this mailroom was opened.
    pub fn evicted_peers(&self) -> u64 {
        self.evicted.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Drops the oldest idle peers past the bound. The caller holds the mailroom's lock.
    /// A failure is logged and left for the next call: the bound is then exceeded for a
    /// while, nothing else.
    pub(super) fn evict_idle(&self) {
        if let Err(e) = self.try_evict_idle() {
            warn!(%e, "idle peers not evicted");
        }
    }

    fn try_evict_idle(&self) -> Result<(), DeliveryError> {
        let count = self.idle_peers()?;
        let excess = count.saturating_sub(self.limits.max_idle_peers);
        if excess == 0 {
            return Ok(());
        }
        let mut txn = Staged::new(&self.store);
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_STREAMS)?,
            IteratorMode::From(IDLE_ORDER, Direction::Forward),
        );
        let mut evicted = 0u64;
        for item in iter {
            let (k, _) = item?;
            if !k.starts_with(IDLE_ORDER) || evicted >= excess.min(EVICT_CHUNK) {
                break;
            }
            // A peer key could start with the same bytes; order keys are 45 bytes long.
            let parsed = k
                .get(5..13)
                .and_then(|o| <[u8; 8]>::try_from(o).ok())
                .zip(k.get(13..).and_then(|p| <[u8; 32]>::try_from(p).ok()))
                .filter(|_| k.len() == 45);
            let Some((ordinal, peer)) = parsed else {
                continue;
            };
            let peer = Ed25519Public::dangerous_from_checked_bytes(peer);
            self.forget_idle(&mut txn, &peer, u64::from_be_bytes(ordinal))?;
            self.drop_peer_state(&mut txn, &peer)?;
            evicted += 1;
        }
        // Not synced: a lost eviction only leaves the state a while longer.
        txn.commit_unsynced()?;
        self.evicted
            .fetch_add(evicted, std::sync::atomic::Ordering::Relaxed);
        debug!(evicted, "idle peers evicted");
        Ok(())
    }

    /// Everything the receive path keeps for `peer`: session, stream counter, held frames
    /// (and their byte count), stall marker, audit marker. A peer this node has sent to
    /// is never idle (sending takes it off the list), and its state is left alone here
    /// should that ever not hold.
    fn drop_peer_state(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
    ) -> Result<(), DeliveryError> {
        if txn.get(CF_STREAMS, &next_out(peer))?.is_some() {
            return Ok(());
        }
        debug!(peer = %short_id(peer), "idle peer evicted");
        txn.delete(CF_SESSIONS, peer.as_bytes())?;
        txn.delete(CF_STREAMS, &next_in(peer))?;
        txn.delete(CF_STREAMS, &stalled(peer))?;
        txn.delete(CF_STREAMS, &unaudited(peer))?;
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_HELD)?,
            IteratorMode::From(&frame_key(peer, 0), Direction::Forward),
        );
        for item in iter {
            let (k, _) = item?;
            if !k.starts_with(peer.as_bytes()) {
                break;
            }
            txn.delete(CF_HELD, &k)?;
        }
        let mine = amount(txn.get(CF_STREAMS, &held_bytes(peer))?)
            .ok_or(DeliveryError::Corrupt("held byte count"))?;
        if mine > 0 {
            let total = amount(txn.get(CF_STREAMS, HELD_TOTAL)?)
                .ok_or(DeliveryError::Corrupt("held byte count"))?;
            txn.put(
                CF_STREAMS,
                HELD_TOTAL,
                total.saturating_sub(mine).to_be_bytes().to_vec(),
            )?;
        }
        txn.delete(CF_STREAMS, &held_bytes(peer))
    }
}

/// A stored number (0 when absent).
fn number(txn: &Staged<'_>, key: &[u8]) -> Result<u64, DeliveryError> {
    amount(txn.get(CF_STREAMS, key)?).ok_or(DeliveryError::Corrupt("idle count"))
}
