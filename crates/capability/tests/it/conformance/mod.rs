//! The conformance suite in `test-vectors/conformance.json`: generated deterministically
//! from fixed seeds (Ed25519 signatures are deterministic), checked to be up to date, and
//! run case by case. Set `TALOS_REGEN_VECTORS=1` to rewrite the file after a format change.

use serde_json::{Map, Value, json};
use talos_capability::invocation::{self, Request};
use talos_capability::token::CAP_TYP;
use talos_capability::{Authorizer, MemoryRevocations, Possession, Token, VerifierConfig};
use talos_identity::{IdentityKey, jcs};
use talos_primitives::{CapabilityId, Did, Hash32, TalosId};

use crate::common::*;

mod parsing;
mod stateful;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/conformance.json");

struct Case {
    name: &'static str,
    description: &'static str,
    chain: Vec<String>,
    revoked: Vec<CapabilityId>,
    resource: &'static str,
    action: &'static str,
    args: Value,
    at: u64,
    possession: Value,
    expect: Option<&'static str>,
}

fn case(
    name: &'static str,
    description: &'static str,
    chain: Vec<String>,
    expect: Option<&'static str>,
) -> Case {
    Case {
        name,
        description,
        chain,
        revoked: vec![],
        resource: "talos://booking/flights/LHR-JFK",
        action: "book",
        args: json!({"amount": 450}),
        at: T0,
        possession: json!({"channel": assistant().did()}),
        expect,
    }
}

/// An invocation of the standard request (book LHR-JFK) with these arguments.
fn invocation_for(
    holder: &IdentityKey,
    leaf: &Token,
    callee: &Did,
    args: &Value,
    at: u64,
    nonce: u8,
) -> String {
    let (resource, action) = ("talos://booking/flights/LHR-JFK", "book");
    let args = args.as_object().unwrap();
    let req = Request {
        callee,
        resource,
        action,
        args,
        now: at,
    };
    invocation::sign(holder, leaf.commitment(), &req, [nonce; 16]).unwrap()
}

