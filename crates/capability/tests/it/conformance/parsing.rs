//! FORMAT.md §1.1 and §2.1's cases of the conformance suite: every parsing step and
//! canonical-form rule.

use super::*;

/// FORMAT.md §1.1 and §2.1: every parsing step and canonical-form rule, one case each.
pub(super) fn cases(r: &Token, c: &Token) -> Vec<Case> {
    let mut out = vec![];
    let hdr = |v: &str| -> Vec<String> {
        let payload = jcs::canonicalize(&child_json(c)).unwrap();
        vec![
            r.as_str().into(),
            raw_jws_bytes(&planner(), v.as_bytes(), &payload),
        ]
    };
    let kid = format!("{}#{}", planner().did(), planner().public().to_multikey());

    // An issuer written from FORMAT.md: claims built as plain JSON, every optional member
    // present, serialized with RFC 8785.
    let mut full = child_json(c);
    full["cap"] = json!([{"act": ["book"], "cav": {"eq": {"cur": "EUR"}, "max": {"amount": 500}}, "res": "talos://booking/flights/LHR-JFK"}]);
    let mut k = case(
        "allow_issuer_from_format_md",
        "a child written as plain canonical JSON, with max and eq caveats",
        with_child(r, &full),
        None,
    );
    k.args = json!({"amount": 450, "cur": "EUR"});
    out.push(k);

    out.push(case(
        "deny_header_repeated_member",
        "the header names alg twice (EdDSA, then none): not JSON by §1.1 step 3",
        hdr(&format!(
            r#"{{"alg":"EdDSA","alg":"none","kid":"{kid}","typ":"talos-cap+jwt"}}"#
        )),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_header_not_an_object",
        "the header is a JSON array",
        hdr(r#"["EdDSA"]"#),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_header_alg_missing",
        "no alg at all is bad_alg, before the unknown member",
        hdr(&format!(
            r#"{{"jwk":{{}},"kid":"{kid}","typ":"talos-cap+jwt"}}"#
        )),
        Some("bad_alg"),
    ));
    out.push(case(
        "deny_header_typ_missing",
        "no typ",
        hdr(&format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#)),
        Some("bad_typ"),
    ));
    out.push(case(
        "deny_header_kid_not_string",
        "kid is a number",
        hdr(r#"{"alg":"EdDSA","kid":7,"typ":"talos-cap+jwt"}"#),
        Some("unknown_kid"),
    ));
    out.push(case(
        "deny_header_not_canonical",
        "a space after each colon in the header",
        hdr(&format!(
            r#"{{"alg": "EdDSA","kid": "{kid}","typ": "talos-cap+jwt"}}"#
        )),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_header_member_order",
        "header members out of order",
        hdr(&format!(
            r#"{{"typ":"talos-cap+jwt","alg":"EdDSA","kid":"{kid}"}}"#
        )),
        Some("malformed_jws"),
    ));
    let mut padded = c.as_str().to_string();
    padded.push('=');
    out.push(case(
        "deny_base64url_padding",
        "the signature part carries a padding character",
        vec![r.as_str().into(), padded],
        Some("malformed_jws"),
    ));
    let mut k = case(
        "deny_signature_not_64_bytes",
        "a 63-byte signature",
        vec![with_signature(r.as_str(), &signature_of(r.as_str())[..63])],
        Some("malformed_jws"),
    );
    k.possession = json!({"channel": planner().did()});
    out.push(k);

    out.push(case(
        "deny_payload_not_json",
        "the payload is not JSON: malformed_jws (step 11), not malformed_claims",
        with_child_bytes(r, "not json"),
        Some("malformed_jws"),
    ));
    let text = child_text(c);
    out.push(case(
        "deny_payload_repeated_claim",
        "the payload names iss twice",
        with_child_bytes(r, &text.replacen(r#""iss":"#, r#""iss":"x","iss":"#, 1)),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_payload_repeated_caveat",
        "a max caveat named twice",
        with_child_bytes(
            r,
            &text.replacen(r#"{"amount":500}"#, r#"{"amount":500,"amount":500}"#, 1),
        ),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_payload_whitespace",
        "pretty-printed claims",
        with_child_bytes(r, &serde_json::to_string_pretty(&child_json(c)).unwrap()),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_payload_member_order",
        "claims in struct order, not sorted",
        with_child_bytes(r, &serde_json::to_string(c.claims()).unwrap()),
        Some("malformed_jws"),
    ));
    let nbf = c.claims().nbf;
    out.push(case(
        "deny_number_trailing_zero",
        "nbf written 1763782340.0",
        with_child_bytes(
            r,
            &text.replacen(&format!(r#""nbf":{nbf}"#), &format!(r#""nbf":{nbf}.0"#), 1),
        ),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_number_exponent",
        "max amount written 5e2",
        with_child_bytes(r, &text.replacen(r#""amount":500"#, r#""amount":5e2"#, 1)),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_number_leading_zero",
        "max amount written 0500: not JSON",
        with_child_bytes(r, &text.replacen(r#""amount":500"#, r#""amount":0500"#, 1)),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_number_minus_zero",
        "max amount written -0",
        with_child_bytes(r, &text.replacen(r#""amount":500"#, r#""amount":-0"#, 1)),
        Some("malformed_jws"),
    ));
    out.push(case(
        "deny_number_not_a_double",
        "max amount 9007199254740993, which no IEEE double holds: not canonical",
        with_child_bytes(
            r,
            &text.replacen(r#""amount":500"#, r#""amount":9007199254740993"#, 1),
        ),
        Some("malformed_jws"),
    ));
    let mut k = child_json(c);
    k["cap"][0]["cav"]["max"]["amount"] = json!(1u64 << 60);
    out.push(case(
        "deny_integer_over_2_53",
        "max amount 2^60: canonical, but over 2^53 - 1",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["exp"] = json!(talos_capability::MAX_INTEGER + 1);
    out.push(case(
        "deny_exp_over_2_53",
        "exp 2^53: canonical, but over 2^53 - 1",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["cap"][0]["cav"]["max"]["amount"] = json!(-1);
    out.push(case(
        "deny_integer_negative",
        "max amount -1",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["cap"][0]["cav"]["max"]["amount"] = json!(500.5);
    out.push(case(
        "deny_integer_fraction",
        "max amount 500.5",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["jti"] = json!("0202020202020202020202020202020A");
    out.push(case(
        "deny_hex_uppercase",
        "jti with an uppercase hex digit",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["prf"] = json!(r.commitment().to_string().to_uppercase());
    out.push(case(
        "deny_hex_uppercase_prf",
        "prf in uppercase hex",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["jti"] = json!("0202");
    out.push(case(
        "deny_hex_short",
        "jti of 4 hex digits",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = root_json(r);
    k["cap"][0]["act"] = json!(["read", "book"]);
    k["aud"] = json!(planner().did());
    let unsorted = raw_jws(&booking(), &std_header(&booking()), &k);
    let mut kase = case(
        "deny_act_unsorted",
        "act [read, book]: names must be in ascending byte order",
        vec![unsorted],
        Some("malformed_claims"),
    );
    kase.possession = json!({"channel": planner().did()});
    out.push(kase);
    let mut k = child_json(c);
    k["cap"][0]["act"] = json!(["book", "book"]);
    out.push(case(
        "deny_act_repeated",
        "act [book, book]",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["cap"][0]["cav"] = json!({});
    out.push(case(
        "deny_empty_cav",
        "cav written as {} instead of left out",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["cap"][0]["cav"] = json!({"eq": {}, "max": {"amount": 500}});
    out.push(case(
        "deny_empty_eq",
        "eq written as {} instead of left out",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = root_json(r);
    k["prf"] = Value::Null;
    let mut kase = case(
        "deny_null_prf",
        "a root with prf null instead of no prf",
        vec![raw_jws(&booking(), &std_header(&booking()), &k)],
        Some("malformed_claims"),
    );
    kase.possession = json!({"channel": planner().did()});
    out.push(kase);
    let mut k = child_json(c);
    k.as_object_mut().unwrap().remove("jti");
    out.push(case(
        "deny_missing_claim",
        "no jti",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["scope"] = json!("all");
    out.push(case(
        "deny_unknown_claim",
        "an extra claim",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["cap"] = json!([]);
    out.push(case(
        "deny_empty_cap",
        "cap []",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["nbf"] = k["exp"].clone();
    out.push(case(
        "deny_nbf_not_before_exp",
        "nbf = exp",
        with_child(r, &k),
        Some("malformed_claims"),
    ));
    let mut k = child_json(c);
    k["nbf"] = k["exp"].clone();
    out.push(case(
        "deny_claims_before_kid",
        "malformed claims and a kid naming someone else: the claims are checked first",
        vec![
            r.as_str().into(),
            raw_jws(&planner(), &std_header(&mallory()), &k),
        ],
        Some("malformed_claims"),
    ));
    let talos_did = Did::Talos(TalosId(Hash32([7; 32])));
    let mut k = child_json(c);
    k["iss"] = json!(talos_did);
    let mut h = std_header(&planner());
    h["kid"] = json!(format!("{talos_did}#key-1"));
    out.push(case(
        "deny_did_talos_issuer",
        "a did:talos issuer cannot be checked offline",
        vec![r.as_str().into(), raw_jws(&planner(), &h, &k)],
        Some("unknown_kid"),
    ));

    // Small-order keys: refused at parse, whichever claim names them (§2.1, §4 step 1).
    let weak = small_order_dids();
    let mut k = root_json(r);
    k["aud"] = json!(weak[0]);
    let mut kase = case(
        "deny_small_order_audience",
        "the root names a small-order did:key (the identity point) as its holder",
        vec![raw_jws(&booking(), &std_header(&booking()), &k)],
        Some("malformed_claims"),
    );
    kase.possession = json!({"channel": planner().did()});
    out.push(kase);
    let mut k = child_json(c);
    k["iss"] = json!(weak[1]);
    let mut h = std_header(&planner());
    let mk = weak[1].strip_prefix("did:key:").unwrap();
    h["kid"] = json!(format!("{}#{mk}", weak[1]));
    out.push(case(
        "deny_small_order_issuer",
        "the child is issued by a small-order did:key, with the matching kid",
        vec![r.as_str().into(), raw_jws(&planner(), &h, &k)],
        Some("malformed_claims"),
    ));
    out
}
