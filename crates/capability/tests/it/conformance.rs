//! The conformance suite in `test-vectors/conformance.json`: generated deterministically
//! from fixed seeds (Ed25519 signatures are deterministic), checked to be up to date, and
//! run case by case. Set `TALOS_REGEN_VECTORS=1` to rewrite the file after a format change.

use serde_json::{Map, Value, json};
use talos_capability::invocation::{self, Request};
use talos_capability::token::CAP_TYP;
use talos_capability::{Authorizer, MemoryRevocations, Possession, Token, VerifierConfig};
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Did};

use crate::common::*;

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