fn cases() -> Vec<Case> {
    let r = root();
    let c = child(&r);
    let two = vec![r.as_str().to_string(), c.as_str().to_string()];
    let callee = booking().did();
    let mut out = vec![];

    out.push(case(
        "allow_two_links_channel",
        "root then delegation; the holder is on an authenticated channel",
        two.clone(),
        None,
    ));
    let mut k = case(
        "allow_root_only",
        "the root's holder uses it directly",
        vec![r.as_str().into()],
        None,
    );
    k.possession = json!({"channel": planner().did()});
    k.action = "read";
    k.resource = "talos://booking/flights/CDG-SFO/seats";
    out.push(k);
    let inv = invocation_for(&assistant(), &c, &callee, &json!({"amount": 450}), T0, 1);
    let mut k = case(
        "allow_invocation",
        "possession by a detached invocation signed by the holder",
        two.clone(),
        None,
    );
    k.possession = json!({"invocation": inv});
    out.push(k);

    out.push(case(
        "deny_malformed_jws",
        "two parts instead of three",
        vec!["eyJhbGciOiJFZERTQSJ9.e30".into()],
        Some("malformed_jws"),
    ));
    let h_none = json!({"alg": "none", "typ": CAP_TYP, "kid": format!("{}#{}", booking().did(), booking().public().to_multikey())});
    let root_claims = claims_json(
        &booking().did(),
        &assistant().did(),
        &[cap("talos://booking/**", &["*"])],
        T0 - 10,
        T0 + 10,
        id(9),
        None,
    );
    out.push(case(
        "deny_alg_none",
        "alg none is never accepted",
        vec![raw_jws(&booking(), &h_none, &root_claims)],
        Some("bad_alg"),
    ));
    let mut h = std_header(&booking());
    h["typ"] = "JWT".into();
    out.push(case(
        "deny_wrong_typ",
        "typ must be talos-cap+jwt",
        vec![raw_jws(&booking(), &h, &root_claims)],
        Some("bad_typ"),
    ));
    let mut h = std_header(&booking());
    h["jku"] = "https://attacker.example/keys".into();
    out.push(case(
        "deny_jku_header",
        "no key URL is followed",
        vec![raw_jws(&booking(), &h, &root_claims)],
        Some("bad_header"),
    ));
    out.push(case(
        "deny_unknown_kid",
        "kid names a key other than the issuer's",
        vec![raw_jws(&booking(), &std_header(&mallory()), &root_claims)],
        Some("unknown_kid"),
    ));
    let mut sig_flip = r.as_str().to_string();
    let last = sig_flip.pop().unwrap();
    sig_flip.push(if last == 'A' { 'Q' } else { 'A' });
    let mut k = case(
        "deny_bad_signature",
        "a flipped signature bit",
        vec![sig_flip],
        Some("bad_signature"),
    );
    k.possession = json!({"channel": planner().did()});
    out.push(k);
    let mut k = case(
        "deny_expired",
        "the leaf expired an hour before the request",
        two.clone(),
        Some("expired"),
    );
    k.at = T0 + 2 * HOUR;
    out.push(k);
    let mut k = case(
        "deny_not_yet_valid",
        "the request comes before the leaf's nbf",
        two.clone(),
        Some("not_yet_valid"),
    );
    k.at = T0 - 120;
    out.push(k);
    let wide = raw_jws(
        &planner(),
        &std_header(&planner()),
        &claims_json(
            &planner().did(),
            &assistant().did(),
            &[cap("talos://booking/**", &["book"])],
            T0 - 60,
            T0 + HOUR,
            id(3),
            Some(&r),
        ),
    );
    out.push(case(
        "deny_widening_scope",
        "the child claims all of booking, the parent only flights",
        vec![r.as_str().into(), wide],
        Some("widening"),
    ));
    let long = raw_jws(
        &planner(),
        &std_header(&planner()),
        &claims_json(
            &planner().did(),
            &assistant().did(),
            &[cap_max(
                "talos://booking/flights/LHR-JFK",
                &["book"],
                "amount",
                500,
            )],
            T0 - 60,
            T0 + 48 * HOUR,
            id(4),
            Some(&r),
        ),
    );
    out.push(case(
        "deny_widening_lifetime",
        "the child outlives its parent",
        vec![r.as_str().into(), long],
        Some("widening"),
    ));
    let nocav = raw_jws(
        &planner(),
        &std_header(&planner()),
        &claims_json(
            &planner().did(),
            &assistant().did(),
            &[cap("talos://booking/flights/LHR-JFK", &["book"])],
            T0 - 60,
            T0 + HOUR,
            id(5),
            Some(&r),
        ),
    );
    out.push(case(
        "deny_widening_caveat",
        "the child drops the parent's amount bound",
        vec![r.as_str().into(), nocav],
        Some("widening"),
    ));
    let orphan = raw_jws(
        &planner(),
        &std_header(&planner()),
        &claims_json(
            &planner().did(),
            &assistant().did(),
            &[cap("talos://booking/flights/LHR-JFK", &["book"])],
            T0 - 60,
            T0 + HOUR,
            id(6),
            Some(&c),
        ),
    );
    out.push(case(
        "deny_broken_prf",
        "prf names a token that is not the parent",
        vec![r.as_str().into(), orphan],
        Some("broken_chain"),
    ));
    let stolen = raw_jws(
        &mallory(),
        &std_header(&mallory()),
        &claims_json(
            &mallory().did(),
            &assistant().did(),
            &[cap_max(
                "talos://booking/flights/LHR-JFK",
                &["book"],
                "amount",
                500,
            )],
            T0 - 60,
            T0 + HOUR,
            id(7),
            Some(&r),
        ),
    );
    out.push(case(
        "deny_issuer_not_holder",
        "the child is issued by someone other than the parent's holder",
        vec![r.as_str().into(), stolen],
        Some("broken_chain"),
    ));
    let forged_root = Token::issue(
        &mallory(),
        talos_capability::Claims {
            iss: mallory().did(),
            aud: assistant().did(),
            cap: vec![cap("talos://booking/**", &["*"])],
            nbf: T0 - 10,
            exp: T0 + 10,
            jti: id(8),
            prf: None,
        },
    )
    .unwrap();
    out.push(case(
        "deny_untrusted_root",
        "the root is not issued by the callee",
        vec![forged_root.as_str().into()],
        Some("untrusted_root"),
    ));
    out.push(case(
        "deny_too_deep",
        "nine links; the limit is eight",
        deep_chain(9),
        Some("too_deep"),
    ));
    let mut k = case(
        "deny_revoked_ancestor",
        "the root was revoked; everything below it falls",
        two.clone(),
        Some("revoked"),
    );
    k.revoked = vec![id(1)];
    out.push(k);
    let mut k = case(
        "deny_wrong_holder",
        "the channel peer is not the leaf's holder",
        two.clone(),
        Some("wrong_audience"),
    );
    k.possession = json!({"channel": mallory().did()});
    out.push(k);
    let other_callee = invocation_for(
        &assistant(),
        &c,
        &mallory().did(),
        &json!({"amount": 450}),
        T0,
        2,
    );
    let mut k = case(
        "deny_wrong_callee",
        "the invocation was made for another callee",
        two.clone(),
        Some("wrong_audience"),
    );
    k.possession = json!({"invocation": other_callee});
    out.push(k);
    let mut k = case(
        "deny_invocation_args",
        "the invocation signed other arguments",
        two.clone(),
        Some("invocation_mismatch"),
    );
    k.possession = json!({"invocation": invocation_for(&assistant(), &c, &callee, &json!({"amount": 10}), T0, 3)});
    out.push(k);
    let mut k = case(
        "deny_stale_invocation",
        "the invocation is older than the replay window",
        two.clone(),
        Some("replay"),
    );
    k.possession = json!({"invocation": invocation_for(&assistant(), &c, &callee, &json!({"amount": 450}), T0 - 3600, 4)});
    out.push(k);
    let mut k = case(
        "deny_action",
        "cancel is not granted",
        two.clone(),
        Some("not_authorized"),
    );
    k.action = "cancel";
    out.push(k);
    let mut k = case(
        "deny_resource",
        "another route",
        two.clone(),
        Some("not_authorized"),
    );
    k.resource = "talos://booking/flights/LHR-SFO";
    out.push(k);
    let mut k = case(
        "deny_caveat",
        "amount 600 is over the delegated 500",
        two.clone(),
        Some("not_authorized"),
    );
    k.args = json!({"amount": 600});
    out.push(k);
    let big = format!(
        "{}.{}.{}",
        "e".repeat(8000),
        "e".repeat(8000),
        "e".repeat(400)
    );
    out.push(case(
        "deny_too_large",
        "over 16 KiB",
        vec![big],
        Some("too_large"),
    ));
    out.extend(parsing::cases(&r, &c));
    out.extend(chain_cases(&r, &c));
    out.extend(invocation_cases(&r, &c));
    out.extend(resource_cases(&r, &c));
    out.extend(stateful::cases());
    out
}

