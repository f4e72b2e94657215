//! A hostile flood against a real `talos up` process: hundreds of connections from fresh
//! identities, streams of maximum-size garbage frames far ahead of any gap, and
//! length prefixes far beyond the frame limit. The victim's memory stays bounded and an
//! honest peer's messages still arrive, exactly once and in order.

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::{Multiaddr, PeerId, StreamProtocol, noise, tcp, yamux};
use talos_identity::keys::{IdentityKey, IdentitySeed};
use talos_net::{Frame, FrameKind, NetConfig};

use talos_testkit::node::{NodeProc, init};

fn hostile_identity(i: u32) -> IdentityKey {
    let mut seed = [0xa5u8; 32];
    seed[..4].copy_from_slice(&i.to_be_bytes());
    IdentityKey::from_seed(&IdentitySeed::from_bytes(seed)).unwrap()
}

/// What became of the hostile streams.
#[derive(Debug, Default)]
struct Oversize {
    opened: usize,
    answered: usize,
    /// Neither answered nor ended within 20 s: a victim that trusted the length prefix
    /// would sit waiting for the body (or for a budget it can never grant).
    hung: usize,
}

/// Opens `n` a2a streams at once (past the victim's per-peer bound of 16) and writes on
/// each a batch whose length prefix claims more than the limit (`u32::MAX`, or one byte
/// over 49,420). The victim must end every one unanswered: those past the bound when
/// they open, the rest on reading the length. Only the `u32::MAX` half could show a
/// missing length check here (it would wait for a budget never granted, and hang); the
/// other half would end at the 5 s body deadline, inside the 20 s allowed.
async fn oversize(victim: PeerId, addr: Multiaddr, n: usize) -> Oversize {
    let mut swarm =
        libp2p::SwarmBuilder::with_existing_identity(libp2p::identity::Keypair::generate_ed25519())
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|_| libp2p_stream::Behaviour::new())
            .unwrap()
            .build();
    swarm
        .dial(addr.with(libp2p::multiaddr::Protocol::P2p(victim)))
        .unwrap();
    while !matches!(
        swarm.select_next_some().await,
        libp2p::swarm::SwarmEvent::ConnectionEstablished { .. }
    ) {}
    let control = swarm.behaviour().new_control();
    let driver = tokio::spawn(async move {
        loop {
            swarm.select_next_some().await;
        }
    });
    let protocol = StreamProtocol::new(talos_net::A2A_PROTOCOL);
    let over = u32::try_from(talos_net::frame::MAX_REQUEST + 1).unwrap();
    let streams = (0..n).map(|i| {
        let mut control = control.clone();
        let protocol = protocol.clone();
        async move {
            let open = control.open_stream(victim, protocol);
            let Ok(Ok(mut stream)) = tokio::time::timeout(Duration::from_secs(20), open).await
            else {
                return (false, false, false);
            };
            let claim: u32 = if i % 2 == 0 { u32::MAX } else { over };
            let mut req = claim.to_be_bytes().to_vec();
            req.extend_from_slice(&[0x5a; 1024]);
            let _ = stream.write_all(&req).await;
            let mut buf = Vec::new();
            let read = tokio::time::timeout(
                Duration::from_secs(20),
                (&mut stream).take(64).read_to_end(&mut buf),
            )
            .await;
            (true, !buf.is_empty(), read.is_err())
        }
    });
    let mut out = Oversize::default();
    for (opened, answered, hung) in futures::future::join_all(streams).await {
        out.opened += usize::from(opened);
        out.answered += usize::from(answered);
        out.hung += usize::from(hung);
    }
    driver.abort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_leaves_memory_bounded_and_the_honest_peer_served() {
    let root = tempfile::tempdir().unwrap();
    let victim_home = init(
        root.path(),
        "victim",
        &["--listen".into(), "/ip4/127.0.0.1/tcp/0".into()],
    );
    let victim = NodeProc::up(&victim_home, &[]).await;
    let honest_home = init(
        root.path(),
        "honest",
        &[
            "--listen".into(),
            "/ip4/127.0.0.1/tcp/0".into(),
            "--bootstrap".into(),
            victim.addr(),
        ],
    );
    let honest = NodeProc::up(&honest_home, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    honest.send(&victim.did, b"before").await.unwrap();
    assert_eq!(victim.read_until(1, Duration::from_secs(30)).await.len(), 1);
    let rss_before = victim.peak_rss_kib();

    let addr: Multiaddr = victim.addr().parse().unwrap();
    let victim_peer = match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
        _ => panic!("no /p2p in {addr}"),
    };
    // Oversize length prefixes on more streams than one peer is served, before the
    // flood takes the victim's connection slots.
    let tcp_addr: Multiaddr = addr
        .iter()
        .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
        .collect();
    let oversized = oversize(victim_peer, tcp_addr, 50).await;
    assert_eq!(
        (oversized.opened, oversized.answered, oversized.hung),
        (50, 0, 0),
        "{oversized:?}"
    );
    let config = NetConfig {
        request_timeout: Duration::from_secs(3),
        max_in_flight: 256,
        channel_capacity: 64,
        ..NetConfig::default()
    };
    // 300 connections from fresh identities (more than the victim's 256-connection limit).
    let mut hostile = Vec::new();
    for i in 0..300u32 {
        let talos_net::Network {
            client, event_loop, ..
        } = talos_net::new(&hostile_identity(i), config.clone()).unwrap();
        let task = tokio::spawn(event_loop.run());
        let _ = client.dial(victim_peer, vec![addr.clone()]).await;
        hostile.push((client, task));
    }
    // 20 of them send streams of maximum-size garbage frames far ahead of any gap, while
    // the honest peer sends 200 messages.
    let n_flooders: usize = std::env::var("TALOS_FLOODERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let flooders: Vec<_> = hostile
        .iter()
        .take(n_flooders)
        .map(|(client, _)| {
            let client = client.clone();
            tokio::spawn(async move {
                let sends = (0..256u64).map(|k| {
                    let frame =
                        Frame::new(FrameKind::Ratchet, 2 + k * 3, vec![0xee; 48 * 1024]).unwrap();
                    client.send(victim_peer, frame)
                });
                futures::future::join_all(sends).await
            })
        })
        .collect();
    for k in 0..200u8 {
        honest.send(&victim.did, &[k]).await.unwrap();
    }
    let got = victim.read_until(201, Duration::from_secs(90)).await;
    let bodies: Vec<Vec<u8>> = got.into_iter().skip(1).map(|m| m.3).collect();
    assert_eq!(bodies, (0..200u8).map(|k| vec![k]).collect::<Vec<_>>());
    let mut acked = 0;
    for f in flooders {
        acked += f.await.unwrap().iter().filter(|r| r.is_ok()).count();
    }
    let rss_after = victim.peak_rss_kib();
    eprintln!(
        "flood: victim peak RSS {} MiB before, {} MiB after; {} of {} garbage frames acknowledged (held within the byte budget)",
        rss_before / 1024,
        rss_after / 1024,
        acked,
        n_flooders * 256
    );
    // What bounds memory: the 16 MiB read budget across streams, the 256-frame inbound
    // queue, and per peer at most 16 a2a streams (a talos sender uses 8), each with one
    // batch of ≤ 48 KiB in flight in yamux buffers (under 1 MiB). So the peak may grow by about 3 MiB per flooding connection
    // (plus RocksDB memtables for the held frames), not with the 240 MiB thrown at it.
    let bound_kib = rss_before + n_flooders as u64 * 3 * 1024 + 96 * 1024;
    assert!(
        rss_after < bound_kib,
        "victim peak RSS {} MiB over the {} MiB bound",
        rss_after / 1024,
        bound_kib / 1024
    );
    let live = reqwest::get(format!("{}/health/live", victim.url()))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    drop(hostile);
}
