//! The event loop's side of `/talos/invoke/1.0.0`: outbound calls wait in a bounded map
//! for their answer; inbound calls go to the node over a bounded queue (full: refused
//! `busy` at once, so a flood costs the caller, not our memory).

use libp2p::PeerId;
use libp2p::request_response::{self, ResponseChannel};
use tokio::sync::oneshot;
use tracing::debug;

use super::EventLoop;
use crate::client::{InboundInvoke, InvokeResponder};
use crate::error::NetError;
use crate::invoke::{InvokeRequest, InvokeResponse};

impl EventLoop {
    pub(super) fn invoke(
        &mut self,
        peer: PeerId,
        request: InvokeRequest,
        reply: oneshot::Sender<Result<InvokeResponse, NetError>>,
    ) {
        if self.invokes_out.len() >= self.max_in_flight {
            let _ = reply.send(Err(NetError::Busy("invokes")));
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .invoke
            .send_request(&peer, request);
        self.invokes_out.insert(id, reply);
    }

    /// Sends the node's answer to an inbound call. It fails only if the caller's stream
    /// is gone, and then there is no one left to tell.
    pub(super) fn answer_invoke(
        &mut self,
        channel: ResponseChannel<InvokeResponse>,
        response: InvokeResponse,
    ) {
        if self
            .swarm
            .behaviour_mut()
            .invoke
            .send_response(channel, response)
            .is_err()
        {
            debug!("invoke answer not delivered: stream closed");
        }
    }

    pub(super) fn on_invoke(
        &mut self,
        event: request_response::Event<InvokeRequest, InvokeResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    let responder = InvokeResponder {
                        channel: Some(channel),
                        tx: self.commands_tx.clone(),
                    };
                    let call = InboundInvoke {
                        peer,
                        request,
                        responder,
                    };
                    if let Err(e) = self.invokes_in.try_send(call) {
                        let mut call = e.into_inner();
                        if let Some(channel) = call.responder.channel.take() {
                            let busy = InvokeResponse::refused("busy");
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .invoke
                                .send_response(channel, busy);
                        }
                    }
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(reply) = self.invokes_out.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id,
                error,
                peer,
                ..
            } => {
                if let Some(reply) = self.invokes_out.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Invoke {
                        peer: peer.to_string(),
                        reason: error.to_string(),
                    }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound invoke stream failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}
