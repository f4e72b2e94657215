//! The event loop's side of the a2a frame protocol: outbound batches are checked against
//! their bounds and wait, bounded, for their acks; inbound batches go to the node over
//! a bounded queue with a responder for their acks; outbound results settle the sends
//! waiting on them.

use libp2p::PeerId;
use libp2p::request_response::{self, ResponseChannel};
use tracing::{debug, warn};

use super::{EventLoop, Reply};
use crate::client::{Batch, InboundFrame, Responder};
use crate::error::NetError;
use crate::frame::{Ack, Frame};

impl EventLoop {
    pub(super) fn send(&mut self, peer: PeerId, frames: Vec<Frame>, reply: Reply<Vec<Ack>>) {
        if self.sends.len() >= self.max_in_flight {
            let _ = reply.send(Err(NetError::Busy("frames")));
            return;
        }
        let seqs: Vec<u64> = frames.iter().map(Frame::seq).collect();
        let fits = !frames.is_empty()
            && frames.len() <= crate::MAX_BATCH
            && frames.iter().map(Frame::encode_len).sum::<usize>()
                <= crate::frame::MAX_BATCH_FRAME_BYTES;
        if !fits {
            let _ = reply.send(Err(NetError::Send {
                peer: peer.to_string(),
                seq: seqs.first().copied().unwrap_or(0),
                reason: "batch empty or over its bounds".into(),
            }));
            return;
        }
        let id = self.swarm.behaviour_mut().a2a.send_request(&peer, frames);
        self.sends.insert(id, (peer, seqs, reply));
    }

    /// Answers an inbound batch once every frame in it is answered.
    pub(super) fn respond(&mut self, channel: ResponseChannel<Vec<Ack>>, acks: Vec<Ack>) {
        // Fails only if the stream is gone; the sender then resends and gets
        // `Duplicate`, so nothing is lost by ignoring it.
        if self
            .swarm
            .behaviour_mut()
            .a2a
            .send_response(channel, acks)
            .is_err()
        {
            debug!("acks not delivered: stream closed");
        }
    }

    pub(super) fn on_a2a(&mut self, event: request_response::Event<Vec<Frame>, Vec<Ack>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    let batch = Batch::new(channel, request.len(), self.commands_tx.clone());
                    for (index, frame) in request.into_iter().enumerate() {
                        let seq = frame.seq();
                        let inbound = InboundFrame {
                            peer,
                            frame,
                            responder: Responder {
                                batch: batch.clone(),
                                index,
                                seq,
                                answered: false,
                            },
                        };
                        // A full queue answers the frame `Later` (its responder is
                        // dropped): its sender keeps it and resends, so this is
                        // backpressure, not loss.
                        if let Err(e) = self.inbound.try_send(inbound) {
                            warn!(%peer, seq, "inbound queue full or closed; frame left to its sender's retry");
                            drop(e);
                        }
                    }
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((peer, seqs, reply)) = self.sends.remove(&request_id) {
                        let named: Vec<u64> = response.iter().map(|a| a.seq).collect();
                        let result = if named == seqs {
                            Ok(response)
                        } else {
                            Err(NetError::Send {
                                peer: peer.to_string(),
                                seq: seqs.first().copied().unwrap_or(0),
                                reason: "acks do not name the frames sent".into(),
                            })
                        };
                        let _ = reply.send(result);
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((peer, seqs, reply)) = self.sends.remove(&request_id) {
                    let _ = reply.send(Err(NetError::Send {
                        peer: peer.to_string(),
                        seq: seqs.first().copied().unwrap_or(0),
                        reason: error.to_string(),
                    }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound a2a stream failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}
