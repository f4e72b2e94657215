//! Prekeys: the responder's signed prekey, one-time prekeys, the ML-KEM-768 prekey, the
//! bundle it publishes, and the bounded store that consumes one-time keys exactly once.

use std::collections::VecDeque;

use rand::CryptoRng;
use talos_identity::{IdentityKey, Signature};
use talos_primitives::Ed25519Public;

use crate::codec::{DecodeError, Reader};
use crate::keys::{DhPublic, DhSecret};
use crate::message::VERSION;
use crate::pq::{KEM_PUBLIC_LEN, KemDecapsulator, KemPublic, KemSecret};

/// One-time prekeys held at once; the node replenishes below this.
pub const MAX_ONE_TIME_PREKEYS: usize = 200;
/// Signed (and KEM) prekeys kept after rotation, so in-flight handshakes still complete.
pub const MAX_SIGNED_PREKEYS: usize = 3;
/// Consumed one-time prekey ids remembered, to tell "already used" from "unknown".
pub const MAX_USED_IDS: usize = 1024;

const SPK_CONTEXT: &[u8] = b"talos-ratchet-v1 signed-prekey";
const KEM_CONTEXT: &[u8] = b"talos-ratchet-v1 kem-prekey";

/// What was signed for an X25519 signed prekey.
pub(crate) fn spk_signed_bytes(id: u32, public: &DhPublic) -> Vec<u8> {
    [SPK_CONTEXT, &id.to_be_bytes(), &public.0].concat()
}

/// What was signed for an ML-KEM prekey.
pub(crate) fn kem_signed_bytes(id: u32, public: &KemPublic) -> Vec<u8> {
    [KEM_CONTEXT, &id.to_be_bytes(), &public.0[..]].concat()
}

/// The store cannot do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PreKeyError {
    /// The store already holds [`MAX_ONE_TIME_PREKEYS`].
    #[error("one-time prekey store is full ({MAX_ONE_TIME_PREKEYS})")]
    Full,
    /// 2^32 prekey ids were handed out; the identity must rotate.
    #[error("prekey ids exhausted")]
    IdsExhausted,
}

/// A signed prekey as the responder holds it.
#[derive(Clone, Debug)]
pub(crate) struct SignedPreKey {
    pub(crate) id: u32,
    pub(crate) secret: DhSecret,
    pub(crate) public: DhPublic,
    pub(crate) signature: Signature,
}

/// An ML-KEM-768 prekey as the responder holds it.
#[derive(Clone, Debug)]
pub(crate) struct KemPreKey {
    pub(crate) id: u32,
    pub(crate) secret: KemSecret,
    pub(crate) expanded: KemDecapsulator,
    pub(crate) public: KemPublic,
    pub(crate) signature: Signature,
}

/// The responder's prekeys. Bounded: a few signed prekeys, at most
/// [`MAX_ONE_TIME_PREKEYS`] one-time keys, a ring of consumed ids.
#[derive(Clone, Debug)]
pub struct PreKeyStore {
    next_id: u32,
    pub(crate) signed: VecDeque<SignedPreKey>,
    pub(crate) one_time: VecDeque<(u32, DhSecret)>,
    pub(crate) kem: VecDeque<KemPreKey>,
    pub(crate) used: VecDeque<u32>,
}

