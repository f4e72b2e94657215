//! Simultaneous initiation: both peers ran X3DH before either saw the other's initial
//! message, so each holds the session it initiated and the one it accepted. Both sides
//! resolve it the same way, with no extra round trip: the session initiated by the party
//! whose identity key is smaller (as bytes) is kept for sending; the other is retired and
//! kept only to decrypt frames already in flight.

use crate::session::{Role, Session};

/// The two sessions do not form a simultaneous initiation between the same two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a simultaneous initiation between the same two identities")]
pub struct NotSimultaneous;

/// The outcome: `active` sends from now on; `retired` only decrypts late frames.
#[derive(Debug)]
pub struct Resolved {
    /// The session both sides now use.
    pub active: Session,
    /// The other session.
    pub retired: Session,
}

/// Resolves a simultaneous initiation deterministically on either side.
pub fn resolve(initiated: Session, accepted: Session) -> Result<Resolved, NotSimultaneous> {
    if initiated.role() != Role::Initiator
        || accepted.role() != Role::Responder
        || initiated.initiator_identity() != accepted.responder_identity()
        || initiated.responder_identity() != accepted.initiator_identity()
    {
        return Err(NotSimultaneous);
    }
    let me = initiated.initiator_identity();
    let peer = initiated.responder_identity();
    Ok(if me.as_bytes() < peer.as_bytes() {
        Resolved {
            active: initiated,
            retired: accepted,
        }
    } else {
        Resolved {
            active: accepted,
            retired: initiated,
        }
    })
}
