//! Where groups live in the `groups` column family. Everything that names members or
//! holds keys is sealed with the storage key. Work lists (items waiting for an epoch,
//! sends waiting for a session) are ranges of numbered keys with a `head ‖ tail` counter,
//! so they are read through the staged writes of a group commit instead of a RocksDB
//! iterator, which would not see them.

use talos_primitives::Ed25519Public;
use talos_ratchet::at_rest;
use talos_ratchet::group::Group;
use talos_ratchet::membership::{GroupId, MembershipEvent};
use talos_store::db::CF_GROUPS;
use zeroize::Zeroizing;

use super::Mailroom;
use super::staged::Staged;
use crate::error::DeliveryError;

const GROUP_CONTEXT: &[u8] = b"talos/delivery/group/v1";

/// Groups one node keeps (member or not).
pub const MAX_GROUPS: u64 = 1024;
/// Invitations waiting for the agent to join (anyone may invite, so they are bounded).
pub const MAX_INVITATIONS: u64 = 256;
/// Of those, from one inviter: anyone may invite, so a few strangers must not be able
/// to take every slot and lock out invitations from the agent's real peers.
pub const MAX_INVITATIONS_PER_INVITER: u64 = 8;
/// Events an invitation's log may hold before the agent joins.
pub const MAX_INVITATION_EVENTS: u64 = 4096;
/// Items (sender keys, messages) waiting for a membership epoch, per group.
pub const MAX_WAITING: u64 = 1024;
/// Of those, from one sender.
pub const MAX_WAITING_PER_SENDER: u64 = 64;
/// How far past our epoch an item may be to wait (further is refused).
pub const MAX_EPOCHS_AHEAD: u64 = 64;
/// Group sends waiting for a session with their peer, per peer.
pub const MAX_QUEUED: u64 = 4096;

pub(super) const GROUPS_COUNT: &[u8] = b"#groups";
pub(super) const INVITATIONS_COUNT: &[u8] = b"#invitations";

/// Where this node stands in the group beyond what the membership says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proposal {
    /// Nothing pending.
    None,
    /// Invited; the agent has not accepted (the record is an invitation).
    Invited,
    /// Our JOINED went to the creator; waiting for its copy.
    Join,
    /// Our REMOVED went to the creator; waiting for its copy.
    Leave,
}

/// A group as this node keeps it.
pub(super) struct GroupRecord {
    pub(super) proposal: Proposal,
    pub(super) group: Group,
}

pub(super) fn key(tag: u8, id: &[u8; 32]) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = tag;
    k[1..].copy_from_slice(id);
    k
}

pub(super) fn numbered(tag: u8, id: &[u8; 32], n: u64) -> [u8; 41] {
    let mut k = [0u8; 41];
    k[..33].copy_from_slice(&key(tag, id));
    k[33..].copy_from_slice(&n.to_be_bytes());
    k
}

/// Invitations waiting from one inviter (the group's creator): `I ‖ inviter`.
pub(super) const INVITER: u8 = b'I';
pub(super) const STATE: u8 = b's';
pub(super) const LOG: u8 = b'l';
pub(super) const WAITING_LIVE: u8 = b'C';
pub(super) const WAITING_SENDER: u8 = b'V';
pub(super) const WAITING: u8 = b'w';
pub(super) const WAITING_RANGE: u8 = b'W';
pub(super) const QUEUE: u8 = b'q';
pub(super) const QUEUE_RANGE: u8 = b'Q';

/// The sealing context names the key, so a sealed value cannot be moved to another key.
fn context(k: &[u8]) -> Vec<u8> {
    [GROUP_CONTEXT, k].concat()
}

impl Mailroom {
    pub(super) fn seal_put(
        &self,
        txn: &mut Staged<'_>,
        k: &[u8],
        plain: &[u8],
    ) -> Result<(), DeliveryError> {
        let sealed = at_rest::seal(&mut rand::rng(), &self.storage_key, &context(k), plain);
        txn.put(CF_GROUPS, k, sealed)
    }

    pub(super) fn open_get(
        &self,
        txn: &Staged<'_>,
        k: &[u8],
        what: &'static str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, DeliveryError> {
        let Some(sealed) = txn.get(CF_GROUPS, k)? else {
            return Ok(None);
        };
        at_rest::open(&self.storage_key, &context(k), &sealed)
            .map(|b| Some(Zeroizing::new(b.to_vec())))
            .map_err(|_| DeliveryError::Corrupt(what))
    }

