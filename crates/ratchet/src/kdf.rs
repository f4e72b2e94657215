//! The ratchet's key derivations (Signal Double Ratchet §5.2): KDF_RK is HKDF-SHA256 with
//! the root key as salt; KDF_CK is HMAC-SHA256 with the constants 0x01 and 0x02; a message
//! key expands to a ChaCha20-Poly1305 key and nonce.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

use crate::keys::{ChainKey, HeaderKey, MessageKey, RootKey, SharedSecret};

type HmacSha256 = Hmac<Sha256>;

const RK_INFO: &[u8] = b"talos-ratchet-v1 root";
const MSG_INFO: &[u8] = b"talos-ratchet-v1 message";
const INIT_INFO: &[u8] = b"talos-ratchet-v1 init";

/// `KDF_RK(rk, dh_out)`: a new root key, a chain key and (for header encryption) the next
/// header key, all from one HKDF-SHA256 output.
pub(crate) fn kdf_rk(rk: &RootKey, dh_out: &SharedSecret) -> (RootKey, ChainKey, HeaderKey) {
    let hk = Hkdf::<Sha256>::new(Some(&rk.0), &dh_out.0);
    let mut okm = [0u8; 96];
    // 96 bytes is far below HKDF's 255 * 32 limit, so expand cannot fail.
    let _ = hk.expand(RK_INFO, &mut okm);
    let out = (
        RootKey(take32(&okm, 0)),
        ChainKey(take32(&okm, 32)),
        HeaderKey(take32(&okm, 64)),
    );
    okm.zeroize();
    out
}

/// `KDF_CK(ck)`: the message key (HMAC with 0x01) and the next chain key (HMAC with 0x02).
pub(crate) fn kdf_ck(ck: &ChainKey) -> (MessageKey, ChainKey) {
    // The keyed HMAC state is computed once and cloned: both outputs share the key.
    let keyed = <HmacSha256 as KeyInit>::new_from_slice(&ck.0);
    let Ok(keyed) = keyed else {
        // HMAC accepts any key length; this arm is unreachable and returns zero keys,
        // which would fail authentication rather than panic.
        return (MessageKey([0; 32]), ChainKey([0; 32]));
    };
    let mut m = keyed.clone();
    m.update(&[0x01]);
    let mut c = keyed;
    c.update(&[0x02]);
    (
        MessageKey(m.finalize().into_bytes().into()),
        ChainKey(c.finalize().into_bytes().into()),
    )
}

/// Expands a message key into the AEAD key and nonce. The message key is already uniform,
/// so it is used directly as the HKDF PRK (expand only).
pub(crate) fn message_keys(mk: &MessageKey, info: &[u8]) -> ([u8; 32], [u8; 12]) {
    let mut okm = [0u8; 44];
    if let Ok(hk) = Hkdf::<Sha256>::from_prk(&mk.0) {
        let _ = hk.expand_multi_info(&[MSG_INFO, info], &mut okm);
    }
    let key = take32(&okm, 0);
    let mut nonce = [0u8; 12];
    if let Some(src) = okm.get(32..44) {
        nonce.copy_from_slice(src);
    }
    okm.zeroize();
    (key, nonce)
}

/// The handshake secret `SK` becomes the first root key plus the two shared header keys
/// of header encryption (`shared_hka`, `shared_nhkb` in §4 of the spec).
pub(crate) fn init_keys(sk: &[u8; 32]) -> (RootKey, HeaderKey, HeaderKey) {
    let mut okm = [0u8; 96];
    if let Ok(hk) = Hkdf::<Sha256>::from_prk(sk) {
        let _ = hk.expand(INIT_INFO, &mut okm);
    }
    let out = (
        RootKey(take32(&okm, 0)),
        HeaderKey(take32(&okm, 32)),
        HeaderKey(take32(&okm, 64)),
    );
    okm.zeroize();
    out
}

/// HKDF-SHA256 extract-then-expand, as the handshakes and the Wycheproof tests call it.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), HkdfLength> {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .map_err(|_| HkdfLength)
}

/// HKDF was asked for more than 255 × 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("HKDF-SHA256 output longer than 8160 bytes")]
pub struct HkdfLength;

fn take32(buf: &[u8], at: usize) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Some(src) = buf.get(at..at + 32) {
        out.copy_from_slice(src);
    }
    out
}
