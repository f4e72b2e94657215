//! FORMAT.md §3.5's cases of the conformance suite: the stateless half of `att`, `bud`,
//! `rep` and `apv` (parsing, containment, the budget's argument).

use serde_json::{Value, json};

use super::{Case, case};
use crate::common::*;

/// A root (booking → planner, jti 03…) and a child (planner → assistant, jti 04…) whose
/// one capability each carries these caveats, for FORMAT.md §3.5.
fn stateful_chain(root_cav: Value, child_cav: Value) -> Vec<String> {
    let cap = |res: &str, act: Value, cav: &Value| {
        let mut c = json!({"res": res, "act": act});
        if cav != &json!({}) {
            c["cav"] = cav.clone();
        }
        json!([c])
    };
    let root = json!({"iss": booking().did(), "aud": planner().did(), "nbf": T0 - HOUR,
        "exp": T0 + HOUR, "jti": id(3), "cap": cap("talos://booking/flights/**", json!(["book", "read"]), &root_cav)});
    let root = raw_jws(&booking(), &std_header(&booking()), &root);
    let commitment = talos_capability::token::commitment_of(&root);
    let child = json!({"iss": planner().did(), "aud": assistant().did(), "nbf": T0 - 60,
        "exp": T0 + 600, "jti": id(4), "prf": commitment,
        "cap": cap("talos://booking/flights/LHR-JFK", json!(["book"]), &child_cav)});
    vec![root, raw_jws(&planner(), &std_header(&planner()), &child)]
}

/// (name, description, root caveats, child caveats, arguments, expected kind).
type StatefulCase = (
    &'static str,
    &'static str,
    Value,
    Value,
    Value,
    Option<&'static str>,
);

