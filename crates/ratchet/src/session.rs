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

    /// `RatchetDecrypt`, transactional. It needs no randomness: the next ratchet key is
    /// drawn by the next encryption.
    pub fn decrypt(&mut self, message: &Message) -> Result<Vec<u8>, DecryptError> {
        if message.is_header_encrypted() != self.header_encryption {
            return Err(DecryptError::HeaderEncryptionMismatch);
        }
        let (header, slot, chain) = self.locate(message)?;
        let staged = self.stage(message, &header, slot, chain)?;
        self.commit(staged.commit, chain);
        self.pending = None;
        Ok(staged.plaintext)
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

    fn find_skipped(&self, chain: &[u8; 32], n: u32) -> Option<usize> {
        self.skipped
            .iter()
            .position(|s| &s.chain == chain && s.n == n)
    }

    /// The error for a key that is not held: evicted by the cap, or already used.
    fn missing(&self, chain: &[u8; 32], n: u32) -> DecryptError {
        match self.chains.iter().find(|c| &c.chain == chain) {
            Some(mark) if n < mark.evicted_below => DecryptError::SkippedKeyEvicted { n },
            _ => DecryptError::Duplicate { n },
        }
    }

    /// Reads the header and decides which chain the message belongs to.
    fn locate(&self, message: &Message) -> Result<(Header, Slot, [u8; 32]), DecryptError> {
        let sealed = message.header_bytes();
        if !self.header_encryption {
            let header = Header::decode(sealed).map_err(|_| DecryptError::Authentication)?;
            let chain = header.dh.0;
            if let Some(i) = self.find_skipped(&chain, header.n) {
                return Ok((header, Slot::Skipped(i), chain));
            }
            if self.dhr == Some(header.dh) && self.ckr.is_some() {
                if header.n < self.nr {
                    return Err(self.missing(&chain, header.n));
                }
                return Ok((header, Slot::Current, chain));
            }
            if self.chains.iter().any(|c| c.chain == chain) {
                return Err(self.missing(&chain, header.n));
            }
            return Ok((header, Slot::NewChain, chain));
        }
        // Header encryption: trial decryption, cheapest first — the current receiving
        // chain, then the next header key (a new ratchet step), then older chains (bounded
        // by MAX_RECEIVING_CHAINS) for late messages.
        if let Some(hkr) = &self.hkr
            && let Some(header) = Header::open(hkr, sealed)
        {
            return self.place(header, hkr.0, true);
        }
        if let Some(header) = Header::open(&self.nhkr, sealed) {
            return Ok((header, Slot::NewChain, self.nhkr.0));
        }
        for mark in self.chains.iter().rev() {
            if let Some(header) = Header::open(&HeaderKey(mark.chain), sealed) {
                return self.place(header, mark.chain, false);
            }
        }
        Err(DecryptError::UnknownHeaderKey)
    }

    /// A header opened by a known chain's key: a held skipped key, the next keys of the
    /// current chain, or a key already used or evicted.
    fn place(
        &self,
        header: Header,
        chain: [u8; 32],
        current: bool,
    ) -> Result<(Header, Slot, [u8; 32]), DecryptError> {
        if let Some(i) = self.find_skipped(&chain, header.n) {
            return Ok((header, Slot::Skipped(i), chain));
        }
        if current && header.n >= self.nr {
            return Ok((header, Slot::Current, chain));
        }
        Err(self.missing(&chain, header.n))
    }

    /// Derives keys and decrypts without touching `self`.
    fn stage(
        &self,
        message: &Message,
        header: &Header,
        slot: Slot,
        chain: [u8; 32],
    ) -> Result<Staged, DecryptError> {
        let open = |mk: &MessageKey| -> Result<Vec<u8>, DecryptError> {
            let (key, nonce) = message_keys(mk, &[]);
            aead::open(
                &key,
                &nonce,
                &[&self.ad, message.header_bytes()],
                message.body(),
            )
            .map_err(|_| DecryptError::Authentication)
        };
        match slot {
            Slot::Skipped(i) => {
                let entry = self.skipped.get(i).ok_or(DecryptError::Authentication)?;
                Ok(Staged {
                    plaintext: open(&entry.mk)?,
                    commit: Commit::RemoveSkipped(i),
                })
            }
            Slot::Current => {
                let ckr = self.ckr.as_ref().ok_or(DecryptError::Authentication)?;
                let (skipped, mk, ckr) = skip(ckr, self.nr, header.n)?;
                let nr = header
                    .n
                    .checked_add(1)
                    .ok_or(DecryptError::ChainExhausted)?;
                Ok(Staged {
                    plaintext: open(&mk)?,
                    commit: Commit::Advance { ckr, nr, skipped },
                })
            }
            Slot::NewChain => {
                let old_skipped = match &self.ckr {
                    Some(ckr) if header.pn > self.nr => skip(ckr, self.nr, header.pn)?.0,
                    _ => Vec::new(),
                };
                let dh_out = self.dhs.diffie_hellman(&header.dh)?;
                let (rk, ckr, nhkr) = kdf_rk(&self.rk, &dh_out);
                let (new_skipped, mk, ckr) = skip(&ckr, 0, header.n)?;
                let nr = header
                    .n
                    .checked_add(1)
                    .ok_or(DecryptError::ChainExhausted)?;
                let _ = chain;
                Ok(Staged {
                    plaintext: open(&mk)?,
                    commit: Commit::Ratchet {
                        old_skipped,
                        rk,
                        ckr,
                        nhkr,
                        dhr: header.dh,
                        nr,
                        new_skipped,
                    },
                })
            }
        }
    }

    /// Writes back a decryption; nothing here can fail.
    fn commit(&mut self, commit: Commit, chain: [u8; 32]) {
        match commit {
            Commit::RemoveSkipped(i) => {
                self.skipped.remove(i);
            }
            Commit::Advance { ckr, nr, skipped } => {
                self.ckr = Some(ckr);
                self.nr = nr;
                self.push_skipped(chain, skipped);
            }
            Commit::Ratchet {
                old_skipped,
                rk,
                ckr,
                nhkr,
                dhr,
                nr,
                new_skipped,
            } => {
                let old_chain = if self.header_encryption {
                    self.hkr.as_ref().map(|k| k.0)
                } else {
                    self.dhr.map(|d| d.0)
                };
                if let Some(old_chain) = old_chain {
                    self.push_skipped(old_chain, old_skipped);
                }
                self.pn = self.ns;
                self.ns = 0;
                self.nr = nr;
                self.dhr = Some(dhr);
                if self.header_encryption {
                    self.hks = Some(self.nhks.clone());
                    self.hkr = Some(self.nhkr.clone());
                }
                self.nhkr = nhkr;
                self.ckr = Some(ckr);
                self.rk = rk;
                // The sending half of the DH ratchet waits for the next encryption (as in
                // vodozemac): no sending chain until then.
                self.cks = None;
                self.remember_chain(chain);
                self.push_skipped(chain, new_skipped);
            }
        }
    }

    fn remember_chain(&mut self, chain: [u8; 32]) {
        self.chains.push_back(ChainMark {
            chain,
            evicted_below: 0,
        });
        while self.chains.len() > MAX_RECEIVING_CHAINS {
            if let Some(old) = self.chains.pop_front() {
                self.skipped.retain(|s| s.chain != old.chain);
            }
        }
    }

    fn push_skipped(&mut self, chain: [u8; 32], keys: Vec<(u32, MessageKey)>) {
        for (n, mk) in keys {
            self.skipped.push_back(Skipped { chain, n, mk });
        }
        while self.skipped.len() > MAX_SKIPPED_TOTAL {
            if let Some(evicted) = self.skipped.pop_front()
                && let Some(mark) = self.chains.iter_mut().find(|c| c.chain == evicted.chain)
            {
                mark.evicted_below = mark.evicted_below.max(evicted.n.saturating_add(1));
            }
        }
    }
}

/// Skipped keys, the message key, and the chain key after it.
type SkipOutput = (Vec<(u32, MessageKey)>, MessageKey, ChainKey);

/// Steps a chain from `from` to `until`, returning the skipped keys, the key for `until`
/// and the chain key after it. At most [`MAX_SKIP`] keys may be skipped.
fn skip(ck: &ChainKey, from: u32, until: u32) -> Result<SkipOutput, DecryptError> {
    let gap = u64::from(until.saturating_sub(from));
    if gap > u64::from(MAX_SKIP) {
        return Err(DecryptError::TooManySkipped { skipped: gap });
    }
    let mut skipped = Vec::with_capacity(gap as usize);
    let mut ck = ck.clone();
    for n in from..until {
        let (mk, next) = kdf_ck(&ck);
        skipped.push((n, mk));
        ck = next;
    }
    let (mk, next) = kdf_ck(&ck);
    Ok((skipped, mk, next))
}