impl PreKeyStore {
    /// A store with one signed prekey and, if `post_quantum`, one ML-KEM-768 prekey.
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: &IdentityKey,
        post_quantum: bool,
    ) -> Result<Self, PreKeyError> {
        let mut store = Self {
            next_id: 1,
            signed: VecDeque::new(),
            one_time: VecDeque::new(),
            kem: VecDeque::new(),
            used: VecDeque::new(),
        };
        store.rotate_signed_prekey(rng, identity)?;
        if post_quantum {
            store.rotate_kem_prekey(rng, identity)?;
        }
        Ok(store)
    }

    fn take_id(&mut self) -> Result<u32, PreKeyError> {
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(PreKeyError::IdsExhausted)?;
        Ok(id)
    }

    /// Makes a new signed prekey current; the oldest beyond [`MAX_SIGNED_PREKEYS`] goes.
    pub fn rotate_signed_prekey<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKey,
    ) -> Result<u32, PreKeyError> {
        let id = self.take_id()?;
        let secret = DhSecret::generate(rng);
        let public = secret.public();
        let signature = identity.sign(&spk_signed_bytes(id, &public));
        self.signed.push_back(SignedPreKey {
            id,
            secret,
            public,
            signature,
        });
        while self.signed.len() > MAX_SIGNED_PREKEYS {
            self.signed.pop_front();
        }
        Ok(id)
    }

    /// Makes a new ML-KEM-768 prekey current (a signed "last-resort" PQ prekey).
    pub fn rotate_kem_prekey<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKey,
    ) -> Result<u32, PreKeyError> {
        let id = self.take_id()?;
        let secret = KemSecret::generate(rng);
        let expanded = secret.expand();
        let public = expanded.public();
        let signature = identity.sign(&kem_signed_bytes(id, &public));
        self.kem.push_back(KemPreKey {
            id,
            secret,
            expanded,
            public,
            signature,
        });
        while self.kem.len() > MAX_SIGNED_PREKEYS {
            self.kem.pop_front();
        }
        Ok(id)
    }

    /// Adds up to `count` one-time prekeys, never beyond [`MAX_ONE_TIME_PREKEYS`]; returns
    /// the new ids and public keys, for publishing.
    pub fn generate_one_time_prekeys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
    ) -> Result<Vec<(u32, DhPublic)>, PreKeyError> {
        if self.one_time.len().saturating_add(count) > MAX_ONE_TIME_PREKEYS {
            return Err(PreKeyError::Full);
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let id = self.take_id()?;
            let secret = DhSecret::generate(rng);
            out.push((id, secret.public()));
            self.one_time.push_back((id, secret));
        }
        Ok(out)
    }

    /// How many one-time prekeys are left (the node replenishes when this runs low).
    pub fn one_time_count(&self) -> usize {
        self.one_time.len()
    }

    /// The bundle to publish, offering the one-time prekey `one_time` if it is held.
    /// `None` if the store has no signed prekey (it always has after [`Self::new`]).
    pub fn bundle(&self, identity: &IdentityKey, one_time: Option<u32>) -> Option<PreKeyBundle> {
        let spk = self.signed.back()?;
        let one_time = one_time
            .and_then(|id| self.one_time.iter().find(|(i, _)| *i == id))
            .map(|(id, s)| (*id, s.public()));
        let kem = self
            .kem
            .back()
            .map(|k| (k.id, k.public.clone(), k.signature));
        Some(PreKeyBundle {
            identity: identity.public(),
            signed_prekey_id: spk.id,
            signed_prekey: spk.public,
            signed_prekey_signature: spk.signature,
            one_time_prekey: one_time,
            kem_prekey: kem,
        })
    }

    /// The first one-time prekey id still held, to put in the next bundle.
    pub fn next_one_time_id(&self) -> Option<u32> {
        self.one_time.front().map(|(id, _)| *id)
    }

    pub(crate) fn signed_prekey(&self, id: u32) -> Option<&SignedPreKey> {
        self.signed.iter().find(|k| k.id == id)
    }

    pub(crate) fn kem_prekey(&self, id: u32) -> Option<&KemPreKey> {
        self.kem.iter().find(|k| k.id == id)
    }

    /// Looks up a one-time prekey without consuming it.
    pub(crate) fn one_time_prekey(&self, id: u32) -> Result<&DhSecret, OneTimeLookup> {
        match self.one_time.iter().find(|(i, _)| *i == id) {
            Some((_, s)) => Ok(s),
            None if self.used.contains(&id) => Err(OneTimeLookup::AlreadyUsed),
            None => Err(OneTimeLookup::Unknown),
        }
    }

    /// Consumes a one-time prekey: called only once the handshake has succeeded.
    pub(crate) fn consume_one_time(&mut self, id: u32) {
        self.one_time.retain(|(i, _)| *i != id);
        self.used.push_back(id);
        while self.used.len() > MAX_USED_IDS {
            self.used.pop_front();
        }
    }

    /// Encodes the store (secrets included: seal it with [`crate::at_rest`]).
    pub fn encode(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(Vec::new());
        out.extend_from_slice(b"TLPK");
        out.push(VERSION);
        out.extend_from_slice(&self.next_id.to_be_bytes());
        out.push(self.signed.len() as u8);
        for k in &self.signed {
            out.extend_from_slice(&k.id.to_be_bytes());
            out.extend_from_slice(k.secret.as_bytes());
            out.extend_from_slice(&k.signature.0);
        }
        out.extend_from_slice(&(self.one_time.len() as u16).to_be_bytes());
        for (id, s) in &self.one_time {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        out.push(self.kem.len() as u8);
        for k in &self.kem {
            out.extend_from_slice(&k.id.to_be_bytes());
            out.extend_from_slice(k.secret.seed());
            out.extend_from_slice(&k.signature.0);
        }
        out.extend_from_slice(&(self.used.len() as u16).to_be_bytes());
        for id in &self.used {
            out.extend_from_slice(&id.to_be_bytes());
        }
        out
    }

    /// Decodes [`Self::encode`] output; every count is checked against its bound.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.take(4, "magic")? != b"TLPK" {
            return Err(DecodeError::Invalid("prekey store magic"));
        }
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let next_id = r.u32("next id")?;
        let n = usize::from(r.u8("signed count")?);
        if n > MAX_SIGNED_PREKEYS {
            return Err(DecodeError::Invalid("signed prekey count"));
        }
        let mut signed = VecDeque::with_capacity(n);
        for _ in 0..n {
            let id = r.u32("signed prekey id")?;
            let secret = DhSecret::from_bytes(r.array("signed prekey")?);
            let public = secret.public();
            signed.push_back(SignedPreKey {
                id,
                secret,
                public,
                signature: Signature(r.array("signed prekey signature")?),
            });
        }
        let n = usize::from(u16::from_be_bytes(r.array("one-time count")?));
        if n > MAX_ONE_TIME_PREKEYS {
            return Err(DecodeError::Invalid("one-time prekey count"));
        }
        let mut one_time = VecDeque::with_capacity(n);
        for _ in 0..n {
            one_time.push_back((
                r.u32("one-time id")?,
                DhSecret::from_bytes(r.array("one-time prekey")?),
            ));
        }
        let n = usize::from(r.u8("kem count")?);
        if n > MAX_SIGNED_PREKEYS {
            return Err(DecodeError::Invalid("kem prekey count"));
        }
        let mut kem = VecDeque::with_capacity(n);
        for _ in 0..n {
            let id = r.u32("kem prekey id")?;
            let secret = KemSecret::from_seed(r.array("kem seed")?);
            let signature = Signature(r.array("kem signature")?);
            let expanded = secret.expand();
            let public = expanded.public();
            kem.push_back(KemPreKey {
                id,
                secret,
                expanded,
                public,
                signature,
            });
        }
        let n = usize::from(u16::from_be_bytes(r.array("used count")?));
        if n > MAX_USED_IDS {
            return Err(DecodeError::Invalid("used id count"));
        }
        let mut used = VecDeque::with_capacity(n);
        for _ in 0..n {
            used.push_back(r.u32("used id")?);
        }
        r.finish()?;
        Ok(Self {
            next_id,
            signed,
            one_time,
            kem,
            used,
        })
    }
}

