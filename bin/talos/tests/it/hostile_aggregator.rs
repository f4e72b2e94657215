//! An agent keeping its own aggregate proof from an aggregator that lies. A proxy in
//! front of a real aggregator passes the agent's checkpoints through but answers its
//! proof fetches with, in turn: a body larger than any proof, text that is no proof, and
//! a real, valid proof of another agent. The agent keeps none of them (it would stop
//! fetching if it had, so every second fetch of a phase proves the first was refused),
//! and then keeps the real proof once the proxy passes it through.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use reqwest::Method;
use talos_audit::aggregate::{AggregateProof, MAX_AGGREGATE_PROOF_BYTES};
use talos_audit::checkpoint::sign_talos;
use talos_primitives::{Hash32, TreeHead};
use talos_testkit::node::{NodeProc, TCP0, flags, init};

use super::anchoring::audit;
use super::public_log::grow;

/// The lies, in the order the proxy tells them; after the last it passes the truth on.
const LIES: usize = 3;

#[derive(Clone)]
struct Proxy {
    real: String,
    http: reqwest::Client,
    phase: Arc<AtomicUsize>,
    told: Arc<[AtomicUsize; LIES]>,
    other_proof: Arc<Mutex<Option<String>>>,
}

async fn forward(req: reqwest::RequestBuilder) -> (StatusCode, Bytes) {
    match req.send().await {
        Ok(r) => (
            StatusCode::from_u16(r.status().as_u16()).unwrap(),
            r.bytes().await.unwrap_or_default(),
        ),
        Err(_) => (StatusCode::BAD_GATEWAY, Bytes::new()),
    }
}

async fn add(State(p): State<Proxy>, body: Bytes) -> (StatusCode, Bytes) {
    let url = format!("{}/aggregate/add-checkpoint", p.real);
    forward(p.http.post(url).body(body)).await
}

async fn proof(State(p): State<Proxy>, Path(did): Path<String>) -> (StatusCode, Bytes) {
    let phase = p.phase.load(Ordering::SeqCst);
    let lie = match phase {
        0 => Some(Bytes::from(vec![b'a'; MAX_AGGREGATE_PROOF_BYTES + 1])),
        1 => Some(Bytes::from_static(
            b"talos/aggregate-proof@v1\nnot a proof\n",
        )),
        2 => p.other_proof.lock().unwrap().clone().map(Bytes::from),
        _ => None,
    };
    if let Some(body) = lie {
        p.told[phase].fetch_add(1, Ordering::SeqCst);
        return (StatusCode::OK, body);
    }
    if phase < LIES {
        return (StatusCode::NOT_FOUND, Bytes::new());
    }
    let url = format!("{}/aggregate/proof/{did}", p.real);
    forward(p.http.get(url)).await
}

async fn wait_for(what: &str, deadline: Instant, mut done: impl FnMut() -> bool) {
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_keeps_no_proof_a_lying_aggregator_serves() {
    let root = tempfile::tempdir().unwrap();
    let other = talos_testkit::keys::identity(93);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    let a_home = init(
        root.path(),
        "agent",
        &flags(&[
            ("--listen", TCP0),
            ("--chain", "none"),
            ("--aggregator", &proxy_url),
            ("--aggregator-secs", "1"),
        ]),
    );
    let agent = NodeProc::up(&a_home, &[]).await;
    grow(&agent, 3).await;
    let served = format!("{},{}", agent.did, other.did());
    let g_home = init(
        root.path(),
        "aggregator",
        &flags(&[
            ("--listen", TCP0),
            ("--anchor-secs", "0"),
            ("--public-log", "127.0.0.1:0"),
            ("--publish-secs", "100000"),
            ("--aggregate-for", &served),
        ]),
    );
    let g = NodeProc::up(&g_home, &[]).await;
    let real = format!("http://{}", g.ready["publicLog"].as_str().unwrap());
    let p = Proxy {
        real: real.clone(),
        http: reqwest::Client::new(),
        phase: Arc::new(AtomicUsize::new(0)),
        told: Arc::new(Default::default()),
        other_proof: Arc::new(Mutex::new(None)),
    };
    let app = Router::new()
        .route("/aggregate/add-checkpoint", post(add))
        .route("/aggregate/proof/{did}", get(proof))
        .with_state(p.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The other agent's checkpoint goes to the aggregator directly; both are anchored.
    let note = sign_talos(
        &other,
        TreeHead {
            size: 10,
            root: Hash32([1; 32]),
        },
    )
    .unwrap()
    .to_text();
    let r = p
        .http
        .post(format!("{real}/aggregate/add-checkpoint"))
        .body(note)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let deadline = Instant::now() + Duration::from_secs(120);
    let fetch = |did: String| {
        let (http, url) = (p.http.clone(), format!("{real}/aggregate/proof/{did}"));
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let truth = loop {
        let (s, a) = g.call(Method::POST, "/v1/audit/anchor", None).await;
        assert_eq!(s, 200, "{a}");
        let (s, text) = fetch(agent.did.clone()).await;
        if s == 200 {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the agent's head never reached the aggregator"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (s, others) = fetch(other.did().to_string()).await;
    assert_eq!(s, 200, "{others}");
    AggregateProof::parse(&others).unwrap().verify().unwrap();
    *p.other_proof.lock().unwrap() = Some(others);

    // Each lie is told twice (the second fetch shows the first was not kept) and
    // nothing is kept.
    for phase in 0..LIES {
        wait_for(
            &format!("lie {phase} fetched twice (once only: it was kept)"),
            deadline,
            || p.told[phase].load(Ordering::SeqCst) >= 2,
        )
        .await;
        let (code, out) = audit(&a_home, &["aggregate-proof"], "");
        assert_eq!(code, 1, "lie {phase} was kept: {out}");
        p.phase.fetch_add(1, Ordering::SeqCst);
    }
    // The truth is kept.
    let kept = loop {
        let (code, out) = audit(&a_home, &["aggregate-proof"], "");
        if code == 0 {
            break out;
        }
        assert_eq!(code, 1, "{out}");
        assert!(Instant::now() < deadline, "the real proof was never kept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(kept, truth);
}
