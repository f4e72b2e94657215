//! What the node's audit trail needs of each received frame.
//!
//! Every accepted frame needs its event, durable before the ack. A duplicate needs one
//! only if the first copy's event might never have been made durable: the node writes
//! the frames and their events at once, so a crash (or a failing audit log) between the
//! two leaves frames stored without events, and their resends come back as duplicates.
//! To know which, each stored frame leaves a marker (`unaudited(peer)`: the lowest seq
//! since the last settled round, and the round that set it); once the node has the
//! round's events durable it settles the round, and the next receive deletes the
//! markers that round set. A marker an earlier, unsettled round set is never cleared by
//! a later round: its frames stay owed, and their duplicates keep being audited. So a
//! duplicate is audited exactly when it might otherwise be acknowledged without any
//! event, and a flood of duplicates costs a counter, not a signed event each.

use talos_net::AckStatus;
use talos_primitives::Ed25519Public;
use talos_store::db::CF_STREAMS;

use super::staged::Staged;
use super::{Mailroom, Receipt};
use crate::error::DeliveryError;
use crate::layout::{pair, pair_bytes, unaudited};

/// What a received frame needs from the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Its event must be durable before the ack goes out.
    Required,
    /// A refusal. `authenticated`: the peer had a session with this node before the
    /// frame (a peer without one has proven nothing, and its refusals are only
    /// counted).
    Refusal {
        /// The peer had a session.
        authenticated: bool,
    },
    /// Nothing to record (a duplicate whose event is durable, or a frame not taken now).
    NotNeeded,
}

/// A receipt and what the audit trail needs of the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What to answer.
    pub receipt: Receipt,
    /// What to record.
    pub evidence: Evidence,
    /// This frame started the session with its peer.
    pub opened: bool,
}

impl Outcome {
    pub(super) fn new(receipt: Receipt, evidence: Evidence) -> Self {
        Outcome {
            receipt,
            evidence,
            opened: false,
        }
    }

    pub(super) fn ack(status: AckStatus, evidence: Evidence) -> Self {
        Outcome::new(Receipt::Ack(status), evidence)
    }

    pub(super) fn later() -> Self {
        Outcome::new(Receipt::Later, Evidence::NotNeeded)
    }
}

impl Mailroom {
    /// A frame of `peer`'s at `seq` is stored in this transaction's round: until the
    /// round is settled, its duplicates need events.
    pub(super) fn owe_evidence(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        seq: u64,
    ) -> Result<(), DeliveryError> {
        let key = unaudited(peer);
        let value = match marker(txn, peer)? {
            None => pair_bytes(seq, txn.round()),
            Some((from, _)) if from <= seq => return Ok(()),
            // An older round's marker keeps its round: only that round settles it.
            Some((_, round)) => pair_bytes(seq, round),
        };
        txn.put(CF_STREAMS, &key, value)
    }

    /// What a duplicate of `peer`'s frame `seq` needs.
    pub(super) fn duplicate_evidence(
        &self,
        txn: &Staged<'_>,
        peer: &Ed25519Public,
        seq: u64,
    ) -> Result<Evidence, DeliveryError> {
        Ok(match marker(txn, peer)? {
            Some((from, _)) if seq >= from => Evidence::Required,
            _ => Evidence::NotNeeded,
        })
    }

    /// The events of `round` are durable for `peer`: its marker goes if that round set
    /// it. Round 0 (callers that do not audit) is never settled.
    pub(super) fn settle(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        round: u64,
    ) -> Result<(), DeliveryError> {
        if round == 0 {
            return Ok(());
        }
        match marker(txn, peer)? {
            Some((_, r)) if r == round => txn.delete(CF_STREAMS, &unaudited(peer)),
            _ => Ok(()),
        }
    }
}

fn marker(txn: &Staged<'_>, peer: &Ed25519Public) -> Result<Option<(u64, u64)>, DeliveryError> {
    match txn.get(CF_STREAMS, &unaudited(peer))? {
        None => Ok(None),
        Some(v) => pair(Some(v))
            .map(Some)
            .ok_or(DeliveryError::Corrupt("audit marker")),
    }
}
