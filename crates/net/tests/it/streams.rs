//! `/talos/a2a/3.0.0`'s long-lived streams: more sends at once than a peer's streams,
//! a kept stream whose peer went away and came back, and the listener's per-peer bound.

use std::time::Duration;

use talos_net::a2a::MAX_STREAMS_OUT;
use talos_net::{AckStatus, Frame, FrameKind, NetConfig};

use crate::net::node;

/// Forty single-frame sends at once to one peer share its eight streams: each waits for
/// a stream to come free (a kept stream is taken by the next waiting send) and every one
/// gets its ack. The first version kept the stream's slot with the idle stream, so
/// waiting sends never saw one free and timed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_sends_at_once_than_streams_all_get_their_acks() -> anyhow::Result<()> {
    let tcp = "/ip4/127.0.0.1/tcp/0";
    let a = node(41, tcp, NetConfig::default()).await?;
    let b = node(42, tcp, NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    a.client.dial(pb, vec![b.addr.clone()]).await?;
    let n = 5 * MAX_STREAMS_OUT as u64;
    for round in 0..3u64 {
        let sends = (1..=n).map(|k| {
            let seq = round * n + k;
            let frame = Frame::new(FrameKind::Ratchet, seq, vec![7; 35]).unwrap();
            a.client.send(pb, frame)
        });
        for (k, ack) in futures::future::join_all(sends)
            .await
            .into_iter()
            .enumerate()
        {
            let ack = ack?;
            assert_eq!(ack.status, AckStatus::Accepted);
            assert_eq!(ack.seq, round * n + k as u64 + 1);
        }
    }
    assert_eq!(b.seen.lock().unwrap().len() as u64, 3 * n);
    Ok(())
}

