use std::sync::Arc;
use std::time::Duration;

use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_net::{AckStatus, Client, Frame, FrameKind, Multiaddr, NetConfig, PeerId};
use tokio::task::JoinHandle;

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_seed(&IdentitySeed::from_bytes([seed; 32])).unwrap()
}

/// A node whose inbound frames are all accepted, and counted into `seen`.
pub(crate) struct Node {
    pub(crate) client: Client,
    pub(crate) addr: Multiaddr,
    pub(crate) seen: Arc<std::sync::Mutex<Vec<(PeerId, u64, Vec<u8>)>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub(crate) async fn node(seed: u8, listen: &str, config: NetConfig) -> anyhow::Result<Node> {
    let talos_net::Network {
        client,
        mut event_loop,
        mut inbound,
        ..
    } = talos_net::new(&identity(seed), config)?;
    event_loop.set_record_validator(Arc::new(|key, _| key.starts_with(b"/talos/test/")));
    let mut tasks = vec![tokio::spawn(event_loop.run())];
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (c, s) = (client.clone(), seen.clone());
    tasks.push(tokio::spawn(async move {
        while let Some(f) = inbound.recv().await {
            s.lock()
                .unwrap()
                .push((f.peer, f.frame.seq(), f.frame.body().to_vec()));
            c.respond(f.responder, AckStatus::Accepted).await.unwrap();
        }
    }));
    let addr = client.listen(listen.parse()?).await?;
    Ok(Node {
        client,
        addr,
        seen,
        tasks,
    })
}

async fn exchange(listen: &str) -> anyhow::Result<()> {
    let a = node(1, listen, NetConfig::default()).await?;
    let b = node(2, listen, NetConfig::default()).await?;
    let (pa, pb) = (a.client.local_peer_id(), b.client.local_peer_id());
    a.client.dial(pb, vec![b.addr.clone()]).await?;
    for seq in 1..=50u64 {
        let ack = a
            .client
            .send(
                pb,
                Frame::new(FrameKind::Ratchet, seq, vec![seq as u8; 35])?,
            )
            .await?;
        assert_eq!((ack.seq, ack.status), (seq, AckStatus::Accepted));
        // And back, over the same connection.
        let ack = b
            .client
            .send(pa, Frame::new(FrameKind::Ratchet, seq, vec![1; 35])?)
            .await?;
        assert_eq!(ack.seq, seq);
    }
    let seen = b.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 50);
    assert!(
        seen.iter()
            .enumerate()
            .all(|(i, (p, s, body))| *p == pa && *s == i as u64 + 1 && body == &vec![*s as u8; 35])
    );
    assert_eq!(a.seen.lock().unwrap().len(), 50);
    Ok(())
}

#[tokio::test]
async fn frames_and_acks_both_ways_over_tcp() -> anyhow::Result<()> {
    exchange("/ip4/127.0.0.1/tcp/0").await
}

#[tokio::test]
async fn frames_and_acks_both_ways_over_quic() -> anyhow::Result<()> {
    exchange("/ip4/127.0.0.1/udp/0/quic-v1").await
}

#[tokio::test]
async fn peer_id_is_the_did_key() -> anyhow::Result<()> {
    let id = identity(7);
    let talos_net::Network { client, .. } = talos_net::new(&id, NetConfig::default())?;
    let key = talos_identity::peer_id::key_of(&client.local_peer_id())?;
    assert_eq!(key, id.public());
    Ok(())
}

#[tokio::test]
async fn an_unreachable_peer_is_a_clear_error() -> anyhow::Result<()> {
    let a = node(
        3,
        "/ip4/127.0.0.1/tcp/0",
        NetConfig {
            request_timeout: Duration::from_secs(2),
            ..NetConfig::default()
        },
    )
    .await?;
    let ghost = talos_identity::peer_id::peer_id_of(&identity(99).public())?;
    // A closed port: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let err = a
        .client
        .dial(ghost, vec![format!("/ip4/127.0.0.1/tcp/{port}").parse()?])
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&ghost.to_string()), "{err}");
    let err = a
        .client
        .send(ghost, Frame::new(FrameKind::Ratchet, 1, vec![])?)
        .await
        .unwrap_err();
    assert!(
        matches!(err, talos_net::NetError::Send { seq: 1, .. }),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn dht_records_travel_and_unvalidated_ones_are_refused() -> anyhow::Result<()> {
    let a = node(10, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let b = node(11, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let c = node(12, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    // b is the only peer a and c know: a star around it.
    a.client.dial(pb, vec![b.addr.clone()]).await?;
    c.client.dial(pb, vec![b.addr.clone()]).await?;
    a.client
        .put_record(b"/talos/test/x".to_vec(), b"value".to_vec())
        .await?;
    a.client
        .put_record(b"/other/y".to_vec(), b"nope".to_vec())
        .await?;
    let got = c.client.get_record(b"/talos/test/x".to_vec()).await?;
    assert_eq!(got, vec![b"value".to_vec()]);
    // With a gone, only what b agreed to store remains: b's validator refused /other/y.
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = c.client.get_record(b"/talos/test/x".to_vec()).await?;
    assert_eq!(got, vec![b"value".to_vec()]);
    assert!(c.client.get_record(b"/other/y".to_vec()).await.is_err());
    Ok(())
}

#[tokio::test]
async fn frames_cross_a_relay() -> anyhow::Result<()> {
    let relay = node(
        20,
        "/ip4/127.0.0.1/tcp/0",
        NetConfig {
            relay_server: true,
            ..NetConfig::default()
        },
    )
    .await?;
    let pr = relay.client.local_peer_id();
    let relay_addr = relay.addr.clone().with(talos_net::Protocol::P2p(pr));
    // b listens only through the relay.
    let b = node(21, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    b.client.dial(pr, vec![relay.addr.clone()]).await?;
    let circuit = b
        .client
        .listen(relay_addr.clone().with(talos_net::Protocol::P2pCircuit))
        .await?;
    assert!(circuit.to_string().contains("p2p-circuit"), "{circuit}");
    let a = node(22, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    let via = relay_addr
        .with(talos_net::Protocol::P2pCircuit)
        .with(talos_net::Protocol::P2p(pb));
    a.client.dial(pb, vec![via]).await?;
    let ack = a
        .client
        .send(pb, Frame::new(FrameKind::Ratchet, 1, b"through".to_vec())?)
        .await?;
    assert_eq!(ack.status, AckStatus::Accepted);
    assert_eq!(b.seen.lock().unwrap().len(), 1);
    Ok(())
}