/// The standard root's claims as JSON, for bending.
fn root_json(r: &Token) -> Value {
    serde_json::to_value(r.claims()).unwrap()
}

/// The standard child's claims as JSON, for bending.
fn child_json(c: &Token) -> Value {
    serde_json::to_value(c.claims()).unwrap()
}

/// A two-link chain whose child is signed by planner from these (bent) claims.
fn with_child(r: &Token, claims: &Value) -> Vec<String> {
    vec![
        r.as_str().into(),
        raw_jws(&planner(), &std_header(&planner()), claims),
    ]
}

/// A two-link chain whose child is signed by planner from these payload bytes.
fn with_child_bytes(r: &Token, payload: &str) -> Vec<String> {
    let header = jcs::canonicalize(&std_header(&planner())).unwrap();
    vec![
        r.as_str().into(),
        raw_jws_bytes(&planner(), &header, payload.as_bytes()),
    ]
}

/// The canonical JSON text of the child's claims.
fn child_text(c: &Token) -> String {
    String::from_utf8(jcs::canonicalize(&child_json(c)).unwrap()).unwrap()
}

/// FORMAT.md §4: chain-level refusals not covered above.
fn chain_cases(r: &Token, c: &Token) -> Vec<Case> {
    let mut out = vec![];
    out.push(case(
        "deny_empty_chain",
        "a chain of no tokens",
        vec![],
        Some("empty_chain"),
    ));
    out.push(case(
        "deny_too_deep_before_parse",
        "nine tokens that are not even JWS: depth is checked before parsing",
        vec!["x".to_string(); 9],
        Some("too_deep"),
    ));
    out.push(case(
        "deny_first_bad_token_named",
        "a valid root then garbage: parsing names the garbage",
        vec![r.as_str().into(), "a.b".into()],
        Some("malformed_jws"),
    ));
    let mut k = root_json(r);
    k["prf"] = json!(c.commitment());
    let mut kase = case(
        "deny_root_with_prf",
        "the first token names a parent",
        vec![raw_jws(&booking(), &std_header(&booking()), &k)],
        Some("broken_chain"),
    );
    kase.possession = json!({"channel": planner().did()});
    out.push(kase);
    out.push(case(
        "deny_leaf_first",
        "the chain given leaf first: the first token has a prf, so it is no root",
        vec![c.as_str().into(), r.as_str().into()],
        Some("broken_chain"),
    ));

    // Signatures (§4 step 4): verify_strict rules, alone and in a batch.
    let mut small_r = [0u8; 64];
    small_r[0] = 1; // R = the identity point, S = 0
    let mut k = case(
        "deny_small_order_r",
        "R is the identity point (small order), S = 0",
        vec![with_signature(r.as_str(), &small_r)],
        Some("bad_signature"),
    );
    k.possession = json!({"channel": planner().did()});
    out.push(k);
    out.push(case(
        "deny_small_order_r_in_batch",
        "the child's R is the identity point: refused before batch verification",
        vec![r.as_str().into(), with_signature(c.as_str(), &small_r)],
        Some("bad_signature"),
    ));
    let mut big_s = signature_of(c.as_str());
    add_l(&mut big_s);
    out.push(case(
        "deny_s_not_reduced",
        "the child's S + l: the same equation, but S is not below l",
        vec![r.as_str().into(), with_signature(c.as_str(), &big_s)],
        Some("bad_signature"),
    ));
    out
}

