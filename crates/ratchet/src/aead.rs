//! ChaCha20-Poly1305 as the ratchet uses it (RFC 8439, via the `chacha20poly1305` crate).

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};

/// The Poly1305 tag length.
pub const TAG_LEN: usize = 16;

/// Authentication failed: wrong key, or the ciphertext, nonce or associated data changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("AEAD authentication failed")]
pub struct AeadError;

/// Encrypts `plaintext`, appending ciphertext ‖ tag to `out`.
pub fn seal(key: &[u8; 32], nonce: &[u8; 12], ad: &[&[u8]], plaintext: &[u8], out: &mut Vec<u8>) {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let start = out.len();
    out.extend_from_slice(plaintext);
    let ad = join(ad);
    let body = out.get_mut(start..).unwrap_or_default();
    match cipher.encrypt_inout_detached(&Nonce::from(*nonce), &ad, body.into()) {
        Ok(tag) => out.extend_from_slice(tag.as_slice()),
        // Only inputs above 256 GiB fail; they cannot reach here from a bounded frame.
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
    let split = sealed.len().checked_sub(TAG_LEN).ok_or(AeadError)?;
    let (ct, tag) = sealed.split_at(split);
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let mut buf = ct.to_vec();
    let ad = join(ad);
    let tag = Tag::try_from(tag).map_err(|_| AeadError)?;
    cipher
        .decrypt_inout_detached(&Nonce::from(*nonce), &ad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| AeadError)?;
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
