//! The event loop's side of `/talos/approval/1.0.0`: outbound messages wait in a bounded
//! map for their acknowledgement; inbound ones go to the node over a bounded queue (full:
//! refused `busy` at once, and the sender tries again later).

use libp2p::PeerId;
use libp2p::request_response::{self, ResponseChannel};
use tokio::sync::oneshot;
use tracing::debug;

use super::EventLoop;
use crate::approval::{ApprovalAck, ApprovalMessage};
use crate::client::{ApprovalResponder, InboundApproval};
use crate::error::NetError;

impl EventLoop {
    pub(super) fn approval(
        &mut self,
        peer: PeerId,
        message: ApprovalMessage,
        reply: oneshot::Sender<Result<ApprovalAck, NetError>>,
    ) {
        if self.approvals_out.len() >= self.max_in_flight {
            let _ = reply.send(Err(NetError::Busy("approvals")));
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .approval
            .send_request(&peer, message);
        self.approvals_out.insert(id, reply);
    }

    pub(super) fn answer_approval(
        &mut self,
        channel: ResponseChannel<ApprovalAck>,
        ack: ApprovalAck,
    ) {
        if self
            .swarm
            .behaviour_mut()
            .approval
            .send_response(channel, ack)
            .is_err()
        {
            debug!("approval acknowledgement not delivered: stream closed");
        }
    }

    pub(super) fn on_approval(
        &mut self,
        event: request_response::Event<ApprovalMessage, ApprovalAck>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    let responder = ApprovalResponder {
                        channel: Some(channel),
                        tx: self.commands_tx.clone(),
                    };
                    let inbound = InboundApproval {
                        peer,
                        message: request,
                        responder,
                    };
                    if let Err(e) = self.approvals_in.try_send(inbound) {
                        let mut inbound = e.into_inner();
                        if let Some(channel) = inbound.responder.channel.take() {
                            let _ = self
                                .swarm
                                .behaviour_mut()
                                .approval
                                .send_response(channel, ApprovalAck::refused("busy"));
                        }
                    }
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(reply) = self.approvals_out.remove(&request_id) {
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
                if let Some(reply) = self.approvals_out.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Invoke {
                        peer: peer.to_string(),
                        reason: error.to_string(),
                    }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound approval stream failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}
