//! The `/talos/a2a/3.0.0` wire format (the protocol around it: docs/a2a.md). Written by hand because it is ours: a fixed
//! 10-byte header and an opaque body, so there is nothing a serialization crate would add
//! except allocations and ambiguity.
//!
//! ```text
//! Frame  = version:u8 (1) | kind:u8 | seq:u64 BE | body            (body ≤ MAX_BODY)
//! Ack    = version:u8 (1) | status:u8 | seq:u64 BE [| reason:u8]   (reason iff refused)
//! Batch  = count:u16 BE | (len:u32 BE | Frame){count}   (1 ≤ count ≤ MAX_BATCH)
//! Acks   = count:u16 BE | (len:u8 | Ack){count}         (one per frame, in order)
//! ```
//!
//! A message carries a batch: a sender with many frames for one peer sends them in one
//! message (a message and a round trip per 35-byte frame was most of the network cost).
//!
//! `seq` numbers one sender's frames to one receiver from 1 upward; the pair
//! (sender PeerId, seq) is the frame id the receiver deduplicates by. The body is an
//! X3DH/PQXDH initial message or a ratchet message (`talos-ratchet`'s encodings), or for
//! a mailbox deposit the recipient's PeerId and a sealed frame; never plaintext.

use thiserror::Error;

mod ack;
mod batch;

pub use ack::{Ack, AckStatus, RefuseReason};
pub use batch::{
    MAX_BATCH, MAX_BATCH_FRAME_BYTES, MAX_REQUEST, MAX_RESPONSE, batch_fits, encode_acks,
    encode_batch, parse_acks, parse_batch,
};

/// The only version this crate speaks.
pub const VERSION: u8 = 1;
/// Bytes before the body.
pub const HEADER_LEN: usize = 10;
/// The largest body a frame may carry: a PQXDH initial message (ML-KEM ciphertext and
/// keys) plus a 32 KiB message fits with room to spare.
pub const MAX_BODY: usize = 48 * 1024;
/// The largest encoded frame.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_BODY;
/// The largest encoded ack.
pub const MAX_ACK: usize = HEADER_LEN + 1;

/// What a frame's body holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// An X3DH/PQXDH initial message with the session's first ratchet message.
    Initial,
    /// A Double Ratchet message on an established session.
    Ratchet,
    /// A sealed frame for another peer, left with a mailbox.
    Deposit,
    /// A recipient asking its mailbox for what it holds.
    Drain,
    /// A session frame a mailbox hands on to its recipient.
    Relay,
}

impl FrameKind {
    fn code(self) -> u8 {
        match self {
            FrameKind::Initial => 1,
            FrameKind::Ratchet => 2,
            FrameKind::Deposit => 3,
            FrameKind::Drain => 4,
            FrameKind::Relay => 5,
        }
    }

    fn from_code(code: u8) -> Result<Self, FrameError> {
        Ok(match code {
            1 => FrameKind::Initial,
            2 => FrameKind::Ratchet,
            3 => FrameKind::Deposit,
            4 => FrameKind::Drain,
            5 => FrameKind::Relay,
            other => return Err(FrameError::UnknownKind(other)),
        })
    }
}

