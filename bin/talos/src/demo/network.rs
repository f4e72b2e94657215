//! The demo's second part: three real talos nodes on loopback (libp2p over TCP + Noise +
//! Yamux on 127.0.0.1, RocksDB, audit logs), planner → booking → payment, each agent a
//! task that talks only to its own node.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Map, Value, json};
use talos_capability::{ActionSet, Capability, Caveats, Claims, ResourcePattern, Token};
use talos_identity::IdentityKey;
use talos_net::invoke::InvokeResponse;
use talos_net::{Multiaddr, Protocol};
use talos_primitives::CapabilityId;

use super::step;
use talos_node::home::{Home, storage_key};
use talos_node::node::{Authority, Invoke, InvokeConfig, Node, NodeConfig};

/// Starts a node for `key` in `dir`, listening on loopback, bootstrapped from `boot`.
async fn start(
    key: &IdentityKey,
    dir: &std::path::Path,
    boot: Option<(talos_net::PeerId, Multiaddr)>,
    invoke: InvokeConfig,
    on: &super::DemoChain,
) -> anyhow::Result<Node> {
    let home = Home::resolve(Some(dir.to_path_buf()))?;
    std::fs::create_dir_all(home.dir())?;
    let (store, log) = home.open_stores()?;
    let mut config = NodeConfig::default();
    config.net.listen = vec!["/ip4/127.0.0.1/tcp/0".parse()?];
    config.net.bootstrap = boot.into_iter().collect();
    config.invoke = invoke;
    let mut node = Node::start(key.clone(), storage_key(key)?, store, log, config.clone()).await?;
    for (peer, addr) in &config.net.bootstrap {
        node.client().dial(*peer, vec![addr.clone()]).await?;
    }
    let (writer, on) = (key.clone(), on.clone());
    let opener: talos_node::node::Opener = Arc::new(move || {
        let (home, writer, on) = (home.clone(), writer.clone(), on.clone());
        Box::pin(async move { on.open(&home, &writer).await })
    });
    node.start_anchoring(opener, None);
    node.start_upkeep();
    Ok(node)
}