    pub(super) fn load_group(
        &self,
        txn: &Staged<'_>,
        id: &GroupId,
    ) -> Result<Option<GroupRecord>, DeliveryError> {
        let Some(bytes) = self.open_get(txn, &key(STATE, &id.0), "group state does not unseal")?
        else {
            return Ok(None);
        };
        let (flag, rest) = bytes
            .split_first()
            .ok_or(DeliveryError::Corrupt("group state"))?;
        let proposal = match flag {
            0 => Proposal::None,
            1 => Proposal::Join,
            2 => Proposal::Leave,
            3 => Proposal::Invited,
            _ => return Err(DeliveryError::Corrupt("group proposal")),
        };
        let group = Group::decode(rest).map_err(|_| DeliveryError::Corrupt("group state"))?;
        Ok(Some(GroupRecord { proposal, group }))
    }

    pub(super) fn put_group(
        &self,
        txn: &mut Staged<'_>,
        record: &GroupRecord,
    ) -> Result<(), DeliveryError> {
        let state = record.group.encode();
        let mut plain = Zeroizing::new(Vec::with_capacity(1 + state.len()));
        plain.push(match record.proposal {
            Proposal::None => 0,
            Proposal::Join => 1,
            Proposal::Leave => 2,
            Proposal::Invited => 3,
        });
        plain.extend_from_slice(&state);
        let id = record.group.membership().group();
        self.seal_put(txn, &key(STATE, &id.0), &plain)
    }

    /// Appends `event` to the stored log (the log an invitee is sent).
    pub(super) fn put_log_event(
        &self,
        txn: &mut Staged<'_>,
        event: &MembershipEvent,
    ) -> Result<(), DeliveryError> {
        self.seal_put(
            txn,
            &numbered(LOG, &event.group.0, event.seq),
            &event.encode(),
        )
    }

    /// The stored log from `from` up to (not including) `to`.
    pub(super) fn log(
        &self,
        txn: &Staged<'_>,
        id: &GroupId,
        from: u64,
        to: u64,
    ) -> Result<Vec<MembershipEvent>, DeliveryError> {
        let mut out = Vec::new();
        for seq in from..to {
            let bytes = self
                .open_get(txn, &numbered(LOG, &id.0, seq), "group log does not unseal")?
                .ok_or(DeliveryError::Corrupt("group log has a hole"))?;
            out.push(
                MembershipEvent::parse(&bytes)
                    .map_err(|_| DeliveryError::Corrupt("group log event"))?,
            );
        }
        Ok(out)
    }
}

/// A `head ‖ tail` range of numbered keys.
pub(super) fn range(txn: &Staged<'_>, k: &[u8]) -> Result<(u64, u64), DeliveryError> {
    match txn.get(CF_GROUPS, k)? {
        None => Ok((0, 0)),
        Some(b) => {
            let (h, t) = b
                .split_first_chunk::<8>()
                .and_then(|(h, t)| Some((*h, <[u8; 8]>::try_from(t).ok()?)))
                .ok_or(DeliveryError::Corrupt("group work range"))?;
            Ok((u64::from_be_bytes(h), u64::from_be_bytes(t)))
        }
    }
}

pub(super) fn set_range(
    txn: &mut Staged<'_>,
    k: &[u8],
    head: u64,
    tail: u64,
) -> Result<(), DeliveryError> {
    if head == tail {
        return txn.delete(CF_GROUPS, k);
    }
    txn.put(
        CF_GROUPS,
        k,
        [head.to_be_bytes(), tail.to_be_bytes()].concat(),
    )
}

/// A stored count (0 when absent).
pub(super) fn count(txn: &Staged<'_>, k: &[u8]) -> Result<u64, DeliveryError> {
    crate::layout::amount(txn.get(CF_GROUPS, k)?).ok_or(DeliveryError::Corrupt("group count"))
}

pub(super) fn set_count(txn: &mut Staged<'_>, k: &[u8], n: u64) -> Result<(), DeliveryError> {
    txn.put(CF_GROUPS, k, n.to_be_bytes().to_vec())
}

/// One invitation from `inviter` is no longer waiting (joined or declined).
pub(super) fn invitation_done(
    txn: &mut Staged<'_>,
    inviter: &Ed25519Public,
) -> Result<(), DeliveryError> {
    let k = key(INVITER, inviter.as_bytes());
    let n = count(txn, &k)?.saturating_sub(1);
    if n == 0 {
        txn.delete(CF_GROUPS, &k)
    } else {
        set_count(txn, &k, n)
    }
}

/// A per-sender waiting count key: tag ‖ group ‖ sender.
pub(super) fn sender_key(id: &[u8; 32], sender: &Ed25519Public) -> [u8; 65] {
    let mut k = [0u8; 65];
    k[..33].copy_from_slice(&key(WAITING_SENDER, id));
    k[33..].copy_from_slice(sender.as_bytes());
    k
}