/// Why a frame could not be read. An attacker can trigger every one of these, so they are
/// values, never panics.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum FrameError {
    /// Fewer bytes than the fixed header.
    #[error("frame truncated: {0} bytes, header needs {HEADER_LEN}")]
    Truncated(usize),
    /// A version this node does not speak.
    #[error("unsupported frame version {0}")]
    Version(u8),
    /// A kind byte no version-1 peer sends.
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    /// Sequence number 0 is never sent: streams count from 1.
    #[error("frame sequence number 0")]
    ZeroSeq,
    /// More bytes than [`MAX_FRAME`] (or [`MAX_ACK`] for an ack).
    #[error("frame too large: {len} bytes, limit {limit}")]
    TooLarge {
        /// Bytes offered.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// An ack status byte no version-1 peer sends.
    #[error("unknown ack status {0}")]
    UnknownStatus(u8),
    /// A refusal reason no version-1 peer sends.
    #[error("unknown refusal reason {0}")]
    UnknownReason(u8),
    /// An ack with bytes after its end.
    #[error("ack has {0} trailing bytes")]
    Trailing(usize),
    /// A deposit whose body is not a party key and a session frame.
    #[error("malformed deposit: {0}")]
    Deposit(&'static str),
    /// A batch that is empty, holds too many frames or bytes, or does not add up.
    #[error("malformed batch: {0}")]
    Batch(&'static str),
}

/// One frame: parsed, so its kind, sequence number and size are known to be valid.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    kind: FrameKind,
    seq: u64,
    body: Vec<u8>,
}

impl core::fmt::Debug for Frame {
    // The body is ciphertext, but logs get only its length.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Frame")
            .field("kind", &self.kind)
            .field("seq", &self.seq)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Frame {
    /// A frame; refuses sequence number 0 and bodies over [`MAX_BODY`].
    pub fn new(kind: FrameKind, seq: u64, body: Vec<u8>) -> Result<Self, FrameError> {
        if seq == 0 {
            return Err(FrameError::ZeroSeq);
        }
        if body.len() > MAX_BODY {
            return Err(FrameError::TooLarge {
                len: HEADER_LEN.saturating_add(body.len()),
                limit: MAX_FRAME,
            });
        }
        Ok(Frame { kind, seq, body })
    }

    /// What the body holds.
    pub fn kind(&self) -> FrameKind {
        self.kind
    }

    /// The sequence number on its sender→receiver stream.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The body (ciphertext).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, owned.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The length of [`Frame::encode`]'s output.
    pub fn encode_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.body.len())
    }

    /// The wire encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN.saturating_add(self.body.len()));
        out.push(VERSION);
        out.push(self.kind.code());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Parses a whole frame (its length comes from the transport's length prefix).
    pub fn parse(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() > MAX_FRAME {
            return Err(FrameError::TooLarge {
                len: bytes.len(),
                limit: MAX_FRAME,
            });
        }
        let (header, body) = bytes
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(FrameError::Truncated(bytes.len()))?;
        let [version, kind, seq @ ..] = *header;
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        Frame::new(
            FrameKind::from_code(kind)?,
            u64::from_be_bytes(seq),
            body.to_vec(),
        )
    }
}

/// The session frame inside a [`FrameKind::Deposit`] (a sender leaves it with a
/// mailbox; party = the recipient) or a [`FrameKind::Relay`] (the mailbox hands it on;
/// party = the original sender). Two kinds, so a node that is both someone's mailbox and
/// a mailbox's client never confuses the two. Body layout: party key (32) ‖ the inner
/// frame's encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deposit {
    /// The other party's Ed25519 key bytes.
    pub party: [u8; 32],
    /// The session frame (kind Initial or Ratchet; never another deposit).
    pub inner: Frame,
    /// A hand-on from a mailbox (`Relay`) rather than a deposit (`Deposit`).
    pub relay: bool,
}

/// Bytes a deposit adds around its inner frame.
pub const DEPOSIT_OVERHEAD: usize = 32 + HEADER_LEN;

impl Deposit {
    /// Wraps `inner` (a session frame) as a deposit frame, with the inner frame's seq.
    pub fn wrap(party: [u8; 32], inner: &Frame) -> Result<Frame, FrameError> {
        Self::wrap_as(FrameKind::Deposit, party, inner)
    }

    /// Wraps `inner` as a mailbox's hand-on to its recipient.
    pub fn wrap_relay(party: [u8; 32], inner: &Frame) -> Result<Frame, FrameError> {
        Self::wrap_as(FrameKind::Relay, party, inner)
    }

    /// The frame this deposit or hand-on travels in.
    pub fn to_frame(&self) -> Result<Frame, FrameError> {
        let kind = if self.relay {
            FrameKind::Relay
        } else {
            FrameKind::Deposit
        };
        Self::wrap_as(kind, self.party, &self.inner)
    }

    fn wrap_as(kind: FrameKind, party: [u8; 32], inner: &Frame) -> Result<Frame, FrameError> {
        if !matches!(inner.kind, FrameKind::Initial | FrameKind::Ratchet) {
            return Err(FrameError::Deposit("inner frame is not a session frame"));
        }
        let mut body = Vec::with_capacity(DEPOSIT_OVERHEAD.saturating_add(inner.body.len()));
        body.extend_from_slice(&party);
        body.extend_from_slice(&inner.encode());
        Frame::new(kind, inner.seq, body)
    }