/// A peer that stops and starts again at the same address: the sender's kept stream is
/// dead, the send notices, opens a new stream over a new connection, and gets its ack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_stream_to_a_restarted_peer_is_replaced() -> anyhow::Result<()> {
    let a = node(43, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let b = node(44, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let (pb, addr) = (b.client.local_peer_id(), b.addr.clone());
    a.client.add_address(pb, addr.clone()).await?;
    let frame = |seq| Frame::new(FrameKind::Ratchet, seq, vec![1; 35]);
    assert_eq!(
        a.client.send(pb, frame(1)?).await?.status,
        AckStatus::Accepted
    );
    drop(b);
    // Wait until A has seen the connection go (progress, not a clock).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while a.client.connected_peers().await?.contains(&pb) {
        assert!(tokio::time::Instant::now() < deadline, "A never saw B go");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b = node(44, &addr.to_string(), NetConfig::default()).await?;
    let ack = a.client.send(pb, frame(2)?).await?;
    assert_eq!((ack.seq, ack.status), (2, AckStatus::Accepted));
    assert_eq!(b.seen.lock().unwrap().len(), 1);
    // Again, sending at once, before A may have noticed anything: the kept stream fails
    // (or its open lands on the closing connection and is asked again) and the send
    // still gets its ack over a new connection.
    drop(b);
    let b = node(44, &addr.to_string(), NetConfig::default()).await?;
    let ack = a.client.send(pb, frame(3)?).await?;
    assert_eq!((ack.seq, ack.status), (3, AckStatus::Accepted));
    assert_eq!(b.seen.lock().unwrap().len(), 1);
    Ok(())
}

/// A peer that opens more streams than a listener serves for one peer: the first 16
/// are served (each answers a batch), the rest are reset unanswered, and the served
/// ones stay open (the count does not free up while they live).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_gets_at_most_sixteen_streams_served() -> anyhow::Result<()> {
    use talos_net::a2a::MAX_STREAMS_IN;

    let b = node(45, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    let raw = crate::raw::connect(&b.addr, pb).await?;
    let control = raw.control.clone();
    let n = MAX_STREAMS_IN + 24;
    let opens = (0..n).map(|_| {
        let mut control = control.clone();
        async move {
            control
                .open_stream(pb, talos_net::a2a::PROTOCOL)
                .await
                .unwrap()
        }
    });
    let mut streams = futures::future::join_all(opens).await;
    // An answer is a length prefix; a reset stream ends in an error or EOF.
    let answered = futures::future::join_all(streams.iter_mut().enumerate().map(
        |(i, stream)| async move { crate::raw::one_batch(stream, i as u64 + 1).await.is_ok() },
    ))
    .await;
    let served = answered.iter().filter(|a| **a).count();
    assert_eq!(served, MAX_STREAMS_IN, "{served} of {n} streams served");
    assert_eq!(b.seen.lock().unwrap().len(), MAX_STREAMS_IN);
    drop(streams);
    drop(raw);
    Ok(())
}

/// A dial that fails (here the event loop's, to a closed port) while a send waits for
/// its own dial to a good address does not fail the send: the first version failed every
/// open waiting on the peer at any failed dial to it, Kademlia's included. The good
/// address is a proxy that holds each connection 1 s before passing it on, so the
/// refusal comes while the send still waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_dials_failure_does_not_fail_a_waiting_send() -> anyhow::Result<()> {
    let a = node(48, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let b = node(49, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    let (via, relay) = slow_proxy(&b.addr).await?;
    a.client
        .add_address(pb, format!("/ip4/127.0.0.1/tcp/{via}").parse()?)
        .await?;
    let bad = closed_port()?;
    let frame = Frame::new(FrameKind::Ratchet, 1, vec![7; 35])?;
    let (sent, dialed) = tokio::join!(a.client.send(pb, frame), a.client.dial(pb, vec![bad]));
    assert!(dialed.is_err(), "the dial to a closed port succeeded");
    assert_eq!(sent?.status, AckStatus::Accepted);
    relay.abort();
    Ok(())
}

/// One connection may carry every stream the node's own protocols allow at once:
/// 64 invoke and 64 approval requests and the a2a streams, 144 in all. Yamux ends the
/// whole connection at the first stream past its bound, and the bound was 128: a peer
/// under a legitimate load lost all its calls with the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_carries_every_protocols_streams_at_once() -> anyhow::Result<()> {
    use libp2p::StreamProtocol;

    let b = node(50, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    let raw = crate::raw::connect(&b.addr, pb).await?;
    let invoke = StreamProtocol::new(talos_net::invoke::INVOKE_PROTOCOL);
    let approval = StreamProtocol::new(talos_net::approval::APPROVAL_PROTOCOL);
    let protocols =
        std::iter::repeat_n(talos_net::a2a::PROTOCOL, talos_net::a2a::MAX_STREAMS_IN - 1)
            .chain(std::iter::repeat_n(invoke, 64))
            .chain(std::iter::repeat_n(approval, 64));
    // Opened and left waiting for their first byte: each one holds its slot.
    let mut held = Vec::new();
    for protocol in protocols {
        let mut control = raw.control.clone();
        let stream =
            tokio::time::timeout(Duration::from_secs(30), control.open_stream(pb, protocol))
                .await?
                .map_err(|e| anyhow::anyhow!("stream {} not opened: {e}", held.len() + 1))?;
        held.push(stream);
    }
    // The last a2a stream the node serves this peer still carries a batch.
    let mut control = raw.control.clone();
    let mut stream = control.open_stream(pb, talos_net::a2a::PROTOCOL).await?;
    crate::raw::one_batch(&mut stream, 1).await?;
    assert_eq!(*raw.closed.borrow(), 0, "the connection was closed");
    assert_eq!(held.len(), 143);
    Ok(())
}

/// The event loop's side of the same: a `dial` waiting on its (slow) address is not
/// failed by the a2a behaviour's dial to a closed port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_dials_failure_does_not_fail_a_waiting_dial() -> anyhow::Result<()> {
    let a = node(51, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let b = node(52, "/ip4/127.0.0.1/tcp/0", NetConfig::default()).await?;
    let pb = b.client.local_peer_id();
    let (via, relay) = slow_proxy(&b.addr).await?;
    // The only address the a2a behaviour knows is refused.
    a.client.add_address(pb, closed_port()?).await?;
    let frame = Frame::new(FrameKind::Ratchet, 1, vec![7; 35])?;
    let good = format!("/ip4/127.0.0.1/tcp/{via}").parse()?;
    let (_, dialed) = tokio::join!(a.client.send(pb, frame), a.client.dial(pb, vec![good]));
    dialed?;
    relay.abort();
    Ok(())
}

/// A loopback address nothing listens on: a dial to it is refused at once.
fn closed_port() -> anyhow::Result<libp2p::Multiaddr> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Ok(format!("/ip4/127.0.0.1/tcp/{port}").parse()?)
}

/// A TCP proxy to `addr`'s port that holds each connection 1 s before passing it on:
/// its port, and the task to abort.
async fn slow_proxy(
    addr: &libp2p::Multiaddr,
) -> anyhow::Result<(u16, tokio::task::JoinHandle<()>)> {
    let target = addr
        .iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no TCP port in {addr}"))?;
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let via = proxy.local_addr()?.port();
    let relay = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = proxy.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(mut out) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    Ok((via, relay))
}
