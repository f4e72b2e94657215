//! Strict JWS compact serialization (RFC 7515) with EdDSA (RFC 8037) only.
//!
//! Strict means: three unpadded base64url parts with canonical trailing bits; a header that
//! is exactly `{"alg":"EdDSA","kid":...,"typ":...}` and nothing else (so no `jku`, `x5u`,
//! `jwk`, `x5c` or `crit` is ever followed); header and payload in RFC 8785 canonical form,
//! so one token has one encoding and its SHA-256 is a stable commitment.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
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
///
/// The order of the checks is FORMAT.md §1.1, steps 1 to 10; the payload is left to
/// [`canonical_payload`] (steps 11 to 13).
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
    let Some(Value::Object(header)) = strict_json(&header_bytes) else {
        return Err(CapError::MalformedJws("header is not a JSON object"));
    };
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

/// Largest integer a claim may hold: 2^53 - 1, the largest an IEEE double (and so RFC 8785
/// and every JSON implementation) holds exactly (I-JSON, RFC 7493 §2.2).
pub const MAX_INTEGER: u64 = (1 << 53) - 1;

/// Checks that an integer claim is at most [`MAX_INTEGER`].
pub(crate) fn check_integer(name: &str, v: u64) -> Result<(), CapError> {
    if v > MAX_INTEGER {
        return Err(CapError::MalformedClaims(format!(
            "{name} is over 2^53 - 1"
        )));
    }
    Ok(())
}

/// Decodes payload bytes into a typed value, in FORMAT.md §1.1 order: the bytes must be
/// JSON without repeated member names (step 11) and canonical (step 12), both
/// `malformed_jws`; then they must decode to the claims, and be exactly the claims'
/// canonical encoding (step 13: lowercase hex, sorted `act`, no empty or null optional
/// members), both `malformed_claims`.
///
/// A valid payload takes one typed parse and one re-serialization: bytes that decode to
/// `v` and equal `JCS(v)` pass every step. Only a payload that fails that goes through
/// the steps one by one, to name the first one it breaks.
pub(crate) fn canonical_payload<T: DeserializeOwned + Serialize>(
    payload: &[u8],
) -> Result<T, CapError> {
    if let Ok(value) = serde_json::from_slice::<T>(payload)
        && jcs::canonicalize(&value).ok().as_deref() == Some(payload)
    {
        return Ok(value);
    }
    payload_steps(payload)
}

/// [`canonical_payload`] one step at a time.
fn payload_steps<T: DeserializeOwned + Serialize>(payload: &[u8]) -> Result<T, CapError> {
    let json = strict_json(payload).ok_or(CapError::MalformedJws("payload is not JSON"))?;
    if jcs::canonicalize(&json).ok().as_deref() != Some(payload) {
        return Err(CapError::MalformedJws("payload is not canonical JSON"));
    }
    let value =
        T::deserialize(json).map_err(|e| CapError::MalformedClaims(format!("payload: {e}")))?;
    if jcs::canonicalize(&value).ok().as_deref() != Some(payload) {
        return Err(CapError::MalformedClaims(
            "payload is not the claims' canonical encoding (uppercase hex, unsorted act, \
             or an empty or null optional member)"
                .into(),
        ));
    }
    Ok(value)
}

/// Parses JSON text (RFC 8259, UTF-8) that names no member twice, as I-JSON requires.
/// `serde_json` alone keeps the last of repeated members, which would let a header say
/// `"alg"` twice and be judged by one of them.
pub(crate) fn strict_json(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<StrictValue>(bytes)
        .ok()
        .map(|v| v.0)
}

/// A JSON value whose objects have been checked for repeated member names.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

