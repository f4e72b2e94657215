//! `/talos/a2a/3.0.0`'s long-lived streams: more sends at once than a peer's streams,
//! and a kept stream whose peer went away and came back.

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
    Ok(())
}
