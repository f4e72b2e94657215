//! Signing and verifying a card as A2A specifies (`AgentCardSignature`: a JWS in the
//! general form's `protected` and `signature` members, its payload detached).
//!
//! - The payload is the card's canonical form: the card without `signatures`, with every
//!   empty string, array and object removed (recursively, as A2A's reference SDK does
//!   before canonicalizing, since a protobuf round trip drops them), in RFC 8785 (JCS).
//! - The protected header is the JCS form of `{"alg":"EdDSA","kid":<DID URL>,"typ":"JOSE"}`.
//!   `kid` is the agent's DID and a fragment (`did:key:z6Mk..#z6Mk..`).
//! - A verifier takes the key from `kid`'s DID, never from `jku`, `jwk`, `x5u` or `x5c`
//!   (they are ignored); a header with `crit` is refused. The DID must be the card's
//!   `TALOS` interface: the signer is the agent the card describes.
//! - One signature that verifies is enough; others (another party's countersignature,
//!   say) are skipped.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use talos_identity::keys::{IdentityKey, Signature, verify as verify_sig};
use talos_identity::{did_key, jcs};
use talos_primitives::{Did, Ed25519Public};
use thiserror::Error;

use crate::MAX_CARD;
use crate::card::{Card, talos_did};

/// Signatures a card may carry (more is refused before any is checked).
pub const MAX_SIGNATURES: usize = 8;
/// Nesting of a card's JSON, at most (bounds the canonicalizer's recursion).
pub const MAX_DEPTH: usize = 32;

/// Why a card was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    /// `card.toml` does not describe a card.
    #[error("card.toml: {0}")]
    Config(String),
    /// Over [`MAX_CARD`] bytes, [`MAX_SIGNATURES`] signatures or [`MAX_DEPTH`] levels.
    #[error("card too large: {0}")]
    TooLarge(&'static str),
    /// Not a JSON object.
    #[error("not an agent card: {0}")]
    Malformed(String),
    /// No `signatures`.
    #[error("the card is not signed")]
    Unsigned,
    /// It names no `TALOS` interface, so no DID to bind the signature to.
    #[error("the card has no TALOS interface naming the agent's DID")]
    NoDid,
    /// Its DID is not one this build can take a key from.
    #[error("the card's DID {0} is not a did:key (did:talos cards are not verified yet)")]
    UnsupportedDid(String),
    /// No signature verified under the card's DID.
    #[error("no signature on the card verifies under {0}")]
    BadSignature(String),
}

/// A card whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The agent it describes, which signed it.
    pub did: Did,
    /// The signature's `kid`.
    pub kid: String,
    /// The card as signed (its canonical form, members it drops left out), with its
    /// `signatures`.
    pub card: Card,
}

/// The canonical bytes a card's signatures cover.
pub fn canonical(card: &Card) -> Result<Vec<u8>, CardError> {
    let mut card = card.clone();
    card.remove("signatures");
    let cleaned = clean(Value::Object(card), 1)?.unwrap_or_else(|| json!({}));
    jcs::canonicalize(&cleaned).map_err(|e| CardError::Malformed(e.to_string()))
}