async fn addr(node: &Node) -> anyhow::Result<(talos_net::PeerId, Multiaddr)> {
    for _ in 0..200 {
        if let Some(a) = node.client().listen_addrs().await?.into_iter().next() {
            let peer = node.client().local_peer_id();
            return Ok((peer, a.with(Protocol::P2p(peer))));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("the node never listened")
}

pub(super) fn grant(res: &str, act: &str, max: u64) -> anyhow::Result<Capability> {
    let mut cav = Caveats::default();
    cav.max.insert("amount".into(), max);
    Ok(Capability {
        res: ResourcePattern::parse(res)?,
        act: ActionSet::new([act.to_string()])?,
        cav,
    })
}

fn args(amount: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("amount".into(), json!(amount));
    m
}

pub(super) fn outcome(r: &InvokeResponse) -> String {
    match r {
        InvokeResponse::Ok { result } => format!("answered {result}"),
        InvokeResponse::Refused { kind } => format!("refused by the callee's node ({kind})"),
        InvokeResponse::Failed { kind, .. } => format!("failed ({kind})"),
    }
}

/// Payment's agent: charges what it is asked, once per call.
async fn payment_agent(node: Arc<Node>) {
    let mut after = 0;
    loop {
        for c in node.calls(after, 16, Duration::from_secs(1), None).await {
            after = c.id;
            let amount = c.args.get("amount").cloned().unwrap_or(Value::Null);
            let _ = node
                .answer(c.id, Ok(json!({ "charged": amount })).into())
                .await;
        }
    }
}

/// Booking's agent: books flights; under a transaction, it charges the card through
/// payment within the same transaction first, with the authorization narrowed to it.
async fn booking_agent(node: Arc<Node>, payment: talos_primitives::Ed25519Public) {
    let mut after = 0;
    loop {
        for c in node.calls(after, 16, Duration::from_secs(1), None).await {
            after = c.id;
            let amount = c.args.get("amount").and_then(Value::as_u64).unwrap_or(0);
            let answer = if c.txn.is_some() {
                let charge = Invoke {
                    traceparent: None,
                    to: payment,
                    under: Authority::Within {
                        id: c.id,
                        azd: grant("talos://payment/card", "charge", amount)
                            .ok()
                            .map(|g| vec![g]),
                    },
                    resource: "talos://payment/card".into(),
                    action: "charge".into(),
                    args: args(amount),
                    nonce: None,
                    sign_invocation: false,
                };
                match node.invoke(charge).await {
                    Ok((InvokeResponse::Ok { result }, _)) => {
                        Ok(json!({ "booked": c.resource, "payment": result }))
                    }
                    Ok((other, _)) => Err(format!("payment: {}", outcome(&other))),
                    Err(e) => Err(format!("payment: {e}")),
                }
            } else {
                Ok(json!({ "booked": c.resource }))
            };
            let _ = node.answer(c.id, answer.into()).await;
        }
    }
}

/// Steps 13 to 19.
/// The three agents' identities and their running nodes.
pub(super) struct Trio {
    pub(super) planner: IdentityKey,
    pub(super) booking: IdentityKey,
    pub(super) payment: IdentityKey,
    pub(super) p: Arc<Node>,
    pub(super) b: Arc<Node>,
    pub(super) y: Arc<Node>,
}

pub(super) async fn run(dir: &std::path::Path, on: &super::DemoChain) -> anyhow::Result<()> {
    let t = start_three(dir, on).await?;
    let agents = [
        tokio::spawn(booking_agent(t.b.clone(), t.payment.public())),
        tokio::spawn(payment_agent(t.y.clone())),
    ];
    message_by_did(&t).await?;
    let jti = calls_under_a_capability(&t).await?;
    transaction(&t).await?;
    revoke(&t, jti).await?;
    super::trust::run(&t).await?;
    anchor_and_prove(&t, on).await?;
    for a in agents {
        a.abort();
    }
    for n in [&t.p, &t.b, &t.y] {
        n.shutdown().await?;
    }
    Ok(())
}

async fn start_three(dir: &std::path::Path, on: &super::DemoChain) -> anyhow::Result<Trio> {
    step(
        13,
        "Three nodes start on loopback, one per agent, with fresh identities: planner, booking and payment (libp2p TCP + Noise + Yamux, RocksDB, an audit log each)",
    );
    let (planner, booking, payment) = (
        IdentityKey::generate()?,
        IdentityKey::generate()?,
        IdentityKey::generate()?,
    );
    let trusting = || InvokeConfig {
        trusted_txn: vec![planner.did()],
        ..InvokeConfig::default()
    };
    // Booking weighs misbehaviour reports by payment (its monitor) and refuses callers
    // scoring under 700 (the trust chapter).
    let booking_config = InvokeConfig {
        reputation_seeds: [payment.did()].into(),
        min_reputation: 700,
        ..trusting()
    };
    let b = Arc::new(start(&booking, &dir.join("n-booking"), None, booking_config, on).await?);
    let boot = addr(&b).await?;
    let planner_dir = dir.join("n-planner");
    let (boot2, none) = (Some(boot.clone()), InvokeConfig::default());
    let p = Arc::new(start(&planner, &planner_dir, boot2, none, on).await?);
    let payment_dir = dir.join("n-payment");
    let y = Arc::new(start(&payment, &payment_dir, Some(boot.clone()), trusting(), on).await?);
    println!("    planner  {}", planner.did());
    println!("    booking  {} listening on {}", booking.did(), boot.1);
    println!("    payment  {}", payment.did());
    println!("    booking and payment accept transactions that planner starts");
    Ok(Trio {
        planner,
        booking,
        payment,
        p,
        b,
        y,
    })
}

async fn message_by_did(t: &Trio) -> anyhow::Result<()> {
    step(
        14,
        "Planner messages booking by DID alone: the prekey bundle comes from the DHT, the session is PQXDH + Double Ratchet, delivery is durable and exactly-once",
    );
    let start = Instant::now();
    let mut sent = None;
    for _ in 0..50 {
        match t
            .p
            .send(t.booking.public(), None, b"hello from planner".to_vec())
            .await
        {
            Ok(seq) => {
                sent = Some(seq);
                break;
            }
            // The directory record may not have reached the DHT yet.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let seq = sent.context("booking's directory record never appeared")?;
    let got = t.b.wait_inbox(0, 16, Duration::from_secs(10)).await?;
    let first = got.first().context("the message never arrived")?;
    ensure!(
        first.body.as_slice() == b"hello from planner",
        "wrong message"
    );
    println!(
        "    frame {seq} delivered to booking's agent in {:?}; booking's node acknowledged it only once it was durable",
        start.elapsed()
    );
    Ok(())
}

/// A call from planner to booking's flights, for `amount`, under `under`.
pub(super) fn call(t: &Trio, amount: u64, under: Authority) -> Invoke {
    Invoke {
        traceparent: None,
        to: t.booking.public(),
        under,
        resource: "talos://booking/flights/LHR-JFK".into(),
        action: "book".into(),
        args: args(amount),
        nonce: None,
        sign_invocation: false,
    }
}

/// Booking's capability for planner, as a chain of one token.
pub(super) fn chain(token: &Token) -> Authority {
    Authority::Chain(vec![token.as_str().to_string()])
}

async fn calls_under_a_capability(t: &Trio) -> anyhow::Result<(CapabilityId, Token)> {
    step(
        15,
        "Booking issues planner a capability; planner calls booking under it. Booking's node decides every call before its agent sees it",
    );
    let now = super::now_ms() / 1000;
    let jti = CapabilityId(rand::random());
    let token = Token::issue(
        &t.booking,
        Claims {
            iss: t.booking.did(),
            aud: t.planner.did(),
            cap: vec![grant("talos://booking/flights/*", "book", 500)?],
            nbf: now,
            exp: now + 3600,
            jti,
            prf: None,
        },
    )?;
    let (ok, _) = t.p.invoke(call(t, 450, chain(&token))).await?;
    println!(
        "    book LHR-JFK for 450 under the capability: {}",
        outcome(&ok)
    );
    ensure!(
        matches!(ok, InvokeResponse::Ok { .. }),
        "the call was not allowed"
    );
    let (over, _) = t.p.invoke(call(t, 900, chain(&token))).await?;
    println!(
        "    book LHR-JFK for 900 (over the 500 caveat): {}",
        outcome(&over)
    );
    ensure!(
        matches!(over, InvokeResponse::Refused { .. }),
        "an over-scoped call ran"
    );
    Ok((jti, token))
}

async fn transaction(t: &Trio) -> anyhow::Result<()> {
    step(
        16,
        "Planner starts a transaction; booking, handling it, calls payment within it. Each hop's transaction token is replaced by the hop's node, never wider",
    );
    let azd = vec![
        grant("talos://booking/flights/*", "book", 1000)?,
        grant("talos://payment/card", "charge", 1000)?,
    ];
    let start = || Authority::Start {
        sub: None,
        purp: "trip to JFK".into(),
        azd: azd.clone(),
    };
    let (trip, sent) = t.p.invoke(call(t, 450, start())).await?;
    println!(
        "    transaction {}: {}",
        sent.txn.as_deref().unwrap_or("?"),
        outcome(&trip)
    );
    ensure!(
        matches!(trip, InvokeResponse::Ok { .. }),
        "the transaction failed"
    );
    println!(
        "    payment's node verified 2 hops: planner → booking (minted by planner, whom it trusts), booking → payment (signed by booking, the previous audience, narrowed to charging 450)"
    );
    let (over, _) = t.p.invoke(call(t, 1200, start())).await?;
    println!(
        "    a 1200 trip (over the transaction's 1000): {}",
        outcome(&over)
    );
    ensure!(
        matches!(over, InvokeResponse::Refused { .. }),
        "an over-scoped transaction ran"
    );
    Ok(())
}

async fn revoke(t: &Trio, (jti, token): (CapabilityId, Token)) -> anyhow::Result<()> {
    step(
        17,
        "Booking revokes the capability: durable at once, gossiped to other nodes as a signed notice; planner's next call is refused",
    );
    t.b.revoke(jti).await?;
    let (after, _) = t.p.invoke(call(t, 100, chain(&token))).await?;
    println!(
        "    book LHR-JFK for 100 after the revocation: {}",
        outcome(&after)
    );
    ensure!(
        matches!(&after, InvokeResponse::Refused { kind } if kind == "revoked"),
        "a revoked capability still worked"
    );
    Ok(())
}

async fn anchor_and_prove(t: &Trio, on: &super::DemoChain) -> anyhow::Result<()> {
    step(
        19,
        &format!(
            "Booking anchors its audit log's head on {}; an auditor checks one event's inclusion proof against the anchored root",
            on.describe()
        ),
    );
    on.fund(&t.booking).await?;
    let anchored = t.b.anchor_now().await?.context("nothing to anchor")?;
    println!(
        "    {} events, root anchored in block {} for {}",
        anchored.head.size, anchored.at.block, anchored.did
    );
    let proof = talos_node::records::inclusion(t.b.audit_log(), 1, Some(anchored.head.size))?;
    let backend = t.b.anchor_backend().await?;
    let verified = talos_anchor::verify::verify_inclusion(&*backend, &anchored.did, &proof).await?;
    println!(
        "    auditor: event 1's inclusion proof ({} hashes) leads to the root anchored at size {} (block {})",
        proof.proof.len(),
        verified.head.size,
        verified.at.block
    );
    Ok(())
}
