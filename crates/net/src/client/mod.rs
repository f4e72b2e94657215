//! The handle the node uses: cheap to clone, talks to the [`EventLoop`](crate::EventLoop)
//! over a bounded channel and awaits each answer on a oneshot. Frames skip the event
//! loop: they go straight onto the a2a streams ([`crate::a2a`]).

mod inbound;

use libp2p::request_response::ResponseChannel;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::error::NetError;
use crate::frame::{Ack, AckStatus, Frame};
use crate::invoke::{InvokeRequest, InvokeResponse};

pub(crate) use inbound::Batch;
pub use inbound::{
    ApprovalResponder, InboundApproval, InboundFrame, InboundInvoke, InvokeResponder, Responder,
};

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
        reply: oneshot::Sender<()>,
    },
    Dial {
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        reply: oneshot::Sender<Result<(), NetError>>,
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
    DhtStats {
        reply: oneshot::Sender<DhtStats>,
    },
    Invoke {
        peer: PeerId,
        request: Box<InvokeRequest>,
        reply: oneshot::Sender<Result<InvokeResponse, NetError>>,
    },
    AnswerInvoke {
        channel: ResponseChannel<InvokeResponse>,
        response: Box<InvokeResponse>,
    },
    Approval {
        peer: PeerId,
        message: Box<crate::approval::ApprovalMessage>,
        reply: oneshot::Sender<Result<crate::approval::ApprovalAck, NetError>>,
    },
    AnswerApproval {
        channel: ResponseChannel<crate::approval::ApprovalAck>,
        ack: crate::approval::ApprovalAck,
    },
    Publish {
        topic: Topic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Validated {
        id: libp2p::gossipsub::MessageId,
        source: PeerId,
        verdict: GossipVerdict,
    },
}

/// The node's verdict on a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipVerdict {
    /// Valid and applied: forward it.
    Accept,
    /// Invalid (bad signature, malformed): drop it and lower its sender's score.
    Reject,
    /// Not applied for a local reason (store failing, bounds full): drop it, blame no one.
    Ignore,
}

/// The gossip topics a node subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Revocation notices ([`crate::behaviour::REVOCATIONS_TOPIC`]).
    Revocations,
    /// Misbehaviour reports ([`crate::behaviour::REPORTS_TOPIC`]).
    Reports,
}

impl Topic {
    /// The topic's gossipsub name.
    pub const fn name(self) -> &'static str {
        match self {
            Topic::Revocations => crate::behaviour::REVOCATIONS_TOPIC,
            Topic::Reports => crate::behaviour::REPORTS_TOPIC,
        }
    }
}

/// A message from a gossip topic, not yet validated: the node checks it and says
/// [`Client::validated`], and only accepted ones are forwarded to other peers.
#[derive(Debug)]
pub struct GossipMessage {
    /// The topic it came on.
    pub topic: Topic,
    /// The message's bytes (at most [`crate::behaviour::MAX_GOSSIP_BYTES`]).
    pub data: Vec<u8>,
    /// The message's author (its libp2p signature was checked).
    pub author: Option<PeerId>,
    pub(crate) id: libp2p::gossipsub::MessageId,
    pub(crate) source: PeerId,
}

impl GossipMessage {
    /// The peer that forwarded it to us (not necessarily its author): the key for
    /// per-peer quotas.
    pub fn source(&self) -> PeerId {
        self.source
    }
}