pub(crate) enum OneTimeLookup {
    Unknown,
    AlreadyUsed,
}

/// What a responder publishes (directly or on the DHT) so that others can start sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// The responder's identity key `IK_B`.
    pub identity: Ed25519Public,
    /// The signed prekey id.
    pub signed_prekey_id: u32,
    /// The signed prekey `SPK_B`.
    pub signed_prekey: DhPublic,
    /// `Sig(IK_B, context ‖ id ‖ SPK_B)`.
    pub signed_prekey_signature: Signature,
    /// A one-time prekey `OPK_B`, if one is left.
    pub one_time_prekey: Option<(u32, DhPublic)>,
    /// PQXDH: the signed ML-KEM-768 prekey.
    pub kem_prekey: Option<(u32, KemPublic, Signature)>,
}

const FLAG_OPK: u8 = 0x01;
const FLAG_KEM: u8 = 0x02;
const KIND_BUNDLE: u8 = 0x10;

impl PreKeyBundle {
    /// Encodes: version ‖ 0x10 ‖ flags ‖ IK ‖ spk id ‖ SPK ‖ sig ‖ [opk id ‖ OPK] ‖ [kem id ‖ ek ‖ sig].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(200 + if self.kem_prekey.is_some() { 1260 } else { 0 });
        let flags = if self.one_time_prekey.is_some() {
            FLAG_OPK
        } else {
            0
        } | if self.kem_prekey.is_some() {
            FLAG_KEM
        } else {
            0
        };
        out.extend_from_slice(&[VERSION, KIND_BUNDLE, flags]);
        out.extend_from_slice(self.identity.as_bytes());
        out.extend_from_slice(&self.signed_prekey_id.to_be_bytes());
        out.extend_from_slice(&self.signed_prekey.0);
        out.extend_from_slice(&self.signed_prekey_signature.0);
        if let Some((id, k)) = &self.one_time_prekey {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&k.0);
        }
        if let Some((id, k, sig)) = &self.kem_prekey {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&k.0[..]);
            out.extend_from_slice(&sig.0);
        }
        out
    }

    /// Parses a bundle. Signatures are checked when a session is started from it.
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let kind = r.u8("kind")?;
        if kind != KIND_BUNDLE {
            return Err(DecodeError::Kind(kind));
        }
        let flags = r.u8("flags")?;
        if flags & !(FLAG_OPK | FLAG_KEM) != 0 {
            return Err(DecodeError::Flags(flags));
        }
        let identity = Ed25519Public::from_bytes(r.array("identity key")?)
            .map_err(|_| DecodeError::Invalid("identity key"))?;
        let signed_prekey_id = r.u32("signed prekey id")?;
        let signed_prekey = DhPublic(r.array("signed prekey")?);
        let signed_prekey_signature = Signature(r.array("signed prekey signature")?);
        let one_time_prekey = if flags & FLAG_OPK != 0 {
            Some((
                r.u32("one-time prekey id")?,
                DhPublic(r.array("one-time prekey")?),
            ))
        } else {
            None
        };
        let kem_prekey = if flags & FLAG_KEM != 0 {
            let id = r.u32("kem prekey id")?;
            let key: [u8; KEM_PUBLIC_LEN] = r.array("kem prekey")?;
            let sig = Signature(r.array("kem prekey signature")?);
            Some((id, KemPublic(Box::new(key)), sig))
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            identity,
            signed_prekey_id,
            signed_prekey,
            signed_prekey_signature,
            one_time_prekey,
            kem_prekey,
        })
    }
}
