//! The durable send and receive paths. One lock serializes them: each step ends in one
//! synced RocksDB write, which is what bounds throughput anyway, and a single writer makes
//! the ordering argument trivial.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rocksdb::{Direction, IteratorMode, WriteBatch};
use talos_identity::keys::IdentityKey;
use talos_net::{AckStatus, Frame, FrameKind};
use talos_primitives::Ed25519Public;
use talos_ratchet::at_rest::{self, StorageKey};
use talos_ratchet::membership::GroupId;
use talos_ratchet::{Envelope, PreKeyBundle, PreKeyStore, Session, SessionConfig, x3dh};
use talos_store::Store;
use talos_store::db::{
    CF_INBOX, CF_META, CF_OUTBOX, CF_RESEND, CF_SESSIONS, CF_STREAMS, LAYOUT_VERSION,
    LAYOUT_VERSION_KEY,
};
use zeroize::Zeroizing;

mod ahead;
mod evidence;
mod group_store;
mod groups;
mod idle;
mod inbox;
mod open;
mod prekeys;
mod receive;
mod records;
mod resend;
mod send;
mod staged;

pub use evidence::{Evidence, Outcome};

/// Makes a receive group durable for [`Mailroom::receive_audited`]: given the group's
/// outcomes and its staged writes, writes both those and what they call for in one
/// synced batch, and returns once it is durable.
pub type Commit<'a> =
    &'a mut dyn FnMut(&[Outcome], talos_store::Writes) -> Result<(), DeliveryError>;
pub use inbox::{InboxUsage, Limits};

pub use group_store::{
    MAX_EPOCHS_AHEAD, MAX_GROUPS, MAX_INVITATION_EVENTS, MAX_INVITATIONS,
    MAX_INVITATIONS_PER_INVITER, MAX_QUEUED, MAX_WAITING, MAX_WAITING_PER_SENDER,
};
pub use groups::{GroupView, Invitation};
pub use prekeys::PreKeyUpkeep;
pub use resend::Refusal;
pub use staged::Touched;

use crate::error::DeliveryError;
use crate::layout::{PREKEYS, counter, frame_key, next_out};
use staged::Staged;

/// How far ahead of the next expected frame a peer's frames are held. Beyond it a frame is
/// left unanswered, and its sender resends it once the gap has closed.
pub const MAX_HELD_PER_PEER: u64 = 1024;
/// Bytes of held frames one peer may park on this node. Past it (or past
/// [`MAX_HELD_BYTES_TOTAL`]) frames ahead of a gap go unanswered, so an honest sender
/// resends them once the gap closes, and a hostile one cannot fill the disk.
pub const MAX_HELD_BYTES_PER_PEER: u64 = 4 << 20;
/// Bytes of held frames across all peers (peer identities cost nothing to make).
pub const MAX_HELD_BYTES_TOTAL: u64 = 256 << 20;

/// Held-frame value prefix: the frame came straight from its sender.
const HELD_DIRECT: u8 = 0;
/// Held-frame value prefix: a mailbox handed the frame on.
const HELD_RELAYED: u8 = 1;

const SESSION_CONTEXT: &[u8] = b"talos/delivery/session/v1";
const INBOX_CONTEXT: &[u8] = b"talos/delivery/inbox/v1";
const PREKEY_CONTEXT: &[u8] = b"talos/delivery/prekeys/v1";

/// A pairwise session, as listed for the agent (counters only, no key material).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSummary {
    /// The peer.
    pub peer: Ed25519Public,
    /// Frames sent to it so far.
    pub sent: u64,
    /// Frames received from it in order so far.
    pub received: u64,
}

