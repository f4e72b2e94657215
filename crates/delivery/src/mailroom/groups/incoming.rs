//! Group items arriving in pairwise messages: invitations, the creator's events (and,
//! at the creator, members' proposals), rejects, sender keys and group messages, the
//! last two waiting when they are for an epoch this member has not reached.

use talos_primitives::Ed25519Public;
use talos_ratchet::group::wire::GroupWire;
use talos_ratchet::group::{Group, GroupError, GroupMessage};
use talos_ratchet::membership::{EventKind, GroupId, MembershipError, MembershipEvent};
use talos_store::db::CF_GROUPS;
use tracing::{debug, warn};
use zeroize::Zeroizing;

use super::super::group_store::{
    GroupRecord, INVITATIONS_COUNT, INVITER, MAX_EPOCHS_AHEAD, MAX_INVITATION_EVENTS,
    MAX_INVITATIONS, MAX_INVITATIONS_PER_INVITER, MAX_WAITING, MAX_WAITING_PER_SENDER, Proposal,
    WAITING, WAITING_LIVE, WAITING_RANGE, count, key, numbered, range, sender_key, set_count,
    set_range,
};
use super::super::staged::Staged;
use super::super::{Mailroom, short_id};
use super::{epoch_of, short_group};
use crate::error::DeliveryError;

impl Mailroom {
    /// A group item that arrived from `from` in a pairwise message. Protocol failures
    /// are logged and dropped (the pairwise frame is already accepted); only store
    /// failures are returned, and they fail the whole commit. True if the item was
    /// taken (its sender is then no longer an idle peer).
    pub(in crate::mailroom) fn stage_group_item(
        &self,
        txn: &mut Staged<'_>,
        inbox: &mut u64,
        from: &Ed25519Public,
        seq: u64,
        payload: &[u8],
    ) -> Result<bool, DeliveryError> {
        let item = match GroupWire::parse(payload) {
            Ok(item) => item,
            Err(e) => {
                warn!(peer = %short_id(from), seq, %e, "malformed group item dropped");
                return Ok(false);
            }
        };
        let Some(id) = item.group() else {
            return Ok(false);
        };
        debug!(peer = %short_id(from), group = %short_group(&id), ?item, "group item");
        // All of an item's effects, or none: a dropped item must not leave, say, a log
        // entry written without the state that goes with it.
        txn.savepoint();
        let inbox_before = *inbox;
        let outcome = match item {
            GroupWire::Invite(log) => self.take_invitation(txn, from, &id, log),
            GroupWire::Event(event) => self.take_event(txn, inbox, from, &id, &event),
            GroupWire::Reject { next_seq, .. } => self.take_reject(txn, from, &id, next_seq),
            item @ (GroupWire::Distribution(_) | GroupWire::Message(_)) => {
                match self.load_group(txn, &id)? {
                    Some(mut record) => {
                        let r = self.take_keyed(txn, inbox, from, &mut record, &item, payload);
                        self.put_group(txn, &record)?;
                        r
                    }
                    None => Err(DeliveryError::UnknownGroup(short_group(&id))),
                }
            }
        };
        match outcome {
            Ok(()) => {
                txn.release();
                Ok(true)
            }
            Err(e @ (DeliveryError::Store(_) | DeliveryError::Rocks(_))) => Err(e),
            Err(e @ DeliveryError::Corrupt(_)) => Err(e),
            Err(e) => {
                txn.rollback();
                *inbox = inbox_before;
                warn!(peer = %short_id(from), group = %short_group(&id), %e, "group item dropped");
                Ok(false)
            }
        }
    }

    fn take_invitation(
        &self,
        txn: &mut Staged<'_>,
        from: &Ed25519Public,
        id: &GroupId,
        log: Vec<MembershipEvent>,
    ) -> Result<(), DeliveryError> {
        if self.load_group(txn, id)?.is_some() {
            return Err(DeliveryError::GroupState(
                "invited to a group already known",
            ));
        }
        let group = Group::from_log(self.identity.public(), &log)?;
        if &group.membership().creator() != from {
            return Err(DeliveryError::NotCreator("invite"));
        }
        let n = count(txn, INVITATIONS_COUNT)?;
        if n >= MAX_INVITATIONS {
            return Err(DeliveryError::GroupLimit("pending invitations"));
        }
        let by_inviter = key(INVITER, from.as_bytes());
        let mine = count(txn, &by_inviter)?;
        if mine >= MAX_INVITATIONS_PER_INVITER {
            return Err(DeliveryError::GroupLimit(
                "pending invitations from one inviter",
            ));
        }
        set_count(txn, &by_inviter, mine + 1)?;
        for e in &log {
            self.put_log_event(txn, e)?;
        }
        self.put_group(
            txn,
            &GroupRecord {
                proposal: Proposal::Invited,
                group,
            },
        )?;
        set_count(txn, INVITATIONS_COUNT, n + 1)
    }

