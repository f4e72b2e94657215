//! Reports: the JWS and claim rules of FORMAT.md §1, and the decoder never panics.

use proptest::prelude::*;
use talos_capability::notice::RevocationNotice;
use talos_capability::statement;
use talos_primitives::{CapabilityId, Hash32};
use talos_reputation::report::REPORT_TYP;
use talos_reputation::{Kind, Report, ReportError};

use crate::common::*;

#[test]
fn a_signed_report_verifies_with_its_claims_and_commitment() {
    let (by, sub) = (key(1, 0), key(2, 0));
    let compact = Report::sign(
        &by,
        sub.did(),
        Kind::BadAnswer,
        vec![Hash32([9; 32]), Hash32([3; 32]), Hash32([9; 32])],
        NOW,
        CapabilityId([5; 16]),
    )
    .unwrap();
    let r = Report::verify(&compact).unwrap();
    assert_eq!(r.report.iss, by.did());
    assert_eq!(r.report.sub, sub.did());
    assert_eq!(r.report.knd, Kind::BadAnswer);
    // Sorted and deduplicated when signed.
    assert_eq!(r.report.evd, vec![Hash32([3; 32]), Hash32([9; 32])]);
    assert_eq!(
        r.commitment,
        talos_capability::token::commitment_of(&compact)
    );
    assert_eq!(r.compact, compact);
}

#[test]
fn a_report_about_its_reporter_is_refused_when_signed_and_when_verified() {
    let by = key(1, 0);
    let e = Report::sign(
        &by,
        by.did(),
        Kind::BadAnswer,
        vec![],
        NOW,
        CapabilityId([1; 16]),
    );
    assert_eq!(e.unwrap_err().kind(), "malformed_claims");
    // Signed by hand, past `Report::sign`'s check.
    let r = Report {
        iss: by.did(),
        sub: by.did(),
        knd: Kind::BadAnswer,
        evd: vec![],
        iat: NOW,
        jti: CapabilityId([1; 16]),
    };
    let compact = statement::sign(&by, REPORT_TYP, &r).unwrap();
    assert!(matches!(
        Report::verify(&compact),
        Err(ReportError::Claims(_))
    ));
}

#[test]
fn evidence_must_be_ascending_distinct_and_at_most_eight() {
    let (by, sub) = (key(1, 0), key(2, 0));
    let mut r = Report {
        iss: by.did(),
        sub: sub.did(),
        knd: Kind::BadAnswer,
        evd: vec![Hash32([2; 32]), Hash32([1; 32])],
        iat: NOW,
        jti: CapabilityId([1; 16]),
    };
    let compact = statement::sign(&by, REPORT_TYP, &r).unwrap();
    assert_eq!(
        Report::verify(&compact).unwrap_err().kind(),
        "malformed_claims"
    );
    r.evd = (0..9u8).map(|i| Hash32([i; 32])).collect();
    let compact = statement::sign(&by, REPORT_TYP, &r).unwrap();
    assert_eq!(
        Report::verify(&compact).unwrap_err().kind(),
        "malformed_claims"
    );
    r.evd.truncate(8);
    let compact = statement::sign(&by, REPORT_TYP, &r).unwrap();
    assert!(Report::verify(&compact).is_ok());
}

#[test]
fn another_statement_type_or_a_changed_byte_is_refused() {
    let (by, sub) = (key(1, 0), key(2, 0));
    let notice = RevocationNotice::sign(&by, CapabilityId([1; 16]), NOW).unwrap();
    assert_eq!(Report::verify(&notice).unwrap_err().kind(), "bad_typ");
    let compact = Report::sign(
        &by,
        sub.did(),
        Kind::BadAnswer,
        vec![],
        NOW,
        CapabilityId([1; 16]),
    )
    .unwrap();
    // Signed by someone else than `iss`: the signature fails.
    let (h, rest) = compact.split_once('.').unwrap();
    let (p, _) = rest.split_once('.').unwrap();
    let forged = format!(
        "{h}.{p}.{}",
        key(3, 0).sign(format!("{h}.{p}").as_bytes()).to_base64url()
    );
    assert_eq!(Report::verify(&forged).unwrap_err().kind(), "bad_signature");
}

#[test]
fn kinds_round_trip_their_wire_names() {
    for k in Kind::ALL {
        assert_eq!(Kind::parse(k.as_str()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert_eq!(Kind::parse("spam"), None);
}

proptest! {
    /// The decoder returns a typed error for any input, never panics.
    #[test]
    fn verify_never_panics(s in ".{0,600}") {
        let _ = Report::verify(&s);
    }

    /// Any JWS-shaped input of base64url parts is refused or accepted, never a panic.
    #[test]
    fn verify_never_panics_on_jws_shapes(a in "[A-Za-z0-9_-]{0,200}", b in "[A-Za-z0-9_-]{0,300}", c in "[A-Za-z0-9_-]{0,90}") {
        let _ = Report::verify(&format!("{a}.{b}.{c}"));
    }

    /// Every report `sign` accepts verifies to the same claims.
    #[test]
    fn sign_then_verify_round_trips(kind in 0usize..5, n in 0usize..8, iat in 0u64..(1 << 53), jti in any::<[u8; 16]>()) {
        let (by, sub) = (key(1, 0), key(2, 0));
        let evd: Vec<Hash32> = (0..n as u8).map(|i| Hash32([i; 32])).collect();
        let compact = Report::sign(&by, sub.did(), Kind::ALL[kind], evd.clone(), iat, CapabilityId(jti)).unwrap();
        let r = Report::verify(&compact).unwrap().report;
        prop_assert_eq!(r.evd, evd);
        prop_assert_eq!(r.iat, iat);
        prop_assert_eq!(r.knd, Kind::ALL[kind]);
    }
}
