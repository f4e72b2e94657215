//! Frames the peer refused, sent again on a new session.
//!
//! A peer refuses a frame it cannot open: the signed prekey the session was started from
//! rotated out while the frame waited, or the peer lost (or restored an old copy of) its
//! session. Every later frame on that session would be refused the same way. So the
//! sender keeps each unacknowledged frame's plaintext sealed in `CF_RESEND`, and on such a
//! refusal moves the plaintexts of that frame and of every later one into the queue of
//! sends waiting for a session (`groups.rs`), drops the session, and lets the node's pump
//! start a new one from the peer's current bundle. Nothing the API called durable is lost.
//!
//! The refused frame's seq is spent at the peer (its stream moved past it), so the queued
//! plaintexts get new seqs. The later frames stay in the outbox as they were, without
//! their plaintext: the peer may not have seen them yet, and they fill its stream up to
//! the new seqs (it refuses them too, and the sender then forgets them).

use rocksdb::{Direction, IteratorMode};
use talos_primitives::Ed25519Public;
use talos_ratchet::at_rest;
use talos_store::db::{CF_OUTBOX, CF_RESEND, CF_SESSIONS};
use zeroize::Zeroizing;

use super::{Mailroom, Staged, short_id};
use crate::error::DeliveryError;
use crate::layout::frame_key;

const RESEND_CONTEXT: &[u8] = b"talos/delivery/resend/v1";

/// What became of the frames a peer refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refusal {
    /// Messages queued to be sent again on a new session.
    pub requeued: usize,
    /// Refused frames forgotten without a copy to send again (their content was already
    /// queued by an earlier refusal, or they predate `CF_RESEND`).
    pub forgotten: usize,
}

fn context(key: &[u8; 40]) -> Vec<u8> {
    [RESEND_CONTEXT, key.as_slice()].concat()
}

impl Mailroom {
    /// Stages the sealed `content ‖ plaintext` of outbox frame (peer, seq).
    pub(super) fn put_resend(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        seq: u64,
        plain: &[u8],
    ) -> Result<(), DeliveryError> {
        let k = frame_key(peer, seq);
        let sealed = at_rest::seal(&mut rand::rng(), &self.storage_key, &context(&k), plain);
        txn.put(CF_RESEND, &k, sealed)
    }

    fn open_resend(
        &self,
        txn: &Staged<'_>,
        peer: &Ed25519Public,
        seq: u64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, DeliveryError> {
        let k = frame_key(peer, seq);
        let Some(sealed) = txn.get(CF_RESEND, &k)? else {
            return Ok(None);
        };
        at_rest::open(&self.storage_key, &context(&k), &sealed)
            .map(|b| Some(Zeroizing::new(b.to_vec())))
            .map_err(|_| DeliveryError::Corrupt("resend copy does not unseal"))
    }

    /// The peer refused these frames because it could not open them (`Malformed` or
    /// `NoSession`, answered directly by the peer). In one synced write: each refused
    /// frame leaves the outbox; the plaintexts of the first refused frame that still has
    /// one, and of every later frame, join the peer's queue of sends waiting for a
    /// session, in order; and the session is dropped, so the queue starts a new one from
    /// the peer's current bundle (the node's pump looks it up).
    pub fn refused(&self, peer: &Ed25519Public, seqs: &[u64]) -> Result<Refusal, DeliveryError> {
        let _guard = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let mut txn = Staged::new(&self.store);
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        let mut out = Refusal::default();
        for &seq in &seqs {
            if txn.get(CF_RESEND, &frame_key(peer, seq))?.is_some() {
                out.requeued += self.requeue_from(&mut txn, peer, seq)?;
                txn.delete(CF_SESSIONS, peer.as_bytes())?;
            } else {
                out.forgotten += 1;
            }
            txn.delete(CF_OUTBOX, &frame_key(peer, seq))?;
        }
        let touched = txn.commit()?;
        self.note_woken(touched);
        if out.requeued > 0 {
            tracing::info!(peer = %short_id(peer), n = out.requeued,
                "peer refused our session; its messages wait for a new one");
        }
        Ok(out)
    }

    /// Queues the plaintext of every outbox frame for `peer` from `from` on, in seq
    /// order, and drops those copies. Returns how many were queued.
    fn requeue_from(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        from: u64,
    ) -> Result<usize, DeliveryError> {
        let start = frame_key(peer, from);
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_OUTBOX)?,
            IteratorMode::From(&start, Direction::Forward),
        );
        let mut seqs = Vec::new();
        for item in iter {
            let (key, _) = item?;
            if !key.starts_with(peer.as_bytes()) {
                break;
            }
            let seq = key
                .get(32..40)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(u64::from_be_bytes)
                .ok_or(DeliveryError::Corrupt("outbox key"))?;
            seqs.push(seq);
        }
        let mut n = 0;
        for seq in seqs {
            // A frame without a copy was queued by an earlier refusal already.
            let Some(plain) = self.open_resend(txn, peer, seq)? else {
                continue;
            };
            self.requeue(txn, peer, &plain)?;
            txn.delete(CF_RESEND, &frame_key(peer, seq))?;
            n += 1;
        }
        Ok(n)
    }
}
