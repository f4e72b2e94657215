//! Liveness: a connection whose peer stops answering pings is closed (libp2p itself no
//! longer does this), and one that answers is kept.

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::StreamProtocol;
use talos_net::NetConfig;

use crate::net::node;

const PING: StreamProtocol = StreamProtocol::new("/ipfs/ping/1.0.0");
/// Pings the raw peer answers before it goes silent.
const ANSWERED: usize = 5;

/// Pings every 100 ms, each allowed 5 s; only the pings can close a connection within
/// a test.
fn pinging() -> NetConfig {
    NetConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(3600),
        ..NetConfig::default()
    }
}

/// The raw peer echoes the node's first five pings, then holds the stream and answers
/// nothing more, like a peer behind a black hole. While it answers, the connection
/// stays (pings come every 100 ms and may wait 5 s); once it stops, the node closes the
/// connection after two failed pings (libp2p reports the second failure in a row).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_whose_pings_go_unanswered_is_closed() -> anyhow::Result<()> {
    let b = node(46, "/ip4/127.0.0.1/tcp/0", pinging()).await?;
    let raw = crate::raw::connect(&b.addr, b.client.local_peer_id()).await?;
    let mut incoming = raw.control.clone().accept(PING)?;
    let (_, mut stream) = tokio::time::timeout(Duration::from_secs(60), incoming.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no ping stream"))?;
    // libp2p-ping sends every ping on the one stream: 32 bytes, echoed.
    for i in 0..ANSWERED {
        let mut payload = [0u8; 32];
        stream.read_exact(&mut payload).await?;
        assert_eq!(*raw.closed.borrow(), 0, "closed while answering (ping {i})");
        stream.write_all(&payload).await?;
        stream.flush().await?;
    }
    // Silent from here: the stream stays open and unread.
    let mut closed = raw.closed.clone();
    tokio::time::timeout(Duration::from_secs(60), closed.wait_for(|n| *n >= 1))
        .await
        .map_err(|_| anyhow::anyhow!("the connection outlived 60 s of unanswered pings"))??;
    drop(stream);
    Ok(())
}

/// A peer that does not speak ping (the raw peer registers no ping protocol and answers
/// `na`) is not closed for it: with 0-RTT negotiation the refusal reaches the node as
/// an I/O error, not as `Unsupported`. Two failures in a row would close the connection;
/// in 3 s at one attempt per 100 ms there are many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_without_ping_is_kept() -> anyhow::Result<()> {
    let b = node(47, "/ip4/127.0.0.1/tcp/0", pinging()).await?;
    let raw = crate::raw::connect(&b.addr, b.client.local_peer_id()).await?;
    // The connection still carries a stream at the end (a reset connection would not).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        *raw.closed.borrow(),
        0,
        "closed a peer that does not speak ping"
    );
    let mut control = raw.control.clone();
    let mut stream = control
        .open_stream(b.client.local_peer_id(), talos_net::a2a::PROTOCOL)
        .await?;
    crate::raw::one_batch(&mut stream, 1).await?;
    Ok(())
}