/// Drives the network from the node. Every method waits for the event loop's answer.
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) tx: mpsc::Sender<Command>,
    pub(crate) peer: PeerId,
    pub(crate) a2a: std::sync::Arc<crate::a2a::Outbound>,
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

    /// Tells the swarm and the DHT where `peer` can be reached. Returns once the event
    /// loop has taken the address, so a send after it dials there: sends do not pass
    /// through the event loop, so queueing the address alone would not order them.
    pub async fn add_address(&self, peer: PeerId, addr: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::AddAddress { peer, addr, reply })
            .await
    }

    /// Connects to `peer` (at `addrs`, or wherever the swarm knows it to be).
    pub async fn dial(&self, peer: PeerId, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        self.ask(|reply| Command::Dial { peer, addrs, reply })
            .await?
    }

    /// Sends one frame and waits for its ack. An error means no ack came: the frame may
    /// or may not have arrived, so the caller keeps it and resends the same frame.
    pub async fn send(&self, peer: PeerId, frame: Frame) -> Result<Ack, NetError> {
        let seq = frame.seq();
        self.send_batch(peer, vec![frame])
            .await?
            .pop()
            .ok_or_else(|| NetError::Send {
                peer: peer.to_string(),
                seq,
                reason: "no ack".into(),
            })
    }

    /// Sends several frames for one peer in one request (at most [`crate::MAX_BATCH`],
    /// within one frame's bytes: see [`crate::batch_fits`]) and waits for their acks, one
    /// per frame, in order.
    pub async fn send_batch(&self, peer: PeerId, frames: Vec<Frame>) -> Result<Vec<Ack>, NetError> {
        self.a2a.send(peer, frames).await
    }

    /// Answers an inbound frame. Call it only once the frame is durable (or refused).
    pub async fn respond(
        &self,
        mut responder: Responder,
        status: AckStatus,
    ) -> Result<(), NetError> {
        responder.answered = true;
        let ack = Ack {
            seq: responder.seq,
            status,
        };
        responder.batch.answer(responder.index, ack);
        Ok(())
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

    /// Calls a peer agent and waits for the answer (or the invoke timeout).
    pub async fn invoke(
        &self,
        peer: PeerId,
        request: InvokeRequest,
    ) -> Result<InvokeResponse, NetError> {
        self.ask(|reply| Command::Invoke {
            peer,
            request: Box::new(request),
            reply,
        })
        .await?
    }

    /// Answers an inbound call.
    pub async fn answer_invoke(
        &self,
        mut responder: InvokeResponder,
        response: InvokeResponse,
    ) -> Result<(), NetError> {
        match responder.answer(response) {
            Some(cmd) => self.tx.send(cmd).await.map_err(|_| NetError::Stopped),
            None => Ok(()),
        }
    }

    /// Sends an approval request or grant to `peer`'s node; its acknowledgement.
    pub async fn send_approval(
        &self,
        peer: PeerId,
        message: crate::approval::ApprovalMessage,
    ) -> Result<crate::approval::ApprovalAck, NetError> {
        self.ask(|reply| Command::Approval {
            peer,
            message: Box::new(message),
            reply,
        })
        .await?
    }

    /// Acknowledges an approval message.
    pub async fn answer_approval(
        &self,
        mut responder: ApprovalResponder,
        ack: crate::approval::ApprovalAck,
    ) -> Result<(), NetError> {
        match responder.answer(ack) {
            Some(cmd) => self.tx.send(cmd).await.map_err(|_| NetError::Stopped),
            None => Ok(()),
        }
    }

    /// Publishes a signed statement on a gossip topic. Fails with no peer to send it to
    /// (the caller has applied it locally; for a revocation the chain carries it later).
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetError> {
        self.ask(|reply| Command::Publish { topic, data, reply })
            .await?
    }

    /// The node's verdict on a gossip message: accepted ones are forwarded, rejected
    /// ones dropped and their sender's score lowered, ignored ones just dropped.
    pub async fn validated(
        &self,
        message: &GossipMessage,
        verdict: GossipVerdict,
    ) -> Result<(), NetError> {
        self.tx
            .send(Command::Validated {
                id: message.id.clone(),
                source: message.source,
                verdict,
            })
            .await
            .map_err(|_| NetError::Stopped)
    }

    /// Peers with an open connection.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetError> {
        self.ask(|reply| Command::ConnectedPeers { reply }).await
    }

    /// Totals over this node's record lookups so far.
    pub async fn dht_stats(&self) -> Result<DhtStats, NetError> {
        self.ask(|reply| Command::DhtStats { reply }).await
    }
}

/// Totals over the record lookups (`get_record`) a node has finished.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DhtStats {
    /// Lookups finished, found or not.
    pub lookups: u64,
    /// Requests to other peers those lookups made in all (Kademlia's query statistics):
    /// divided by `lookups`, how far a lookup had to go.
    pub requests: u64,
}
