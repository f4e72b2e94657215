//! What group traffic looks like inside a pairwise session message. Every group control
//! message and every group message travels as the plaintext of a pairwise ratchet
//! message, so it inherits the durable, exactly-once, in-order stream (and the mailboxes)
//! of the pairwise layer; the group message itself is still encrypted once for all
//! members, under the sender key.
//!
//! `tag ‖ body`:
//! - `1` Invite: `u16 n ‖ n × event` — the first `n` events of the log (the creator sends
//!   the rest as `Event`s on the same stream);
//! - `2` Event: one membership event (the creator's sequenced event, or a member's
//!   proposal to the creator);
//! - `3` Reject: `group ‖ u64 next_seq` — the creator did not take a proposal that was
//!   not signed on its head; the proposer signs it again on the newer head;
//! - `4` Distribution: a sender key (secret: zeroized on drop);
//! - `5` Message: a sender-key group message.

use super::{GroupMessage, SenderKeyDistribution};
use crate::codec::DecodeError;
use crate::membership::{EVENT_LEN, GroupId, MembershipEvent};

/// Most events one Invite carries (so it fits in one frame with room to spare).
pub const MAX_INVITE_EVENTS: usize = 150;

const TAG_INVITE: u8 = 1;
const TAG_EVENT: u8 = 2;
const TAG_REJECT: u8 = 3;
const TAG_DISTRIBUTION: u8 = 4;
const TAG_MESSAGE: u8 = 5;

/// One group item inside a pairwise message.
#[derive(Clone, PartialEq, Eq)]
pub enum GroupWire {
    /// The start of the log, for an invitee.
    Invite(Vec<MembershipEvent>),
    /// One membership event.
    Event(MembershipEvent),
    /// A proposal was not taken; sign it again on the head at `next_seq`.
    Reject {
        /// The group.
        group: GroupId,
        /// The creator's next sequence number when it refused.
        next_seq: u64,
    },
    /// A member's sender key.
    Distribution(SenderKeyDistribution),
    /// A group message.
    Message(GroupMessage),
}

impl core::fmt::Debug for GroupWire {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Kinds and ids only: never key material or message bytes.
        match self {
            Self::Invite(log) => write!(f, "Invite({} events)", log.len()),
            Self::Event(e) => write!(f, "Event(seq {}, {:?})", e.seq, e.kind),
            Self::Reject { next_seq, .. } => write!(f, "Reject(next {next_seq})"),
            Self::Distribution(d) => write!(f, "Distribution(epoch {})", d.epoch),
            Self::Message(m) => write!(f, "Message(epoch {}, #{})", m.epoch, m.iteration),
        }
    }
}

impl GroupWire {
    /// The group it is about.
    pub fn group(&self) -> Option<GroupId> {
        match self {
            Self::Invite(log) => log.first().map(|e| e.group),
            Self::Event(e) => Some(e.group),
            Self::Reject { group, .. } => Some(*group),
            Self::Distribution(d) => Some(d.group),
            Self::Message(m) => Some(m.group),
        }
    }

    /// The encoding (zeroized on drop: a distribution holds a chain key).
    pub fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::new());
        match self {
            Self::Invite(log) => {
                out.push(TAG_INVITE);
                let n = u16::try_from(log.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&n.to_be_bytes());
                for e in log.iter().take(usize::from(n)) {
                    out.extend_from_slice(&e.encode());
                }
            }
            Self::Event(e) => {
                out.push(TAG_EVENT);
                out.extend_from_slice(&e.encode());
            }
            Self::Reject { group, next_seq } => {
                out.push(TAG_REJECT);
                out.extend_from_slice(&group.0);
                out.extend_from_slice(&next_seq.to_be_bytes());
            }
            Self::Distribution(d) => {
                out.push(TAG_DISTRIBUTION);
                out.extend_from_slice(&d.encode());
            }
            Self::Message(m) => {
                out.push(TAG_MESSAGE);
                out.extend_from_slice(m.as_bytes());
            }
        }
        out
    }

    /// Parses one item; every event of an Invite must name the same group.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (tag, body) = bytes.split_first().ok_or(DecodeError::Truncated {
            what: "group item tag",
            need: 1,
        })?;
        match *tag {
            TAG_INVITE => {
                let (n, events) =
                    body.split_first_chunk::<2>()
                        .ok_or_else(|| DecodeError::Truncated {
                            what: "invite length",
                            need: 2usize.saturating_sub(body.len()),
                        })?;
                let n = usize::from(u16::from_be_bytes(*n));
                if n == 0 || n > MAX_INVITE_EVENTS {
                    return Err(DecodeError::Invalid("invite event count"));
                }
                let want = n * EVENT_LEN;
                if events.len() != want {
                    return Err(if events.len() < want {
                        DecodeError::Truncated {
                            what: "invite events",
                            need: want - events.len(),
                        }
                    } else {
                        DecodeError::Trailing(events.len() - want)
                    });
                }
                let log = events
                    .chunks_exact(EVENT_LEN)
                    .map(MembershipEvent::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                let group = log.first().map(|e| e.group);
                if log.iter().any(|e| Some(e.group) != group) {
                    return Err(DecodeError::Invalid("invite mixes groups"));
                }
                Ok(Self::Invite(log))
            }
            TAG_EVENT => Ok(Self::Event(MembershipEvent::parse(body)?)),
            TAG_REJECT => {
                let (group, rest) =
                    body.split_first_chunk::<32>()
                        .ok_or(DecodeError::Truncated {
                            what: "reject group",
                            need: 32usize.saturating_sub(body.len()),
                        })?;
                let next_seq = <[u8; 8]>::try_from(rest)
                    .map_err(|_| DecodeError::Invalid("reject sequence number"))?;
                Ok(Self::Reject {
                    group: GroupId(*group),
                    next_seq: u64::from_be_bytes(next_seq),
                })
            }
            TAG_DISTRIBUTION => Ok(Self::Distribution(SenderKeyDistribution::parse(body)?)),
            TAG_MESSAGE => Ok(Self::Message(GroupMessage::parse(body)?)),
            other => Err(DecodeError::Kind(other)),
        }
    }
}
