//! Idle connections outside the gossip mesh are closed (gossipsub's long-lived streams
//! would otherwise keep every connection a node ever made: rust-libp2p#5190), and a
//! peer whose connection was closed is reached again by the next send.

use std::time::{Duration, Instant};

use talos_net::{AckStatus, Frame, FrameKind, NetConfig};

use crate::net::node;

/// More than a hub's gossip meshes can hold: at most 12 peers per topic, two topics.
const SPOKES: u8 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_outside_the_mesh_close_and_the_next_send_redials() -> anyhow::Result<()> {
    // Prune every second; a connection is let go after the longest request timeout of
    // quiet. That timeout is also the redial's budget for its answer: 1 s timed out in
    // the full suite on 2 busy cores, so 10 s (the test takes ~10 s longer).
    let quick = NetConfig {
        idle_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(10),
        invoke_timeout: Duration::from_secs(1),
        ..NetConfig::default()
    };
    let tcp = "/ip4/127.0.0.1/tcp/0";
    let hub = node(100, tcp, quick.clone()).await?;
    let hub_peer = hub.client.local_peer_id();
    let mut spokes = Vec::new();
    for i in 0..SPOKES {
        let s = node(101 + i, tcp, quick.clone()).await?;
        s.client.dial(hub_peer, vec![hub.addr.clone()]).await?;
        spokes.push(s);
    }
    // Each spoke's only peer is the hub; the hub keeps its mesh members and closes the
    // rest once they have been quiet for a whole period.
    let deadline = Instant::now() + Duration::from_secs(120);
    let connected = loop {
        let peers = hub.client.connected_peers().await?;
        if peers.len() <= 24 {
            break peers;
        }
        assert!(
            Instant::now() < deadline,
            "the hub still holds {} of {SPOKES} connections",
            peers.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // A spoke the hub let go sends to it again: the send dials, the frame is acked.
    let gone = spokes
        .iter()
        .find(|s| !connected.contains(&s.client.local_peer_id()))
        .expect("some spoke was disconnected");
    // Once the spoke has seen the close too: until then its next stream would go on the
    // closing connection and end with it (a send that fails there is retried by the
    // delivery layer; this test is about the redial).
    while gone.client.connected_peers().await?.contains(&hub_peer) {
        assert!(
            Instant::now() < deadline,
            "the spoke never saw the hub close"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ack = gone
        .client
        .send(hub_peer, Frame::new(FrameKind::Ratchet, 1, vec![7; 35])?)
        .await?;
    assert_eq!((ack.seq, ack.status), (1, AckStatus::Accepted));
    assert_eq!(hub.seen.lock().unwrap().len(), 1);
    Ok(())
}
