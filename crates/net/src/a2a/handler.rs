//! The a2a connection handler: hands each inbound stream straight to its server
//! ([`super::Inbound::accept`], which spawns the stream's task or resets it past the
//! peer's bound) and opens the outbound streams the behaviour asks for.
//!
//! Written here rather than taken from `libp2p-stream`, whose handler passes inbound
//! streams through a channel that buffers one and drops the rest: a burst of new peers
//! (a swarm starting, a flood test) lost streams there before anyone could read them.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use libp2p::core::upgrade::ReadyUpgrade;
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionHandler, ConnectionHandlerEvent, Stream, StreamUpgradeError, SubstreamProtocol,
};
use libp2p::{PeerId, StreamProtocol};
use tokio::sync::oneshot;

use super::{Inbound, MAX_STREAMS_OUT, PROTOCOL};

/// Where an opened stream (or why none) goes.
pub type Opened = oneshot::Sender<Result<Stream, String>>;

/// One connection's a2a streams.
pub struct Handler {
    peer: PeerId,
    inbound: Arc<Inbound>,
    /// Opens asked for and not yet requested from the connection.
    wanted: VecDeque<Opened>,
}

impl Handler {
    pub(crate) fn new(peer: PeerId, inbound: Arc<Inbound>) -> Self {
        Handler {
            peer,
            inbound,
            wanted: VecDeque::new(),
        }
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = Opened;
    type ToBehaviour = Infallible;
    type InboundProtocol = ReadyUpgrade<StreamProtocol>;
    type OutboundProtocol = ReadyUpgrade<StreamProtocol>;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = Opened;

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol> {
        SubstreamProtocol::new(ReadyUpgrade::new(PROTOCOL), ())
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, Opened, Self::ToBehaviour>> {
        // The connection polls its handler again after every behaviour event, so a
        // queued open needs no waker of its own.
        while let Some(opened) = self.wanted.pop_front() {
            if opened.is_closed() {
                continue; // its sender gave up (deadline): open nothing for it
            }
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(ReadyUpgrade::new(PROTOCOL), opened),
            });
        }
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, opened: Opened) {
        // The dialer holds at most MAX_STREAMS_OUT streams per peer, so more opens than
        // that waiting here means senders gave up and asked again: refuse the excess.
        self.wanted.retain(|o| !o.is_closed());
        if self.wanted.len() >= MAX_STREAMS_OUT {
            let _ = opened.send(Err("too many a2a streams being opened".into()));
            return;
        }
        self.wanted.push_back(opened);
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<'_, Self::InboundProtocol, Self::OutboundProtocol, (), Opened>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: stream,
                ..
            }) => self.inbound.accept(self.peer, stream),
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: stream,
                info: opened,
            }) => {
                let _ = opened.send(Ok(stream));
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { info, error }) => {
                let reason = match error {
                    StreamUpgradeError::NegotiationFailed => {
                        format!("the peer does not speak {PROTOCOL}")
                    }
                    StreamUpgradeError::Timeout => "stream negotiation timed out".into(),
                    StreamUpgradeError::Io(e) => e.to_string(),
                    StreamUpgradeError::Apply(never) => match never {},
                };
                let _ = info.send(Err(reason));
            }
            _ => {}
        }
    }
}
