//! Signature checks for a whole chain at once.
//!
//! One token: `verify_strict`. Several: ed25519-dalek's batch verification, preceded by the
//! checks `verify_strict` makes and the batch equation does not: `S` canonical, `R` a
//! canonically encoded point of large order (weak keys are already unrepresentable in
//! `Ed25519Public`). A chain that passes here passes `verify_strict` link by link; on a
//! batch failure we fall back to single checks only to name the bad link.

use curve25519_dalek::Scalar;
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::error::CapError;
use crate::token::Token;

fn strict_precheck(sig: &[u8; 64]) -> bool {
    let (r, s) = sig.split_at(32);
    let (Ok(r), Ok(s)) = (<[u8; 32]>::try_from(r), <[u8; 32]>::try_from(s)) else {
        return false;
    };
    let s_ok: bool = Scalar::from_canonical_bytes(s).is_some().into();
    let r_ok = CompressedEdwardsY(r)
        .decompress()
        .is_some_and(|p| !p.is_small_order() && p.compress().to_bytes() == r);
    s_ok && r_ok
}

/// Verifies every token's signature; returns the first bad link's id on failure.
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
        let vk = VerifyingKey::from_bytes(t.issuer_key().as_bytes())
            .map_err(|_| CapError::BadSignature)?;
        msgs.push(t.signing_input());
        sigs.push(Signature::from_bytes(&t.signature().0));
        keys.push(vk);
    }
    if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return Ok(());
    }
    // Name the culprit (or catch a batch/single disagreement, which must not pass).
    for t in tokens {
        t.verify_signature()?;
    }
    Err(CapError::BadSignature)
}
