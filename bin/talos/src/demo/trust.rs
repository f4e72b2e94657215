//! The demo's trust chapter (FORMAT.md §3.5): capabilities whose caveats booking's node
//! decides with state of its own. An unattested planner is refused, then admitted once an
//! attester's credential is installed on its node; a budget runs out over three calls; a
//! booking waits for payment's approval, then goes through once; a monitor's misbehaviour
//! report gets the planner refused (`talos-reputation`).

use anyhow::ensure;
use talos_capability::stateful::{ApvCaveat, AttCaveat, BudgetCaveat, Mode, Window};
use talos_capability::{Claims, Token};
use talos_identity::IdentityKey;
use talos_net::invoke::InvokeResponse;
use talos_primitives::CapabilityId;

use super::network::{Trio, call, chain, grant, outcome};
use super::step;

/// A root capability from booking to planner: flights, `book`, ≤ 1000, with `cav` added.
fn root(t: &Trio, att: Option<AttCaveat>, bud: Option<BudgetCaveat>) -> anyhow::Result<Token> {
    root_with(t, |cav| {
        cav.att = att;
        cav.bud = bud;
    })
}

/// The same, its caveats set by `set`.
fn root_with(t: &Trio, set: impl FnOnce(&mut talos_capability::Caveats)) -> anyhow::Result<Token> {
    let now = super::now_ms() / 1000;
    let mut cap = grant("talos://booking/flights/*", "book", 1000)?;
    set(&mut cap.cav);
    Ok(Token::issue(
        &t.booking,
        Claims {
            iss: t.booking.did(),
            aud: t.planner.did(),
            cap: vec![cap],
            nbf: now,
            exp: now + 3600,
            jti: CapabilityId(rand::random()),
            prf: None,
        },
    )?)
}

/// Step 18.
pub(super) async fn run(t: &Trio) -> anyhow::Result<()> {
    step(
        18,
        "Caveats booking's node decides with state of its own: an attestation it requires, a budget it counts durably, an approval it waits for, a reputation threshold",
    );
    // The consortium's operator attests what planner runs.
    let attester = IdentityKey::generate()?;
    let att = AttCaveat {
        iss: vec![attester.did()],
        clm: [("model".to_string(), "planner-model-1".to_string())].into(),
    };
    let attested = root(t, Some(att), None)?;
    let (first, _) = t.p.invoke(call(t, 300, chain(&attested))).await?;
    println!(
        "    a capability requiring an attestation by the consortium's attester; planner holds none: {}",
        outcome(&first)
    );
    ensure!(
        matches!(&first, InvokeResponse::Refused { kind } if kind == "not_attested"),
        "an unattested caller was admitted"
    );
    let now = super::now_ms() / 1000;
    let digest = talos_audit::event::digest;
    let claims = talos_attest::Claims {
        id: t.planner.did(),
        binary_sha256: digest(b"planner's talos binary"),
        config_sha256: digest(b"planner's canonical configuration"),
        model: "planner-model-1".into(),
        policy_sha256: digest(b"planner's policy"),
        intoto_sha256: None,
    };
    let credential = talos_attest::issue(&attester, claims, now - 60, now + 86_400)?;
    let held = t.p.add_attestation(credential.to_string()).await?;
    let (second, _) = t.p.invoke(call(t, 300, chain(&attested))).await?;
    println!(
        "    the attester issues a credential (VC 2.0, eddsa-jcs-2022) about planner's binary, configuration, policy and model; planner's node presents it: {}",
        outcome(&second)
    );
    ensure!(
        matches!(second, InvokeResponse::Ok { .. }),
        "an attested caller was refused"
    );
    t.b.revoke(held.revocation_id).await?;
    let (third, _) = t.p.invoke(call(t, 300, chain(&attested))).await?;
    println!(
        "    booking revokes that credential's id: {}",
        outcome(&third)
    );
    ensure!(
        matches!(&third, InvokeResponse::Refused { kind } if kind == "not_attested"),
        "a revoked credential still worked"
    );

    let bud = BudgetCaveat {
        arg: Some("amount".into()),
        limit: 1000,
        window: Window::Hours(24),
        mode: Mode::Hard,
    };
    let budgeted = root(t, None, Some(bud))?;
    let mut line = Vec::new();
    for amount in [400, 400, 400] {
        let (r, _) = t.p.invoke(call(t, amount, chain(&budgeted))).await?;
        line.push(format!("{amount}: {}", short(&r)));
    }
    println!(
        "    a budget of 1000 a day, hard; three bookings: {}",
        line.join(", ")
    );
    ensure!(
        line.last().is_some_and(|l| l.ends_with("over_budget")),
        "a budget was overspent"
    );
    let left =
        t.b.budgets()
            .iter()
            .map(|c| (c.spent, c.left))
            .find(|(spent, _)| *spent == 800);
    println!(
        "    booking's counter (GET /v1/budgets): spent 800, left {} — each spend written with the call's audit event, in one synced write",
        left.map(|(_, l)| l).unwrap_or_default()
    );
    ensure!(left.is_some(), "the budget counter is missing");
    approval(t).await?;
    reputation(t).await
}