/// Adds the group order l to the signature's S (little-endian).
fn add_l(sig: &mut [u8; 64]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (i, l) in L.iter().enumerate() {
        let v = u16::from(sig[32 + i]) + u16::from(*l) + carry;
        sig[32 + i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0);
}

/// The standard invocation's claims, for bending.
fn inv_json(c: &Token, at: u64, nonce: u8) -> Value {
    let args = json!({"amount": 450});
    json!({
        "act": "book",
        "arg": invocation::args_digest(args.as_object().unwrap()).unwrap(),
        "aud": booking().did(),
        "chn": c.commitment(),
        "iat": at,
        "iss": assistant().did(),
        "non": CapabilityId([nonce; 16]),
        "res": "talos://booking/flights/LHR-JFK",
    })
}

/// FORMAT.md §6: each step of invocation checking.
fn invocation_cases(r: &Token, c: &Token) -> Vec<Case> {
    let two = vec![r.as_str().to_string(), c.as_str().to_string()];
    let mut out = vec![];
    let mut push = |name, description, inv: String, expect| {
        let mut k = case(name, description, two.clone(), expect);
        k.possession = json!({ "invocation": inv });
        out.push(k);
    };
    let signed = |claims: &Value| raw_jws(&assistant(), &inv_header(&assistant()), claims);
    push(
        "allow_invocation_from_format_md",
        "an invocation written as plain canonical JSON",
        signed(&inv_json(c, T0, 0x10)),
        None,
    );
    push(
        "deny_invocation_not_a_jws",
        "the invocation is not a JWS",
        "garbage".into(),
        Some("malformed_jws"),
    );
    push(
        "deny_invocation_is_a_capability",
        "the leaf token itself offered as the invocation",
        c.as_str().into(),
        Some("bad_typ"),
    );
    let mut k = inv_json(c, T0, 0x11);
    k["non"] = json!("1111111111111111111111111111111A");
    push(
        "deny_invocation_uppercase_nonce",
        "non with an uppercase hex digit",
        signed(&k),
        Some("malformed_claims"),
    );
    let mut k = inv_json(c, T0, 0x12);
    k["iat"] = json!(talos_capability::MAX_INTEGER + 1);
    push(
        "deny_invocation_iat_over_2_53",
        "iat 2^53",
        signed(&k),
        Some("malformed_claims"),
    );
    let mut k = inv_json(c, T0, 0x13);
    k.as_object_mut().unwrap().remove("non");
    push(
        "deny_invocation_missing_claim",
        "no non",
        signed(&k),
        Some("malformed_claims"),
    );
    let mut k = inv_json(c, T0, 0x14);
    k["iss"] = json!(mallory().did());
    push(
        "deny_invocation_not_the_holder",
        "signed by someone other than the leaf's holder",
        raw_jws(&mallory(), &inv_header(&mallory()), &k),
        Some("wrong_audience"),
    );
    push(
        "deny_invocation_kid_not_holder",
        "the holder's claims, but kid names another key",
        raw_jws(&mallory(), &inv_header(&mallory()), &inv_json(c, T0, 0x15)),
        Some("unknown_kid"),
    );
    let mut k = inv_json(c, T0, 0x16);
    k["chn"] = json!(r.commitment());
    push(
        "deny_invocation_other_chain",
        "chn names the root, not the leaf",
        signed(&k),
        Some("invocation_mismatch"),
    );
    let mut k = inv_json(c, T0, 0x17);
    k["res"] = json!("talos://booking/flights/LHR-SFO");
    push(
        "deny_invocation_other_resource",
        "the invocation names another resource",
        signed(&k),
        Some("invocation_mismatch"),
    );
    let good = signed(&inv_json(c, T0, 0x18));
    let mut sig = signature_of(&good);
    sig[5] ^= 1;
    push(
        "deny_invocation_bad_signature",
        "a flipped signature bit",
        with_signature(&good, &sig),
        Some("bad_signature"),
    );
    push(
        "deny_invocation_from_the_future",
        "iat an hour after now: outside the replay window",
        signed(&inv_json(c, T0 + HOUR, 0x19)),
        Some("replay"),
    );
    out
}

/// FORMAT.md §3.1: dot segments and encoded delimiters, in a request's resource
/// (`not_authorized`, even under `talos://booking/flights/**`) and in a token's scope
/// (`malformed_claims`); other dots and escapes are ordinary characters.
fn resource_cases(r: &Token, c: &Token) -> Vec<Case> {
    let mut out = vec![];
    // The root's holder, reading under the root's `talos://booking/flights/**`.
    let mut under_root = |name, description, resource, expect| {
        let mut k = case(name, description, vec![r.as_str().into()], expect);
        k.possession = json!({"channel": planner().did()});
        k.action = "read";
        k.resource = resource;
        out.push(k);
    };
    under_root(
        "allow_resource_dots_and_other_escapes",
        "dots inside a literal, and escapes other than %2E %2F %5C, are ordinary characters",
        "talos://booking/flights/.well-known/a..b/%41%20%25",
        None,
    );
    under_root(
        "deny_resource_dot_dot_segment",
        "a .. segment never matches, even under /**",
        "talos://booking/flights/../payments/x",
        Some("not_authorized"),
    );
    under_root(
        "deny_resource_dot_segment",
        "a . segment never matches, even under /**",
        "talos://booking/flights/./LHR-JFK",
        Some("not_authorized"),
    );
    under_root(
        "deny_resource_encoded_dot_segment",
        "%2e%2e (an encoded ..) never matches",
        "talos://booking/flights/%2e%2e/payments/x",
        Some("not_authorized"),
    );
    under_root(
        "deny_resource_encoded_dot_uppercase",
        "%2E is refused in either case, also beside a raw dot",
        "talos://booking/flights/.%2E/payments/x",
        Some("not_authorized"),
    );
    under_root(
        "deny_resource_encoded_slash",
        "an encoded / inside a segment never matches",
        "talos://booking/flights/LHR%2FJFK",
        Some("not_authorized"),
    );
    under_root(
        "deny_resource_encoded_backslash",
        "an encoded \\ inside a segment never matches",
        "talos://booking/flights/..%5c..%5cpayments",
        Some("not_authorized"),
    );
    // The same with an invocation: possession passes (it binds the very string), then
    // scope refuses it.
    let mut inv = inv_json(c, T0, 0x20);
    inv["res"] = json!("talos://booking/flights/LHR-JFK/..");
    let mut k = case(
        "deny_resource_dot_segment_invocation",
        "an invocation for a resource ending in .. verifies, and the resource matches nothing",
        vec![r.as_str().into(), c.as_str().into()],
        Some("not_authorized"),
    );
    k.resource = "talos://booking/flights/LHR-JFK/..";
    k.possession = json!({"invocation": raw_jws(&assistant(), &inv_header(&assistant()), &inv)});
    out.push(k);
    // A scope that names one is not a pattern: the token is malformed.
    for (name, description, res) in [
        (
            "deny_scope_dot_segment",
            "a child whose scope climbs out of its route with ..",
            "talos://booking/flights/LHR-JFK/../**",
        ),
        (
            "deny_scope_encoded_delimiter",
            "a child whose scope holds an encoded /",
            "talos://booking/flights/LHR-JFK%2F..%2Fpayments",
        ),
    ] {
        let mut claims = child_json(c);
        claims["cap"][0]["res"] = json!(res);
        out.push(case(
            name,
            description,
            with_child(r, &claims),
            Some("malformed_claims"),
        ));
    }
    out
}

/// A chain of `n` links, each delegating the same scope onward.
fn deep_chain(n: usize) -> Vec<String> {
    let mut out = vec![root()];
    let mut holder = planner();
    for i in 1..n {
        let next = key(0x10 + i as u8);
        let t = out
            .last()
            .unwrap()
            .delegate(
                &holder,
                next.did(),
                vec![cap_max(
                    "talos://booking/flights/LHR-JFK",
                    &["book"],
                    "amount",
                    500,
                )],
                T0 - 60,
                T0 + HOUR,
                id(0x40 + i as u8),
            )
            .unwrap();
        out.push(t);
        holder = next;
    }
    out.iter().map(|t| t.as_str().to_string()).collect()
}

fn generate() -> Value {
    let keys: Map<String, Value> = [
        ("booking", 0xb0u8),
        ("planner", 0x91),
        ("assistant", 0xa5),
        ("mallory", 0x66),
    ]
    .into_iter()
    .map(|(n, s)| {
        (
            n.to_string(),
            json!({"seed": hex::encode([s; 32]), "did": key(s).did()}),
        )
    })
    .collect();
    let cases: Vec<Value> = cases()
        .into_iter()
        .map(|c| {
            json!({
                "name": c.name,
                "description": c.description,
                "chain": c.chain,
                "revoked": c.revoked,
                "request": {"resource": c.resource, "action": c.action, "args": c.args, "at": c.at},
                "possession": c.possession,
                "expect": match c.expect { None => json!({"verdict": "allow"}), Some(k) => json!({"verdict": "deny", "kind": k}) },
            })
        })
        .collect();
    json!({
        "format": "talos-capability conformance v1; see FORMAT.md",
        "callee": booking().did(),
        "trustedRoots": [booking().did()],
        "maxDepth": 8,
        "nonceTtlSeconds": 300,
        "keys": keys,
        "cases": cases,
    })
}

/// Runs one case from the file; returns "allow" or the error kind.
fn run(file: &Value, case: &Value) -> String {
    let callee: Did = serde_json::from_value(file["callee"].clone()).unwrap();
    let roots: Vec<Did> = serde_json::from_value(file["trustedRoots"].clone()).unwrap();
    let config = VerifierConfig {
        trusted_roots: roots,
        max_depth: file["maxDepth"].as_u64().unwrap() as usize,
    };
    let mut authz = Authorizer::new(config, 64, 64, file["nonceTtlSeconds"].as_u64().unwrap());
    let chain: Vec<String> = serde_json::from_value(case["chain"].clone()).unwrap();
    let revoked: MemoryRevocations =
        serde_json::from_value::<Vec<CapabilityId>>(case["revoked"].clone())
            .unwrap()
            .into_iter()
            .collect();
    let req = &case["request"];
    let args = req["args"].as_object().unwrap();
    let request = Request {
        callee: &callee,
        resource: req["resource"].as_str().unwrap(),
        action: req["action"].as_str().unwrap(),
        args,
        now: req["at"].as_u64().unwrap(),
    };
    let peer: Option<Did> = case["possession"]
        .get("channel")
        .map(|v| serde_json::from_value(v.clone()).unwrap());
    let possession = match (&peer, case["possession"].get("invocation")) {
        (Some(p), _) => Possession::Channel(p),
        (None, Some(inv)) => Possession::Invocation(inv.as_str().unwrap()),
        _ => panic!("case without possession"),
    };
    match authz.authorize(&chain, &request, possession, &revoked) {
        Ok(_) => "allow".into(),
        Err(e) => e.kind().into(),
    }
}

#[test]
fn conformance_file_is_current() {
    let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    if std::env::var_os("TALOS_REGEN_VECTORS").is_some() {
        std::fs::write(PATH, &generated).unwrap();
    }
    let committed =
        std::fs::read_to_string(PATH).expect("run with TALOS_REGEN_VECTORS=1 to create the file");
    assert!(
        committed == generated,
        "test-vectors/conformance.json is stale: rerun with TALOS_REGEN_VECTORS=1"
    );
}

#[test]
fn conformance_cases_pass() {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 25);
    for case in cases {
        let want = match case["expect"]["verdict"].as_str().unwrap() {
            "allow" => "allow".to_string(),
            _ => case["expect"]["kind"].as_str().unwrap().to_string(),
        };
        assert_eq!(run(&file, case), want, "case {}", case["name"]);
    }
}

#[test]
fn replayed_invocation_is_refused() {
    let r = root();
    let c = child(&r);
    let callee = booking().did();
    let chain = [r.as_str(), c.as_str()];
    let args = json!({"amount": 450});
    let req = Request {
        callee: &callee,
        resource: "talos://booking/flights/LHR-JFK",
        action: "book",
        args: args.as_object().unwrap(),
        now: T0,
    };
    let inv = invocation::sign(&assistant(), c.commitment(), &req, [7; 16]).unwrap();
    let mut authz = Authorizer::new(VerifierConfig::new(callee), 8, 8, 300);
    let revs = MemoryRevocations::new();
    authz
        .authorize(&chain, &req, Possession::Invocation(&inv), &revs)
        .unwrap();
    let again = authz
        .authorize(&chain, &req, Possession::Invocation(&inv), &revs)
        .unwrap_err();
    assert_eq!(again.kind(), "replay");
}
