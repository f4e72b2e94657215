//! Real `talos up` processes on loopback, driven through their HTTP API: several nodes
//! talking both ways with bundles found in the DHT, a relay, a graceful SIGTERM drain,
//! malformed API input, and kill -9 mid-traffic.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use talos_testkit::node::{NodeProc, flags, free_port, init};

fn tcp(port: u16) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}")
}

/// Starts `n` nodes: the first alone, the others bootstrapping from it.
pub(crate) async fn network(root: &std::path::Path, n: usize) -> Vec<NodeProc> {
    let first_home = init(root, "n0", &flags(&[("--listen", &tcp(0))]));
    let first = NodeProc::up(&first_home, &[]).await;
    let boot = first.addr();
    let mut nodes = vec![first];
    for i in 1..n {
        let home = init(
            root,
            &format!("n{i}"),
            &flags(&[("--listen", &tcp(0)), ("--bootstrap", &boot)]),
        );
        nodes.push(NodeProc::up(&home, &[]).await);
    }
    // Let the bootstrap connections and the first directory records settle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_processes_talk_both_ways_by_did_alone() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 5).await;
    // Every node sends 10 messages to every other node, knowing only its DID: the
    // prekey bundle and the addresses come from the DHT directory.
    for (i, from) in nodes.iter().enumerate() {
        for (j, to) in nodes.iter().enumerate() {
            if i == j {
                continue;
            }
            for k in 0..10u8 {
                let seq = from.send(&to.did, &[i as u8, j as u8, k]).await.unwrap();
                assert_eq!(seq, u64::from(k) + 1);
            }
        }
    }
    for (j, to) in nodes.iter().enumerate() {
        let got = to.read_until(40, Duration::from_secs(60)).await;
        assert_eq!(got.len(), 40, "node {j} got {} of 40", got.len());
        let mut per_sender: HashMap<String, Vec<u8>> = HashMap::new();
        for (_, from, _, body) in &got {
            assert_eq!(body[1] as usize, j);
            per_sender.entry(from.clone()).or_default().push(body[2]);
        }
        for (i, from) in nodes.iter().enumerate() {
            if i != j {
                // Exactly once and in order, per sender.
                assert_eq!(per_sender[&from.did], (0..10).collect::<Vec<u8>>());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reachable_only_through_a_relay() {
    let root = tempfile::tempdir().unwrap();
    let relay_home = init(
        root.path(),
        "relay",
        &flags(&[("--listen", &tcp(0)), ("--relay", "true")]),
    );
    let relay = NodeProc::up(&relay_home, &[]).await;
    // The hidden node listens on nothing but a circuit through the relay.
    let circuit = format!("{}/p2p-circuit", relay.addr());
    let hidden_home = init(
        root.path(),
        "hidden",
        &flags(&[("--listen", &circuit), ("--bootstrap", &relay.addr())]),
    );
    let hidden = NodeProc::up(&hidden_home, &[]).await;
    assert!(hidden.listen.iter().all(|a| a.contains("/p2p-circuit")));
    let sender_home = init(
        root.path(),
        "sender",
        &flags(&[("--listen", &tcp(0)), ("--bootstrap", &relay.addr())]),
    );
    let sender = NodeProc::up(&sender_home, &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for k in 0..5u8 {
        sender.send(&hidden.did, &[k]).await.unwrap();
    }
    let got = hidden.read_until(5, Duration::from_secs(60)).await;
    let bodies: Vec<Vec<u8>> = got.into_iter().map(|m| m.3).collect();
    assert_eq!(bodies, (0..5u8).map(|k| vec![k]).collect::<Vec<_>>());
    // And the reply travels back the same way.
    hidden.send(&sender.did, b"ack").await.unwrap();
    let back = sender.read_until(1, Duration::from_secs(60)).await;
    assert_eq!(back[0].3, b"ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_frames_before_exiting() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let (mut a, b) = {
        let mut it = nodes.into_iter();
        (it.next().unwrap(), it.next().unwrap())
    };
    for k in 0..200u16 {
        a.send(&b.did, &k.to_be_bytes()).await.unwrap();
    }
    // Stop the sender at once: it must deliver what it accepted before it exits.
    let status = a.term().await;
    assert!(status.success(), "talos up exited with {status}");
    let log = std::fs::read_to_string(a.home.join("node.log")).unwrap();
    assert!(log.contains("stopped"), "no clean stop in the log");
    let got = b.read_until(200, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 200);
    for (k, m) in got.iter().enumerate() {
        assert_eq!(m.3, (k as u16).to_be_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_api_input_gets_clear_4xx() {
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 1).await;
    let (http, api, token) = nodes[0].http();
    let post = |body: Vec<u8>, auth: Option<&str>| {
        let mut r = http
            .post(format!("{api}/v1/messages"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = auth {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let no_token = post(b"{}".to_vec(), None).await.unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong = post(b"{}".to_vec(), Some("not-the-token")).await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("wrong API token"));
    let bad_json = post(b"{\"to\":".to_vec(), Some(token)).await.unwrap();
    assert_eq!(bad_json.status(), 400);
    assert!(bad_json.text().await.unwrap().contains("bad JSON"));
    let bad_did = post(
        br#"{"to":"did:web:example.com","data":""}"#.to_vec(),
        Some(token),
    )
    .await
    .unwrap();
    assert_eq!(bad_did.status(), 400);
    let oversize = post(vec![b' '; 200 * 1024], Some(token)).await.unwrap();
    assert_eq!(oversize.status(), 413);
    // The unread rest of the body ends the connection; the client is told so and does
    // not reuse it (it did, and the next request failed now and then).
    assert_eq!(oversize.headers()["connection"], "close");
    // Health needs no token.
    let live = http.get(format!("{api}/health/live")).send().await.unwrap();
    assert_eq!(live.status(), 200);
}

/// kill -9 mid-traffic, alternating sender and receiver. Every message the sender's API
/// acknowledged reaches the receiver's agent exactly once, in order; a message whose POST
/// was cut by the kill arrives at most once. Rounds: `TALOS_KILL_ROUNDS` (default 50).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_traffic_loses_and_duplicates_nothing() {
    let rounds: usize = std::env::var("TALOS_KILL_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let root = tempfile::tempdir().unwrap();
    // Fixed ports, so a restarted node is where its peer last saw it.
    let (pa, pb) = (free_port(), free_port());
    let a_home = init(root.path(), "a", &flags(&[("--listen", &tcp(pa))]));
    let a = NodeProc::up(&a_home, &[]).await;
    let b_home = init(
        root.path(),
        "b",
        &flags(&[("--listen", &tcp(pb)), ("--bootstrap", &a.addr())]),
    );
    let b = NodeProc::up(&b_home, &[]).await;
    let b_did = b.did.clone();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut a = a;
    let api = Arc::new(Mutex::new(a.api.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    // How many POSTs have been acknowledged so far: the kill loop waits on it.
    let progress = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // The agent: sends numbered messages one after another; a failed POST (its node was
    // just killed) is retried with the next number once the node is back.
    let traffic = {
        let (api, stop, to) = (api.clone(), stop.clone(), b_did.clone());
        let progress = progress.clone();
        tokio::spawn(async move {
            let (mut acked, mut cut) = (Vec::new(), Vec::new());
            let mut n: u32 = 0;
            while !stop.load(Ordering::Relaxed) {
                // Not holding the lock during the POST: a kill can cut it.
                let current = api.lock().await.clone();
                let result = current.send(&to, &n.to_be_bytes()).await;
                match result {
                    Ok(_) => {
                        acked.push(n);
                        progress.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        cut.push(n);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                n += 1;
            }
            (acked, cut)
        })
    };

    let mut b = b;
    for round in 0..rounds {
        // Kill on progress, not on the wall clock: after 1 to 7 more acknowledged messages
        // (so kills land at different depths of the stream), however slowly a loaded
        // machine gets there. Checked with `stress-ng --cpu 4` running beside the test.
        let target = progress.load(Ordering::Relaxed) + 1 + (round * 3) % 7;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while progress.load(Ordering::Relaxed) < target {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: no acknowledged message for 120 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if round % 2 == 0 {
            b.kill9().await;
            b.restart().await;
        } else {
            a.kill9().await;
            a.restart().await;
            *api.lock().await = a.api.clone();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (acked, cut) = traffic.await.unwrap();
    assert!(acked.len() > rounds, "too little traffic: {}", acked.len());

    // Everything acknowledged arrives: read until the last acknowledged number is in
    // (delivery is in order, so everything before it must be in too).
    let last = *acked.last().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let mut numbers: Vec<u32> = Vec::new();
    let mut from = 0;
    while !numbers.contains(&last) && tokio::time::Instant::now() < deadline {
        for m in b.read(from, 500).await {
            from = m.0 + 1;
            numbers.push(u32::from_be_bytes(m.3.as_slice().try_into().unwrap()));
        }
    }
    // Anything still in flight (a cut message after the last acknowledged one).
    tokio::time::sleep(Duration::from_millis(300)).await;
    for m in b.read(from, 0).await {
        numbers.push(u32::from_be_bytes(m.3.as_slice().try_into().unwrap()));
    }
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(numbers, sorted, "out of order");
    sorted.dedup();
    assert_eq!(sorted.len(), numbers.len(), "duplicated");
    for n in &acked {
        assert!(
            numbers.binary_search(n).is_ok(),
            "acknowledged message {n} lost"
        );
    }
    for n in &numbers {
        assert!(
            acked.binary_search(n).is_ok() || cut.contains(n),
            "message {n} was never sent"
        );
    }
    eprintln!(
        "{rounds} kills: {} acknowledged, {} cut by a kill, {} delivered",
        acked.len(),
        cut.len(),
        numbers.len()
    );
}

/// The recipient is offline: the sender's frames go to the recipient's mailbox (named in
/// its directory record), and when the recipient comes back it drains them, once and in
/// order, and the conversation goes on directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_delivers_to_a_peer_that_was_offline() {
    let root = tempfile::tempdir().unwrap();
    let mailbox_home = init(
        root.path(),
        "mailbox",
        &flags(&[("--listen", &tcp(0)), ("--mailbox", "true")]),
    );
    let mailbox = NodeProc::up(&mailbox_home, &[]).await;
    let recipient_home = init(
        root.path(),
        "recipient",
        &flags(&[
            ("--listen", &tcp(free_port())),
            ("--bootstrap", &mailbox.addr()),
            ("--mailboxes", &mailbox.did),
        ]),
    );
    let mut recipient = NodeProc::up(&recipient_home, &[]).await;
    let sender_home = init(
        root.path(),
        "sender",
        &flags(&[("--listen", &tcp(0)), ("--bootstrap", &mailbox.addr())]),
    );
    let mut sender = NodeProc::up(&sender_home, &[]).await;
    // Let the recipient register with its mailbox and publish its record (the second
    // publication, once it is connected, comes after a second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(recipient.term().await.success());

    for k in 0..10u8 {
        sender.send(&recipient.did, &[k]).await.unwrap();
    }
    // Direct attempts fail; after a few, the frames go to the mailbox (in more than one
    // deposit when some were stored after the first failures). Then the sender goes
    // away too, so only the mailbox can deliver.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let deposited = sender.metric("talos_frames_deposited_total").await;
        if deposited >= 10 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{deposited} of 10 frames deposited in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // With the frames deposited and the peer still away, the sender backs off: a few
    // flushes a second at most. A sender that kept an emptied peer due flushed it again
    // at once, thousands of times a second (slower on a busy machine, never this few).
    let before = sender.metric("talos_sender_flushes_total").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let flushes = sender.metric("talos_sender_flushes_total").await - before;
    assert!(flushes < 100, "{flushes} flushes in 2 s: the sender spins");
    assert!(sender.term().await.success());
    recipient.restart().await;
    let got = recipient.read_until(10, Duration::from_secs(60)).await;
    let bodies: Vec<Vec<u8>> = got.iter().map(|m| m.3.clone()).collect();
    assert_eq!(bodies, (0..10u8).map(|k| vec![k]).collect::<Vec<_>>());
    assert!(got.iter().all(|m| m.1 == sender.did));
    // And the conversation continues, directly, in both directions.
    sender.restart().await;
    recipient.send(&sender.did, b"back").await.unwrap();
    assert_eq!(
        sender.read_until(1, Duration::from_secs(30)).await[0].3,
        b"back"
    );
    sender.send(&recipient.did, &[10]).await.unwrap();
    let more = recipient.read(got.last().unwrap().0 + 1, 30_000).await;
    assert_eq!(more[0].3, vec![10]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_messages_arrives_in_order() {
    use base64::Engine;
    let root = tempfile::tempdir().unwrap();
    let nodes = network(root.path(), 2).await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    // A malformed batch stores nothing: message 1 is not a DID.
    let bad = serde_json::json!({ "messages": [
        { "to": nodes[1].did, "data": b64(b"x") },
        { "to": "did:key:nope", "data": b64(b"y") },
    ]});
    let (status, body) = nodes[0]
        .call(reqwest::Method::POST, "/v1/messages/batch", Some(bad))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("message 1"));
    // First contact (bundle from the directory) and 100 messages in two batches.
    for half in 0..2u8 {
        let messages: Vec<_> = (0..50u8)
            .map(|k| serde_json::json!({ "to": nodes[1].did, "data": b64(&[half, k]) }))
            .collect();
        let (status, body) = nodes[0]
            .call(
                reqwest::Method::POST,
                "/v1/messages/batch",
                Some(serde_json::json!({ "messages": messages })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let seqs: Vec<u64> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seq"].as_u64().unwrap())
            .collect();
        let first = u64::from(half) * 50 + 1;
        assert_eq!(seqs, (first..first + 50).collect::<Vec<_>>());
    }
    let got = nodes[1].read_until(100, Duration::from_secs(60)).await;
    let bodies: Vec<Vec<u8>> = got.into_iter().map(|(_, _, _, b)| b).collect();
    let want: Vec<Vec<u8>> = (0..2u8)
        .flat_map(|h| (0..50u8).map(move |k| vec![h, k]))
        .collect();
    assert_eq!(bodies, want);
}