/// A message for the local agent, in the order its sender sent it.
pub struct Delivered {
    /// Its position in the node's inbox (the agent's read cursor).
    pub index: u64,
    /// Who sent it (authenticated by the transport and by the session).
    pub peer: Ed25519Public,
    /// Its sequence number on that peer's stream (for a group message: its iteration on
    /// the sender's chain).
    pub seq: u64,
    /// The group, for a group message.
    pub group: Option<GroupId>,
    /// The plaintext.
    pub body: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for Delivered {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Delivered")
            .field("index", &self.index)
            .field("seq", &self.seq)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What to answer a frame with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Send this ack.
    Ack(AckStatus),
    /// Send nothing: the frame is too far ahead; its sender will resend it.
    Later,
}

/// A session and the handshake it came from (responder side), so that a resent initial
/// message is decrypted on the session it already made instead of starting another.
///
/// `retired` is the other half of a simultaneous initiation (both sides started a session
/// before either saw the other's; group traffic makes that common): both sides keep the
/// same one for sending (`simultaneous::resolve`), and the other only opens the frames
/// the peer had already encrypted under it. It goes once the active session opens a frame.
struct SessionRecord {
    handshake: Option<[u8; 32]>,
    session: Session,
    retired: Option<Session>,
}

/// Sessions, outbox, inbox and reordering for one node.
pub struct Mailroom {
    store: Arc<Store>,
    identity: IdentityKey,
    storage_key: StorageKey,
    config: SessionConfig,
    prekeys: Mutex<PreKeyStore>,
    woken: Mutex<Touched>,
    limits: Limits,
    /// Idle peers evicted since open (see `idle.rs`).
    evicted: std::sync::atomic::AtomicU64,
    /// The highest seq given to a frame for each peer since open (see `send.rs`).
    outbox_high: send::OutboxHigh,
    /// One past the highest inbox index written or staged: an upper bound of the
    /// inbox's indices (see [`Mailroom::inbox_may_hold`]).
    inbox_end: std::sync::atomic::AtomicU64,
}

/// Peers kept for the node to wake; past it the sender's periodic outbox rescan finds them.
const MAX_WOKEN: usize = 4096;

impl core::fmt::Debug for Mailroom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mailroom")
            .field("identity", &self.identity.public())
            .finish_non_exhaustive()
    }
}

impl Mailroom {
    /// Opens the mailroom over `store`. The prekey store on disk is used if there is one;
    /// otherwise `fresh` is, and it is persisted.
    pub fn open(
        store: Arc<Store>,
        identity: IdentityKey,
        storage_key: StorageKey,
        config: SessionConfig,
        fresh: impl FnOnce() -> Result<PreKeyStore, talos_ratchet::prekey::PreKeyError>,
    ) -> Result<Self, DeliveryError> {
        // First, before anything is written: a store from a newer talos stays untouched.
        let found = store.layout_version()?;
        let prekeys = match store.get(CF_STREAMS, PREKEYS)? {
            Some(sealed) => {
                let bytes = at_rest::open(&storage_key, PREKEY_CONTEXT, &sealed)
                    .map_err(|_| DeliveryError::Corrupt("prekey store does not unseal"))?;
                PreKeyStore::decode(&bytes)
                    .map_err(|_| DeliveryError::Corrupt("prekey store does not decode"))?
            }
            None => {
                let fresh = fresh().map_err(DeliveryError::PreKeys)?;
                let mut batch = WriteBatch::default();
                batch.put_cf(
                    store.cf(CF_STREAMS)?,
                    PREKEYS,
                    seal_prekeys(&storage_key, &fresh),
                );
                store.write(batch, true)?;
                fresh
            }
        };
        let mailroom = Mailroom {
            store,
            identity,
            storage_key,
            config,
            prekeys: Mutex::new(prekeys),
            woken: Mutex::new(Touched::default()),
            limits: Limits::default(),
            evicted: std::sync::atomic::AtomicU64::new(0),
            outbox_high: send::OutboxHigh::default(),
            inbox_end: std::sync::atomic::AtomicU64::new(0),
        };
        mailroom.migrate(found)?;
        let end = counter_in(&Staged::new(&mailroom.store), crate::layout::INBOX_NEXT)?;
        mailroom
            .inbox_end
            .store(end, std::sync::atomic::Ordering::SeqCst);
        Ok(mailroom)
    }

    /// Brings a store written by an older talos up to [`LAYOUT_VERSION`], every step
    /// and the new version in one synced write (a crash leaves the old layout whole, and
    /// the next open runs the steps again). A store from a newer talos is refused.
    fn migrate(&self, found: u32) -> Result<(), DeliveryError> {
        if found == LAYOUT_VERSION {
            return Ok(());
        }
        let mut txn = Staged::new(&self.store);
        for from in found..LAYOUT_VERSION {
            match from {
                // 1 → 2: the inbox gets its usage counts and its first time marker
                // (mailbox registrations of 16 bytes are read as they are; `resend` is
                // created empty by the store).
                1 => self.upgrade_inbox(&mut txn)?,
                // 2 → 3: nothing of the mailroom's; the audit log was moved into this
                // store before it opened (`talos_node::home::Home::open_stores`).
                2 => {}
                _ => return Err(DeliveryError::Corrupt("no migration from this layout")),
            }
        }
        txn.put(
            CF_META,
            LAYOUT_VERSION_KEY,
            LAYOUT_VERSION.to_be_bytes().to_vec(),
        )?;
        txn.commit()?;
        Ok(())
    }

    /// The store this mailroom keeps its state in (a [`Commit`] writes there).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// This node's identity key.
    pub fn identity(&self) -> Ed25519Public {
        self.identity.public()
    }

