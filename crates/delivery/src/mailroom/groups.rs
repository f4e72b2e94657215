//! Sender-key groups over the pairwise streams.
//!
//! Ordering: the group's creator sequences the membership log. It signs invitations and
//! removals itself; a member's own events (joining, leaving) are proposals sent to the
//! creator, which applies each to its head and hands it on to everyone, or answers
//! `Reject` when it was signed on an older head (the proposer signs it again). Members
//! apply events only from the creator, in the order of the creator's stream to them, so
//! every member walks the same hash chain and no fork can arise among honest nodes.
//!
//! Keys: after each event every member makes a fresh sender key and sends it to every
//! other member (`Group::apply`'s rekey). A sender key or a message for an epoch this
//! member has not reached yet (the creator's event is still on its way) waits, bounded,
//! and is taken up once the event arrives.
//!
//! Everything here runs inside the mailroom's group commit: the group state, the log,
//! the pairwise frames it sends and the inbox entries it makes are one synced batch with
//! the frame that caused them.

use talos_primitives::Ed25519Public;
use talos_ratchet::group::GroupError;
use talos_ratchet::membership::{EventKind, GroupId, MembershipEvent};
use talos_ratchet::{group::Group, membership::Membership};
use talos_store::db::CF_GROUPS;
mod incoming;
mod outgoing;

use super::group_store::{
    GROUPS_COUNT, GroupRecord, INVITATIONS_COUNT, LOG, MAX_GROUPS, Proposal, STATE, WAITING,
    WAITING_LIVE, WAITING_RANGE, count, invitation_done, key, numbered, range, sender_key,
    set_count,
};
use super::staged::Staged;
use super::{Mailroom, counter_in};
use crate::error::DeliveryError;
use crate::layout::INBOX_NEXT;
use talos_ratchet::group::wire::{GroupWire, MAX_INVITE_EVENTS};

/// Pairwise plaintext content: a message for the local agent.
pub(super) const CONTENT_AGENT: u8 = 0;
/// Pairwise plaintext content: a [`GroupWire`] item.
pub(super) const CONTENT_GROUP: u8 = 1;

/// A group as the local agent sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView {
    /// The group.
    pub id: GroupId,
    /// Its creator (who orders its log).
    pub creator: Ed25519Public,
    /// Current members.
    pub members: Vec<Ed25519Public>,
    /// Invited, not joined yet.
    pub invited: Vec<Ed25519Public>,
    /// The current epoch (the sequence number of the last event).
    pub epoch: u64,
    /// Whether this node is a member.
    pub member: bool,
    /// A proposal of ours the creator has not sequenced yet: "join" or "leave".
    pub pending: Option<&'static str>,
}

/// An invitation the local agent may accept with [`Mailroom::group_join`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The group.
    pub id: GroupId,
    /// Who invited (the creator).
    pub creator: Ed25519Public,
    /// Its members when the latest event arrived.
    pub members: Vec<Ed25519Public>,
    /// Whether the log received so far includes our invitation (joining is possible).
    pub ready: bool,
}

fn view(record: &GroupRecord, me: &Ed25519Public) -> GroupView {
    let m = record.group.membership();
    GroupView {
        id: m.group(),
        creator: m.creator(),
        members: m.members().iter().copied().collect(),
        invited: m.invited().iter().copied().collect(),
        epoch: m.next_seq().saturating_sub(1),
        member: m.is_member(me),
        pending: match record.proposal {
            Proposal::None | Proposal::Invited => None,
            Proposal::Join => Some("join"),
            Proposal::Leave => Some("leave"),
        },
    }
}

fn short_group(id: &GroupId) -> String {
    hex::encode(id.0.get(..8).unwrap_or_default())
}

fn epoch_of(m: &Membership) -> u64 {
    m.next_seq().saturating_sub(1)
}

