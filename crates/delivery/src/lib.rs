//! talos-delivery: what makes a `send` durable and a receive exactly-once.
//!
//! The node calls [`Mailroom::send`] with plaintext for a peer: the message is
//! ratchet-encrypted, and the new session state and the frame (in the outbox) are written
//! in one synced RocksDB batch before `send` returns. The node's sender then offers
//! [`Mailroom::pending`] frames to the peer until each is acknowledged
//! ([`Mailroom::acknowledged`]).
//!
//! On the receiving side [`Mailroom::receive`] takes a frame from an authenticated peer
//! and answers with the ack to send back:
//! - a frame seen before is `Duplicate` (deduplicated by the pair peer + sequence number);
//! - a frame ahead of a gap is held durably and `Accepted`;
//! - the next frame in sequence is decrypted, and the session state, the inbox entry, the
//!   stream counter and any held frames it unblocks are written in one synced batch, and
//!   only then is it `Accepted`.
//!
//! The inbox is bounded per sending peer and in all ([`Limits`]): past a bound the next
//! frame is answered `OverQuota` and stays in its sender's outbox. The agent deletes what
//! it has read with [`Mailroom::acknowledge_inbox`], and [`Mailroom::expire_inbox`]
//! deletes what is older than the node's retention. Peers that have state but never had a
//! frame take effect are bounded too, oldest dropped first (`mailroom/idle.rs`).
//!
//! So the local agent sees each message once and in send order per peer, whatever the
//! network duplicates, reorders or drops, and a crash at any point loses nothing that was
//! acknowledged: an unacknowledged frame is resent, and its resend is a `Duplicate` if the
//! first copy made it. Sessions and inbox entries are sealed at rest with the node's
//! storage key.

mod error;
mod layout;
pub mod mailbox;
mod mailroom;

pub use error::DeliveryError;
pub use mailbox::Mailbox;
pub use mailroom::{
    Delivered, Evidence, GroupView, InboxUsage, Invitation, Limits, MAX_EPOCHS_AHEAD, MAX_GROUPS,
    MAX_HELD_BYTES_PER_PEER, MAX_HELD_BYTES_TOTAL, MAX_HELD_PER_PEER, MAX_INVITATION_EVENTS,
    MAX_INVITATIONS, MAX_INVITATIONS_PER_INVITER, MAX_QUEUED, MAX_WAITING, MAX_WAITING_PER_SENDER,
    Mailroom, Outcome, PreKeyUpkeep, Receipt, Refusal, SessionSummary, Touched,
};
pub use talos_ratchet::membership::GroupId;