    /// This node's prekey bundle, offering its next one-time prekey if any is left.
    pub fn bundle(&self) -> Result<PreKeyBundle, DeliveryError> {
        let prekeys = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        prekeys
            .bundle(&self.identity, prekeys.next_one_time_id())
            .ok_or(DeliveryError::Corrupt("prekey store has no signed prekey"))
    }

    /// Up to `max` unacknowledged frames for `peer`, in sequence order.
    pub fn pending(&self, peer: &Ed25519Public, max: usize) -> Result<Vec<Frame>, DeliveryError> {
        self.pending_from(peer, 0, max)
    }

    /// Up to `max` unacknowledged frames for `peer` with seq ≥ `from`, in order (a
    /// sender that keeps frames in flight reads on from where it got to, instead of
    /// walking the acknowledged frames' tombstones again).
    pub fn pending_from(
        &self,
        peer: &Ed25519Public,
        from: u64,
        max: usize,
    ) -> Result<Vec<Frame>, DeliveryError> {
        let start = frame_key(peer, from);
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_OUTBOX)?,
            IteratorMode::From(&start, Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(peer.as_bytes()) || out.len() >= max {
                break;
            }
            out.push(Frame::parse(&value).map_err(|_| DeliveryError::Corrupt("outbox frame"))?);
        }
        Ok(out)
    }

    /// Whether `peer`'s outbox may hold a frame with seq ≥ `from`, known without a read:
    /// `Some(false)` when no frame since open was given a seq that high (seqs only
    /// grow, so neither was one before), `None` when no frame to `peer` was made since
    /// open (or the record was cleared at its bound): read the outbox then.
    pub fn outbox_may_hold(&self, peer: &Ed25519Public, from: u64) -> Option<bool> {
        self.outbox_high.highest(peer).map(|high| high >= from)
    }

    /// Whether the inbox may hold an entry at index `from` or later, known without a
    /// read: `false` only when no entry that high was ever written or staged (indices
    /// only grow; one staged by a write that then failed only makes this `true`). A
    /// waiting reader that registered for the arrival notice first misses nothing.
    pub fn inbox_may_hold(&self, from: u64) -> bool {
        // Indices start at 1 (`layout::counter`).
        self.inbox_end.load(std::sync::atomic::Ordering::SeqCst) > from.max(1)
    }

    /// Peers with a session, from `after` on in key order (at most `max`), with how many
    /// frames each stream has carried: (peer, sent, received). No secrets: the sealed
    /// session state is not opened.
    pub fn sessions(
        &self,
        after: Option<&Ed25519Public>,
        max: usize,
    ) -> Result<Vec<SessionSummary>, DeliveryError> {
        let cf = self.store.cf(CF_SESSIONS)?;
        let start: Vec<u8> = match after {
            Some(p) => {
                let mut k = p.as_bytes().to_vec();
                k.push(0);
                k
            }
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for item in self
            .store
            .db()
            .iterator_cf(cf, IteratorMode::From(&start, Direction::Forward))
        {
            if out.len() >= max {
                break;
            }
            let (key, _) = item?;
            let Some(bytes) = <[u8; 32]>::try_from(key.as_ref()).ok() else {
                continue;
            };
            let peer = Ed25519Public::from_bytes(bytes)
                .map_err(|_| DeliveryError::Corrupt("session key"))?;
            let next = |k: &[u8]| -> Result<u64, DeliveryError> {
                crate::layout::counter(self.store.get(CF_STREAMS, k)?)
                    .ok_or(DeliveryError::Corrupt("stream counter"))
            };
            out.push(SessionSummary {
                peer,
                sent: next(&next_out(&peer))?.saturating_sub(1),
                received: next(&crate::layout::next_in(&peer))?.saturating_sub(1),
            });
        }
        Ok(out)
    }

    /// Peers with unacknowledged frames (at most `max`), for the sender to resume after a
    /// restart.
    pub fn peers_with_pending(&self, max: usize) -> Result<Vec<Ed25519Public>, DeliveryError> {
        let mut peers: Vec<Ed25519Public> = Vec::new();
        let cf = self.store.cf(CF_OUTBOX)?;
        let mut from = Vec::new();
        while peers.len() < max {
            let mut iter = self
                .store
                .db()
                .iterator_cf(cf, IteratorMode::From(&from, Direction::Forward));
            let Some(item) = iter.next() else { break };
            let (key, _) = item?;
            let bytes: [u8; 32] = key
                .get(..32)
                .and_then(|k| k.try_into().ok())
                .ok_or(DeliveryError::Corrupt("outbox key"))?;
            let peer = Ed25519Public::from_bytes(bytes)
                .map_err(|_| DeliveryError::Corrupt("outbox key"))?;
            peers.push(peer);
            // Skip to the first key after this peer's range.
            from = frame_key(&peer, u64::MAX).to_vec();
            from.push(0);
        }
        Ok(peers)
    }

    /// The peer acknowledged these frames (accepted, duplicate or refused for good):
    /// forget them, in one write.
    pub fn acknowledged(&self, peer: &Ed25519Public, seqs: &[u64]) -> Result<(), DeliveryError> {
        // Not synced: losing these deletes in a crash only means resends, which the peer
        // answers with `Duplicate`.
        self.store
            .write_all(Self::acknowledged_writes(peer, seqs), false)?;
        Ok(())
    }

    /// The writes [`Self::acknowledged`] makes, for a node that puts them in the batch
    /// that audits the frames as sent.
    pub fn acknowledged_writes(peer: &Ed25519Public, seqs: &[u64]) -> talos_store::Writes {
        let mut writes = talos_store::Writes::default();
        for seq in seqs {
            writes.delete(CF_OUTBOX, &frame_key(peer, *seq));
            writes.delete(CF_RESEND, &frame_key(peer, *seq));
        }
        writes
    }

    /// Up to `max` inbox messages from index `from` on.
    pub fn inbox(&self, from: u64, max: usize) -> Result<Vec<Delivered>, DeliveryError> {
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_INBOX)?,
            IteratorMode::From(&from.to_be_bytes(), Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter.take(max) {
            let (key, value) = item?;
            let index = <[u8; 8]>::try_from(&key[..])
                .map(u64::from_be_bytes)
                .map_err(|_| DeliveryError::Corrupt("inbox key"))?;
            out.push(self.unseal_inbox(index, &value)?);
        }
        Ok(out)
    }

    /// The inbox entry `index` from its sealed value (as stored in `CF_INBOX`): what
    /// [`Self::inbox`] reads back, for a node that keeps the values it just wrote.
    pub fn unseal_inbox(&self, index: u64, value: &[u8]) -> Result<Delivered, DeliveryError> {
        let opened = at_rest::open(&self.storage_key, &inbox_context(index), value)
            .map_err(|_| DeliveryError::Corrupt("inbox entry does not unseal"))?;
        let (peer, rest) = opened
            .split_first_chunk::<32>()
            .ok_or(DeliveryError::Corrupt("inbox entry"))?;
        let (seq, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(DeliveryError::Corrupt("inbox entry"))?;
        let (group, body) = match rest.split_first() {
            Some((0, body)) => (None, body),
            Some((1, rest)) => {
                let (g, body) = rest
                    .split_first_chunk::<32>()
                    .ok_or(DeliveryError::Corrupt("inbox group"))?;
                (Some(GroupId(*g)), body)
            }
            _ => return Err(DeliveryError::Corrupt("inbox entry kind")),
        };
        Ok(Delivered {
            index,
            // Sealed at rest: this is the key the transport authenticated.
            peer: Ed25519Public::dangerous_from_checked_bytes(*peer),
            seq: u64::from_be_bytes(*seq),
            group,
            body: Zeroizing::new(body.to_vec()),
        })
    }

    /// Peers whose outbox grew through group traffic since the last call, and whether
    /// group sends wait for a session (the node then looks up those peers' bundles).
    pub fn take_woken(&self) -> Touched {
        match self.woken.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(_) => Touched::default(),
        }
    }

    fn note_woken(&self, touched: Touched) {
        if let Ok(mut w) = self.woken.lock() {
            for p in touched.peers {
                if w.peers.len() < MAX_WOKEN && !w.peers.contains(&p) {
                    w.peers.push(p);
                }
            }
            w.queued |= touched.queued;
        }
    }
}

fn counter_in(txn: &Staged<'_>, key: &[u8]) -> Result<u64, DeliveryError> {
    counter(txn.get(CF_STREAMS, key)?).ok_or(DeliveryError::Corrupt("stream counter"))
}

fn next(n: u64) -> Result<u64, DeliveryError> {
    n.checked_add(1)
        .ok_or(DeliveryError::Corrupt("counter exhausted"))
}

fn seal_prekeys(key: &StorageKey, prekeys: &PreKeyStore) -> Vec<u8> {
    at_rest::seal(&mut rand::rng(), key, PREKEY_CONTEXT, &prekeys.encode())
}

fn session_context(peer: &Ed25519Public) -> Vec<u8> {
    [SESSION_CONTEXT, peer.as_bytes()].concat()
}

fn inbox_context(index: u64) -> Vec<u8> {
    [INBOX_CONTEXT, &index.to_be_bytes()[..]].concat()
}

/// Peers appear in logs by a short hex prefix of their key: an id, not content.
fn short_id(peer: &Ed25519Public) -> String {
    hex::encode(peer.as_bytes().get(..8).unwrap_or_default())
}