    /// Parses a deposit or hand-on frame.
    pub fn parse(frame: &Frame) -> Result<Self, FrameError> {
        let relay = match frame.kind {
            FrameKind::Deposit => false,
            FrameKind::Relay => true,
            _ => return Err(FrameError::Deposit("not a deposit frame")),
        };
        let (party, rest) = frame
            .body
            .split_first_chunk::<32>()
            .ok_or(FrameError::Deposit("no party key"))?;
        let inner = Frame::parse(rest)?;
        if !matches!(inner.kind, FrameKind::Initial | FrameKind::Ratchet) {
            return Err(FrameError::Deposit("inner frame is not a session frame"));
        }
        if inner.seq != frame.seq {
            return Err(FrameError::Deposit("inner seq differs from the deposit's"));
        }
        Ok(Deposit {
            party: *party,
            inner,
            relay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bytes() {
        let f = Frame::new(FrameKind::Ratchet, 258, b"ct".to_vec()).unwrap();
        assert_eq!(f.encode(), [1, 2, 0, 0, 0, 0, 0, 0, 1, 2, b'c', b't']);
        let a = Ack {
            seq: 3,
            status: AckStatus::Refused(RefuseReason::NoSession),
        };
        assert_eq!(a.encode(), [1, 2, 0, 0, 0, 0, 0, 0, 0, 3, 2]);
    }

    #[test]
    fn batches_are_bounded() {
        let f = Frame::new(FrameKind::Ratchet, 1, vec![0; 10]).unwrap();
        assert_eq!(parse_batch(&[0, 0]), Err(FrameError::Batch("frame count")));
        let too_many = encode_batch(&vec![f.clone(); MAX_BATCH + 1]);
        assert_eq!(
            parse_batch(&too_many),
            Err(FrameError::Batch("frame count"))
        );
        let big = Frame::new(FrameKind::Ratchet, 1, vec![0; MAX_BODY]).unwrap();
        assert!(!batch_fits(std::slice::from_ref(&big), &f));
        assert!(batch_fits(std::slice::from_ref(&f), &f));
        assert!(parse_batch(&encode_batch(&[big.clone(), f.clone()])).is_err());
        assert_eq!(
            parse_batch(&encode_batch(std::slice::from_ref(&big))).unwrap(),
            vec![big]
        );
        // A length past the end is an error, not a read beyond the input.
        assert!(parse_batch(&[0, 1, 255, 255, 255, 255, 1]).is_err());
        assert_eq!(parse_acks(&[0, 0]), Err(FrameError::Batch("ack count")));
    }

    #[test]
    fn bad_inputs_are_typed() {
        assert_eq!(Frame::parse(&[1, 2, 0]), Err(FrameError::Truncated(3)));
        assert_eq!(Frame::parse(&[2; 10]), Err(FrameError::Version(2)));
        assert_eq!(
            Frame::parse(&[1, 9, 0, 0, 0, 0, 0, 0, 0, 1]),
            Err(FrameError::UnknownKind(9))
        );
        assert_eq!(
            Frame::parse(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(FrameError::ZeroSeq)
        );
        assert!(matches!(
            Frame::parse(&vec![1; MAX_FRAME + 1]),
            Err(FrameError::TooLarge { .. })
        ));
        assert!(Frame::new(FrameKind::Initial, 1, vec![0; MAX_BODY + 1]).is_err());
        assert!(Frame::new(FrameKind::Initial, 1, vec![0; MAX_BODY]).is_ok());
        assert_eq!(
            Ack::parse(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7]),
            Err(FrameError::Trailing(1))
        );
        assert_eq!(
            Ack::parse(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 1]),
            Err(FrameError::Truncated(10))
        );
        assert_eq!(
            Ack::parse(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
            Err(FrameError::UnknownReason(0))
        );
        assert_eq!(
            Ack::parse(&[1, 5, 0, 0, 0, 0, 0, 0, 0, 1]),
            Err(FrameError::UnknownStatus(5))
        );
    }

    fn kind() -> impl Strategy<Value = FrameKind> {
        prop_oneof![
            Just(FrameKind::Initial),
            Just(FrameKind::Ratchet),
            Just(FrameKind::Deposit),
            Just(FrameKind::Drain)
        ]
    }

    fn status() -> impl Strategy<Value = AckStatus> {
        prop_oneof![
            Just(AckStatus::Accepted),
            Just(AckStatus::Duplicate),
            Just(AckStatus::Refused(RefuseReason::Malformed)),
            Just(AckStatus::Refused(RefuseReason::NoSession)),
            Just(AckStatus::Refused(RefuseReason::MailboxRefused)),
            Just(AckStatus::Refused(RefuseReason::Unauthorized)),
            Just(AckStatus::Later),
            Just(AckStatus::OverQuota),
        ]
    }

    proptest! {
        #[test]
        fn frame_round_trips(k in kind(), seq in 1u64.., body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let f = Frame::new(k, seq, body).unwrap();
            prop_assert_eq!(Frame::parse(&f.encode()).unwrap(), f);
        }

        /// A deposit carries its inner session frame and party exactly; deposits of
        /// deposits, and arbitrary deposit bodies, are typed errors.
        #[test]
        fn deposits_round_trip(party in any::<[u8; 32]>(), initial in any::<bool>(), seq in 1u64.., body in proptest::collection::vec(any::<u8>(), 0..512), junk in proptest::collection::vec(any::<u8>(), 0..96)) {
            let kind = if initial { FrameKind::Initial } else { FrameKind::Ratchet };
            let inner = Frame::new(kind, seq, body).unwrap();
            let wrapped = Deposit::wrap(party, &inner).unwrap();
            let relayed = Deposit::wrap_relay(party, &inner).unwrap();
            prop_assert_eq!(Deposit::parse(&wrapped).unwrap(), Deposit { party, inner: inner.clone(), relay: false });
            prop_assert_eq!(Deposit::parse(&relayed).unwrap(), Deposit { party, inner, relay: true });
            prop_assert!(Deposit::wrap(party, &wrapped).is_err());
            prop_assert!(Deposit::wrap(party, &relayed).is_err());
            if let Ok(f) = Frame::new(FrameKind::Deposit, seq, junk)
                && let Ok(d) = Deposit::parse(&f)
            {
                prop_assert_eq!(d.to_frame().unwrap(), f);
            }
        }

        #[test]
        fn ack_round_trips(seq in 1u64.., s in status()) {
            let a = Ack { seq, status: s };
            prop_assert_eq!(Ack::parse(&a.encode()).unwrap(), a);
        }

        /// Batches and their acks round-trip; any cut or extension of either is an error.
        #[test]
        fn batches_round_trip(
            frames in proptest::collection::vec((kind(), 1u64.., proptest::collection::vec(any::<u8>(), 0..300)), 1..MAX_BATCH),
            statuses in proptest::collection::vec(status(), 1..MAX_BATCH),
            cut in 1usize..8,
        ) {
            let frames: Vec<Frame> = frames.into_iter().map(|(k, s, b)| Frame::new(k, s, b).unwrap()).collect();
            let bytes = encode_batch(&frames);
            prop_assert_eq!(parse_batch(&bytes).unwrap(), frames);
            prop_assert!(parse_batch(&bytes[..bytes.len().saturating_sub(cut)]).is_err());
            let mut long = bytes.clone();
            long.push(0);
            prop_assert!(parse_batch(&long).is_err());
            let acks: Vec<Ack> = statuses.into_iter().enumerate().map(|(i, status)| Ack { seq: i as u64 + 1, status }).collect();
            let bytes = encode_acks(&acks);
            prop_assert_eq!(parse_acks(&bytes).unwrap(), acks);
            prop_assert!(parse_acks(&bytes[..bytes.len().saturating_sub(cut)]).is_err());
            let mut long = bytes.clone();
            long.push(0);
            prop_assert!(parse_acks(&long).is_err());
        }

        /// Any bytes: a typed answer, and whatever parses re-encodes to the same bytes.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(b) = parse_batch(&bytes) {
                prop_assert_eq!(encode_batch(&b), bytes.clone());
            }
            if let Ok(a) = parse_acks(&bytes) {
                prop_assert_eq!(encode_acks(&a), bytes.clone());
            }
            if let Ok(f) = Frame::parse(&bytes) {
                prop_assert_eq!(f.encode(), bytes.clone());
            }
            if let Ok(a) = Ack::parse(&bytes) {
                prop_assert_eq!(a.encode(), bytes);
            }
        }
    }
}
