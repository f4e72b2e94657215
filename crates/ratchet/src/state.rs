//! The session's versioned binary encoding (layout in `FORMAT.md`), so the node can
//! persist it after every step. Decoding checks every count against its bound and every
//! flag; the encoding is deterministic, so "state unchanged" can be checked byte for byte.

use std::collections::VecDeque;

use talos_primitives::Ed25519Public;
use zeroize::Zeroizing;

use crate::codec::{DecodeError, Reader};
use crate::keys::{ChainKey, DhPublic, DhSecret, HeaderKey, MessageKey, RootKey};
use crate::pq::KEM_CIPHERTEXT_LEN;
use crate::session::{
    ChainMark, MAX_RECEIVING_CHAINS, MAX_SKIPPED_TOTAL, Pending, Role, Session, Skipped,
};
use crate::x3dh::ad_of;

const MAGIC: &[u8; 4] = b"TLRS";
/// The state format version this build writes and reads.
pub const STATE_VERSION: u8 = 2;

const F_HE: u16 = 1 << 0;
const F_INITIATOR: u16 = 1 << 1;
const F_PENDING: u16 = 1 << 2;
const F_DHR: u16 = 1 << 3;
const F_CKS: u16 = 1 << 4;
const F_CKR: u16 = 1 << 5;
const F_HKS: u16 = 1 << 6;
const F_HKR: u16 = 1 << 7;
const F_OPK: u16 = 1 << 8;
const F_KEM: u16 = 1 << 9;
const F_ALL: u16 = (1 << 10) - 1;

