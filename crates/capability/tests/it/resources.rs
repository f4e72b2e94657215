//! Finding #5 (issue 17): resource matching accepted `..`, `.` and percent-encoded `/`, so
//! `talos://files/public/**` matched `talos://files/public/../secrets/x`. FORMAT.md §3.1:
//! dot segments and encoded delimiters are neither patterns nor resources.

use serde_json::json;
use talos_capability::invocation::Request;
use talos_capability::scope::ScopeError::{self, DotSegment, EncodedDelimiter};
use talos_capability::{
    Authorizer, CapError, Capability, Claims, MemoryRevocations, Possession, ResourcePattern,
    Token, VerifierConfig,
};

use crate::common::*;

/// Resources a path-decoding or path-normalizing service would send outside
/// `talos://files/public/`, and the typed error each is refused with.
const ESCAPES: [(&str, ScopeError); 12] = [
    ("talos://files/public/../secrets/x", DotSegment),
    ("talos://files/public/..", DotSegment),
    ("talos://files/public/./x", DotSegment),
    ("talos://files/public/x/../../secrets", DotSegment),
    ("talos://files/public/%2e%2e/secrets/x", EncodedDelimiter),
    ("talos://files/public/%2E%2E/secrets/x", EncodedDelimiter),
    ("talos://files/public/.%2e/secrets/x", EncodedDelimiter),
    ("talos://files/public/%2e/x", EncodedDelimiter),
    ("talos://files/public/a%2Fb", EncodedDelimiter),
    ("talos://files/public/..%2f..%2fsecrets", EncodedDelimiter),
    ("talos://files/public/a%5Cb", EncodedDelimiter),
    ("talos://files/public/..%5c..%5csecrets", EncodedDelimiter),
];

#[test]
fn resource_matching_rejects_dot_segments_and_encoded_delimiters() {
    // Matching: no pattern matches such a resource, not even the widest.
    let public = ResourcePattern::parse("talos://files/public/**").unwrap();
    let one = ResourcePattern::parse("talos://files/public/*").unwrap();
    let all = ResourcePattern::parse("talos://**").unwrap();
    for (bad, why) in ESCAPES {
        assert!(
            !public.matches(bad),
            "talos://files/public/** matched {bad}"
        );
        assert!(!all.matches(bad), "talos://** matched {bad}");
        assert_eq!(ResourcePattern::parse_resource(bad), Err(why), "{bad}");
    }
    assert!(!one.matches("talos://files/public/.."));
    assert!(!one.matches("talos://files/public/a%2Fb"));
    // Ordinary dots and escapes are still literals.
    for ok in [
        "talos://files/public/report.pdf",
        "talos://files/public/.well-known/x",
        "talos://files/public/.../a..b",
        "talos://files/public/a%20b/%41%25",
    ] {
        assert!(public.matches(ok), "{ok}");
    }

    // Patterns: a scope with a dot segment or an encoded delimiter does not parse, so no
    // capability, and no token, can be built with one.
    for (bad, why) in [
        ("talos://files/public/../**", DotSegment),
        ("talos://files/./public/*", DotSegment),
        ("talos://files/public/%2E%2E/**", EncodedDelimiter),
        ("talos://files/public%2Fsecrets/**", EncodedDelimiter),
        ("talos://files/a%5cb", EncodedDelimiter),
    ] {
        assert_eq!(ResourcePattern::parse(bad), Err(why), "{bad}");
        let json = json!({"act": ["read"], "res": bad});
        assert!(serde_json::from_value::<Capability>(json).is_err(), "{bad}");
    }

    // A signed token whose scope holds `..` is malformed (FORMAT.md §3.1, §1.1 step 13).
    let mut claims = claims_json(
        &booking().did(),
        &planner().did(),
        &[cap("talos://files/public/**", &["read"])],
        T0 - HOUR,
        T0 + HOUR,
        id(5),
        None,
    );
    claims["cap"][0]["res"] = "talos://files/public/../**".into();
    let err = Token::parse(&raw_jws(&booking(), &std_header(&booking()), &claims)).unwrap_err();
    assert!(matches!(err, CapError::MalformedClaims(_)), "{err:?}");
    assert_eq!(err.kind(), "malformed_claims");

    // A request naming such a resource is refused, typed, under a valid grant of the
    // whole public tree; a sibling inside the tree is allowed.
    let grant = Token::issue(
        &booking(),
        Claims {
            iss: booking().did(),
            aud: planner().did(),
            cap: vec![cap("talos://files/public/**", &["read"])],
            nbf: T0 - HOUR,
            exp: T0 + HOUR,
            jti: id(6),
            prf: None,
        },
    )
    .unwrap();
    let chain = [grant.as_str()];
    let callee = booking().did();
    let holder = planner().did();
    let args = json!({});
    let mut authz = Authorizer::new(VerifierConfig::new(callee), 8, 8, 300);
    let revs = MemoryRevocations::new();
    let decide = |authz: &mut Authorizer, resource: &str| {
        let req = Request {
            callee: &callee,
            resource,
            action: "read",
            args: args.as_object().unwrap(),
            now: T0,
        };
        authz.authorize(&chain, &req, Possession::Channel(&holder), &revs)
    };
    decide(&mut authz, "talos://files/public/x").unwrap();
    for (bad, _) in ESCAPES {
        let err = decide(&mut authz, bad).unwrap_err();
        assert_eq!(err, CapError::NotAuthorized, "{bad}");
        assert_eq!(err.kind(), "not_authorized");
    }
}

