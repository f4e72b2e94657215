//! Acks: a receiver's answer to each frame of a batch, and why it refused one (the
//! format in the parent module).

use super::{FrameError, HEADER_LEN, MAX_ACK, VERSION};

/// Why a receiver refused a frame for good (the sender should not resend it as is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefuseReason {
    /// The body did not parse or did not decrypt.
    Malformed,
    /// A ratchet frame for a session the receiver does not have.
    NoSession,
    /// A mailbox is full for that recipient, or does not serve it.
    MailboxRefused,
    /// The sender is not allowed to talk to this node.
    Unauthorized,
}

impl RefuseReason {
    fn code(self) -> u8 {
        match self {
            RefuseReason::Malformed => 1,
            RefuseReason::NoSession => 2,
            RefuseReason::MailboxRefused => 3,
            RefuseReason::Unauthorized => 4,
        }
    }

    fn from_code(code: u8) -> Result<Self, FrameError> {
        Ok(match code {
            1 => RefuseReason::Malformed,
            2 => RefuseReason::NoSession,
            3 => RefuseReason::MailboxRefused,
            4 => RefuseReason::Unauthorized,
            other => return Err(FrameError::UnknownReason(other)),
        })
    }
}

/// The receiver's answer to one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckStatus {
    /// Durable at the receiver (or the mailbox): the sender may forget the frame.
    Accepted,
    /// Already durable from an earlier copy: the sender may forget the frame.
    Duplicate,
    /// Not taken, for good.
    Refused(RefuseReason),
    /// Not taken now (too far ahead, or the receiver is busy): resend it later.
    Later,
    /// Not taken now: the receiver already holds as many unread messages from this
    /// sender (or in all) as it allows, until its agent acknowledges some. The sender
    /// keeps the frame and resends it later, backing off; nothing is lost.
    OverQuota,
}

/// An acknowledgement, naming the frame by its sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ack {
    /// The frame's sequence number.
    pub seq: u64,
    /// What became of it.
    pub status: AckStatus,
}

impl Ack {
    /// The wire encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAX_ACK);
        out.push(VERSION);
        let (status, reason) = match self.status {
            AckStatus::Accepted => (0, None),
            AckStatus::Duplicate => (1, None),
            AckStatus::Refused(r) => (2, Some(r.code())),
            AckStatus::Later => (3, None),
            AckStatus::OverQuota => (4, None),
        };
        out.push(status);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend(reason);
        out
    }

    /// Parses an ack.
    pub fn parse(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() > MAX_ACK {
            return Err(FrameError::TooLarge {
                len: bytes.len(),
                limit: MAX_ACK,
            });
        }
        let (header, rest) = bytes
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(FrameError::Truncated(bytes.len()))?;
        let [version, status, seq @ ..] = *header;
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        let status = match (status, rest) {
            (0, []) => AckStatus::Accepted,
            (1, []) => AckStatus::Duplicate,
            (2, [reason]) => AckStatus::Refused(RefuseReason::from_code(*reason)?),
            (3, []) => AckStatus::Later,
            (4, []) => AckStatus::OverQuota,
            (0 | 1 | 3 | 4, extra) => return Err(FrameError::Trailing(extra.len())),
            (2, []) => return Err(FrameError::Truncated(bytes.len())),
            (other, _) => return Err(FrameError::UnknownStatus(other)),
        };
        let seq = u64::from_be_bytes(seq);
        if seq == 0 {
            return Err(FrameError::ZeroSeq);
        }
        Ok(Ack { seq, status })
    }
}
