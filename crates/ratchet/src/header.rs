//! The message header `(dh, pn, n)` (Double Ratchet §3.1) and its encryption (§4).

use rand::CryptoRng;

use crate::aead::{self, TAG_LEN};
use crate::codec::{DecodeError, Reader};
use crate::keys::{DhPublic, HeaderKey};

/// Encoded header length: dh (32) ‖ pn (u32 BE) ‖ n (u32 BE).
pub const HEADER_LEN: usize = 40;
/// Encrypted header length: nonce (12) ‖ sealed header (40 + 16).
pub const ENCRYPTED_HEADER_LEN: usize = 12 + HEADER_LEN + TAG_LEN;

const HEADER_AD: &[u8] = b"talos-ratchet-v1 header";

/// A ratchet message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The sender's current ratchet public key.
    pub dh: DhPublic,
    /// Messages in the sender's previous sending chain.
    pub pn: u32,
    /// This message's number in the current sending chain.
    pub n: u32,
}

impl Header {
    /// The 40-byte encoding.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (dh, rest) = out.split_at_mut(32);
        dh.copy_from_slice(&self.dh.0);
        let (pn, n) = rest.split_at_mut(4);
        pn.copy_from_slice(&self.pn.to_be_bytes());
        n.copy_from_slice(&self.n.to_be_bytes());
        out
    }

    /// Parses exactly 40 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = Self {
            dh: DhPublic(r.array("header dh")?),
            pn: r.u32("header pn")?,
            n: r.u32("header n")?,
        };
        r.finish()?;
        Ok(header)
    }

    /// `HENCRYPT(hk, header)`: a header key seals many headers, so each gets a random nonce.
    pub(crate) fn seal<R: CryptoRng + ?Sized>(
        &self,
        hk: &HeaderKey,
        rng: &mut R,
        out: &mut Vec<u8>,
    ) {
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        out.extend_from_slice(&nonce);
        aead::seal(&hk.0, &nonce, &[HEADER_AD], &self.encode(), out);
    }

    /// `HDECRYPT(hk, enc_header)`: `None` when this header key did not seal it.
    pub(crate) fn open(hk: &HeaderKey, sealed: &[u8]) -> Option<Self> {
        let (nonce, ct) = sealed.split_at_checked(12)?;
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = aead::open(&hk.0, &nonce, &[HEADER_AD], ct).ok()?;
        Self::decode(&plain).ok()
    }
}
