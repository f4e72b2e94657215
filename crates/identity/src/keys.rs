//! Key roles: the Ed25519 identity key and the X25519 key-agreement key derived from it.
//!
//! Each secret lives in its own newtype that zeroizes on drop and whose `Debug` prints only
//! public data, as in vodozemac.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use talos_primitives::KeyError;
use talos_primitives::{AgentId, Did, Ed25519Public};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature is not 64 bytes.
    #[error("expected a 64-byte signature, got {0} bytes")]
    WrongLength(usize),
    /// The signature is malformed or does not verify under `verify_strict`.
    #[error("signature does not verify")]
    Invalid,
    /// The signature encoding (base64url or multibase) is malformed.
    #[error("malformed signature encoding")]
    BadEncoding,
}

/// The 32-byte Ed25519 seed (RFC 8032 secret key) an identity is derived from.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IdentitySeed([u8; 32]);

impl IdentitySeed {
    /// Wraps seed bytes. The caller should zeroize its own copy.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Draws a fresh seed from the operating system's CSPRNG (via `rand::rng`, a
    /// ChaCha-based generator reseeded from the OS).
    pub fn generate() -> Self {
        use rand::Rng;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The secret bytes. Handle with care: copies are not zeroized for you.
    pub const fn dangerous_as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for IdentitySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentitySeed(<redacted>)")
    }
}

/// An agent's long-term Ed25519 identity key.
///
/// The same key is the did:key, the libp2p PeerId and the chain account.
#[derive(Clone, ZeroizeOnDrop)]
pub struct IdentityKey {
    signing: SigningKey,
    #[zeroize(skip)]
    public: Ed25519Public,
}

impl IdentityKey {
    /// Derives the key pair from a seed.
    ///
    /// Seed derivation clamps the scalar, so the public key is always a large-order point
    /// and this never fails in practice; the `Result` keeps that proof in the type system
    /// instead of in a panic.
    pub fn from_seed(seed: &IdentitySeed) -> Result<Self, KeyError> {
        let signing = SigningKey::from_bytes(&seed.0);
        let public = Ed25519Public::from_bytes(signing.verifying_key().to_bytes())?;
        Ok(Self { signing, public })
    }

    /// A fresh random identity.
    pub fn generate() -> Result<Self, KeyError> {
        Self::from_seed(&IdentitySeed::generate())
    }

    /// The seed, for the keystore.
    pub fn seed(&self) -> IdentitySeed {
        IdentitySeed(self.signing.to_bytes())
    }

    /// The public key.
    pub const fn public(&self) -> Ed25519Public {
        self.public
    }

    /// The agent id (the public key).
    pub const fn agent_id(&self) -> AgentId {
        AgentId(self.public)
    }

    /// The agent's did:key.
    pub const fn did(&self) -> Did {
        Did::Key(self.public)
    }

    /// Signs a message (RFC 8032 Ed25519, deterministic).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.signing.sign(msg).to_bytes())
    }

    /// The X25519 key-agreement secret derived from this identity, as the did:key method
    /// does: the first half of SHA-512(seed), unclamped (X25519 clamps when it uses it).
    /// This is the scalar Ed25519 signing uses, so its public key is the Montgomery form of
    /// the Ed25519 public key.
    pub fn key_agreement(&self) -> KeyAgreementSecret {
        use sha2::Digest;
        let mut wide = sha2::Sha512::digest(self.signing.as_bytes());
        let mut out = [0u8; 32];
        if let Some(half) = wide.get(..32) {
            out.copy_from_slice(half);
        }
        wide.zeroize();
        KeyAgreementSecret(out)
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Verifies an Ed25519 signature with `verify_strict`: it rejects non-canonical `S`,
/// small-order `R` and weak keys, so one message has exactly one valid signature per key.
pub fn verify(public: &Ed25519Public, msg: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    let vk = VerifyingKey::from_bytes(public.as_bytes()).map_err(|_| SignatureError::Invalid)?;
    let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    vk.verify_strict(msg, &sig)
        .map_err(|_| SignatureError::Invalid)
}

/// The X25519 secret used for key agreement (the did:key `keyAgreement` key).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct KeyAgreementSecret([u8; 32]);

impl KeyAgreementSecret {
    /// The X25519 public key (the Montgomery form of the Ed25519 public key).
    pub fn public(&self) -> [u8; 32] {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        x25519_dalek::PublicKey::from(&secret).to_bytes()
    }

    /// X25519 Diffie-Hellman with a peer's public key.
    pub fn diffie_hellman(&self, peer: &[u8; 32]) -> [u8; 32] {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(*peer))
            .to_bytes()
    }

    /// The secret scalar bytes (unclamped, as the did:key vectors publish them).
    pub const fn dangerous_as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for KeyAgreementSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyAgreementSecret")
            .field("public", &hex::encode(self.public()))
            .finish_non_exhaustive()
    }
}

/// The X25519 public key of an Ed25519 identity: the birational map to Montgomery form.
pub fn x25519_public_of(public: &Ed25519Public) -> [u8; 32] {
    match VerifyingKey::from_bytes(public.as_bytes()) {
        Ok(vk) => vk.to_montgomery().to_bytes(),
        // Ed25519Public is always a valid point, so this branch is dead; a zero key would
        // be rejected by any X25519 peer as non-contributory rather than misused.
        Err(_) => [0u8; 32],
    }
}

/// A 64-byte Ed25519 signature. JSON carries it as unpadded base64url (as JWS does).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// Parses a 64-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SignatureError> {
        <[u8; 64]>::try_from(bytes)
            .map(Self)
            .map_err(|_| SignatureError::WrongLength(bytes.len()))
    }

    /// Unpadded base64url.
    pub fn to_base64url(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses unpadded base64url.
    pub fn from_base64url(s: &str) -> Result<Self, SignatureError> {
        use base64::Engine;
        if s.len() > 100 {
            return Err(SignatureError::BadEncoding);
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| SignatureError::BadEncoding)?;
        Self::from_slice(&bytes)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_base64url())
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64url())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::from_base64url(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_no_secret() {
        let seed = IdentitySeed::from_bytes([7u8; 32]);
        let key = IdentityKey::from_seed(&seed).unwrap();
        let secret_hex = hex::encode([7u8; 32]);
        for s in [
            format!("{seed:?}"),
            format!("{key:?}"),
            format!("{:?}", key.key_agreement()),
        ] {
            assert!(!s.contains(&secret_hex), "{s}");
            assert!(!s.contains("[7, 7"), "{s}");
        }
        assert!(
            !format!("{:?}", key.key_agreement())
                .contains(&hex::encode(key.key_agreement().dangerous_as_bytes()))
        );
    }

    #[test]
    fn sign_verify_and_tamper() {
        let key = IdentityKey::generate().unwrap();
        let sig = key.sign(b"hello");
        verify(&key.public(), b"hello", &sig).unwrap();
        assert_eq!(
            verify(&key.public(), b"hellO", &sig),
            Err(SignatureError::Invalid)
        );
        let mut bad = sig;
        bad.0[0] ^= 1;
        assert_eq!(
            verify(&key.public(), b"hello", &bad),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn x25519_public_matches_montgomery_map() {
        let key = IdentityKey::generate().unwrap();
        assert_eq!(
            key.key_agreement().public(),
            x25519_public_of(&key.public())
        );
    }

    #[test]
    fn signature_encoding_errors() {
        assert_eq!(
            Signature::from_slice(&[0; 63]),
            Err(SignatureError::WrongLength(63))
        );
        assert_eq!(
            Signature::from_base64url("!!"),
            Err(SignatureError::BadEncoding)
        );
    }
}
