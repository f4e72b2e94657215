//! The handle the node uses: cheap to clone, talks to the [`EventLoop`](crate::EventLoop)
//! over a bounded channel and awaits each answer on a oneshot.

use libp2p::request_response::ResponseChannel;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::error::NetError;
use crate::frame::{Ack, AckStatus, Frame};

/// What the client asks of the event loop.
pub(crate) enum Command {
    Listen {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<Multiaddr, NetError>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    AddAddress {
        peer: PeerId,
        addr: Multiaddr,
    },
    Dial {
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Send {
        peer: PeerId,
        frame: Frame,
        reply: oneshot::Sender<Result<Ack, NetError>>,
    },
    Respond {
        channel: ResponseChannel<Ack>,
        ack: Ack,
    },
    PutRecord {
        key: Vec<u8>,
        value: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    GetRecord {
        key: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<Vec<u8>>, NetError>>,
    },
    ConnectedPeers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
}

/// A frame from a peer, waiting for the node to make it durable and answer.
#[derive(Debug)]
pub struct InboundFrame {
    /// The authenticated sender (Noise/QUIC proved its key).
    pub peer: PeerId,
    /// The frame.
    pub frame: Frame,
    /// Where the ack goes; dropping it unanswered makes the sender resend later.
    pub responder: Responder,
}

/// The way back to one inbound frame's sender.
#[derive(Debug)]
pub struct Responder {
    pub(crate) channel: ResponseChannel<Ack>,
    pub(crate) seq: u64,
}

/// Drives the network from the node. Every method waits for the event loop's answer.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) tx: mpsc::Sender<Command>,
    pub(crate) peer: PeerId,
}

impl Client {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// This node's PeerId (its identity key).
    pub fn local_peer_id(&self) -> PeerId {
        self.peer
    }

    /// Starts listening; returns the address actually bound (port 0 resolved). A relay
    /// circuit address (`.../p2p/RELAY/p2p-circuit`) returns once the reservation holds.
    pub async fn listen(&self, addr: Multiaddr) -> Result<Multiaddr, NetError> {
        self.ask(|reply| Command::Listen { addr, reply }).await?
    }

    /// The addresses this node listens on now.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.ask(|reply| Command::ListenAddrs { reply }).await
    }

    /// Tells the swarm and the DHT where `peer` can be reached.
    pub async fn add_address(&self, peer: PeerId, addr: Multiaddr) -> Result<(), NetError> {
        self.tx
            .send(Command::AddAddress { peer, addr })
            .await
            .map_err(|_| NetError::Stopped)
    }

    /// Connects to `peer` (at `addrs`, or wherever the swarm knows it to be).
    pub async fn dial(&self, peer: PeerId, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        self.ask(|reply| Command::Dial { peer, addrs, reply })
            .await?
    }

    /// Sends one frame and waits for its ack. An error means no ack came: the frame may
    /// or may not have arrived, so the caller keeps it and resends the same frame.
    pub async fn send(&self, peer: PeerId, frame: Frame) -> Result<Ack, NetError> {
        self.ask(|reply| Command::Send { peer, frame, reply })
            .await?
    }

    /// Answers an inbound frame. Call it only once the frame is durable (or refused).
    pub async fn respond(&self, responder: Responder, status: AckStatus) -> Result<(), NetError> {
        let ack = Ack {
            seq: responder.seq,
            status,
        };
        self.tx
            .send(Command::Respond {
                channel: responder.channel,
                ack,
            })
            .await
            .map_err(|_| NetError::Stopped)
    }

    /// Publishes a DHT record (stored locally and on the closest peers).
    pub async fn put_record(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), NetError> {
        self.ask(|reply| Command::PutRecord { key, value, reply })
            .await?
    }

    /// Every value the DHT returns for `key`, unverified: the caller checks signatures
    /// and picks the newest.
    pub async fn get_record(&self, key: Vec<u8>) -> Result<Vec<Vec<u8>>, NetError> {
        self.ask(|reply| Command::GetRecord { key, reply }).await?
    }

    /// Peers with an open connection.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetError> {
        self.ask(|reply| Command::ConnectedPeers { reply }).await
    }
}
