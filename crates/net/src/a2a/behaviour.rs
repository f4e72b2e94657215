//! The a2a network behaviour: a [`Handler`] per connection, and the routing of stream
//! opens from the client's [`super::Outbound`] to a connection to the peer, dialing it
//! first when there is none.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionId, DialError, DialFailure, FromSwarm,
    NetworkBehaviour, NotifyHandler, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;

use super::Inbound;
use super::handler::{Handler, Opened};

/// Opens waiting for a dial, across all peers.
const MAX_WAITING: usize = 1024;

/// A stream open the client asks for.
pub(crate) struct Open {
    pub(crate) peer: PeerId,
    pub(crate) opened: Opened,
}

/// The a2a protocol's behaviour.
pub struct Behaviour {
    inbound: Arc<Inbound>,
    opens: mpsc::Receiver<Open>,
    /// Established connections per peer.
    connections: HashMap<PeerId, Vec<ConnectionId>>,
    /// Opens waiting for a connection to their peer.
    waiting: HashMap<PeerId, Vec<Opened>>,
    /// Our own dial to each peer with opens waiting: only its failure fails them (a
    /// failed dial of another behaviour's, say to a stale address, says nothing of ours).
    dialing: HashMap<PeerId, ConnectionId>,
    events: VecDeque<ToSwarm<Infallible, Opened>>,
}

impl Behaviour {
    pub(crate) fn new(inbound: Arc<Inbound>, opens: mpsc::Receiver<Open>) -> Self {
        Behaviour {
            inbound,
            opens,
            connections: HashMap::new(),
            waiting: HashMap::new(),
            dialing: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    fn route(&mut self, open: Open) {
        if let Some(&conn) = self.connections.get(&open.peer).and_then(|c| c.last()) {
            self.events.push_back(ToSwarm::NotifyHandler {
                peer_id: open.peer,
                handler: NotifyHandler::One(conn),
                event: open.opened,
            });
            return;
        }
        for opens in self.waiting.values_mut() {
            opens.retain(|o| !o.is_closed());
        }
        self.waiting.retain(|_, opens| !opens.is_empty());
        if self.waiting.values().map(Vec::len).sum::<usize>() >= MAX_WAITING {
            let _ = open
                .opened
                .send(Err("too many a2a streams waiting for a dial".into()));
            return;
        }
        let first = !self.waiting.contains_key(&open.peer);
        self.waiting.entry(open.peer).or_default().push(open.opened);
        if first {
            // Our own dial even while another is under way (as request-response does):
            // waiting on someone else's could mean a QUIC dial to a dead address and
            // its 10 s handshake timeout, where ours is refused by TCP at once.
            let opts = DialOpts::peer_id(open.peer)
                .condition(PeerCondition::Disconnected)
                .build();
            self.dialing.insert(open.peer, opts.connection_id());
            self.events.push_back(ToSwarm::Dial { opts });
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(peer, self.inbound.clone()))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(peer, self.inbound.clone()))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                self.dialing.remove(&e.peer_id);
                self.connections
                    .entry(e.peer_id)
                    .or_default()
                    .push(e.connection_id);
                for opened in self.waiting.remove(&e.peer_id).unwrap_or_default() {
                    self.events.push_back(ToSwarm::NotifyHandler {
                        peer_id: e.peer_id,
                        handler: NotifyHandler::One(e.connection_id),
                        event: opened,
                    });
                }
            }
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                connection_id,
                ..
            }) => {
                if let Some(conns) = self.connections.get_mut(&peer_id) {
                    conns.retain(|c| *c != connection_id);
                    if conns.is_empty() {
                        self.connections.remove(&peer_id);
                    }
                }
            }
            FromSwarm::DialFailure(DialFailure {
                peer_id: Some(peer),
                error,
                connection_id,
            }) if self.dialing.get(&peer) == Some(&connection_id) => {
                self.dialing.remove(&peer);
                let waiting = self.waiting.remove(&peer).unwrap_or_default();
                // Connected meanwhile (the establishment normally routed them already).
                if let (DialError::DialPeerConditionFalse(_), Some(&conn)) =
                    (&error, self.connections.get(&peer).and_then(|c| c.last()))
                {
                    for opened in waiting {
                        self.events.push_back(ToSwarm::NotifyHandler {
                            peer_id: peer,
                            handler: NotifyHandler::One(conn),
                            event: opened,
                        });
                    }
                    return;
                }
                let reason = format!("dial failed: {error}");
                for opened in waiting {
                    let _ = opened.send(Err(reason.clone()));
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        while self.events.is_empty() {
            match self.opens.poll_recv(cx) {
                Poll::Ready(Some(open)) => self.route(open),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        match self.events.pop_front() {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }
}
