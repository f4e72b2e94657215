//! Frames ahead of the next expected one: held (durably, within the byte budgets) until
//! the gap closes. A peer without a session parks only what will open, so strangers
//! cannot fill the held budget with frames that never release.

use talos_net::{AckStatus, Frame, FrameKind, RefuseReason};
use talos_primitives::Ed25519Public;
use talos_ratchet::PreKeyStore;
use talos_store::db::{CF_HELD, CF_SESSIONS};

use super::receive::{held_amounts, set_held_amounts};
use super::staged::Staged;
use super::{
    Evidence, HELD_DIRECT, HELD_RELAYED, MAX_HELD_BYTES_PER_PEER, MAX_HELD_BYTES_TOTAL,
    MAX_HELD_PER_PEER, Mailroom, Outcome,
};
use crate::error::DeliveryError;
use crate::layout::frame_key;

impl Mailroom {
    /// A frame ahead of the next expected one: held within the byte budgets, so the
    /// stream can deliver it once the gap closes. A peer without a session parks only a
    /// frame that will open: a ratchet frame cannot (there is no session for it), and an
    /// initial message is opened on trial (nothing kept) and refused if it does not, for
    /// it never will (its handshake names prekeys that only ever go away).
    pub(super) fn stage_ahead(
        &self,
        txn: &mut Staged<'_>,
        peer: &Ed25519Public,
        frame: &Frame,
        expected: u64,
        relayed: bool,
        prekeys: &PreKeyStore,
    ) -> Result<Outcome, DeliveryError> {
        let seq = frame.seq();
        if seq - expected > MAX_HELD_PER_PEER {
            return Ok(Outcome::later());
        }
        let key = frame_key(peer, seq);
        let (mut mine, mut total) = held_amounts(txn, peer)?;
        if let Some(held) = txn.get(CF_HELD, &key)? {
            // A frame straight from its sender replaces one a mailbox handed on
            // (which might be a mailbox's forgery); otherwise the first one stays.
            if relayed || held.first() != Some(&HELD_RELAYED) {
                let evidence = self.duplicate_evidence(txn, peer, seq)?;
                return Ok(Outcome::ack(AckStatus::Duplicate, evidence));
            }
            let old = held.len() as u64;
            mine = mine.saturating_sub(old);
            total = total.saturating_sub(old);
        }
        let sessionless = txn.get(CF_SESSIONS, peer.as_bytes())?.is_none();
        if sessionless && let Err(reason) = self.trial_open(peer, frame, prekeys) {
            let refusal = Evidence::Refusal {
                authenticated: false,
            };
            return Ok(Outcome::ack(AckStatus::Refused(reason), refusal));
        }
        let mut bytes = vec![if relayed { HELD_RELAYED } else { HELD_DIRECT }];
        bytes.extend_from_slice(&frame.encode());
        let len = bytes.len() as u64;
        if mine.saturating_add(len) > MAX_HELD_BYTES_PER_PEER
            || total.saturating_add(len) > MAX_HELD_BYTES_TOTAL
        {
            return Ok(Outcome::later());
        }
        txn.put(CF_HELD, &key, bytes)?;
        set_held_amounts(txn, peer, mine + len, total + len)?;
        if sessionless {
            self.idle_add(txn, peer)?;
        }
        self.owe_evidence(txn, peer, seq)?;
        Ok(Outcome::ack(AckStatus::Accepted, Evidence::Required))
    }

    /// Whether a frame from a peer without a session would open once its turn comes:
    /// an initial message from that peer whose handshake and message check out. Nothing
    /// is kept (the prekeys are a copy).
    fn trial_open(
        &self,
        peer: &Ed25519Public,
        frame: &Frame,
        prekeys: &PreKeyStore,
    ) -> Result<(), RefuseReason> {
        if frame.kind() != FrameKind::Initial {
            return Err(RefuseReason::NoSession);
        }
        let (mut session, mut copy, mut changed) = (None, prekeys.clone(), false);
        self.open_frame(peer, frame, &mut session, &mut copy, &mut changed)
            .map(|_| ())
    }
}