/// A booking that waits for payment's approval (`apv`), then goes through once.
async fn approval(t: &Trio) -> anyhow::Result<()> {
    let payment = t.payment.did();
    let token = root_with(t, |cav| {
        cav.apv = Some(ApvCaveat {
            by: vec![payment],
            k: 1,
        });
    })?;
    let (held, sent) = t.p.invoke(call(t, 900, chain(&token))).await?;
    ensure!(
        matches!(&held, InvokeResponse::Refused { kind } if kind == "pending"),
        "a call needing an approval was not held: {}",
        outcome(&held)
    );
    let id = sent
        .approval
        .ok_or_else(|| anyhow::anyhow!("a held call without a request id"))?;
    println!(
        "    a capability whose calls payment must approve (apv, 1 of 1); planner books 900: held, pending request {}…",
        &id.to_string()[..12]
    );
    // The ask travels beside planner's answer: wait for it at payment's node (progress).
    let mut asked = false;
    for _ in 0..400 {
        asked =
            t.y.approvals_asked()
                .await?
                .iter()
                .any(|a| a["id"] == id.to_string());
        if asked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ensure!(asked, "payment was never asked to approve");
    let (_, _, approval) = t.y.approve(id).await?;
    let (done, _) = t.p.invoke(call(t, 900, chain(&token))).await?;
    println!(
        "    payment's node is asked, payment approves (a signed approval, commitment {}…, in both audit logs); planner sends the same booking again: {}",
        &approval[..16],
        outcome(&done)
    );
    ensure!(
        matches!(done, InvokeResponse::Ok { .. }),
        "an approved call was refused"
    );
    let (again, _) = t.p.invoke(call(t, 900, chain(&token))).await?;
    ensure!(
        matches!(&again, InvokeResponse::Refused { kind } if kind == "pending"),
        "an approval admitted two calls"
    );
    println!("    one approval admits one call: the same booking once more is held again, pending");
    Ok(())
}

/// A reputation-gated refusal: payment (booking's monitor, one of its reputation seeds)
/// reports planner; the report crosses the gossip topic and booking refuses planner.
async fn reputation(t: &Trio) -> anyhow::Result<()> {
    use talos_reputation::Kind;
    let planner = t.planner.did();
    let before = t.b.reputation(&planner)?.0.points;
    let token = root(t, None, None)?;
    let (ok, _) = t.p.invoke(call(t, 100, chain(&token))).await?;
    let filed =
        t.y.file_report(planner, Kind::OperatorReport, vec![])
            .await?;
    // Gossip is quick but not instant: wait for the report to arrive (progress), filing
    // again if the first found no subscriber yet.
    let mut after = before;
    for i in 0..200 {
        after = t.b.reputation(&planner)?.0.points;
        if after < before {
            break;
        }
        if i % 50 == 49 {
            t.y.file_report(planner, Kind::OperatorReport, vec![])
                .await?;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (refused, _) = t.p.invoke(call(t, 100, chain(&token))).await?;
    println!(
        "    booking refuses callers scoring under 700 of 1000 by its seeds' reports; planner ({before}) books: {}",
        outcome(&ok)
    );
    println!(
        "    payment, booking's monitor, files a signed operator report about planner (commitment {}…, audited in payment's log) and gossips it; planner now scores {after}: {}",
        &filed.commitment.to_string()[..16],
        outcome(&refused)
    );
    ensure!(
        matches!(&refused, InvokeResponse::Refused { kind } if kind == "low_reputation"),
        "a caller under the reputation threshold was admitted"
    );
    Ok(())
}

fn short(r: &InvokeResponse) -> String {
    match r {
        InvokeResponse::Ok { .. } => "booked".into(),
        InvokeResponse::Refused { kind } => format!("refused {kind}"),
        InvokeResponse::Failed { kind, .. } => format!("failed {kind}"),
    }
}
