//! A raw libp2p peer (TCP, noise, yamux and `libp2p-stream`, nothing of talos) that
//! tests use to speak to a node by hand: open its streams, or answer its pings or not.

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A raw peer connected to one node.
pub(crate) struct Raw {
    pub(crate) control: libp2p_stream::Control,
    /// How many of its connections have closed so far.
    pub(crate) closed: watch::Receiver<u32>,
    driver: JoinHandle<()>,
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Dials `peer` at `addr` and returns once the connection is up. The raw peer keeps
/// idle connections for an hour: any close is the node's doing.
pub(crate) async fn connect(addr: &Multiaddr, peer: PeerId) -> anyhow::Result<Raw> {
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )?
        .with_behaviour(|_| libp2p_stream::Behaviour::new())?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm.dial(addr.clone().with(libp2p::multiaddr::Protocol::P2p(peer)))?;
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::ConnectionEstablished { .. } => break,
            SwarmEvent::OutgoingConnectionError { error, .. } => anyhow::bail!("dial: {error}"),
            _ => {}
        }
    }
    let control = swarm.behaviour().new_control();
    let (count, closed) = watch::channel(0u32);
    let driver = tokio::spawn(async move {
        loop {
            if let SwarmEvent::ConnectionClosed { .. } = swarm.select_next_some().await {
                count.send_modify(|n| *n += 1);
            }
        }
    });
    Ok(Raw {
        control,
        closed,
        driver,
    })
}

/// Writes one batch of a single 35-byte frame numbered `seq` on an a2a stream and reads
/// the answer's length prefix: an error if the stream was reset or closed unanswered.
pub(crate) async fn one_batch(stream: &mut libp2p::Stream, seq: u64) -> anyhow::Result<()> {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let frame = talos_net::Frame::new(talos_net::FrameKind::Ratchet, seq, vec![3; 35])?;
    let body = talos_net::frame::encode_batch(&[frame]);
    let mut msg = u32::try_from(body.len())?.to_be_bytes().to_vec();
    msg.extend(body);
    stream.write_all(&msg).await?;
    stream.flush().await?;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).await?;
    Ok(())
}