/// FORMAT.md §3.5: the stateless half of `att` and `bud` (parsing, containment, the
/// budget's argument). What the callee's node decides with its state (credentials,
/// counters) is not a verdict of this file.
pub(super) fn cases() -> Vec<Case> {
    let bud = |limit: u64, window: &str, mode: &str| json!({"bud": {"arg": "amount", "limit": limit, "window": window, "mode": mode}});
    let (a1, a2) = {
        let (x, y) = (key(0x71).did().to_string(), key(0x72).did().to_string());
        if x < y { (x, y) } else { (y, x) }
    };
    let att = |iss: Vec<&String>, clm: Value| {
        let mut a = json!({"iss": iss});
        if clm != json!({}) {
            a["clm"] = clm;
        }
        json!({ "att": a })
    };
    let apv = |by: Vec<&String>, k: u8| json!({"apv": {"by": by, "k": k}});
    let table: Vec<StatefulCase> = vec![
        (
            "allow_budget_narrowed",
            "the child keeps the root's budget with a lower limit and hard mode",
            bud(1000, "24h", "warn"),
            bud(500, "24h", "hard"),
            json!({"amount": 450}),
            None,
        ),
        (
            "deny_budget_argument_missing",
            "a budget's `arg` must be in the request, as a non-negative integer",
            bud(1000, "24h", "warn"),
            bud(500, "24h", "hard"),
            json!({}),
            Some("not_authorized"),
        ),
        (
            "deny_budget_argument_not_integer",
            "a budget's `arg` as a string does not count",
            bud(1000, "24h", "warn"),
            bud(500, "24h", "hard"),
            json!({"amount": "450"}),
            Some("not_authorized"),
        ),
        (
            "deny_budget_limit_raised",
            "a child may not raise the limit",
            bud(1000, "24h", "hard"),
            bud(1001, "24h", "hard"),
            json!({"amount": 1}),
            Some("widening"),
        ),
        (
            "deny_budget_dropped",
            "a child may not drop its parent's budget",
            bud(1000, "24h", "hard"),
            json!({}),
            json!({"amount": 1}),
            Some("widening"),
        ),
        (
            "deny_budget_hard_to_warn",
            "under a hard budget a child may not be warn",
            bud(1000, "24h", "hard"),
            bud(500, "24h", "warn"),
            json!({"amount": 1}),
            Some("widening"),
        ),
        (
            "deny_budget_window_changed",
            "a child keeps its parent's window",
            bud(1000, "24h", "hard"),
            bud(500, "total", "hard"),
            json!({"amount": 1}),
            Some("widening"),
        ),
        (
            "deny_budget_window_not_canonical",
            "`24H` is not a window",
            bud(1000, "24h", "hard"),
            bud(500, "24H", "hard"),
            json!({"amount": 1}),
            Some("malformed_claims"),
        ),
        (
            "deny_budget_limit_zero",
            "a limit is at least 1",
            bud(1000, "24h", "hard"),
            bud(0, "24h", "hard"),
            json!({"amount": 1}),
            Some("malformed_claims"),
        ),
        (
            "allow_attestation_claim_added",
            "a child may add a claim to its parent's attesters",
            att(vec![&a1, &a2], json!({})),
            att(vec![&a1], json!({"model": "gpt-x"})),
            json!({}),
            None,
        ),
        (
            "deny_attestation_attester_added",
            "a child may not accept an attester its parent does not",
            att(vec![&a1], json!({})),
            att(vec![&a1, &a2], json!({})),
            json!({}),
            Some("widening"),
        ),
        (
            "deny_attestation_dropped",
            "a child may not drop its parent's attestation",
            att(vec![&a1], json!({})),
            json!({}),
            json!({}),
            Some("widening"),
        ),
        (
            "deny_attestation_attesters_unsorted",
            "attesters are listed in ascending order",
            json!({}),
            att(vec![&a2, &a1], json!({})),
            json!({}),
            Some("malformed_claims"),
        ),
        (
            "deny_attestation_unknown_claim",
            "only the credential's five claims may be named",
            json!({}),
            att(vec![&a1], json!({"colour": "red"})),
            json!({}),
            Some("malformed_claims"),
        ),
        (
            "allow_reputation_raised",
            "a child may raise its parent's minimum reputation",
            json!({"rep": 600}),
            json!({"rep": 800}),
            json!({}),
            None,
        ),
        (
            "deny_reputation_lowered",
            "a child may not lower its parent's minimum reputation",
            json!({"rep": 600}),
            json!({"rep": 599}),
            json!({}),
            Some("widening"),
        ),
        (
            "deny_reputation_dropped",
            "a child may not drop its parent's minimum reputation",
            json!({"rep": 600}),
            json!({}),
            json!({}),
            Some("widening"),
        ),
        (
            "allow_approval_narrowed",
            "a child may keep fewer of its parent's approvers and ask more of them",
            apv(vec![&a1, &a2], 1),
            apv(vec![&a2], 1),
            json!({}),
            None,
        ),
        (
            "deny_approval_threshold_lowered",
            "a child may not ask fewer approvals than its parent",
            apv(vec![&a1, &a2], 2),
            apv(vec![&a1, &a2], 1),
            json!({}),
            Some("widening"),
        ),
        (
            "deny_approval_approver_added",
            "a child may not name an approver its parent does not",
            apv(vec![&a1], 1),
            apv(vec![&a1, &a2], 1),
            json!({}),
            Some("widening"),
        ),
        (
            "deny_approval_dropped",
            "a child may not drop its parent's approvals",
            apv(vec![&a1], 1),
            json!({}),
            json!({}),
            Some("widening"),
        ),
        (
            "deny_approval_threshold_above_approvers",
            "k is 1..=the number of approvers",
            json!({}),
            apv(vec![&a1], 2),
            json!({}),
            Some("malformed_claims"),
        ),
        (
            "deny_approval_approvers_unsorted",
            "approvers are ascending, each once",
            json!({}),
            apv(vec![&a2, &a1], 1),
            json!({}),
            Some("malformed_claims"),
        ),
        (
            "deny_reputation_out_of_range",
            "a minimum reputation is an integer 1..=1000",
            json!({}),
            json!({"rep": 1001}),
            json!({}),
            Some("malformed_claims"),
        ),
    ];
    table
        .into_iter()
        .map(|(name, description, root_cav, child_cav, args, expect)| {
            let mut k = case(
                name,
                description,
                stateful_chain(root_cav, child_cav),
                expect,
            );
            k.args = args;
            k
        })
        .collect()
}
