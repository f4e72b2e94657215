//! Group membership as a hash-chained log of signed events: INVITED, JOINED, REMOVED,
//! CLOSED. Each event names the previous event's digest (`prev_digest`), so every member
//! replaying the same log reaches the same member set, and a fork is detectable.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use talos_identity::keys::verify;
use talos_identity::{IdentityKey, Signature};
use talos_primitives::Ed25519Public;

use crate::codec::{DecodeError, Reader};
use crate::message::VERSION;

/// Members (plus pending invitations) a group may hold.
pub const MAX_MEMBERS: usize = 256;
const KIND_EVENT: u8 = 0x22;

/// A group's 32-byte identifier.
///
/// Bound to its creator: the first 16 bytes are the first 16 of
/// `SHA-256("talos-ratchet-v1 group id" ‖ creator)`, the last 16 are random. A genesis
/// event whose id is not bound to its actor is refused, so nobody can start a group under
/// the id of another creator's group (to be invited first and shadow it); finding a key
/// whose digest matches a given creator's prefix takes about 2^128 tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub [u8; 32]);

const GROUP_ID_LABEL: &[u8] = b"talos-ratchet-v1 group id";

impl GroupId {
    /// A fresh id for a group `creator` starts.
    pub fn new_for<R: rand::CryptoRng + ?Sized>(rng: &mut R, creator: &Ed25519Public) -> Self {
        let mut id = [0u8; 32];
        let (prefix, tail) = id.split_at_mut(16);
        prefix.copy_from_slice(&creator_prefix(creator));
        rng.fill_bytes(tail);
        Self(id)
    }

    /// Whether this id was made for a group `creator` started.
    pub fn is_bound_to(&self, creator: &Ed25519Public) -> bool {
        self.0.first_chunk::<16>() == Some(&creator_prefix(creator))
    }
}

fn creator_prefix(creator: &Ed25519Public) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(GROUP_ID_LABEL)
        .chain_update(creator.as_bytes())
        .finalize();
    digest.first_chunk::<16>().copied().unwrap_or_default()
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A member invited someone.
    Invited,
    /// The invitee (or, at sequence 0, the creator) joined.
    Joined,
    /// A member left, or the creator removed one.
    Removed,
    /// The creator closed the group; no event may follow.
    Closed,
}

impl EventKind {
    const fn code(self) -> u8 {
        match self {
            Self::Invited => 1,
            Self::Joined => 2,
            Self::Removed => 3,
            Self::Closed => 4,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Invited),
            2 => Some(Self::Joined),
            3 => Some(Self::Removed),
            4 => Some(Self::Closed),
            _ => None,
        }
    }
}

/// A signed membership event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEvent {
    /// The group.
    pub group: GroupId,
    /// Position in the log, from 0.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
    /// Who it happened to.
    pub member: Ed25519Public,
    /// Who did it (and signed).
    pub actor: Ed25519Public,
    /// SHA-256 of the previous event's encoding; zeros at sequence 0.
    pub prev_digest: [u8; 32],
    /// The actor's Ed25519 signature over everything above.
    pub signature: Signature,
}

const SIGNED_LEN: usize = 3 + 32 + 8 + 32 + 32 + 32;
/// The length of every encoded event (the signed fields and the signature).
pub const EVENT_LEN: usize = SIGNED_LEN + 64;