impl Mailroom {
    /// Runs `f` in one group commit under the mailroom's lock; the inbox counter is read
    /// and written back around it.
    fn group_txn<T>(
        &self,
        f: impl FnOnce(&Self, &mut Staged<'_>, &mut u64) -> Result<T, DeliveryError>,
    ) -> Result<T, DeliveryError> {
        let _guard = self.prekeys.lock().map_err(|_| DeliveryError::Poisoned)?;
        let mut txn = Staged::new(&self.store);
        let mut inbox_next = counter_in(&txn, INBOX_NEXT)?;
        let before = inbox_next;
        let out = f(self, &mut txn, &mut inbox_next)?;
        if inbox_next != before {
            txn.put(
                talos_store::db::CF_STREAMS,
                INBOX_NEXT,
                inbox_next.to_be_bytes().to_vec(),
            )?;
        }
        let touched = txn.commit()?;
        self.note_woken(touched);
        Ok(out)
    }

    fn group_of(&self, txn: &Staged<'_>, id: &GroupId) -> Result<GroupRecord, DeliveryError> {
        self.load_group(txn, id)?
            .ok_or_else(|| DeliveryError::UnknownGroup(short_group(id)))
    }

    /// Creates a group with this node as its creator and only member.
    pub fn group_create(&self) -> Result<GroupId, DeliveryError> {
        self.group_txn(|this, txn, _| {
            let n = count(txn, GROUPS_COUNT)?;
            if n >= MAX_GROUPS {
                return Err(DeliveryError::GroupLimit("groups per node"));
            }
            let id = GroupId::new_for(&mut rand::rng(), &this.identity.public());
            let (group, genesis) = Group::create(&mut rand::rng(), &this.identity, id)?;
            this.put_log_event(txn, &genesis)?;
            this.put_group(
                txn,
                &GroupRecord {
                    proposal: Proposal::None,
                    group,
                },
            )?;
            set_count(txn, GROUPS_COUNT, n + 1)?;
            Ok(id)
        })
    }

    /// Invites `invitee` (creator only): the event goes to every member, and the log so
    /// far to the invitee.
    pub fn group_invite(&self, id: &GroupId, invitee: &Ed25519Public) -> Result<(), DeliveryError> {
        self.group_txn(|this, txn, inbox| {
            let mut record = this.group_of(txn, id)?;
            let me = this.identity.public();
            if record.group.membership().creator() != me {
                return Err(DeliveryError::NotCreator("invite"));
            }
            if invitee == &me {
                return Err(DeliveryError::GroupState("the creator is already a member"));
            }
            let event = record
                .group
                .sign_event(&this.identity, EventKind::Invited, *invitee);
            this.sequence(txn, inbox, &mut record, &event, Some(invitee))?;
            let log = this.log(txn, id, 0, record.group.membership().next_seq())?;
            let (first, rest) = log.split_at(log.len().min(MAX_INVITE_EVENTS));
            let mut sent =
                this.stage_group_send(txn, invitee, &GroupWire::Invite(first.to_vec()))?;
            for e in rest {
                sent &= this.stage_group_send(txn, invitee, &GroupWire::Event(e.clone()))?;
            }
            if !sent {
                return Err(DeliveryError::GroupLimit(
                    "group sends queued for the invitee",
                ));
            }
            this.put_group(txn, &record)
        })
    }

    /// Removes `member` (creator only); it is told, and everyone else rekeys.
    pub fn group_remove(&self, id: &GroupId, member: &Ed25519Public) -> Result<(), DeliveryError> {
        self.group_txn(|this, txn, inbox| {
            let mut record = this.group_of(txn, id)?;
            let me = this.identity.public();
            if record.group.membership().creator() != me {
                return Err(DeliveryError::NotCreator("remove members"));
            }
            if member == &me {
                return Err(DeliveryError::GroupState(
                    "the creator cannot remove itself",
                ));
            }
            let event = record
                .group
                .sign_event(&this.identity, EventKind::Removed, *member);
            this.sequence(txn, inbox, &mut record, &event, None)?;
            this.put_group(txn, &record)
        })
    }

    /// Accepts an invitation: signs our JOINED and proposes it to the creator. We are a
    /// member once the creator's copy of the event comes back.
    pub fn group_join(&self, id: &GroupId) -> Result<(), DeliveryError> {
        self.group_txn(|this, txn, _| {
            let mut record = this.group_of(txn, id)?;
            if record.proposal != Proposal::Invited {
                return Err(DeliveryError::GroupState("not an invitation"));
            }
            let me = this.identity.public();
            if !record.group.membership().invited().contains(&me) {
                return Err(DeliveryError::GroupState(
                    "the invitation's log has not reached our invitation yet",
                ));
            }
            let n = count(txn, GROUPS_COUNT)?;
            if n >= MAX_GROUPS {
                return Err(DeliveryError::GroupLimit("groups per node"));
            }
            let event = record
                .group
                .sign_event(&this.identity, EventKind::Joined, me);
            let creator = record.group.membership().creator();
            if !this.stage_group_send(txn, &creator, &GroupWire::Event(event))? {
                return Err(DeliveryError::GroupLimit(
                    "group sends queued for the creator",
                ));
            }
            record.proposal = Proposal::Join;
            this.put_group(txn, &record)?;
            set_count(txn, GROUPS_COUNT, n + 1)?;
            let invitations = count(txn, INVITATIONS_COUNT)?;
            set_count(txn, INVITATIONS_COUNT, invitations.saturating_sub(1))?;
            invitation_done(txn, &creator)
        })
    }

    /// Declines an invitation, or forgets a group we are no longer in.
    pub fn group_forget(&self, id: &GroupId) -> Result<(), DeliveryError> {
        self.group_txn(|this, txn, _| {
            let record = this.group_of(txn, id)?;
            let me = this.identity.public();
            if record.proposal != Proposal::Invited && record.group.membership().is_member(&me) {
                return Err(DeliveryError::GroupState("leave the group first"));
            }
            this.forget(txn, &record)
        })
    }

    /// Leaves a group (not the creator): proposes our REMOVED to the creator.
    pub fn group_leave(&self, id: &GroupId) -> Result<(), DeliveryError> {
        self.group_txn(|this, txn, _| {
            let mut record = this.group_of(txn, id)?;
            let me = this.identity.public();
            let creator = record.group.membership().creator();
            if creator == me {
                return Err(DeliveryError::GroupState(
                    "the creator orders the group and cannot leave it",
                ));
            }
            if !record.group.membership().is_member(&me) {
                return Err(DeliveryError::Group(GroupError::NotMember));
            }
            let event = record
                .group
                .sign_event(&this.identity, EventKind::Removed, me);
            if !this.stage_group_send(txn, &creator, &GroupWire::Event(event))? {
                return Err(DeliveryError::GroupLimit(
                    "group sends queued for the creator",
                ));
            }
            record.proposal = Proposal::Leave;
            this.put_group(txn, &record)
        })
    }

    /// Encrypts `plaintext` once under our sender key and sends it to every other member
    /// over the pairwise streams. Durable when this returns. Returns the recipients.
    pub fn group_send(&self, id: &GroupId, plaintext: &[u8]) -> Result<usize, DeliveryError> {
        self.group_txn(|this, txn, _| {
            let mut record = this.group_of(txn, id)?;
            let message = record.group.encrypt(plaintext)?;
            let wire = GroupWire::Message(message);
            let me = this.identity.public();
            let members: Vec<Ed25519Public> = record
                .group
                .membership()
                .members()
                .iter()
                .filter(|m| **m != me)
                .copied()
                .collect();
            let mut sent = 0;
            for m in &members {
                sent += usize::from(this.stage_group_send(txn, m, &wire)?);
            }
            this.put_group(txn, &record)?;
            Ok(sent)
        })
    }

    /// One group, if this node has it.
    pub fn group(&self, id: &GroupId) -> Result<Option<GroupView>, DeliveryError> {
        let txn = Staged::new(&self.store);
        let me = self.identity.public();
        Ok(self.load_group(&txn, id)?.map(|r| view(&r, &me)))
    }

    /// Up to `max` groups and invitations.
    pub fn groups(&self, max: usize) -> Result<(Vec<GroupView>, Vec<Invitation>), DeliveryError> {
        let txn = Staged::new(&self.store);
        let me = self.identity.public();
        let (mut groups, mut invitations) = (Vec::new(), Vec::new());
        for id in self.ids_under(STATE, None, max)? {
            let Some(r) = self.load_group(&txn, &GroupId(id))? else {
                continue;
            };
            if r.proposal == Proposal::Invited {
                let m = r.group.membership();
                invitations.push(Invitation {
                    id: m.group(),
                    creator: m.creator(),
                    members: m.members().iter().copied().collect(),
                    ready: m.invited().contains(&me),
                });
            } else {
                groups.push(view(&r, &me));
            }
        }
        Ok((groups, invitations))
    }

    /// Ids (group ids, or peer keys) of the `tag ‖ id` keys, in key order, after
    /// `after` if given (a cursor), up to `max`.
    fn ids_under(
        &self,
        tag: u8,
        after: Option<&[u8; 32]>,
        max: usize,
    ) -> Result<Vec<[u8; 32]>, DeliveryError> {
        let start: Vec<u8> = match after {
            // The smallest key after that id's key.
            Some(id) => [&key(tag, id)[..], &[0]].concat(),
            None => vec![tag],
        };
        let iter = self.store.db().iterator_cf(
            self.store.cf(CF_GROUPS)?,
            rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward),
        );
        let mut out = Vec::new();
        for item in iter {
            let (k, _) = item?;
            if k.first() != Some(&tag) || out.len() >= max {
                break;
            }
            if let Some(id) = k.get(1..33).and_then(|s| <[u8; 32]>::try_from(s).ok()) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Creator side: applies our own event (or a member's proposal), keeps it in the log,
    /// hands it to everyone concerned (except `skip`, who gets an Invite instead) and
    /// sends our new sender key.
    fn sequence(
        &self,
        txn: &mut Staged<'_>,
        inbox: &mut u64,
        record: &mut GroupRecord,
        event: &MembershipEvent,
        skip: Option<&Ed25519Public>,
    ) -> Result<(), DeliveryError> {
        let rekey = record.group.apply(&mut rand::rng(), event)?;
        self.put_log_event(txn, event)?;
        let me = self.identity.public();
        let m = record.group.membership();
        let mut to: Vec<Ed25519Public> = m.members().union(m.invited()).copied().collect();
        if !to.contains(&event.member) {
            to.push(event.member);
        }
        for peer in to.iter().filter(|p| **p != me && Some(*p) != skip) {
            self.stage_group_send(txn, peer, &GroupWire::Event(event.clone()))?;
        }
        for (peer, d) in rekey {
            self.stage_group_send(txn, &peer, &GroupWire::Distribution(d))?;
        }
        self.run_waiting(txn, inbox, record)
    }

    /// Deletes a group record with its log and waiting items, and its count.
    fn forget(&self, txn: &mut Staged<'_>, record: &GroupRecord) -> Result<(), DeliveryError> {
        let id = record.group.membership().group();
        for seq in 0..record.group.membership().next_seq() {
            txn.delete(CF_GROUPS, &numbered(LOG, &id.0, seq))?;
        }
        let (head, tail) = range(txn, &key(WAITING_RANGE, &id.0))?;
        for n in head..tail {
            let k = numbered(WAITING, &id.0, n);
            if let Some(plain) = self.open_get(txn, &k, "waiting group item does not unseal")?
                && let Some(sender) = plain
                    .first_chunk::<32>()
                    .and_then(|s| Ed25519Public::from_bytes(*s).ok())
            {
                txn.delete(CF_GROUPS, &sender_key(&id.0, &sender))?;
            }
            txn.delete(CF_GROUPS, &k)?;
        }
        txn.delete(CF_GROUPS, &key(WAITING_RANGE, &id.0))?;
        txn.delete(CF_GROUPS, &key(WAITING_LIVE, &id.0))?;
        txn.delete(CF_GROUPS, &key(STATE, &id.0))?;
        let which = if record.proposal == Proposal::Invited {
            invitation_done(txn, &record.group.membership().creator())?;
            INVITATIONS_COUNT
        } else {
            GROUPS_COUNT
        };
        let n = count(txn, which)?;
        set_count(txn, which, n.saturating_sub(1))
    }
}
