//! What can go wrong in the network layer.

use thiserror::Error;

/// A network operation failed. Messages name peers and addresses, never frame bodies.
#[derive(Debug, Error)]
pub enum NetError {
    /// The identity seed is not a valid Ed25519 secret key.
    #[error("identity key rejected by libp2p: {0}")]
    Identity(String),
    /// The transport stack could not be built.
    #[error("transport setup failed: {0}")]
    Transport(String),
    /// A listen address was refused.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// A dial failed.
    #[error("cannot reach peer {peer}: {reason}")]
    Dial {
        /// The peer.
        peer: String,
        /// Why.
        reason: String,
    },
    /// A frame was not acknowledged (timeout, closed connection, stream error).
    #[error("frame {seq} to {peer} not acknowledged: {reason}")]
    Send {
        /// The peer.
        peer: String,
        /// The frame's sequence number.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A gossip message could not be published (no peer subscribed, too large).
    #[error("gossip: {0}")]
    Gossip(String),
    /// A call to a peer agent got no answer (unreachable, stream failed, timed out).
    #[error("invoke to {peer} failed: {reason}")]
    Invoke {
        /// The peer.
        peer: String,
        /// Why.
        reason: String,
    },
    /// Too many operations of this kind are in flight; try again later.
    #[error("busy: {0} in flight")]
    Busy(&'static str),
    /// A DHT operation failed.
    #[error("DHT {op} failed: {reason}")]
    Dht {
        /// get or put.
        op: &'static str,
        /// Why.
        reason: String,
    },
    /// The event loop has stopped.
    #[error("the network event loop has stopped")]
    Stopped,
}
