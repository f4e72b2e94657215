//! `/talos/a2a/3.0.0`: frames and their acks on long-lived streams (spec: docs/a2a.md).
//!
//! Version 2 ran on libp2p's request-response: a new yamux stream and a protocol
//! negotiation per batch, the batch passed through the event loop and the connection
//! handler both ways, and a timer per request on the `futures-timer` thread, woken when a
//! request started and ended on both nodes. Measured on two nodes, that was three of the
//! eleven to thirteen thread switches each node made per message. Here a dialer keeps a
//! few streams to each peer and writes a batch on an idle one; the listener answers each
//! batch on the stream it came on, in order. The sending task writes and reads the
//! stream itself, so a frame passes no event loop on either side.
//!
//! - [`behaviour`] and [`handler`]: streams opened and accepted on each connection;
//! - [`outbound`]: the dialer's streams, at most [`MAX_STREAMS_OUT`] per peer;
//! - [`inbound`]: the listener, at most [`MAX_STREAMS_IN`] streams per peer;
//! - [`budget`]: the byte budgets inbound bodies are read under.
//!
//! Written by hand because request-response is the only ready-made protocol for this
//! shape, and its stream per request is what this replaces.

mod behaviour;
mod budget;
mod handler;
mod inbound;
mod outbound;

pub use behaviour::Behaviour;
pub use budget::{
    DEFAULT_BODY_DEADLINE, DEFAULT_PEER_BUDGET, DEFAULT_READ_BUDGET, PeerBudget, ReadBudget,
    ReadLimits,
};
pub use handler::{Handler, Opened};
pub(crate) use inbound::Inbound;
pub use outbound::Outbound;

use libp2p::StreamProtocol;

/// The protocol on the wire.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new(crate::A2A_PROTOCOL);
/// Streams a dialer keeps to one peer, each carrying one batch at a time: the sender's
/// window (256 frames, batches of up to 64) needs four; the rest is for mailbox traffic
/// beside it.
pub const MAX_STREAMS_OUT: usize = 8;
/// Streams a listener serves for one peer, across its connections; a stream past this is
/// reset at once. Twice the dialer's bound, so a dialer replacing a failed stream is
/// never refused while the listener has yet to see the old one end.
pub const MAX_STREAMS_IN: usize = 2 * MAX_STREAMS_OUT;
