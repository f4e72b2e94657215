//! W3C Data Integrity proofs with `eddsa-jcs-2022`, in the form the cryptosuite
//! specifies for credentials (VC Data Integrity EdDSA 1.0, §3.3): the stored proof carries
//! the document's `@context` and, when given, `created`; the verification method is any
//! URL (a DID URL or not). The W3C test vectors reproduce byte for byte
//! (`tests/it/vectors.rs`). [`super::add_proof`] is the older form the DID documents
//! use, kept so their anchored hashes do not change.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{CRYPTOSUITE, JcsError, canonicalize, sha256};
use crate::keys::{IdentityKey, Signature, verify};
use talos_primitives::Ed25519Public;

/// The options of a proof (what the proof says besides its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// The key that made it: a DID URL such as `did:key:z6Mk..#z6Mk..`.
    pub verification_method: String,
    /// Why it was made (`assertionMethod` for a credential).
    pub proof_purpose: String,
    /// When, an XML Schema dateTime (`2023-02-24T23:36:38Z`), if stated.
    pub created: Option<String>,
}

/// `SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document))`: what the signature
/// covers (the cryptosuite's `hashData`).
pub(super) fn hash_data(
    document: &Map<String, Value>,
    config: &Map<String, Value>,
) -> Result<[u8; 64], JcsError> {
    let mut out = [0u8; 64];
    let (a, b) = out.split_at_mut(32);
    a.copy_from_slice(sha256(&canonicalize(config)?).as_bytes());
    b.copy_from_slice(sha256(&canonicalize(document)?).as_bytes());
    Ok(out)
}

/// `document` with an `eddsa-jcs-2022` proof made by `key` (any `proof` it had is
/// replaced).
pub fn secure<T: Serialize + ?Sized>(
    key: &IdentityKey,
    document: &T,
    options: &ProofOptions,
) -> Result<Value, JcsError> {
    let Value::Object(mut doc) = serde_json::to_value(document).map_err(JcsError::Json)? else {
        return Err(JcsError::BadProof("document is not a JSON object"));
    };
    doc.remove("proof");
    let mut proof = Map::new();
    proof.insert("type".into(), "DataIntegrityProof".into());
    proof.insert("cryptosuite".into(), CRYPTOSUITE.into());
    if let Some(created) = &options.created {
        proof.insert("created".into(), created.as_str().into());
    }
    proof.insert(
        "verificationMethod".into(),
        options.verification_method.as_str().into(),
    );
    proof.insert("proofPurpose".into(), options.proof_purpose.as_str().into());
    if let Some(ctx) = doc.get("@context") {
        proof.insert("@context".into(), ctx.clone());
    }
    let sig = key.sign(&hash_data(&doc, &proof)?);
    proof.insert(
        "proofValue".into(),
        multibase::encode(multibase::Base::Base58Btc, sig.0).into(),
    );
    doc.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(doc))
}

/// Verifies the `eddsa-jcs-2022` proof on `secured` under `public` (a key the caller
/// resolved from the verification method), and returns the proof's options. A proof
/// with an `@context` requires the document's to start with it, as the cryptosuite says.
pub fn verify_secured(secured: &Value, public: &Ed25519Public) -> Result<ProofOptions, JcsError> {
    let Value::Object(secured) = secured else {
        return Err(JcsError::BadProof("document is not a JSON object"));
    };
    let mut doc = secured.clone();
    let Some(Value::Object(mut proof)) = doc.remove("proof") else {
        return Err(JcsError::BadProof("no proof object"));
    };
    let text = |name: &'static str| match proof.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(JcsError::BadProof(name)),
    };
    if text("type")? != "DataIntegrityProof" || text("cryptosuite")? != CRYPTOSUITE {
        return Err(JcsError::BadProof("cryptosuite"));
    }
    let options = ProofOptions {
        verification_method: text("verificationMethod")?,
        proof_purpose: text("proofPurpose")?,
        created: proof
            .contains_key("created")
            .then(|| text("created"))
            .transpose()?,
    };
    let value = text("proofValue")?;
    if !value.starts_with('z') {
        return Err(JcsError::BadProof("proofValue"));
    }
    let (_, sig) = multibase::decode(&value).map_err(|_| JcsError::BadProof("proofValue"))?;
    let sig = Signature::from_slice(&sig)?;
    if let Some(ctx) = proof.get("@context")
        && !context_starts_with(doc.get("@context"), ctx)
    {
        return Err(JcsError::BadProof("@context"));
    }
    proof.remove("proofValue");
    verify(public, &hash_data(&doc, &proof)?, &sig)?;
    Ok(options)
}

/// Whether the document's `@context` starts with the proof's, in order.
fn context_starts_with(doc: Option<&Value>, proof: &Value) -> bool {
    let as_list = |v: &Value| match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let Some(doc) = doc else { return false };
    let (doc, proof) = (as_list(doc), as_list(proof));
    doc.len() >= proof.len() && doc.iter().zip(&proof).all(|(a, b)| a == b)
}
