//! Shared fixtures: fixed keys, fixed times, a raw JWS signer for malformed tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use talos_capability::token::CAP_TYP;
use talos_capability::{ActionSet, Capability, Caveats, Claims, ResourcePattern, Token};
use talos_identity::{IdentityKey, jcs};
use talos_primitives::{CapabilityId, Did};

/// 2025-11-22T03:33:20Z, the fixtures' "now".
pub(crate) const T0: u64 = 1_763_782_400;
pub(crate) const HOUR: u64 = 3600;

pub(crate) use talos_testkit::keys::identity as key;

/// The resource owner and root issuer.
pub(crate) fn booking() -> IdentityKey {
    key(0xb0)
}
/// Holds the root grant.
pub(crate) fn planner() -> IdentityKey {
    key(0x91)
}
/// Receives a delegation from the planner.
pub(crate) fn assistant() -> IdentityKey {
    key(0xa5)
}
/// Nobody anyone trusts.
pub(crate) fn mallory() -> IdentityKey {
    key(0x66)
}

pub(crate) fn id(n: u8) -> CapabilityId {
    CapabilityId([n; 16])
}

pub(crate) fn cap(res: &str, acts: &[&str]) -> Capability {
    Capability {
        res: ResourcePattern::parse(res).unwrap(),
        act: ActionSet::new(acts.iter().copied()).unwrap(),
        cav: Caveats::default(),
    }
}

pub(crate) fn cap_max(res: &str, acts: &[&str], arg: &str, max: u64) -> Capability {
    let mut c = cap(res, acts);
    c.cav.max.insert(arg.into(), max);
    c
}

/// The standard root: booking grants planner `book`/`read` on all flights for 24 h.
pub(crate) fn root() -> Token {
    Token::issue(
        &booking(),
        Claims {
            iss: booking().did(),
            aud: planner().did(),
            cap: vec![cap_max(
                "talos://booking/flights/**",
                &["book", "read"],
                "amount",
                1000,
            )],
            nbf: T0 - HOUR,
            exp: T0 + 23 * HOUR,
            jti: id(1),
            prf: None,
        },
    )
    .unwrap()
}

/// The standard delegation: planner gives assistant `book` on one route for 1 h, ≤ 500.
pub(crate) fn child(root: &Token) -> Token {
    root.delegate(
        &planner(),
        assistant().did(),
        vec![cap_max(
            "talos://booking/flights/LHR-JFK",
            &["book"],
            "amount",
            500,
        )],
        T0 - 60,
        T0 + HOUR,
        id(2),
    )
    .unwrap()
}

/// Signs arbitrary header and claims JSON, for tokens the API refuses to make.
pub(crate) fn raw_jws(key: &IdentityKey, header: &Value, claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(jcs::canonicalize(header).unwrap());
    let p = URL_SAFE_NO_PAD.encode(jcs::canonicalize(claims).unwrap());
    let input = format!("{h}.{p}");
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.0))
}

pub(crate) fn std_header(key: &IdentityKey) -> Value {
    serde_json::json!({"alg": "EdDSA", "typ": CAP_TYP, "kid": format!("{}#{}", key.did(), key.public().to_multikey())})
}

/// Claims as JSON, so tests can bend them.
pub(crate) fn claims_json(
    iss: &Did,
    aud: &Did,
    caps: &[Capability],
    nbf: u64,
    exp: u64,
    jti: CapabilityId,
    prf: Option<&Token>,
) -> Value {
    let mut v = serde_json::json!({
        "iss": iss, "aud": aud, "cap": caps, "nbf": nbf, "exp": exp, "jti": jti,
    });
    if let Some(p) = prf {
        v["prf"] = serde_json::to_value(p.commitment()).unwrap();
    }
    v
}

/// Signs arbitrary header and payload bytes, for tokens that are not canonical JSON.
pub(crate) fn raw_jws_bytes(key: &IdentityKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.0))
}

/// The token with its signature replaced by `sig` (any length).
pub(crate) fn with_signature(token: &str, sig: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The token's 64 signature bytes.
pub(crate) fn signature_of(token: &str) -> [u8; 64] {
    let (_, sig) = token.rsplit_once('.').unwrap();
    URL_SAFE_NO_PAD.decode(sig).unwrap().try_into().unwrap()
}

/// The header of an invocation signed by `key`.
pub(crate) fn inv_header(key: &IdentityKey) -> Value {
    serde_json::json!({"alg": "EdDSA", "typ": talos_capability::invocation::INV_TYP, "kid": format!("{}#{}", key.did(), key.public().to_multikey())})
}

/// base58btc (Bitcoin alphabet), for DIDs `Ed25519Public` refuses to represent.
pub(crate) fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = vec![];
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in &mut digits {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|&d| ALPHABET[d as usize] as char))
        .collect()
}

/// The did:key text of 32 key bytes, whether or not they are a usable key.
pub(crate) fn did_key_text(key: &[u8; 32]) -> String {
    let mut b = vec![0xed, 0x01];
    b.extend_from_slice(key);
    format!("did:key:z{}", base58(&b))
}

/// The did:key of each of the eight points of small order (the torsion subgroup).
pub(crate) fn small_order_dids() -> Vec<String> {
    curve25519_dalek::constants::EIGHT_TORSION
        .iter()
        .map(|p| did_key_text(&p.compress().to_bytes()))
        .collect()
}

/// The FORMAT.md text.
pub(crate) fn format_md() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/FORMAT.md")).unwrap()
}

/// The text of FORMAT.md's section `## {n}.`, up to the next `## `.
pub(crate) fn format_section(n: u32) -> String {
    let text = format_md();
    let head = format!("\n## {n}. ");
    let start = text.find(&head).unwrap() + 1;
    let rest = &text[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// The error kinds FORMAT.md §8 lists.
pub(crate) fn format_kinds() -> Vec<String> {
    let section = format_section(8);
    let list = section.split("\n\n").nth(1).unwrap();
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}
