//! The Double Ratchet session (Signal spec rev. 4): symmetric-key chains, the DH ratchet,
//! bounded skipped message keys, optional header encryption (§4).
//!
//! Decryption is transactional: every step is computed on staged values and written back
//! only once the AEAD has authenticated the message, so a failure of any kind leaves the
//! session — and its encoding — byte-identical.

use std::collections::VecDeque;

use rand::CryptoRng;
use talos_primitives::Ed25519Public;

use crate::aead::{self, TAG_LEN};
use crate::header::{ENCRYPTED_HEADER_LEN, HEADER_LEN, Header};
use crate::kdf::{init_keys, kdf_ck, kdf_rk, message_keys};
use crate::keys::{ChainKey, DhPublic, DhSecret, HeaderKey, MessageKey, NonContributory, RootKey};
use crate::message::{
    Envelope, InitialMessage, KIND_HEADER_ENCRYPTED, KIND_PLAIN, MAX_PLAINTEXT_LEN, Message,
    VERSION, handshake_id,
};
use crate::pq::KEM_CIPHERTEXT_LEN;
use crate::x3dh::Agreement;

mod receive;

/// Most message keys skipped in one chain (Signal's `MAX_SKIP`).
pub const MAX_SKIP: u32 = 1000;
/// Most skipped message keys held in all; beyond it the oldest are evicted first.
pub const MAX_SKIPPED_TOTAL: usize = 2000;
/// Receiving chains remembered (for duplicate detection and header-key trial decryption);
/// skipped keys of an older chain are evicted with it.
pub const MAX_RECEIVING_CHAINS: usize = 32;

/// Why a message was not decrypted. The session is unchanged after every one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The message's header form differs from the session's header-encryption setting.
    #[error("header encryption mismatch")]
    HeaderEncryptionMismatch,
    /// No header key of this session opens the encrypted header.
    #[error("no header key opens this header")]
    UnknownHeaderKey,
    /// The message would skip more than [`MAX_SKIP`] keys in one chain.
    #[error("message skips {skipped} keys, more than MAX_SKIP ({MAX_SKIP})")]
    TooManySkipped {
        /// How many keys it would skip.
        skipped: u64,
    },
    /// This message was already decrypted.
    #[error("duplicate message (n = {n})")]
    Duplicate {
        /// Its number in the chain.
        n: u32,
    },
    /// The message's key was skipped and then evicted by the [`MAX_SKIPPED_TOTAL`] cap.
    #[error("message key evicted (n = {n}) after the skipped-key cap")]
    SkippedKeyEvicted {
        /// Its number in the chain.
        n: u32,
    },
    /// The ratchet key in the header is low-order.
    #[error(transparent)]
    NonContributory(#[from] NonContributory),
    /// The ciphertext, header or associated data failed authentication.
    #[error("message authentication failed")]
    Authentication,
    /// The chain counter would pass 2^32 - 1.
    #[error("chain counter exhausted")]
    ChainExhausted,
}

/// Why a message could not be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncryptError {
    /// The responder sends only after the initiator's first message has arrived.
    #[error("no sending chain yet")]
    NoSendingChain,
    /// More than [`MAX_PLAINTEXT_LEN`] bytes.
    #[error("plaintext of {0} bytes exceeds the 1 MiB limit")]
    TooLarge(usize),
    /// The chain counter would pass 2^32 - 1.
    #[error("chain counter exhausted")]
    ChainExhausted,
    /// A DH during the ratchet was non-contributory.
    #[error(transparent)]
    NonContributory(#[from] NonContributory),
}

/// Who started the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sent the initial message ("Alice").
    Initiator,
    /// Received it ("Bob").
    Responder,
}

/// The handshake fields an initiator repeats until the responder's first reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) ephemeral: DhPublic,
    pub(crate) signed_prekey_id: u32,
    pub(crate) one_time_prekey_id: Option<u32>,
    pub(crate) kem: Option<(u32, Box<[u8; KEM_CIPHERTEXT_LEN]>)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Skipped {
    /// The chain: its ratchet public key, or with header encryption its header key.
    pub(crate) chain: [u8; 32],
    pub(crate) n: u32,
    pub(crate) mk: MessageKey,
}

