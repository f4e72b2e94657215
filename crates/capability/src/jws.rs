//! Strict JWS compact serialization (RFC 7515) with EdDSA (RFC 8037) only.
//!
//! Strict means: three unpadded base64url parts with canonical trailing bits; a header that
//! is exactly `{"alg":"EdDSA","kid":...,"typ":...}` and nothing else (so no `jku`, `x5u`,
//! `jwk`, `x5c` or `crit` is ever followed); header and payload in RFC 8785 canonical form,
//! so one token has one encoding and its SHA-256 is a stable commitment.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use talos_identity::{IdentityKey, Signature, jcs};

use crate::error::CapError;

/// Largest token accepted, in bytes, checked before anything else.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A parsed (not yet signature-checked) compact JWS.
#[derive(Debug, Clone)]
pub(crate) struct Jws<'a> {
    pub(crate) signing_input: &'a str,
    pub(crate) kid: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Signature,
}

fn b64(part: &str, what: &'static str) -> Result<Vec<u8>, CapError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| CapError::MalformedJws(what))
}

/// Parses `header.payload.signature`, checking the header strictly against `typ`.
pub(crate) fn parse<'a>(token: &'a str, typ: &str) -> Result<Jws<'a>, CapError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(CapError::TooLarge(token.len()));
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CapError::MalformedJws("expected three dot-separated parts"));
    };
    let header_bytes = b64(h, "header is not base64url")?;
    let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|_| CapError::MalformedJws("header is not a JSON object"))?;
    match header.get("alg") {
        Some(Value::String(a)) if a == "EdDSA" => {}
        _ => return Err(CapError::BadAlg),
    }
    if header
        .keys()
        .any(|k| !matches!(k.as_str(), "alg" | "typ" | "kid"))
    {
        return Err(CapError::BadHeader);
    }
    match header.get("typ") {
        Some(Value::String(t)) if t == typ => {}
        _ => return Err(CapError::BadTyp),
    }
    let kid = match header.get("kid") {
        Some(Value::String(k)) => k.clone(),
        _ => return Err(CapError::UnknownKid),
    };
    if jcs::canonicalize(&header).ok().as_deref() != Some(&header_bytes[..]) {
        return Err(CapError::MalformedJws("header is not canonical JSON"));
    }
    let payload = b64(p, "payload is not base64url")?;
    let sig_bytes = b64(s, "signature is not base64url")?;
    let signature = Signature::from_slice(&sig_bytes)
        .map_err(|_| CapError::MalformedJws("signature is not 64 bytes"))?;
    let signing_input = token
        .get(..h.len() + 1 + p.len())
        .ok_or(CapError::MalformedJws("truncated"))?;
    Ok(Jws {
        signing_input,
        kid,
        payload,
        signature,
    })
}

/// Decodes payload bytes into a typed value and checks they were its canonical JSON.
///
/// The check re-serializes the typed value: types here refuse unknown and duplicate
/// members and omit only empty optional ones, so bytes that decode to `v` and equal
/// `JCS(v)` were canonical, and one parse suffices.
pub(crate) fn canonical_payload<'de, T: serde::Deserialize<'de> + Serialize>(
    payload: &'de [u8],
) -> Result<T, CapError> {
    let value: T = serde_json::from_slice(payload)
        .map_err(|e| CapError::MalformedClaims(format!("payload: {e}")))?;
    if jcs::canonicalize(&value).ok().as_deref() != Some(payload) {
        return Err(CapError::MalformedJws("payload is not canonical JSON"));
    }
    Ok(value)
}

/// The only `kid` a did:key signer may use: `did:key:<mk>#<mk>`.
pub(crate) fn kid_matches(kid: &str, iss: &str) -> bool {
    match (kid.split_once('#'), iss.strip_prefix("did:key:")) {
        (Some((did, frag)), Some(mk)) => did == iss && frag == mk,
        _ => false,
    }
}

/// Signs claims into a compact JWS with the signer's did:key verification method as `kid`.
pub(crate) fn sign<T: Serialize>(
    key: &IdentityKey,
    typ: &str,
    claims: &T,
) -> Result<String, CapError> {
    let kid = format!("{}#{}", key.did(), key.public().to_multikey());
    let header = serde_json::json!({"alg": "EdDSA", "kid": kid, "typ": typ});
    let h = jcs::canonicalize(&header).map_err(|e| CapError::MalformedClaims(e.to_string()))?;
    let p = jcs::canonicalize(claims).map_err(|e| CapError::MalformedClaims(e.to_string()))?;
    let mut out = String::with_capacity(MAX_TOKEN_BYTES.min((h.len() + p.len()) * 4 / 3 + 100));
    URL_SAFE_NO_PAD.encode_string(&h, &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(&p, &mut out);
    let sig = key.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig.0, &mut out);
    if out.len() > MAX_TOKEN_BYTES {
        return Err(CapError::TooLarge(out.len()));
    }
    Ok(out)
}
