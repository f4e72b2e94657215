//! What arrives from peers and waits for the node's answer: frames, calls and approval
//! messages, each with the responder that carries the answer back. An unanswered
//! responder answers for itself on drop (`Later`, `unanswered`), so no peer is left
//! waiting on a request the node dropped.

use std::sync::{Arc, Mutex};

use libp2p::PeerId;
use libp2p::request_response::ResponseChannel;
use tokio::sync::{mpsc, oneshot};

use super::Command;
use crate::frame::{Ack, AckStatus, Frame};
use crate::invoke::{InvokeRequest, InvokeResponse};

/// An approval request or grant from a peer's node, to be acknowledged once durable.
#[derive(Debug)]
pub struct InboundApproval {
    /// The authenticated sender.
    pub peer: PeerId,
    /// The message, parsed and bounds-checked.
    pub message: crate::approval::ApprovalMessage,
    /// Where the acknowledgement goes.
    pub responder: ApprovalResponder,
}

/// The way back to one approval message. Dropping it unanswered refuses the message
/// (`unanswered`), so the sender knows to try again.
#[derive(Debug)]
pub struct ApprovalResponder {
    pub(crate) channel: Option<ResponseChannel<crate::approval::ApprovalAck>>,
    pub(crate) tx: mpsc::WeakSender<Command>,
}

impl ApprovalResponder {
    pub(super) fn answer(&mut self, ack: crate::approval::ApprovalAck) -> Option<Command> {
        self.channel
            .take()
            .map(|channel| Command::AnswerApproval { channel, ack })
    }
}

impl Drop for ApprovalResponder {
    fn drop(&mut self) {
        let refused = crate::approval::ApprovalAck::refused("unanswered");
        if let (Some(cmd), Some(tx)) = (self.answer(refused), self.tx.upgrade()) {
            let _ = tx.try_send(cmd);
        }
    }
}

/// A call from a peer agent, waiting for the node's decision (and its agent's answer).
#[derive(Debug)]
pub struct InboundInvoke {
    /// The authenticated caller (Noise/QUIC proved its key).
    pub peer: PeerId,
    /// The call, parsed and bounds-checked.
    pub request: InvokeRequest,
    /// Where the answer goes.
    pub responder: InvokeResponder,
}

/// The way back to one inbound call. Dropping it unanswered answers `Failed` with kind
/// `unanswered`, so the caller is told rather than left to its timeout.
#[derive(Debug)]
pub struct InvokeResponder {
    pub(crate) channel: Option<ResponseChannel<InvokeResponse>>,
    /// Weak, so a responder never keeps the event loop's command channel open.
    pub(crate) tx: mpsc::WeakSender<Command>,
}

impl InvokeResponder {
    pub(super) fn answer(&mut self, response: InvokeResponse) -> Option<Command> {
        self.channel.take().map(|channel| Command::AnswerInvoke {
            channel,
            response: Box::new(response),
        })
    }
}

impl Drop for InvokeResponder {
    fn drop(&mut self) {
        let failed = InvokeResponse::Failed {
            kind: "unanswered".into(),
            detail: None,
        };
        if let (Some(cmd), Some(tx)) = (self.answer(failed), self.tx.upgrade()) {
            // A full command queue loses only this courtesy: the caller times out.
            let _ = tx.try_send(cmd);
        }
    }
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

/// The acks of one inbound batch, filled in as the node answers each of its frames; they
/// go back to the stream that read the batch once every frame has one.
#[derive(Debug)]
pub(crate) struct Batch {
    slots: Mutex<BatchSlots>,
}

#[derive(Debug)]
struct BatchSlots {
    reply: Option<oneshot::Sender<Vec<Ack>>>,
    acks: Vec<Option<Ack>>,
}

impl Batch {
    pub(crate) fn new(reply: oneshot::Sender<Vec<Ack>>, frames: usize) -> Arc<Self> {
        Arc::new(Batch {
            slots: Mutex::new(BatchSlots {
                reply: Some(reply),
                acks: vec![None; frames],
            }),
        })
    }

    /// Records one frame's answer (the first one counts), and hands the stream every
    /// ack once every frame has one.
    pub(crate) fn answer(&self, index: usize, ack: Ack) {
        let Ok(mut s) = self.slots.lock() else {
            return;
        };
        if let Some(slot) = s.acks.get_mut(index)
            && slot.is_none()
        {
            *slot = Some(ack);
        }
        if !s.acks.iter().all(Option::is_some) {
            return;
        }
        let acks = s.acks.iter().flatten().copied().collect();
        if let Some(reply) = s.reply.take() {
            // The stream is gone when this fails: its sender resends and gets
            // `Duplicate`, so nothing is lost by ignoring it.
            let _ = reply.send(acks);
        }
    }
}

/// The way back to one inbound frame's sender. Dropping it unanswered answers `Later`
/// (the sender keeps the frame and resends it).
#[derive(Debug)]
pub struct Responder {
    pub(crate) batch: Arc<Batch>,
    pub(crate) index: usize,
    pub(crate) seq: u64,
    pub(crate) answered: bool,
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let later = Ack {
            seq: self.seq,
            status: AckStatus::Later,
        };
        self.batch.answer(self.index, later);
    }
}
