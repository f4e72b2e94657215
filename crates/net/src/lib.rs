//! talos-net: the agents' peer-to-peer layer on rust-libp2p and tokio.
//!
//! - [`frame`]: the `/talos/a2a/3.0.0` wire format: a [`Frame`] carries an X3DH/PQXDH
//!   initial message or a ratchet message with its per-stream sequence number, and an
//!   [`Ack`] answers it once the receiver has made it durable;
//! - [`directory`]: the signed DHT record DID → addresses + prekey bundle, and its
//!   parser (which is also the DHT's record validator);
//! - [`a2a`]: the frame protocol on long-lived streams, a few per peer, with its read
//!   budgets; [`codec`]: the length-prefixed, size-bounded messages it and the
//!   request/response protocols share;
//! - [`invoke`]: the `/talos/invoke/1.0.0` call/answer format between nodes' sidecars
//!   (JSON, parsed = bounded) and its codec;
//! - [`behaviour`]: the composed behaviour (TCP+Noise+Yamux and QUIC, identify, ping,
//!   Kademlia, mDNS, relay client and optional relay server, DCUtR, AutoNAT, connection
//!   and memory limits);
//! - [`client`] and [`event_loop`]: the split of rust-libp2p's `file-sharing` example. The
//!   [`EventLoop`] owns the `Swarm`; a cloneable [`Client`] sends it commands over a bounded
//!   channel, and inbound frames come out of another bounded channel. Nothing queues without
//!   a bound: a full channel is backpressure, and an unacknowledged frame is simply resent
//!   by its sender.
//!
//! This crate moves bytes and knows peers. What the bytes mean (sessions, the outbox and
//! inbox, authorization) is the node's business.
//!
//! The frame format needs no network:
//!
//! ```
//! use talos_net::{Frame, FrameKind};
//! let frame = Frame::new(FrameKind::Ratchet, 7, b"sealed bytes".to_vec())?;
//! let back = Frame::parse(&frame.encode())?;
//! assert_eq!((back.seq(), back.body()), (7, b"sealed bytes".as_slice()));
//! assert!(Frame::parse(&[0xff; 3]).is_err()); // bad input is a typed error, never a panic
//! # Ok::<(), talos_net::FrameError>(())
//! ```

#[cfg(feature = "swarm")]
pub mod a2a;
pub mod approval;
#[cfg(feature = "swarm")]
pub mod behaviour;
#[cfg(feature = "swarm")]
pub mod client;
#[cfg(feature = "swarm")]
pub mod codec;
#[cfg(feature = "swarm")]
pub mod config;
pub mod directory;
#[cfg(feature = "swarm")]
pub mod error;
#[cfg(feature = "swarm")]
pub mod event_loop;
pub mod frame;
pub mod invoke;

#[cfg(feature = "swarm")]
pub use client::{
    ApprovalResponder, Client, DhtStats, GossipMessage, GossipVerdict, InboundApproval,
    InboundFrame, InboundInvoke, InvokeResponder, Responder, Topic,
};
#[cfg(feature = "swarm")]
pub use config::NetConfig;
pub use directory::{DirectoryRecord, RecordError};
#[cfg(feature = "swarm")]
pub use error::NetError;
#[cfg(feature = "swarm")]
pub use event_loop::EventLoop;
pub use frame::{
    Ack, AckStatus, Deposit, Frame, FrameError, FrameKind, MAX_BATCH, RefuseReason, batch_fits,
};
#[cfg(feature = "swarm")]
pub use libp2p::multiaddr::Protocol;
#[cfg(feature = "swarm")]
pub use libp2p::{Multiaddr, PeerId};

/// The frame protocol's name on the wire.
/// Version 3: batches and their acks alternate on long-lived streams (docs/a2a.md).
/// Version 2 carried one batch per stream (request-response) and version 1 one frame
/// per stream; their messages are version 3's, but a version 3 stream carries many, so
/// the versions are distinct protocols.
pub const A2A_PROTOCOL: &str = "/talos/a2a/3.0.0";

/// What [`new`] builds, as rust-libp2p's `file-sharing` example hands them out: the
/// client that drives the network, the event loop to spawn (it owns the swarm), and the
/// bounded streams it feeds. A stream its owner drops is answered as a full one would be
/// (frames left to their senders' retries, calls refused `busy`, gossip ignored).
#[cfg(feature = "swarm")]
pub struct Network {
    /// Drives the event loop; cloneable.
    pub client: Client,
    /// Spawn it (`tokio::spawn(event_loop.run())`).
    pub event_loop: EventLoop,
    /// Inbound frames, each to be answered through its responder.
    pub inbound: tokio::sync::mpsc::Receiver<InboundFrame>,
    /// Inbound calls from peers' sidecars.
    pub invokes: tokio::sync::mpsc::Receiver<InboundInvoke>,
    /// Gossip messages awaiting validation, one queue per topic.
    pub gossip: GossipStreams,
    /// Approval requests and grants from peers' nodes, each to be acknowledged.
    pub approvals: tokio::sync::mpsc::Receiver<InboundApproval>,
}

/// The gossip a node validates: one bounded queue per topic (a flood of reports, which
/// anyone can sign, never delays a revocation notice), and a signal for republishing.
#[cfg(feature = "swarm")]
pub struct GossipStreams {
    /// Revocation notices.
    pub revocations: tokio::sync::mpsc::Receiver<GossipMessage>,
    /// Misbehaviour reports.
    pub reports: tokio::sync::mpsc::Receiver<GossipMessage>,
    /// Notified (coalescing) when a peer subscribes to the reports topic, so the node can
    /// republish its own reports to it: gossip has no history for late joiners.
    pub report_subscribers: std::sync::Arc<tokio::sync::Notify>,
}

/// Builds the node's network half.
///
/// The libp2p key is the agent's Ed25519 identity key, so its `PeerId` and its did:key
/// name the same key (`talos_identity::peer_id` converts between them).
#[cfg(feature = "swarm")]
pub fn new(
    identity: &talos_identity::keys::IdentityKey,
    config: NetConfig,
) -> Result<Network, NetError> {
    event_loop::build(identity, config)
}
