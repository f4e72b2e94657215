//! ChaCha20-Poly1305 as the ratchet uses it (RFC 8439), via `ring`.
//!
//! Why `ring` and not the RustCrypto `chacha20poly1305` crate this used before: every
//! message costs several short AEAD operations (the message itself, its session and inbox
//! entry sealed at rest), and for such sizes the RustCrypto crate spent ~1.2 µs of fixed
//! cost per call (its AVX2 Poly1305 runs its intrinsics out of line): 9.2× ring's 187 ns
//! at 48 bytes and 5.2× at 400 (`benches/ratchet.rs`, `aead/*`). The construction and the
//! bytes are the same; the known-answer vectors check it.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

/// The Poly1305 tag length.
pub const TAG_LEN: usize = 16;

/// Authentication failed: wrong key, or the ciphertext, nonce or associated data changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AEAD authentication failed")]
pub struct AeadError;

fn cipher(key: &[u8; 32]) -> Option<LessSafeKey> {
    // Fails only for a key of the wrong length, which the type rules out.
    UnboundKey::new(&CHACHA20_POLY1305, key)
        .ok()
        .map(LessSafeKey::new)
}

/// Encrypts `plaintext`, appending ciphertext ‖ tag to `out`.
pub fn seal(key: &[u8; 32], nonce: &[u8; 12], ad: &[&[u8]], plaintext: &[u8], out: &mut Vec<u8>) {
    let Some(cipher) = cipher(key) else {
        return;
    };
    let start = out.len();
    out.extend_from_slice(plaintext);
    let ad = join(ad);
    let body = out.get_mut(start..).unwrap_or_default();
    // Every nonce passed here is unique for its key (message keys are used once; sealing
    // at rest draws a random nonce), which is what `assume_unique_for_key` asks.
    match cipher.seal_in_place_separate_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(&*ad),
        body,
    ) {
        Ok(tag) => out.extend_from_slice(tag.as_ref()),
        Err(_) => out.truncate(start),
    }
}

/// Decrypts ciphertext ‖ tag; `Err` on any authentication failure.
pub fn open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    ad: &[&[u8]],
    sealed: &[u8],
) -> Result<Vec<u8>, AeadError> {
    let plain_len = sealed.len().checked_sub(TAG_LEN).ok_or(AeadError)?;
    let cipher = cipher(key).ok_or(AeadError)?;
    let mut buf = sealed.to_vec();
    let ad = join(ad);
    cipher
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(&*ad),
            &mut buf,
        )
        .map_err(|_| AeadError)?;
    buf.truncate(plain_len);
    Ok(buf)
}

/// Associated data comes in parts (handshake AD, header); joined on the stack when small.
fn join(parts: &[&[u8]]) -> smallvec_ad::Ad {
    smallvec_ad::Ad::from_parts(parts)
}

mod smallvec_ad {
    /// Associated data is at most a few hundred bytes; a fixed stack buffer avoids a heap
    /// allocation per message, with a heap fallback for anything larger.
    #[allow(clippy::large_enum_variant)] // by design: it lives on the stack for one call
    pub(super) enum Ad {
        Stack([u8; 256], usize),
        Heap(Vec<u8>),
    }

    impl Ad {
        pub(super) fn from_parts(parts: &[&[u8]]) -> Self {
            let total: usize = parts.iter().map(|p| p.len()).sum();
            if total <= 256 {
                let mut buf = [0u8; 256];
                let mut at = 0;
                for p in parts {
                    if let Some(dst) = buf.get_mut(at..at + p.len()) {
                        dst.copy_from_slice(p);
                    }
                    at += p.len();
                }
                Self::Stack(buf, total)
            } else {
                Self::Heap(parts.concat())
            }
        }
    }

    impl core::ops::Deref for Ad {
        type Target = [u8];
        fn deref(&self) -> &[u8] {
            match self {
                Self::Stack(buf, len) => buf.get(..*len).unwrap_or_default(),
                Self::Heap(v) => v,
            }
        }
    }
}