    fn take_event(
        &self,
        txn: &mut Staged<'_>,
        inbox: &mut u64,
        from: &Ed25519Public,
        id: &GroupId,
        event: &MembershipEvent,
    ) -> Result<(), DeliveryError> {
        let me = self.identity.public();
        let mut record = self.group_of(txn, id)?;
        let creator = record.group.membership().creator();
        if creator == me {
            // A member's proposal: only its own JOINED or REMOVED.
            let own = event.actor == *from
                && event.member == *from
                && matches!(event.kind, EventKind::Joined | EventKind::Removed);
            if !own {
                return Err(DeliveryError::GroupState(
                    "a proposal may only be the member's own join or leave",
                ));
            }
            match self.sequence(txn, inbox, &mut record, event, None) {
                Ok(()) => {}
                Err(DeliveryError::Group(GroupError::Membership(
                    MembershipError::Sequence { .. } | MembershipError::BrokenChain,
                ))) => {
                    // Signed on an older head: the proposer has the newer events (they
                    // went before this on the same stream) and signs again.
                    let next_seq = record.group.membership().next_seq();
                    self.stage_group_send(
                        txn,
                        from,
                        &GroupWire::Reject {
                            group: *id,
                            next_seq,
                        },
                    )?;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
            return self.put_group(txn, &record);
        }
        if *from != creator {
            return Err(DeliveryError::NotCreator("send events"));
        }
        if record.proposal == Proposal::Invited
            && record.group.membership().next_seq() >= MAX_INVITATION_EVENTS
        {
            return Err(DeliveryError::GroupLimit("invitation log length"));
        }
        let rekey = record.group.apply(&mut rand::rng(), event)?;
        self.put_log_event(txn, event)?;
        if event.member == me {
            match event.kind {
                // Out of the group (or uninvited): nothing of it is kept.
                EventKind::Removed => return self.forget(txn, &record),
                EventKind::Joined if record.proposal == Proposal::Join => {
                    record.proposal = Proposal::None
                }
                _ => {}
            }
        }
        for (peer, d) in rekey {
            self.stage_group_send(txn, &peer, &GroupWire::Distribution(d))?;
        }
        self.run_waiting(txn, inbox, &mut record)?;
        self.put_group(txn, &record)
    }

    fn take_reject(
        &self,
        txn: &mut Staged<'_>,
        from: &Ed25519Public,
        id: &GroupId,
        next_seq: u64,
    ) -> Result<(), DeliveryError> {
        let record = self.group_of(txn, id)?;
        let m = record.group.membership();
        if &m.creator() != from {
            return Err(DeliveryError::NotCreator("reject proposals"));
        }
        if m.next_seq() < next_seq {
            return Err(DeliveryError::GroupState("reject ahead of our log"));
        }
        let me = self.identity.public();
        let kind = match record.proposal {
            Proposal::Join if !m.is_member(&me) => EventKind::Joined,
            Proposal::Leave if m.is_member(&me) => EventKind::Removed,
            _ => return Ok(()),
        };
        let event = record.group.sign_event(&self.identity, kind, me);
        self.stage_group_send(txn, from, &GroupWire::Event(event))?;
        Ok(())
    }

    /// A sender key or a group message: taken now if we have reached its epoch, kept
    /// waiting otherwise.
    fn take_keyed(
        &self,
        txn: &mut Staged<'_>,
        inbox: &mut u64,
        from: &Ed25519Public,
        record: &mut GroupRecord,
        item: &GroupWire,
        payload: &[u8],
    ) -> Result<(), DeliveryError> {
        let (sender, epoch) = match item {
            GroupWire::Distribution(d) => (d.sender, d.epoch),
            GroupWire::Message(m) => (m.sender, m.epoch),
            _ => return Ok(()),
        };
        // Each member hands out its own key and sends its own messages.
        if &sender != from {
            return Err(DeliveryError::Group(GroupError::WrongDistributor));
        }
        let m = record.group.membership();
        let current = epoch_of(m);
        if epoch > current {
            if !m.is_member(from) && !m.invited().contains(from) {
                return Err(DeliveryError::Group(GroupError::SenderNotMember));
            }
            if epoch - current > MAX_EPOCHS_AHEAD {
                return Err(DeliveryError::GroupState("item too far ahead of our epoch"));
            }
            return self.wait(txn, from, &m.group(), payload);
        }
        match item {
            GroupWire::Distribution(d) => Ok(record.group.accept_distribution(from, d)?),
            GroupWire::Message(m) => self.open_group_message(txn, inbox, from, record, m),
            _ => Ok(()),
        }
    }

    fn open_group_message(
        &self,
        txn: &mut Staged<'_>,
        inbox: &mut u64,
        from: &Ed25519Public,
        record: &mut GroupRecord,
        m: &GroupMessage,
    ) -> Result<(), DeliveryError> {
        if &m.sender != from {
            return Err(DeliveryError::Group(GroupError::WrongDistributor));
        }
        let plaintext = zeroize::Zeroizing::new(record.group.decrypt(m)?);
        self.put_inbox(
            txn,
            inbox,
            from,
            u64::from(m.iteration),
            Some(&m.group),
            &plaintext,
        )
    }

    fn wait(
        &self,
        txn: &mut Staged<'_>,
        from: &Ed25519Public,
        id: &GroupId,
        payload: &[u8],
    ) -> Result<(), DeliveryError> {
        let live = count(txn, &key(WAITING_LIVE, &id.0))?;
        let mine = count(txn, &sender_key(&id.0, from))?;
        if live >= MAX_WAITING || mine >= MAX_WAITING_PER_SENDER {
            return Err(DeliveryError::GroupLimit("items waiting for an epoch"));
        }
        let range_key = key(WAITING_RANGE, &id.0);
        let (head, tail) = range(txn, &range_key)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(32 + payload.len()));
        plain.extend_from_slice(from.as_bytes());
        plain.extend_from_slice(payload);
        self.seal_put(txn, &numbered(WAITING, &id.0, tail), &plain)?;
        set_range(txn, &range_key, head, tail + 1)?;
        set_count(txn, &key(WAITING_LIVE, &id.0), live + 1)?;
        set_count(txn, &sender_key(&id.0, from), mine + 1)
    }

    /// One waiting item is gone: its counts go down.
    fn unwait(
        &self,
        txn: &mut Staged<'_>,
        id: &GroupId,
        from: &Ed25519Public,
    ) -> Result<(), DeliveryError> {
        let live = count(txn, &key(WAITING_LIVE, &id.0))?;
        let mine = count(txn, &sender_key(&id.0, from))?;
        set_count(txn, &key(WAITING_LIVE, &id.0), live.saturating_sub(1))?;
        if mine <= 1 {
            txn.delete(CF_GROUPS, &sender_key(&id.0, from))
        } else {
            set_count(txn, &sender_key(&id.0, from), mine - 1)
        }
    }

    /// Takes up every waiting item whose epoch we have reached, in arrival order.
    pub(super) fn run_waiting(
        &self,
        txn: &mut Staged<'_>,
        inbox: &mut u64,
        record: &mut GroupRecord,
    ) -> Result<(), DeliveryError> {
        let id = record.group.membership().group();
        let range_key = key(WAITING_RANGE, &id.0);
        let (head, tail) = range(txn, &range_key)?;
        let mut first_left = None;
        for n in head..tail {
            let k = numbered(WAITING, &id.0, n);
            let Some(plain) = self.open_get(txn, &k, "waiting group item does not unseal")? else {
                continue;
            };
            let parsed = plain.split_first_chunk::<32>().and_then(|(from, payload)| {
                let from = Ed25519Public::from_bytes(*from).ok()?;
                Some((from, GroupWire::parse(payload).ok()?))
            });
            let Some((from, item)) = parsed else {
                return Err(DeliveryError::Corrupt("waiting group item"));
            };
            let epoch = match &item {
                GroupWire::Distribution(d) => d.epoch,
                GroupWire::Message(m) => m.epoch,
                _ => 0,
            };
            if epoch > epoch_of(record.group.membership()) {
                first_left.get_or_insert(n);
                continue;
            }
            txn.delete(CF_GROUPS, &k)?;
            self.unwait(txn, &id, &from)?;
            let r = match &item {
                GroupWire::Distribution(d) => Ok(record.group.accept_distribution(&from, d)?),
                GroupWire::Message(m) => self.open_group_message(txn, inbox, &from, record, m),
                _ => Ok(()),
            };
            match r {
                Ok(()) => {}
                Err(e @ (DeliveryError::Store(_) | DeliveryError::Rocks(_))) => return Err(e),
                Err(e) => warn!(peer = %short_id(&from), %e, "waiting group item dropped"),
            }
        }
        set_range(txn, &range_key, first_left.unwrap_or(tail), tail)
    }
}