/// A receiving chain remembered: keys below `evicted_below` were dropped by the cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChainMark {
    pub(crate) chain: [u8; 32],
    pub(crate) evicted_below: u32,
}

/// One side of a Double Ratchet session.
#[derive(Clone, Debug)]
pub struct Session {
    pub(crate) role: Role,
    pub(crate) header_encryption: bool,
    pub(crate) ad: [u8; 64],
    pub(crate) initiator: Ed25519Public,
    pub(crate) responder: Ed25519Public,
    pub(crate) handshake_id: [u8; 32],
    pub(crate) pending: Option<Pending>,
    pub(crate) dhs: DhSecret,
    pub(crate) dhs_public: DhPublic,
    pub(crate) dhr: Option<DhPublic>,
    pub(crate) rk: RootKey,
    pub(crate) cks: Option<ChainKey>,
    pub(crate) ckr: Option<ChainKey>,
    pub(crate) ns: u32,
    pub(crate) nr: u32,
    pub(crate) pn: u32,
    pub(crate) hks: Option<HeaderKey>,
    pub(crate) hkr: Option<HeaderKey>,
    pub(crate) nhks: HeaderKey,
    pub(crate) nhkr: HeaderKey,
    pub(crate) skipped: VecDeque<Skipped>,
    pub(crate) chains: VecDeque<ChainMark>,
}

/// Where a header places a message.
enum Slot {
    /// A key held in the skipped store.
    Skipped(usize),
    /// The current receiving chain.
    Current,
    /// A new ratchet key from the peer.
    NewChain,
}

/// Everything a successful decryption writes back.
struct Staged {
    plaintext: Vec<u8>,
    commit: Commit,
}

enum Commit {
    RemoveSkipped(usize),
    Advance {
        ckr: ChainKey,
        nr: u32,
        skipped: Vec<(u32, MessageKey)>,
    },
    Ratchet {
        old_skipped: Vec<(u32, MessageKey)>,
        rk: RootKey,
        ckr: ChainKey,
        nhkr: HeaderKey,
        dhr: DhPublic,
        nr: u32,
        new_skipped: Vec<(u32, MessageKey)>,
    },
}

impl Session {
    pub(crate) fn new_initiator<R: CryptoRng + ?Sized>(
        rng: &mut R,
        agreement: &Agreement,
        their_prekey: DhPublic,
        pending: Pending,
        header_encryption: bool,
    ) -> Result<Self, NonContributory> {
        let (sk, shared_hka, shared_nhkb) = init_keys(&agreement.sk);
        let dhs = DhSecret::generate(rng);
        let (rk, cks, nhks) = kdf_rk(&sk, &dhs.diffie_hellman(&their_prekey)?);
        let handshake_id = handshake_id(&agreement.initiator, &pending.ephemeral);
        Ok(Self {
            role: Role::Initiator,
            header_encryption,
            ad: agreement.ad(),
            initiator: agreement.initiator,
            responder: agreement.responder,
            handshake_id,
            pending: Some(pending),
            dhs_public: dhs.public(),
            dhs,
            dhr: Some(their_prekey),
            rk,
            cks: Some(cks),
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            hks: Some(shared_hka),
            hkr: None,
            nhks,
            nhkr: shared_nhkb,
            skipped: VecDeque::new(),
            chains: VecDeque::new(),
        })
    }

    pub(crate) fn new_responder(
        agreement: &Agreement,
        signed_prekey: DhSecret,
        signed_prekey_public: DhPublic,
        handshake_id: [u8; 32],
        header_encryption: bool,
    ) -> Self {
        let (rk, shared_hka, shared_nhkb) = init_keys(&agreement.sk);
        Self {
            role: Role::Responder,
            header_encryption,
            ad: agreement.ad(),
            initiator: agreement.initiator,
            responder: agreement.responder,
            handshake_id,
            pending: None,
            dhs_public: signed_prekey_public,
            dhs: signed_prekey,
            dhr: None,
            rk,
            cks: None,
            ckr: None,
            ns: 0,
            nr: 0,
            pn: 0,
            hks: None,
            hkr: None,
            nhks: shared_nhkb,
            nhkr: shared_hka,
            skipped: VecDeque::new(),
            chains: VecDeque::new(),
        }
    }

    /// Who started the session.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Identifies the session on both sides: a digest of `(IK_A, EK_A)`.
    pub const fn handshake_id(&self) -> &[u8; 32] {
        &self.handshake_id
    }

