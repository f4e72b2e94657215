//! Sealing encoded state (sessions, prekey stores, sender keys) for storage: ChaCha20-
//! Poly1305 under a 32-byte storage key, with a random nonce and caller-chosen context
//! (for example the session's handshake id) bound as associated data, so a sealed blob
//! cannot be swapped for another record's.

use core::fmt;

use rand::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::aead;

const MAGIC: &[u8; 4] = b"TLSS";
const VERSION: u8 = 1;

/// The key that seals state at rest (the node derives it from its keystore).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StorageKey([u8; 32]);

impl StorageKey {
    /// Wraps key bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        Self(k)
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StorageKey(..)")
    }
}

/// Why a sealed blob did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnsealError {
    /// Not a sealed-state blob of a version this build reads.
    #[error("not a sealed state blob (bad magic or version)")]
    Format,
    /// Wrong key, wrong context, or the blob was modified.
    #[error("sealed state failed authentication")]
    Authentication,
}

/// Seals `plaintext`: magic ‖ version ‖ nonce ‖ ciphertext ‖ tag.
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &StorageKey,
    context: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(17 + plaintext.len() + aead::TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    aead::seal(
        &key.0,
        &nonce,
        &[MAGIC, &[VERSION], context],
        plaintext,
        &mut out,
    );
    out
}

/// Opens a blob made by [`seal`] with the same key and context.
pub fn open(
    key: &StorageKey,
    context: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
    let (head, rest) = sealed.split_at_checked(5).ok_or(UnsealError::Format)?;
    if head.get(..4) != Some(&MAGIC[..]) || head.get(4) != Some(&VERSION) {
        return Err(UnsealError::Format);
    }
    let (nonce, ct) = rest.split_at_checked(12).ok_or(UnsealError::Format)?;
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| UnsealError::Format)?;
    aead::open(&key.0, &nonce, &[MAGIC, &[VERSION], context], ct)
        .map(Zeroizing::new)
        .map_err(|_| UnsealError::Authentication)
}
