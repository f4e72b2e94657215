//! Signature checks for a whole chain at once.
//!
//! One token: `verify_strict`. Several: ed25519-dalek's batch verification, preceded by the
//! per-signature conditions `verify_strict` enforces and the batch equation does not:
//! `S < ℓ`, and `R` a canonical encoding (`y < p`) of a point not of small order. The
//! small-order test is a table lookup against the eight torsion points' encodings, as
//! libsodium does, so the precheck costs no curve arithmetic. Weak public keys are already
//! unrepresentable in `Ed25519Public`. A chain that passes here passes `verify_strict` link
//! by link; on a batch failure we fall back to single checks to name the bad link.

use std::sync::LazyLock;

use curve25519_dalek::Scalar;
use ed25519_dalek::Signature;

use crate::error::CapError;
use crate::token::Token;

/// Encodings (sign bit cleared) of the eight points of order dividing 8.
static SMALL_ORDER: LazyLock<[[u8; 32]; 8]> = LazyLock::new(|| {
    curve25519_dalek::constants::EIGHT_TORSION.map(|p| {
        let mut b = p.compress().to_bytes();
        b[31] &= 0x7f;
        b
    })
});

/// `y < p = 2^255 - 19`, for the low 255 bits of a little-endian encoding.
fn canonical_y(r: &[u8; 32]) -> bool {
    let top = r[31] & 0x7f;
    !(top == 0x7f && r[1..31].iter().all(|&b| b == 0xff) && r[0] >= 0xed)
}

fn strict_precheck(sig: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    s.copy_from_slice(&sig[32..]);
    let s_ok: bool = Scalar::from_canonical_bytes(s).is_some().into();
    let mut unsigned = r;
    unsigned[31] &= 0x7f;
    s_ok && canonical_y(&r) && !SMALL_ORDER.contains(&unsigned)
}

/// Verifies every token's signature; on failure, returns the error for the first bad link.
pub(crate) fn verify_all(tokens: &[Token]) -> Result<(), CapError> {
    if let [single] = tokens {
        return single.verify_signature();
    }
    let mut msgs = Vec::with_capacity(tokens.len());
    let mut sigs = Vec::with_capacity(tokens.len());
    let mut keys = Vec::with_capacity(tokens.len());
    for t in tokens {
        if !strict_precheck(&t.signature().0) {
            return Err(CapError::BadSignature);
        }
        msgs.push(t.signing_input());
        sigs.push(Signature::from_bytes(&t.signature().0));
        keys.push(*t.verifying_key());
    }
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return Ok(());
    }
    for t in tokens {
        t.verify_signature()?;
    }
    Err(CapError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precheck_matches_verify_strict_rules() {
        // Identity point (y = 1) as R: small order.
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(!strict_precheck(&sig));
        // y = p (non-canonical encoding of 0).
        let mut sig = [0xffu8; 64];
        sig[0] = 0xed;
        sig[31] = 0x7f;
        sig[32..].fill(0);
        assert!(!strict_precheck(&sig));
        // S = ℓ is not canonical.
        let mut sig = [0u8; 64];
        sig[0] = 0x58; // the base point's encoding starts 0x58 0x66...
        sig[1..32].fill(0x66);
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        sig[32..].copy_from_slice(&l);
        assert!(!strict_precheck(&sig));
        sig[32] = 0xec; // ℓ - 1
        assert!(strict_precheck(&sig));
    }
}