impl MembershipEvent {
    /// Builds and signs an event.
    pub fn sign(
        actor: &IdentityKey,
        group: GroupId,
        seq: u64,
        kind: EventKind,
        member: Ed25519Public,
        prev_digest: [u8; 32],
    ) -> Self {
        let mut ev = Self {
            group,
            seq,
            kind,
            member,
            actor: actor.public(),
            prev_digest,
            signature: Signature([0; 64]),
        };
        ev.signature = actor.sign(&ev.signed_bytes());
        ev
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNED_LEN + 64);
        out.extend_from_slice(&[VERSION, KIND_EVENT, self.kind.code()]);
        out.extend_from_slice(&self.group.0);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(self.member.as_bytes());
        out.extend_from_slice(self.actor.as_bytes());
        out.extend_from_slice(&self.prev_digest);
        out
    }

    /// The encoding: the signed fields, then the signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.signed_bytes();
        out.extend_from_slice(&self.signature.0);
        out
    }

    /// SHA-256 of the encoding: the next event's `prev_digest`.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.encode()).into()
    }

    /// Parses an event (the signature is checked when it is applied).
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let kind = r.u8("kind")?;
        if kind != KIND_EVENT {
            return Err(DecodeError::Kind(kind));
        }
        let kind =
            EventKind::from_code(r.u8("event kind")?).ok_or(DecodeError::Invalid("event kind"))?;
        let group = GroupId(r.array("group id")?);
        let seq = r.u64("seq")?;
        let key = |r: &mut Reader<'_>, what| {
            Ed25519Public::from_bytes(r.array(what)?).map_err(|_| DecodeError::Invalid(what))
        };
        let member = key(&mut r, "member")?;
        let actor = key(&mut r, "actor")?;
        let prev_digest = r.array("prev digest")?;
        let signature = Signature(r.array("signature")?);
        r.finish()?;
        Ok(Self {
            group,
            seq,
            kind,
            member,
            actor,
            prev_digest,
            signature,
        })
    }
}

/// Why an event was not applied. The membership is unchanged after each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// The event is for another group.
    #[error("event for another group")]
    WrongGroup,
    /// `seq` is not the next sequence number.
    #[error("expected seq {expected}, got {got}")]
    Sequence {
        /// The next sequence number.
        expected: u64,
        /// The event's.
        got: u64,
    },
    /// `prev_digest` does not match the log head: a fork or a gap.
    #[error("prev_digest does not match the log head")]
    BrokenChain,
    /// The actor's signature does not verify.
    #[error("bad event signature")]
    BadSignature,
    /// The actor may not do this (not a member, not the creator, not the invitee).
    #[error("actor not allowed to do this")]
    NotAllowed,
    /// The member is in the wrong state (already a member, not invited, not a member).
    #[error("member in the wrong state for this event")]
    WrongMemberState,
    /// The group is closed.
    #[error("group is closed")]
    Closed,
    /// The group is at [`MAX_MEMBERS`].
    #[error("group is full")]
    Full,
    /// The genesis event's group id is not bound to its creator ([`GroupId`]).
    #[error("group id not bound to its creator")]
    UnboundGroupId,
}

/// The membership replayed from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    group: GroupId,
    creator: Ed25519Public,
    members: BTreeSet<Ed25519Public>,
    invited: BTreeSet<Ed25519Public>,
    head: [u8; 32],
    next_seq: u64,
    closed: bool,
}

impl Membership {
    /// Starts from the genesis event: the creator's own JOINED at sequence 0.
    pub fn genesis(event: &MembershipEvent) -> Result<Self, MembershipError> {
        if event.seq != 0 {
            return Err(MembershipError::Sequence {
                expected: 0,
                got: event.seq,
            });
        }
        if event.prev_digest != [0; 32] {
            return Err(MembershipError::BrokenChain);
        }
        if event.kind != EventKind::Joined || event.actor != event.member {
            return Err(MembershipError::NotAllowed);
        }
        if !event.group.is_bound_to(&event.actor) {
            return Err(MembershipError::UnboundGroupId);
        }
        verify(&event.actor, &event.signed_bytes(), &event.signature)
            .map_err(|_| MembershipError::BadSignature)?;
        Ok(Self {
            group: event.group,
            creator: event.actor,
            members: BTreeSet::from([event.actor]),
            invited: BTreeSet::new(),
            head: event.digest(),
            next_seq: 1,
            closed: false,
        })
    }

