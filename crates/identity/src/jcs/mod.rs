//! RFC 8785 JSON Canonicalization Scheme, signatures over canonical bytes, and W3C Data
//! Integrity proofs with the `eddsa-jcs-2022` cryptosuite.
//!
//! Canonicalization is [`ser`], a one-pass RFC 8785 serializer (see there for why it is not
//! `serde_jcs`); this module adds the signing rules on top: a verifier
//! only accepts bytes that are already canonical, so one logical object has one signed
//! encoding and nobody can smuggle a second meaning past a signature.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use talos_primitives::{DidUrl, Ed25519Public, Hash32};

use crate::keys::{IdentityKey, Signature, SignatureError, verify};

mod di;
mod key_ser;
mod ser;

pub use di::{ProofOptions, secure, verify_secured};
pub use ser::SerError;

/// Largest JSON input accepted for verification, in bytes.
pub const MAX_SIGNED_JSON: usize = 256 * 1024;

/// Why canonical signing or verification failed.
#[derive(Debug, thiserror::Error)]
pub enum JcsError {
    /// The value cannot be represented in JCS (for example a NaN, or a non-string key).
    #[error("value cannot be canonicalized: {0}")]
    Unrepresentable(#[from] SerError),
    /// The input is not well-formed JSON of the expected shape.
    #[error("malformed JSON: {0}")]
    Json(serde_json::Error),
    /// The input is JSON but not in canonical form, so it is not a valid signature input.
    #[error("signature input is not RFC 8785 canonical JSON")]
    NonCanonical,
    /// The input is over [`MAX_SIGNED_JSON`].
    #[error("JSON input of {0} bytes is over the limit")]
    TooLarge(usize),
    /// The signature did not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A Data Integrity proof is missing, malformed, or not `eddsa-jcs-2022`.
    #[error("missing or malformed eddsa-jcs-2022 proof: {0}")]
    BadProof(&'static str),
}

/// The RFC 8785 canonical bytes of a value.
pub fn canonicalize<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    Ok(ser::to_vec(value)?)
}

/// Re-encodes arbitrary JSON bytes canonically.
pub fn canonicalize_json(bytes: &[u8]) -> Result<Vec<u8>, JcsError> {
    let value: Value = serde_json::from_slice(bytes).map_err(JcsError::Json)?;
    canonicalize(&value)
}

/// SHA-256 of the canonical bytes.
pub fn digest<T: Serialize + ?Sized>(value: &T) -> Result<Hash32, JcsError> {
    Ok(sha256(&canonicalize(value)?))
}

pub(crate) fn sha256(bytes: &[u8]) -> Hash32 {
    Hash32(Sha256::digest(bytes).into())
}

/// Canonicalizes and signs; returns the exact bytes signed and the signature.
pub fn sign<T: Serialize + ?Sized>(
    key: &IdentityKey,
    value: &T,
) -> Result<(Vec<u8>, Signature), JcsError> {
    let bytes = canonicalize(value)?;
    let sig = key.sign(&bytes);
    Ok((bytes, sig))
}

/// Checks the bytes are canonical JCS, then the signature over them, then decodes them.
pub fn verify_canonical<T: DeserializeOwned>(
    public: &Ed25519Public,
    bytes: &[u8],
    sig: &Signature,
) -> Result<T, JcsError> {
    if bytes.len() > MAX_SIGNED_JSON {
        return Err(JcsError::TooLarge(bytes.len()));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(JcsError::Json)?;
    if canonicalize(&value)? != bytes {
        return Err(JcsError::NonCanonical);
    }
    verify(public, bytes, sig)?;
    serde_json::from_value(value).map_err(JcsError::Json)
}

/// The cryptosuite name of W3C Data Integrity EdDSA with JCS.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";

/// Adds an `eddsa-jcs-2022` Data Integrity proof to a JSON object.
///
/// Per the cryptosuite: `hashData = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document))`,
/// where `proofConfig` is the proof without `proofValue` (and with the document's
/// `@context`, if any), and `proofValue` is the base58btc multibase of the signature.
pub fn add_proof<T: Serialize + ?Sized>(
    key: &IdentityKey,
    document: &T,
    verification_method: &DidUrl,
    proof_purpose: &str,
) -> Result<Value, JcsError> {
    let Value::Object(mut doc) = serde_json::to_value(document).map_err(JcsError::Json)? else {
        return Err(JcsError::BadProof("document is not a JSON object"));
    };
    doc.remove("proof");
    let mut config = Map::new();
    config.insert("type".into(), "DataIntegrityProof".into());
    config.insert("cryptosuite".into(), CRYPTOSUITE.into());
    config.insert(
        "verificationMethod".into(),
        verification_method.to_string().into(),
    );
    config.insert("proofPurpose".into(), proof_purpose.into());
    let hash = proof_hash(&doc, &config)?;
    let sig = key.sign(&hash);
    config.insert(
        "proofValue".into(),
        multibase::encode(multibase::Base::Base58Btc, sig.0).into(),
    );
    doc.insert("proof".into(), Value::Object(config));
    Ok(Value::Object(doc))
}

fn proof_hash(doc: &Map<String, Value>, config: &Map<String, Value>) -> Result<[u8; 64], JcsError> {
    let mut config = config.clone();
    if let Some(ctx) = doc.get("@context") {
        config.insert("@context".into(), ctx.clone());
    }
    di::hash_data(doc, &config)
}

/// Verifies an `eddsa-jcs-2022` proof on a secured JSON object against a key the caller
/// has already resolved, and returns the verification method the proof names and the
/// proof purpose.
pub fn verify_proof(secured: &Value, public: &Ed25519Public) -> Result<(DidUrl, String), JcsError> {
    let Value::Object(secured) = secured else {
        return Err(JcsError::BadProof("document is not a JSON object"));
    };
    let mut doc = secured.clone();
    let Some(Value::Object(mut proof)) = doc.remove("proof") else {
        return Err(JcsError::BadProof("no proof object"));
    };
    let field = |name: &'static str| match proof.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(JcsError::BadProof(name)),
    };
    if field("type")? != "DataIntegrityProof" || field("cryptosuite")? != CRYPTOSUITE {
        return Err(JcsError::BadProof("cryptosuite"));
    }
    let vm = DidUrl::parse(&field("verificationMethod")?)
        .map_err(|_| JcsError::BadProof("verificationMethod"))?;
    let purpose = field("proofPurpose")?;
    let value = field("proofValue")?;
    if !value.starts_with('z') {
        return Err(JcsError::BadProof("proofValue"));
    }
    let (_, sig_bytes) = multibase::decode(&value).map_err(|_| JcsError::BadProof("proofValue"))?;
    let sig = Signature::from_slice(&sig_bytes)?;
    proof.remove("proofValue");
    let hash = proof_hash(&doc, &proof)?;
    verify(public, &hash, &sig)?;
    Ok((vm, purpose))
}