    /// The handshake's associated data `IK_A ‖ IK_B`.
    pub const fn associated_data(&self) -> &[u8; 64] {
        &self.ad
    }

    /// The initiator's identity key.
    pub const fn initiator_identity(&self) -> Ed25519Public {
        self.initiator
    }

    /// The responder's identity key.
    pub const fn responder_identity(&self) -> Ed25519Public {
        self.responder
    }

    /// The peer's identity key.
    pub const fn remote_identity(&self) -> Ed25519Public {
        match self.role {
            Role::Initiator => self.responder,
            Role::Responder => self.initiator,
        }
    }

    /// Whether headers are encrypted.
    pub const fn header_encryption(&self) -> bool {
        self.header_encryption
    }

    /// Whether the peer has not yet answered (messages still carry the handshake).
    pub const fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Skipped message keys currently held.
    pub fn skipped_keys(&self) -> usize {
        self.skipped.len()
    }

    /// Encrypts with the thread-local CSPRNG (for a new ratchet key after the peer's
    /// ratchet step, and header-encryption nonces).
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Envelope, EncryptError> {
        self.encrypt_with_rng(&mut rand::rng(), plaintext)
    }

    /// `RatchetEncrypt`: one message on the sending chain.
    pub fn encrypt_with_rng<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<Envelope, EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::TooLarge(plaintext.len()));
        }
        if self.cks.is_none() {
            self.ratchet_sending(rng)?;
        }
        let cks = self.cks.as_ref().ok_or(EncryptError::NoSendingChain)?;
        let next_ns = self.ns.checked_add(1).ok_or(EncryptError::ChainExhausted)?;
        let (mk, next_ck) = kdf_ck(cks);
        let header = Header {
            dh: self.dhs_public,
            pn: self.pn,
            n: self.ns,
        };
        let header_len = if self.header_encryption {
            ENCRYPTED_HEADER_LEN
        } else {
            HEADER_LEN
        };
        let mut out = Vec::with_capacity(2 + header_len + plaintext.len() + TAG_LEN);
        let mut header_bytes = [0u8; ENCRYPTED_HEADER_LEN];
        if let (true, Some(hks)) = (self.header_encryption, &self.hks) {
            out.extend_from_slice(&[VERSION, KIND_HEADER_ENCRYPTED]);
            header.seal(hks, rng, &mut out);
        } else {
            out.extend_from_slice(&[VERSION, KIND_PLAIN]);
            out.extend_from_slice(&header.encode());
        }
        if let (Some(dst), Some(src)) = (
            header_bytes.get_mut(..header_len),
            out.get(2..2 + header_len),
        ) {
            dst.copy_from_slice(src);
        }
        let (key, nonce) = message_keys(&mk, &[]);
        aead::seal(
            &key,
            &nonce,
            &[&self.ad, header_bytes.get(..header_len).unwrap_or_default()],
            plaintext,
            &mut out,
        );
        self.cks = Some(next_ck);
        self.ns = next_ns;
        let message = Message::from_parts(out, self.header_encryption);
        Ok(match &self.pending {
            None => Envelope::Message(message),
            Some(p) => Envelope::Initial(InitialMessage {
                identity: self.initiator,
                ephemeral: p.ephemeral,
                signed_prekey_id: p.signed_prekey_id,
                one_time_prekey_id: p.one_time_prekey_id,
                kem: p.kem.clone(),
                header_encryption: self.header_encryption,
                message,
            }),
        })
    }

    /// The sending half of the DH ratchet (spec §3.5, second half), deferred from the
    /// decryption that received the peer's new ratchet key: a fresh key against it.
    fn ratchet_sending<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<(), EncryptError> {
        // Before the first received message the responder has no peer ratchet key.
        let (Some(dhr), Some(_)) = (self.dhr, &self.ckr) else {
            return Err(EncryptError::NoSendingChain);
        };
        let dhs = DhSecret::generate(rng);
        let (rk, cks, nhks) = kdf_rk(&self.rk, &dhs.diffie_hellman(&dhr)?);
        self.dhs_public = dhs.public();
        self.dhs = dhs;
        self.rk = rk;
        self.cks = Some(cks);
        self.nhks = nhks;
        Ok(())
    }
}
