//! Opening one frame: the handshake that starts a session (or, on a simultaneous start,
//! the tie-break between two), the ratchet decryption on a staged copy of the session,
//! the seq sealed inside the body, and where the plaintext goes (the agent's inbox or
//! the group layer). A frame that fails any step leaves the session as it was.

use talos_net::{Frame, FrameKind, RefuseReason};
use talos_primitives::Ed25519Public;
use talos_ratchet::session::Role;
use talos_ratchet::{Envelope, PreKeyStore, simultaneous, x3dh};
use tracing::debug;
use zeroize::Zeroizing;

use super::groups::{CONTENT_AGENT, CONTENT_GROUP};
use super::staged::Staged;
use super::{Mailroom, SessionRecord, short_id};
use crate::error::DeliveryError;

impl Mailroom {
    /// Where an opened message goes: the agent's inbox, or the group layer. Returns
    /// whether it took effect (then its peer is no longer idle).
    pub(super) fn take_plaintext(
        &self,
        txn: &mut Staged<'_>,
        inbox_next: &mut u64,
        peer: &Ed25519Public,
        seq: u64,
        plaintext: &[u8],
        session: &mut Option<SessionRecord>,
    ) -> Result<bool, DeliveryError> {
        let useful = match plaintext.split_first() {
            Some((&CONTENT_AGENT, body)) => {
                self.put_inbox(txn, inbox_next, peer, seq, None, body)?;
                true
            }
            Some((&CONTENT_GROUP, item)) => {
                // Group handling may send to this same peer (an echo, a sender key), which
                // moves the session on through the staged writes: hand it our copy first
                // and take its copy back after.
                if let Some(record) = session.as_ref() {
                    self.put_session(txn, peer, record)?;
                }
                let taken = self.stage_group_item(txn, inbox_next, peer, seq, item)?;
                *session = self.load_session(txn, peer)?;
                taken
            }
            _ => {
                debug!(peer = %short_id(peer), seq, "message of an unknown content type dropped");
                false
            }
        };
        if useful {
            self.unidle(txn, peer)?;
        }
        Ok(useful)
    }

    /// Decrypts one in-order frame against the session, starting one from an initial
    /// message. On error nothing changed: ratchet decryption and `respond` are
    /// transactional.
    pub(super) fn open_frame(
        &self,
        peer: &Ed25519Public,
        frame: &Frame,
        session: &mut Option<SessionRecord>,
        prekeys: &mut PreKeyStore,
        prekeys_changed: &mut bool,
    ) -> Result<Zeroizing<Vec<u8>>, RefuseReason> {
        let envelope =
            Envelope::parse_from(frame.body(), Some(peer)).map_err(|_| RefuseReason::Malformed)?;
        match (frame.kind(), envelope) {
            (FrameKind::Initial, Envelope::Initial(initial)) => {
                // The handshake must come from the key the transport authenticated.
                if &initial.identity != peer {
                    return Err(RefuseReason::Unauthorized);
                }
                let id = initial.handshake_id();
                if let Some(record) = session.as_mut() {
                    if record.handshake == Some(id) {
                        let mut staged = record.session.clone();
                        let body = open_with(&mut staged, &initial.message, frame.seq())?;
                        record.session = staged;
                        return Ok(body);
                    }
                    // A resent initial of the half we retired in a simultaneous start.
                    if let Some(retired) = record
                        .retired
                        .as_mut()
                        .filter(|r| r.role() == Role::Responder && r.handshake_id() == &id)
                    {
                        let mut staged = retired.clone();
                        let body = open_with(&mut staged, &initial.message, frame.seq())?;
                        *retired = staged;
                        return Ok(body);
                    }
                }
                let mut staged = prekeys.clone();
                let (new, plaintext) =
                    x3dh::respond(&self.identity, &mut staged, &initial, self.config)
                        .map_err(|_| RefuseReason::Malformed)?;
                let plaintext = unseal_seq(Zeroizing::new(plaintext), frame.seq())?;
                let record = match session.as_ref() {
                    // We had started a session too, and the peer has not answered it:
                    // both started at once. Both sides keep the same one.
                    Some(ours)
                        if ours.session.role() == Role::Initiator && ours.session.is_pending() =>
                    {
                        let accepted_hs = *new.handshake_id();
                        let r = simultaneous::resolve(ours.session.clone(), new)
                            .map_err(|_| RefuseReason::Unauthorized)?;
                        SessionRecord {
                            handshake: (r.active.role() == Role::Responder).then_some(accepted_hs),
                            session: r.active,
                            retired: Some(r.retired),
                        }
                    }
                    // Otherwise the peer started over (lost its state): the new one wins.
                    _ => SessionRecord {
                        handshake: Some(id),
                        session: new,
                        retired: None,
                    },
                };
                *prekeys = staged;
                *prekeys_changed = true;
                *session = Some(record);
                Ok(plaintext)
            }
            (FrameKind::Ratchet, Envelope::Message(message)) => {
                let record = session.as_mut().ok_or(RefuseReason::NoSession)?;
                let mut staged = record.session.clone();
                if let Ok(body) = open_with(&mut staged, &message, frame.seq()) {
                    record.session = staged;
                    // The peer now writes under the active session; in-order streams
                    // mean nothing under the retired one can follow.
                    record.retired = None;
                    return Ok(body);
                }
                let retired = record.retired.as_mut().ok_or(RefuseReason::Malformed)?;
                let mut staged = retired.clone();
                let body = open_with(&mut staged, &message, frame.seq())?;
                *retired = staged;
                Ok(body)
            }
            _ => Err(RefuseReason::Malformed),
        }
    }
}

/// Decrypts on a staged session (the caller keeps it only on success).
fn open_with(
    session: &mut talos_ratchet::Session,
    message: &talos_ratchet::Message,
    seq: u64,
) -> Result<Zeroizing<Vec<u8>>, RefuseReason> {
    let plaintext = session
        .decrypt(message)
        .map(Zeroizing::new)
        .map_err(|_| RefuseReason::Malformed)?;
    unseal_seq(plaintext, seq)
}

/// Splits the sealed seq off a decrypted body; a frame under the wrong seq is refused
/// (and the caller keeps the session as it was).
fn unseal_seq(plaintext: Zeroizing<Vec<u8>>, seq: u64) -> Result<Zeroizing<Vec<u8>>, RefuseReason> {
    match plaintext.split_first_chunk::<8>() {
        Some((sealed, body)) if u64::from_be_bytes(*sealed) == seq => {
            Ok(Zeroizing::new(body.to_vec()))
        }
        _ => Err(RefuseReason::Malformed),
    }
}
