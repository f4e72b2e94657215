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
//!
//! Two agents, each with its own RocksDB: alice sends with bob's prekey bundle, bob
//! receives and acknowledges, and the message is in bob's inbox exactly once.
//!
//! ```
//! use std::sync::Arc;
//! use talos_delivery::{Mailroom, Receipt};
//! use talos_identity::keys::{IdentityKey, IdentitySeed};
//! use talos_net::AckStatus;
//! use talos_ratchet::{PreKeyStore, SessionConfig, at_rest::StorageKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let open = |seed: u8| -> Result<(IdentityKey, Mailroom), Box<dyn std::error::Error>> {
//!     let identity = IdentityKey::from_seed(&IdentitySeed::from_bytes([seed; 32]))?;
//!     let store = Arc::new(talos_store::Store::open(&dir.path().join(seed.to_string()))?);
//!     let for_prekeys = identity.clone();
//!     let mailroom = Mailroom::open(
//!         store,
//!         identity.clone(),
//!         StorageKey::from_bytes([seed; 32]),
//!         SessionConfig::default(),
//!         move || PreKeyStore::new(&mut rand::rng(), &for_prekeys, true),
//!     )?;
//!     Ok((identity, mailroom))
//! };
//! let ((alice, a), (bob, b)) = (open(1)?, open(2)?);
//!
//! // Durable when `send` returns: the frame waits in alice's outbox until acknowledged.
//! let frame = a.send(&bob.public(), Some(&b.published_bundle()?), b"book a room")?;
//! assert_eq!(a.pending(&bob.public(), 10)?, vec![frame.clone()]);
//!
//! // A resent copy is a duplicate, never a second message.
//! assert_eq!(b.receive(&alice.public(), &frame)?, Receipt::Ack(AckStatus::Accepted));
//! assert_eq!(b.receive(&alice.public(), &frame)?, Receipt::Ack(AckStatus::Duplicate));
//! a.acknowledged(&bob.public(), &[frame.seq()])?;
//!
//! let inbox = b.inbox(0, 10)?;
//! assert_eq!(inbox.len(), 1);
//! assert_eq!(&inbox[0].body[..], b"book a room");
//! assert!(a.pending(&bob.public(), 10)?.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! Where things live (only [`mailbox`] is public; the rest is reached through [`Mailroom`]):
//! - [`mailbox`]: the store-and-forward service for offline recipients;
//! - `mailroom.rs`: the [`Mailroom`] itself: opening it, the outbox (pending, acknowledged)
//!   and reading the inbox; under `mailroom/`, one file per step:
//!   - `send.rs` encrypts and stages a send, `staged.rs` is the overlay a group commit
//!     writes through, `records.rs` the sealed session and inbox records;
//!   - `receive.rs` deduplicates and orders frames, `ahead.rs` holds those ahead of a gap,
//!     `open.rs` runs the handshake and decryption of one frame, `evidence.rs` tells the
//!     audit trail what each frame needs;
//!   - `inbox.rs` bounds, acknowledges and expires the inbox, `idle.rs` bounds peers that
//!     never had a frame take effect, `resend.rs` resends refused frames on a new session,
//!     `prekeys.rs` rotates and tops up prekeys;
//!   - `groups.rs` is the group API (create, invite, join, leave, send) and sequences
//!     membership at the creator, with `groups/incoming.rs` for group items arriving and
//!     `groups/outgoing.rs` for group messages leaving, all stored as `group_store.rs`
//!     lays out;
//! - `layout.rs`: key layouts in the delivery column families; `error.rs`: [`DeliveryError`].

mod error;
mod layout;
pub mod mailbox;
mod mailroom;

pub use error::DeliveryError;
pub use mailbox::Mailbox;
pub use mailroom::{
    Commit, Delivered, Evidence, GroupView, InboxUsage, Invitation, Limits, MAX_EPOCHS_AHEAD,
    MAX_GROUPS, MAX_HELD_BYTES_PER_PEER, MAX_HELD_BYTES_TOTAL, MAX_HELD_PER_PEER,
    MAX_INVITATION_EVENTS, MAX_INVITATIONS, MAX_INVITATIONS_PER_INVITER, MAX_QUEUED, MAX_WAITING,
    MAX_WAITING_PER_SENDER, Mailroom, Outcome, PreKeyUpkeep, Receipt, Refusal, SessionSummary,
    Touched,
};
pub use talos_ratchet::membership::GroupId;
