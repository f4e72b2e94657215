//! Wire forms: the ratchet message and the handshake's initial message (see `FORMAT.md`).

use talos_primitives::Ed25519Public;

use crate::aead::TAG_LEN;
use crate::codec::{DecodeError, Reader};
use crate::header::{ENCRYPTED_HEADER_LEN, HEADER_LEN};
use crate::keys::DhPublic;
use crate::pq::KEM_CIPHERTEXT_LEN;

/// The format version every message starts with.
pub const VERSION: u8 = 1;
/// The largest plaintext a ratchet message carries (1 MiB); larger data is chunked by the
/// node, so a decoder never buffers more than this from one frame.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 20;
/// The largest encoded ratchet message.
pub const MAX_MESSAGE_LEN: usize = 2 + ENCRYPTED_HEADER_LEN + MAX_PLAINTEXT_LEN + TAG_LEN;

pub(crate) const KIND_PLAIN: u8 = 0x00;
pub(crate) const KIND_HEADER_ENCRYPTED: u8 = 0x01;
pub(crate) const KIND_INITIAL: u8 = 0x02;

/// A ratchet message: version ‖ kind ‖ header (plain or sealed) ‖ ciphertext ‖ tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    bytes: Vec<u8>,
    header_encrypted: bool,
}

impl Message {
    pub(crate) fn from_parts(bytes: Vec<u8>, header_encrypted: bool) -> Self {
        Self {
            bytes,
            header_encrypted,
        }
    }

    /// Parses a message; the header stays opaque until a session reads it.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let header_encrypted = match r.u8("kind")? {
            KIND_PLAIN => false,
            KIND_HEADER_ENCRYPTED => true,
            other => return Err(DecodeError::Kind(other)),
        };
        let header_len = if header_encrypted {
            ENCRYPTED_HEADER_LEN
        } else {
            HEADER_LEN
        };
        r.take(header_len, "header")?;
        if r.remaining() < TAG_LEN {
            return Err(DecodeError::Truncated {
                what: "ciphertext tag",
                need: TAG_LEN - r.remaining(),
            });
        }
        Ok(Self {
            bytes: bytes.to_vec(),
            header_encrypted,
        })
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Consumes the message into its encoding.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Whether the header is sealed with a header key.
    pub const fn is_header_encrypted(&self) -> bool {
        self.header_encrypted
    }

    /// The header as sent (plain 40 bytes, or the sealed form).
    pub(crate) fn header_bytes(&self) -> &[u8] {
        let len = if self.header_encrypted {
            ENCRYPTED_HEADER_LEN
        } else {
            HEADER_LEN
        };
        self.bytes.get(2..2 + len).unwrap_or_default()
    }

    /// Ciphertext ‖ tag.
    pub(crate) fn body(&self) -> &[u8] {
        let len = if self.header_encrypted {
            ENCRYPTED_HEADER_LEN
        } else {
            HEADER_LEN
        };
        self.bytes.get(2 + len..).unwrap_or_default()
    }
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Message")
            .field("len", &self.bytes.len())
            .field("header_encrypted", &self.header_encrypted)
            .finish()
    }
}

/// The first message of a session (Signal's "PreKeySignalMessage"): what the responder
/// needs to run X3DH/PQXDH, then the first ratchet message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct InitialMessage {
    /// The initiator's identity key `IK_A`.
    pub identity: Ed25519Public,
    /// The initiator's ephemeral key `EK_A`.
    pub ephemeral: DhPublic,
    /// Which signed prekey was used.
    pub signed_prekey_id: u32,
    /// Which one-time prekey was used, if any was left.
    pub one_time_prekey_id: Option<u32>,
    /// PQXDH: the ML-KEM-768 prekey id and the encapsulation.
    pub kem: Option<(u32, Box<[u8; KEM_CIPHERTEXT_LEN]>)>,
    /// Whether the session encrypts headers.
    pub header_encryption: bool,
    /// The first ratchet message.
    pub message: Message,
}

const FLAG_OPK: u8 = 0x01;
const FLAG_KEM: u8 = 0x02;
const FLAG_HE: u8 = 0x04;