/// FORMAT.md §3.3: a `pfx` caveat confines a path argument, on the text, with no `..`
/// escape; a token whose prefix is not a clean path, or that writes `"pfx":{}`, is
/// malformed; a delegation may only move the prefix down.
#[test]
fn a_path_prefix_caveat_confines_a_path_argument() {
    let grant = |pfx: serde_json::Value| {
        let mut claims = claims_json(
            &booking().did(),
            &planner().did(),
            &[cap("mcp://fs/read_file", &["call"])],
            T0 - HOUR,
            T0 + HOUR,
            id(7),
            None,
        );
        claims["cap"][0]["cav"] = json!({ "pfx": pfx });
        raw_jws(&booking(), &std_header(&booking()), &claims)
    };
    for bad in [
        json!({"path": "/srv/../etc"}),
        json!({"path": "srv"}),
        json!({"path": "/srv/"}),
        json!({}),
    ] {
        let err = Token::parse(&grant(bad.clone())).unwrap_err();
        assert_eq!(err.kind(), "malformed_claims", "{bad}");
    }
    let token = grant(json!({"path": "/srv/data"}));
    Token::parse(&token).unwrap();
    let chain = [token.as_str()];
    let callee = booking().did();
    let holder = planner().did();
    let mut authz = Authorizer::new(VerifierConfig::new(callee), 8, 8, 300);
    let revs = MemoryRevocations::new();
    let mut decide = |path: serde_json::Value| {
        let args = json!({ "path": path });
        let req = Request {
            callee: &callee,
            resource: "mcp://fs/read_file",
            action: "call",
            args: args.as_object().unwrap(),
            now: T0,
        };
        authz
            .authorize(&chain, &req, Possession::Channel(&holder), &revs)
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    assert_eq!(decide(json!("/srv/data/notes.txt")), Ok(()));
    assert_eq!(decide(json!("/srv/data")), Ok(()));
    for bad in [
        json!("/srv/data/../../etc/passwd"),
        json!("/srv/database/x"),
        json!("/etc/passwd"),
        json!("srv/data/x"),
        json!("/srv/data/%2e%2e/x"),
        json!(["/srv/data/x"]),
    ] {
        assert_eq!(decide(bad.clone()), Err("not_authorized"), "{bad}");
    }
}
