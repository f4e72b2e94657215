//! Key newtypes, one per role. Secrets zeroize on drop and never print.

use core::fmt;

use rand::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An X25519 result was the all-zero point: the peer sent a low-order public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("X25519 result is non-contributory (low-order public key)")]
pub struct NonContributory;

/// An X25519 public key (a ratchet key, a prekey, an ephemeral key).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DhPublic(pub [u8; 32]);

impl DhPublic {
    /// The 32 key bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DhPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DhPublic({})", hex_prefix(&self.0))
    }
}

/// An X25519 secret: the role (ephemeral, ratchet, prekey) is given by where it is held.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DhSecret([u8; 32]);

impl DhSecret {
    /// A fresh secret from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Wraps secret bytes (state loading, identity conversion, known-answer tests).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The secret bytes, for serializing state.
    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The public key.
    pub fn public(&self) -> DhPublic {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        DhPublic(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }

    /// X25519 with a peer key; a low-order peer key is refused, never silently used.
    pub fn diffie_hellman(&self, peer: &DhPublic) -> Result<SharedSecret, NonContributory> {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        if !shared.was_contributory() {
            return Err(NonContributory);
        }
        Ok(SharedSecret(shared.to_bytes()))
    }
}

impl fmt::Debug for DhSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhSecret")
            .field("public", &self.public())
            .finish_non_exhaustive()
    }
}

/// The output of one Diffie-Hellman.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret(pub(crate) [u8; 32]);

impl SharedSecret {
    /// The raw shared secret, for test vectors only; the protocol feeds it to a KDF.
    pub const fn dangerous_as_bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name(pub(crate) [u8; 32]);

        impl $name {
            /// Wraps key bytes (state loading and known-answer tests).
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

secret_key!(
    /// The root key of the Double Ratchet (`RK`).
    RootKey
);
secret_key!(
    /// A sending or receiving chain key (`CKs` / `CKr`), or a sender-key chain.
    ChainKey
);
secret_key!(
    /// A message key (`mk`): used for exactly one message.
    MessageKey
);
secret_key!(
    /// A header key (`HKs`, `HKr`, `NHKs`, `NHKr`) for header encryption.
    HeaderKey
);

/// The first 4 bytes in hex: enough to tell keys apart in logs, never a secret.
pub(crate) fn hex_prefix(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut out = String::with_capacity(8);
    for b in bytes.iter().take(4) {
        let _ = write!(out, "{b:02x}");
    }
    out
}