impl InitialMessage {
    /// Encodes: version ‖ 0x02 ‖ flags ‖ IK_A ‖ EK_A ‖ spk id ‖ [opk id] ‖ [kem id ‖ ct] ‖ message.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            80 + self.message.as_bytes().len() + if self.kem.is_some() { 1100 } else { 0 },
        );
        let mut flags = 0;
        if self.one_time_prekey_id.is_some() {
            flags |= FLAG_OPK;
        }
        if self.kem.is_some() {
            flags |= FLAG_KEM;
        }
        if self.header_encryption {
            flags |= FLAG_HE;
        }
        out.extend_from_slice(&[VERSION, KIND_INITIAL, flags]);
        out.extend_from_slice(self.identity.as_bytes());
        out.extend_from_slice(&self.ephemeral.0);
        out.extend_from_slice(&self.signed_prekey_id.to_be_bytes());
        if let Some(id) = self.one_time_prekey_id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        if let Some((id, ct)) = &self.kem {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&ct[..]);
        }
        out.extend_from_slice(self.message.as_bytes());
        out
    }

    /// Parses an initial message; the identity key must be a valid Ed25519 point.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::parse_from(bytes, None)
    }

    /// [`Self::parse`] for a message expected from `sender`, a key already parsed (the
    /// one the transport authenticated): an identity key with exactly its bytes is that
    /// key, so the point is not decompressed again. That exponentiation was a tenth of a
    /// receiving node's CPU, since every message of a one-way stream is an initial
    /// message until the responder answers. Any other identity is checked in full.
    pub fn parse_from(bytes: &[u8], sender: Option<&Ed25519Public>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let kind = r.u8("kind")?;
        if kind != KIND_INITIAL {
            return Err(DecodeError::Kind(kind));
        }
        let flags = r.u8("flags")?;
        if flags & !(FLAG_OPK | FLAG_KEM | FLAG_HE) != 0 {
            return Err(DecodeError::Flags(flags));
        }
        let raw: [u8; 32] = r.array("identity key")?;
        let identity = match sender {
            Some(known) if known.as_bytes() == &raw => *known,
            _ => {
                Ed25519Public::from_bytes(raw).map_err(|_| DecodeError::Invalid("identity key"))?
            }
        };
        let ephemeral = DhPublic(r.array("ephemeral key")?);
        let signed_prekey_id = r.u32("signed prekey id")?;
        let one_time_prekey_id = if flags & FLAG_OPK != 0 {
            Some(r.u32("one-time prekey id")?)
        } else {
            None
        };
        let kem = if flags & FLAG_KEM != 0 {
            let id = r.u32("kem prekey id")?;
            let ct: [u8; KEM_CIPHERTEXT_LEN] = r.array("kem ciphertext")?;
            Some((id, Box::new(ct)))
        } else {
            None
        };
        let message = Message::parse(r.rest())?;
        if message.is_header_encrypted() != (flags & FLAG_HE != 0) {
            return Err(DecodeError::Invalid("header-encryption flag"));
        }
        Ok(Self {
            identity,
            ephemeral,
            signed_prekey_id,
            one_time_prekey_id,
            kem,
            header_encryption: flags & FLAG_HE != 0,
            message,
        })
    }

    /// Identifies the handshake: the responder routes every initial message with the same
    /// `(IK_A, EK_A)` to the session the first one created, instead of re-running X3DH.
    pub fn handshake_id(&self) -> [u8; 32] {
        handshake_id(&self.identity, &self.ephemeral)
    }
}

pub(crate) fn handshake_id(identity: &Ed25519Public, ephemeral: &DhPublic) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"talos-ratchet-v1 handshake");
    h.update(identity.as_bytes());
    h.update(ephemeral.0);
    h.finalize().into()
}

/// Either kind of frame, as it arrives off the wire.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Envelope {
    /// A handshake's initial message.
    Initial(InitialMessage),
    /// A ratchet message on an established session.
    Message(Message),
}

impl Envelope {
    /// Parses by the kind byte.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::parse_from(bytes, None)
    }

    /// [`Self::parse`] for a frame from `sender` (see [`InitialMessage::parse_from`]).
    pub fn parse_from(bytes: &[u8], sender: Option<&Ed25519Public>) -> Result<Self, DecodeError> {
        match bytes.get(1) {
            Some(&KIND_INITIAL) => InitialMessage::parse_from(bytes, sender).map(Self::Initial),
            _ => Message::parse(bytes).map(Self::Message),
        }
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Initial(m) => m.encode(),
            Self::Message(m) => m.as_bytes().to_vec(),
        }
    }
}