impl Session {
    /// Encodes the whole session, secrets included: store it sealed ([`crate::at_rest`]).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut flags = 0u16;
        let mut set = |cond: bool, f: u16| {
            if cond {
                flags |= f;
            }
        };
        set(self.header_encryption, F_HE);
        set(self.role == Role::Initiator, F_INITIATOR);
        set(self.pending.is_some(), F_PENDING);
        set(self.dhr.is_some(), F_DHR);
        set(self.cks.is_some(), F_CKS);
        set(self.ckr.is_some(), F_CKR);
        set(self.hks.is_some(), F_HKS);
        set(self.hkr.is_some(), F_HKR);
        if let Some(p) = &self.pending {
            set(p.one_time_prekey_id.is_some(), F_OPK);
            set(p.kem.is_some(), F_KEM);
        }
        let mut out = Zeroizing::new(Vec::with_capacity(400 + self.skipped.len() * 68));
        out.extend_from_slice(MAGIC);
        out.push(STATE_VERSION);
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(self.initiator.as_bytes());
        out.extend_from_slice(self.responder.as_bytes());
        out.extend_from_slice(&self.handshake_id);
        out.extend_from_slice(self.dhs.as_bytes());
        out.extend_from_slice(&self.dhs_public.0);
        if let Some(d) = &self.dhr {
            out.extend_from_slice(&d.0);
        }
        out.extend_from_slice(&self.rk.0);
        for k in [&self.cks, &self.ckr].into_iter().flatten() {
            out.extend_from_slice(&k.0);
        }
        for n in [self.ns, self.nr, self.pn] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        for k in [&self.hks, &self.hkr].into_iter().flatten() {
            out.extend_from_slice(&k.0);
        }
        out.extend_from_slice(&self.nhks.0);
        out.extend_from_slice(&self.nhkr.0);
        if let Some(p) = &self.pending {
            out.extend_from_slice(&p.ephemeral.0);
            out.extend_from_slice(&p.signed_prekey_id.to_be_bytes());
            if let Some(id) = p.one_time_prekey_id {
                out.extend_from_slice(&id.to_be_bytes());
            }
            if let Some((id, ct)) = &p.kem {
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&ct[..]);
            }
        }
        // Counts fit: both collections are bounded far below their field widths.
        out.push(self.chains.len() as u8);
        for c in &self.chains {
            out.extend_from_slice(&c.chain);
            out.extend_from_slice(&c.evicted_below.to_be_bytes());
        }
        out.extend_from_slice(&(self.skipped.len() as u16).to_be_bytes());
        for s in &self.skipped {
            out.extend_from_slice(&s.chain);
            out.extend_from_slice(&s.n.to_be_bytes());
            out.extend_from_slice(&s.mk.0);
        }
        out
    }

    /// Decodes [`Session::encode`] output.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_keys(bytes, true)
    }

    /// [`Session::decode`] for state this program encoded and kept sealed at rest (so
    /// authenticated): the identity keys were checked when the session was made and are
    /// not decompressed again. Everything else is parsed as strictly.
    pub fn dangerous_decode_sealed(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_keys(bytes, false)
    }

    fn decode_keys(bytes: &[u8], check_keys: bool) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.take(4, "magic")? != MAGIC {
            return Err(DecodeError::Invalid("state magic"));
        }
        let version = r.u8("version")?;
        if version != STATE_VERSION {
            return Err(DecodeError::Version(version));
        }
        let flags = u16::from_be_bytes(r.array("flags")?);
        if flags & !F_ALL != 0 {
            return Err(DecodeError::Flags((flags >> 8) as u8));
        }
        if flags & F_PENDING == 0 && flags & (F_OPK | F_KEM) != 0 {
            return Err(DecodeError::Invalid(
                "handshake flags without a pending handshake",
            ));
        }
        let has = |f: u16| flags & f != 0;
        let key = |r: &mut Reader<'_>, what| -> Result<Ed25519Public, DecodeError> {
            let bytes = r.array(what)?;
            if check_keys {
                Ed25519Public::from_bytes(bytes).map_err(|_| DecodeError::Invalid(what))
            } else {
                Ok(Ed25519Public::dangerous_from_checked_bytes(bytes))
            }
        };
        let initiator = key(&mut r, "initiator identity")?;
        let responder = key(&mut r, "responder identity")?;
        let handshake_id = r.array("handshake id")?;
        let dhs = DhSecret::from_bytes(r.array("dhs")?);
        // Stored since version 2 instead of recomputed: an X25519 base multiplication on
        // every decode was the largest single CPU cost of a node's send and receive
        // paths. The state is sealed (authenticated) at rest, so the pair stays the pair
        // we wrote; a mismatched pair could only make our own messages undecryptable.
        let dhs_public = DhPublic(r.array("dhs public")?);
        let dhr = if has(F_DHR) {
            Some(DhPublic(r.array("dhr")?))
        } else {
            None
        };
        let rk = RootKey(r.array("rk")?);
        let cks = if has(F_CKS) {
            Some(ChainKey(r.array("cks")?))
        } else {
            None
        };
        let ckr = if has(F_CKR) {
            Some(ChainKey(r.array("ckr")?))
        } else {
            None
        };
        let (ns, nr, pn) = (r.u32("ns")?, r.u32("nr")?, r.u32("pn")?);
        let hks = if has(F_HKS) {
            Some(HeaderKey(r.array("hks")?))
        } else {
            None
        };
        let hkr = if has(F_HKR) {
            Some(HeaderKey(r.array("hkr")?))
        } else {
            None
        };
        let nhks = HeaderKey(r.array("nhks")?);
        let nhkr = HeaderKey(r.array("nhkr")?);
        let pending = if has(F_PENDING) {
            let ephemeral = DhPublic(r.array("pending ephemeral")?);
            let signed_prekey_id = r.u32("pending signed prekey id")?;
            let one_time_prekey_id = if has(F_OPK) {
                Some(r.u32("pending one-time id")?)
            } else {
                None
            };
            let kem = if has(F_KEM) {
                let id = r.u32("pending kem id")?;
                let ct: [u8; KEM_CIPHERTEXT_LEN] = r.array("pending kem ciphertext")?;
                Some((id, Box::new(ct)))
            } else {
                None
            };
            Some(Pending {
                ephemeral,
                signed_prekey_id,
                one_time_prekey_id,
                kem,
            })
        } else {
            None
        };
        let n = usize::from(r.u8("chain count")?);
        if n > MAX_RECEIVING_CHAINS {
            return Err(DecodeError::Invalid("receiving chain count"));
        }
        let mut chains = VecDeque::with_capacity(n);
        for _ in 0..n {
            chains.push_back(ChainMark {
                chain: r.array("chain")?,
                evicted_below: r.u32("evicted below")?,
            });
        }
        let n = usize::from(u16::from_be_bytes(r.array("skipped count")?));
        if n > MAX_SKIPPED_TOTAL {
            return Err(DecodeError::Invalid("skipped key count"));
        }
        let mut skipped = VecDeque::with_capacity(n);
        for _ in 0..n {
            skipped.push_back(Skipped {
                chain: r.array("skipped chain")?,
                n: r.u32("skipped n")?,
                mk: MessageKey(r.array("skipped key")?),
            });
        }
        r.finish()?;
        Ok(Self {
            role: if has(F_INITIATOR) {
                Role::Initiator
            } else {
                Role::Responder
            },
            header_encryption: has(F_HE),
            ad: ad_of(&initiator, &responder),
            initiator,
            responder,
            handshake_id,
            pending,
            dhs_public,
            dhs,
            dhr,
            rk,
            cks,
            ckr,
            ns,
            nr,
            pn,
            hks,
            hkr,
            nhks,
            nhkr,
            skipped,
            chains,
        })
    }
}