    /// Applies the next event, checking chain, signature and permissions.
    pub fn apply(&mut self, event: &MembershipEvent) -> Result<(), MembershipError> {
        if event.group != self.group {
            return Err(MembershipError::WrongGroup);
        }
        if self.closed {
            return Err(MembershipError::Closed);
        }
        if event.seq != self.next_seq {
            return Err(MembershipError::Sequence {
                expected: self.next_seq,
                got: event.seq,
            });
        }
        if event.prev_digest != self.head {
            return Err(MembershipError::BrokenChain);
        }
        verify(&event.actor, &event.signed_bytes(), &event.signature)
            .map_err(|_| MembershipError::BadSignature)?;
        let (m, a) = (&event.member, &event.actor);
        match event.kind {
            EventKind::Invited => {
                if !self.members.contains(a) {
                    return Err(MembershipError::NotAllowed);
                }
                if self.members.contains(m) || self.invited.contains(m) {
                    return Err(MembershipError::WrongMemberState);
                }
                if self.members.len() + self.invited.len() >= MAX_MEMBERS {
                    return Err(MembershipError::Full);
                }
                self.invited.insert(*m);
            }
            EventKind::Joined => {
                if a != m {
                    return Err(MembershipError::NotAllowed);
                }
                if !self.invited.remove(m) {
                    return Err(MembershipError::WrongMemberState);
                }
                self.members.insert(*m);
            }
            EventKind::Removed => {
                if a != &self.creator && a != m {
                    return Err(MembershipError::NotAllowed);
                }
                if !self.members.remove(m) && !self.invited.remove(m) {
                    return Err(MembershipError::WrongMemberState);
                }
            }
            EventKind::Closed => {
                if a != &self.creator {
                    return Err(MembershipError::NotAllowed);
                }
                self.closed = true;
            }
        }
        self.head = event.digest();
        self.next_seq = self.next_seq.saturating_add(1);
        Ok(())
    }

    /// The group.
    pub const fn group(&self) -> GroupId {
        self.group
    }

    /// Current members.
    pub const fn members(&self) -> &BTreeSet<Ed25519Public> {
        &self.members
    }

    /// Pending invitations (invited, not yet joined).
    pub const fn invited(&self) -> &BTreeSet<Ed25519Public> {
        &self.invited
    }

    /// The creator: the only member who may remove others or close the group.
    pub const fn creator(&self) -> Ed25519Public {
        self.creator
    }

    /// Whether `key` is a member.
    pub fn is_member(&self, key: &Ed25519Public) -> bool {
        self.members.contains(key)
    }

    /// The digest of the last event, for the next event's `prev_digest`.
    pub const fn head(&self) -> [u8; 32] {
        self.head
    }

    /// The next event's sequence number.
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Whether the group was closed.
    pub const fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Membership {
    /// Appends the membership state (for [`crate::group::Group::encode`]).
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.group.0);
        out.extend_from_slice(self.creator.as_bytes());
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&self.next_seq.to_be_bytes());
        out.push(u8::from(self.closed));
        for set in [&self.members, &self.invited] {
            // Bounded by MAX_MEMBERS (256), so two bytes always suffice.
            out.extend_from_slice(&u16::try_from(set.len()).unwrap_or(u16::MAX).to_be_bytes());
            for m in set {
                out.extend_from_slice(m.as_bytes());
            }
        }
    }

    /// Reads what [`Self::encode_into`] wrote, checking the bounds.
    pub(crate) fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let group = GroupId(r.array("group id")?);
        let key = |b: [u8; 32]| {
            Ed25519Public::from_bytes(b).map_err(|_| DecodeError::Invalid("member key"))
        };
        let creator = key(r.array("creator")?)?;
        let head = r.array("head")?;
        let next_seq = r.u64("next seq")?;
        let closed = match r.u8("closed")? {
            0 => false,
            1 => true,
            _ => return Err(DecodeError::Invalid("closed flag")),
        };
        let mut sets = [BTreeSet::new(), BTreeSet::new()];
        for set in &mut sets {
            let n = usize::from(u16::from_be_bytes(r.array("member count")?));
            if n > MAX_MEMBERS {
                return Err(DecodeError::Invalid("member count"));
            }
            for _ in 0..n {
                let m = key(r.array("member")?)?;
                // Strictly ascending: the encoding stays canonical.
                if set.last().is_some_and(|last| *last >= m) {
                    return Err(DecodeError::Invalid("members out of order"));
                }
                set.insert(m);
            }
        }
        let [members, invited] = sets;
        if members.len() + invited.len() > MAX_MEMBERS || next_seq == 0 {
            return Err(DecodeError::Invalid("membership"));
        }
        Ok(Self {
            group,
            creator,
            members,
            invited,
            head,
            next_seq,
            closed,
        })
    }
}