/// The member name serde_json gives a number under `arbitrary_precision`.
const ARBITRARY_NUMBER: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // With serde_json's `arbitrary_precision` (which a workspace dependency turns
            // on), a number arrives as a one-member map holding its text.
            if out.is_empty() && key == ARBITRARY_NUMBER {
                let text: String = map.next_value()?;
                let n: Number = text.parse().map_err(de::Error::custom)?;
                return Ok(Value::Number(n));
            }
            if out.contains_key(&key) {
                return Err(de::Error::custom("repeated member name"));
            }
            let StrictValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        id: talos_primitives::CapabilityId,
        n: u64,
        set: BTreeSet<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        map: BTreeMap<String, u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opt: Option<u64>,
    }

    fn kind(r: &Result<Sample, CapError>) -> &'static str {
        r.as_ref().map_or_else(CapError::kind, |_| "ok")
    }

    #[test]
    fn one_parse_fast_path_agrees_with_the_steps() {
        let id = r#""id":"0123456789abcdef0123456789abcdef""#;
        let cases: &[(&str, &str)] = &[
            (r#"{ID,"map":{"a":1},"n":5,"set":["a","b"]}"#, "ok"),
            (r#"{ID,"n":5,"set":["a"]}"#, "ok"),
            (r#"{ID,"n":5,"opt":7,"set":[]}"#, "ok"),
            (r#"{ID,"n":5, "set":["a"]}"#, "malformed_jws"),
            (r#"{"n":5,ID,"set":["a"]}"#, "malformed_jws"),
            (r#"{ID,"n":5.0,"set":["a"]}"#, "malformed_jws"),
            (r#"{ID,"n":5e0,"set":["a"]}"#, "malformed_jws"),
            (r#"{ID,"n":05,"set":["a"]}"#, "malformed_jws"),
            (r#"{ID,"n":-0,"set":["a"]}"#, "malformed_jws"),
            (r#"{ID,"n":5,"n":5,"set":["a"]}"#, "malformed_jws"),
            (
                r#"{ID,"map":{"a":1,"a":1},"n":5,"set":["a"]}"#,
                "malformed_jws",
            ),
            (r#"{ID,"n":5,"set":["a"]} "#, "malformed_jws"),
            (r#"{ID,"n":"\u0035","set":["a"]}"#, "malformed_jws"),
            (r#"{ID,"n":"5","set":["a"]}"#, "malformed_claims"),
            (r#"{ID,"n":5.5,"set":["a"]}"#, "malformed_claims"),
            (r#"{ID,"n":-5,"set":["a"]}"#, "malformed_claims"),
            (r#"{ID,"n":5,"set":["b","a"]}"#, "malformed_claims"),
            (r#"{ID,"map":{},"n":5,"set":["a"]}"#, "malformed_claims"),
            (r#"{ID,"n":5,"opt":null,"set":["a"]}"#, "malformed_claims"),
            (
                r#"{"id":"0123456789ABCDEF0123456789abcdef","n":5,"set":["a"]}"#,
                "malformed_claims",
            ),
            (r#"{ID,"n":5,"set":["a"],"x":1}"#, "malformed_claims"),
            (r#"{ID,"set":["a"]}"#, "malformed_claims"),
            (r#"[1]"#, "malformed_claims"),
        ];
        for (text, want) in cases {
            let text = text.replace("ID", id);
            let fast = canonical_payload::<Sample>(text.as_bytes());
            let steps = payload_steps::<Sample>(text.as_bytes());
            assert_eq!(kind(&fast), *want, "{text}");
            assert_eq!(kind(&steps), *want, "{text}");
        }
    }

    #[test]
    fn header_names_a_member_once() {
        assert!(strict_json(br#"{"a":1,"b":{"c":[1,{"d":2}]}}"#).is_some());
        assert!(strict_json(br#"{"a":1,"a":1}"#).is_none());
        assert!(strict_json(br#"{"b":{"c":1,"c":2}}"#).is_none());
        assert!(strict_json(br#"[{"c":1,"c":2}]"#).is_none());
        assert!(strict_json(b"\"\\ud800\"").is_none());
    }
}