/// Removes empty strings, arrays and objects (and nulls), depth first.
fn clean(v: Value, depth: usize) -> Result<Option<Value>, CardError> {
    if depth > MAX_DEPTH && matches!(v, Value::Object(_) | Value::Array(_)) {
        return Err(CardError::TooLarge("nesting"));
    }
    Ok(match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(v) = clean(v, depth + 1)? {
                    out.insert(k, v);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for v in a {
                if let Some(v) = clean(v, depth + 1)? {
                    out.push(v);
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => Some(other),
    })
}

/// The card signed by `key` (its `signatures` replaced by this one signature).
pub fn sign(card: &Card, key: &IdentityKey) -> Result<Card, CardError> {
    let did = key.did();
    let fragment = did.to_string();
    let fragment = fragment.trim_start_matches("did:key:");
    let header = json!({ "alg": "EdDSA", "kid": format!("{did}#{fragment}"), "typ": "JOSE" });
    let header = jcs::canonicalize(&header).map_err(|e| CardError::Malformed(e.to_string()))?;
    let protected = URL_SAFE_NO_PAD.encode(header);
    let payload = URL_SAFE_NO_PAD.encode(canonical(card)?);
    let signature = key.sign(format!("{protected}.{payload}").as_bytes());
    let mut signed = card.clone();
    signed.insert(
        "signatures".into(),
        json!([{ "protected": protected, "signature": signature.to_base64url() }]),
    );
    Ok(signed)
}

/// The card `config` describes for `key`'s agent, signed; refused when it is larger
/// than a verifier accepts ([`MAX_CARD`] as JSON), so a node never serves a card its
/// peers refuse.
pub fn signed(config: &crate::CardConfig, key: &IdentityKey) -> Result<Card, CardError> {
    let card = sign(&crate::card::build(config, &key.did()), key)?;
    let size = jcs::canonicalize(&card)
        .map_err(|e| CardError::Malformed(e.to_string()))?
        .len();
    if size > MAX_CARD {
        return Err(CardError::TooLarge("card (over 64 KiB signed)"));
    }
    Ok(card)
}

/// Parses a card and verifies it: a signature under the key of the DID its `TALOS`
/// interface names, with that DID as the signature's `kid`.
pub fn verify(bytes: &[u8]) -> Result<Verified, CardError> {
    if bytes.len() > MAX_CARD {
        return Err(CardError::TooLarge("card"));
    }
    let card: Card =
        serde_json::from_slice(bytes).map_err(|e| CardError::Malformed(e.to_string()))?;
    let sigs = match card.get("signatures") {
        None => return Err(CardError::Unsigned),
        Some(Value::Array(a)) if a.is_empty() => return Err(CardError::Unsigned),
        Some(Value::Array(a)) if a.len() > MAX_SIGNATURES => {
            return Err(CardError::TooLarge("signatures"));
        }
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(CardError::Malformed("`signatures` is not an array".into())),
    };
    // Everything below reads the card as signed: its canonical form. Members the
    // canonical form drops (nulls, empties) are not part of the verified card.
    let form = canonical(&card)?;
    let mut signed: Card =
        serde_json::from_slice(&form).map_err(|e| CardError::Malformed(e.to_string()))?;
    let did_text = talos_did(&signed).ok_or(CardError::NoDid)?.to_owned();
    let did = Did::parse(&did_text).map_err(|_| CardError::NoDid)?;
    let Did::Key(public) = did else {
        return Err(CardError::UnsupportedDid(did_text));
    };
    let payload = URL_SAFE_NO_PAD.encode(&form);
    let kid = sigs
        .iter()
        .find_map(|s| check_one(s, &did_text, &public, &payload))
        .ok_or_else(|| CardError::BadSignature(did_text.clone()))?;
    signed.insert("signatures".into(), Value::Array(sigs));
    Ok(Verified {
        did,
        kid,
        card: signed,
    })
}

/// The `kid` of `sig` if it is an EdDSA signature by `did` over `payload`.
fn check_one(sig: &Value, did: &str, public: &Ed25519Public, payload: &str) -> Option<String> {
    let protected = sig.get("protected")?.as_str()?;
    let signature = Signature::from_base64url(sig.get("signature")?.as_str()?).ok()?;
    let header: Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "EdDSA" || header.contains_key("crit") {
        return None;
    }
    let kid = header.get("kid")?.as_str()?;
    let (kid_did, fragment) = kid.split_once('#')?;
    if kid_did != did || fragment.is_empty() {
        return None;
    }
    // did:key names one key: the kid's DID decoding to it is the binding.
    if did_key::decode(kid_did).ok()? != *public {
        return None;
    }
    verify_sig(
        public,
        format!("{protected}.{payload}").as_bytes(),
        &signature,
    )
    .ok()?;
    Some(kid.to_owned())
}
