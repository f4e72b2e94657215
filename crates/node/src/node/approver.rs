//! Approvals between nodes (capability FORMAT.md §3.5, `apv`; `/talos/approval/1.0.0`).
//!
//! As the callee's node (the holder): a call held for approval is persisted and audited
//! (`approval_requested`) before its caller is told `pending`, then each approver's node
//! is asked; an approval that arrives is verified, persisted and audited
//! (`approval_received`) before its sender is acknowledged.
//!
//! As an approver's node: what holders ask is kept (bounded per holder and in all,
//! durable under `asked/<request id>`) for this agent to list, approve or decline. An
//! approval is signed, audited (`approval_granted`) and sent to the holder; the ask is
//! forgotten once the holder acknowledged it.

use std::sync::Arc;
use std::time::Duration;

use talos_audit::event::EventKind;
use talos_capability::approval;
use talos_net::approval::{ApprovalAck, ApprovalMessage, Ask};
use talos_net::invoke::InvokeResponse;
use talos_net::{Client, InboundApproval, InvokeResponder};
use talos_primitives::{CapabilityId, Did, Ed25519Public, Hash32};
use tokio::sync::mpsc;
use tracing::debug;

use super::approvals::{self, Held, Request};
use super::asks::asked_key;
pub(crate) use super::asks::{AskBook, Asked};
use super::sidecar::{Sidecar, now_ms};
use crate::error::NodeError;

/// The least time an ask must have left to be kept (seconds): asks about to lapse would
/// only cost a synced write each.
const MIN_ASK_LIFE: u64 = 60;
/// Asks one peer may send a second, and in a burst.
const ASKS_PER_PEER: u32 = 2;
const ASK_BURST: u32 = 16;
/// Attempts to reach an approver's node, this far apart.
const ASK_TRIES: u32 = 5;
const ASK_GAP: Duration = Duration::from_secs(2);

pub(super) fn now() -> u64 {
    now_ms() / 1000
}

/// Sends `message` to `to`'s node, looking it up when not connected, a few times.
async fn deliver(
    client: &Client,
    to: &Ed25519Public,
    message: ApprovalMessage,
) -> Result<ApprovalAck, NodeError> {
    let peer = super::Node::peer_id(to)?;
    let mut last = NodeError::PeerUnreachable("no attempt".into());
    for attempt in 0..ASK_TRIES {
        if attempt > 0 {
            tokio::time::sleep(ASK_GAP).await;
        }
        if client.dial(peer, Vec::new()).await.is_err() {
            let lookup = super::directory::lookup(client, to);
            let _ = tokio::time::timeout(Duration::from_secs(10), lookup).await;
        }
        match client.send_approval(peer, message.clone()).await {
            Ok(ack) if ack.kind.as_deref() == Some("busy") => {
                last = NodeError::Refused {
                    kind: "busy".into(),
                }
            }
            Ok(ack) => return Ok(ack),
            Err(e) => last = NodeError::PeerUnreachable(e.to_string()),
        }
    }
    Err(last)
}

impl Sidecar {
    /// A call held under request `id`: when it opened the request, persist and audit it
    /// before answering `pending`, then ask the approvers; when its approvers were last
    /// asked long ago (one was down, or this node restarted), answer and ask again.
    pub(super) fn hold_for_approval(
        self: &Arc<Self>,
        responder: InvokeResponder,
        id: CapabilityId,
        then: Held,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let req = match then {
                Held::Waiting => return me.refuse_pending(responder, "pending").await,
                Held::Reask(req) => {
                    me.refuse_pending(responder, "pending").await;
                    req
                }
                Held::Opened(req) => {
                    let event = EventKind::ApprovalRequested {
                        request: req.dig,
                        caller: req.caller,
                    };
                    let durable = {
                        let _order = me.approvals_write.lock().await;
                        approvals::persist(&me.store, id, Some((*req).clone()))
                            .await
                            .is_ok()
                    } && me.auditor.record(vec![event]).await;
                    if !durable {
                        if let Ok(mut gate) = me.gate.lock() {
                            gate.requests().remove(&id);
                        }
                        me.forget_request(id);
                        return me.refuse_pending(responder, "unavailable").await;
                    }
                    me.refuse_pending(responder, "pending").await;
                    req
                }
            };
            me.ask_approvers(id, &req);
        });
    }

    /// Sends request `id` to each of its approvers' nodes (each in its own task).
    fn ask_approvers(&self, id: CapabilityId, req: &Request) {
        let ask = Ask {
            id: id.to_string(),
            dig: req.dig.to_string(),
            caller: req.caller.to_string(),
            resource: req.resource.clone(),
            action: req.action.clone(),
            args: req.args.to_string(),
            exp: req.exp,
        };
        for approver in req.apv.by.iter().filter_map(Did::as_key) {
            let (client, ask, approver) = (self.client.clone(), ask.clone(), *approver);
            tokio::spawn(async move {
                if let Err(e) = deliver(&client, &approver, ApprovalMessage::Ask(ask)).await {
                    debug!(%e, "an approver was not reached");
                }
            });
        }
    }

    async fn refuse_pending(&self, responder: InvokeResponder, kind: &str) {
        self.metrics.call(Some(kind));
        let _ = self
            .client
            .answer_invoke(responder, InvokeResponse::refused(kind))
            .await;
    }

    /// Forgets a request on disk too (lapsed, or not made durable).
    pub(super) fn forget_request(self: &Arc<Self>, id: CapabilityId) {
        let (store, order) = (self.store.clone(), self.approvals_write.clone());
        tokio::spawn(async move {
            let _order = order.lock().await;
            if let Err(e) = approvals::persist(&store, id, None).await {
                debug!(%e, "a lapsed approval request was not deleted");
            }
        });
    }

    /// An approval from `from`'s node for a call this node holds: audited and durable
    /// before it counts (a call decided meanwhile does not see it) and before its sender
    /// is acknowledged.
    async fn take_grant(&self, from: &Did, compact: &str) -> ApprovalAck {
        let Ok(a) = approval::verify(compact) else {
            return ApprovalAck::refused("bad_approval");
        };
        // From its approver's own node, so the approver hears the acknowledgement.
        if a.claims.iss != *from {
            return ApprovalAck::refused("not_approver");
        }
        let (id, commitment, dig) = (a.claims.req, a.commitment, a.claims.dig);
        let me = self.identity.did();
        let _order = self.approvals_write.lock().await;
        let staged = match self.gate.lock() {
            Ok(mut gate) => gate.requests().with_grant(&me, &a, compact, now()),
            Err(_) => return ApprovalAck::refused("unavailable"),
        };
        let req = match staged {
            Ok(req) => req,
            Err(kind) => return ApprovalAck::refused(kind),
        };
        let event = EventKind::ApprovalReceived {
            approval: commitment,
            approver: *from,
            request: dig,
        };
        if !self.auditor.record(vec![event]).await
            || approvals::persist(&self.store, id, Some(req))
                .await
                .is_err()
        {
            return ApprovalAck::refused("unavailable");
        }
        let taken = match self.gate.lock() {
            Ok(mut gate) => gate.requests().grant(&me, a, compact, now()),
            Err(_) => Err("unavailable"),
        };
        match taken {
            Ok(()) => ApprovalAck::taken(),
            Err(kind) => {
                // The request closed or lapsed meanwhile: what was just written goes too.
                if let Err(e) = approvals::persist(&self.store, id, None).await {
                    debug!(%e, "a closed approval request was not deleted");
                }
                ApprovalAck::refused(kind)
            }
        }
    }

    /// A holder's ask: kept (durable) within the bounds, or refused.
    async fn take_ask(&self, holder: Did, ask: Ask) -> ApprovalAck {
        let (Ok(id), Ok(dig)) = (ask.id.parse::<CapabilityId>(), ask.dig.parse::<Hash32>()) else {
            return ApprovalAck::refused("malformed");
        };
        if id != approval::request_id(&dig) {
            return ApprovalAck::refused("malformed");
        }
        let now = now();
        if ask.exp < now.saturating_add(MIN_ASK_LIFE)
            || ask.exp > now.saturating_add(approvals::HOLD_SECS + 300)
        {
            return ApprovalAck::refused("stale_request");
        }
        let asked = Asked { holder, ask };
        let Ok(value) = serde_json::to_vec(&asked) else {
            return ApprovalAck::refused("malformed");
        };
        let lapsed = {
            let Ok(mut book) = self.asked.lock() else {
                return ApprovalAck::refused("unavailable");
            };
            let (_, lapsed) = book.list(now);
            match book.asks.get(&id) {
                // One holder's request; another peer cannot take it over.
                Some(held) if held.holder != holder => return ApprovalAck::refused("busy"),
                Some(_) => {}
                None if !book.room_for(&holder) => return ApprovalAck::refused("busy"),
                None => {}
            }
            book.asks.insert(id, asked);
            lapsed
        };
        let mut batch: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            lapsed.iter().map(|l| (asked_key(l), None)).collect();
        batch.push((asked_key(&id), Some(value)));
        if super::meta::write(&self.store, batch).await.is_err() {
            return ApprovalAck::refused("unavailable");
        }
        ApprovalAck::taken()
    }

    /// What holders asked this agent to approve (lapsed asks dropped, on disk too).
    pub(crate) async fn asked(&self) -> Result<Vec<Asked>, NodeError> {
        let (open, lapsed) = self
            .asked
            .lock()
            .map_err(|_| NodeError::Internal("asks poisoned".into()))?
            .list(now());
        if !lapsed.is_empty() {
            super::meta::write(
                &self.store,
                lapsed.iter().map(|l| (asked_key(l), None)).collect(),
            )
            .await?;
        }
        Ok(open)
    }

    /// Approves request `id`: signed, audited, sent to its holder; forgotten once the
    /// holder took it. The approval's commitment.
    pub(crate) async fn approve(
        &self,
        id: CapabilityId,
    ) -> Result<(Asked, talos_primitives::Commitment), NodeError> {
        let asked = self
            .asked()
            .await?
            .into_iter()
            .find(|a| a.ask.id == id.to_string())
            .ok_or_else(|| NodeError::NotFound(format!("approval request {id}")))?;
        let dig: Hash32 = asked
            .ask
            .dig
            .parse()
            .map_err(|_| NodeError::Internal("stored ask".into()))?;
        let compact = approval::sign(
            &self.identity,
            asked.holder,
            dig,
            now(),
            CapabilityId(rand::random()),
        )
        .map_err(|e| NodeError::Internal(e.to_string()))?;
        let commitment = talos_capability::token::commitment_of(&compact);
        let event = EventKind::ApprovalGranted {
            approval: commitment,
            holder: asked.holder,
            request: dig,
        };
        if !self.auditor.record(vec![event]).await {
            return Err(NodeError::AuditFailing);
        }
        let holder = *asked
            .holder
            .as_key()
            .ok_or_else(|| NodeError::Internal("a holder without a key".into()))?;
        let ack = deliver(&self.client, &holder, ApprovalMessage::Grant(compact)).await?;
        if !ack.ok {
            let kind = ack.kind.unwrap_or_else(|| "denied".into());
            return Err(NodeError::Refused { kind });
        }
        self.decline(id).await?;
        Ok((asked, commitment))
    }

    /// Forgets request `id` unapproved (its holder refuses the call when it lapses).
    pub(crate) async fn decline(&self, id: CapabilityId) -> Result<(), NodeError> {
        let known = self
            .asked
            .lock()
            .map_err(|_| NodeError::Internal("asks poisoned".into()))?
            .asks
            .remove(&id)
            .is_some();
        if !known {
            return Err(NodeError::NotFound(format!("approval request {id}")));
        }
        super::meta::write(&self.store, vec![(asked_key(&id), None)]).await
    }
}

/// The approval task: asks and grants from peers' nodes, each acknowledged once durable.
pub(crate) async fn serve(
    sidecar: Arc<Sidecar>,
    client: Client,
    mut rx: mpsc::Receiver<InboundApproval>,
) {
    use std::num::NonZeroU32;
    let per_peer =
        governor::Quota::per_second(NonZeroU32::new(ASKS_PER_PEER).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(ASK_BURST).unwrap_or(NonZeroU32::MIN));
    let asks: governor::DefaultKeyedRateLimiter<talos_net::PeerId> =
        governor::RateLimiter::keyed(per_peer);
    let mut tidy = tokio::time::interval(Duration::from_secs(60));
    loop {
        let inbound = tokio::select! {
            m = rx.recv() => m,
            _ = tidy.tick() => {
                asks.retain_recent();
                continue;
            }
        };
        let Some(InboundApproval {
            peer,
            message,
            responder,
        }) = inbound
        else {
            return;
        };
        let Ok(from) = talos_identity::peer_id::key_of(&peer) else {
            let _ = client
                .answer_approval(responder, ApprovalAck::refused("not_approver"))
                .await;
            continue;
        };
        let from = Did::Key(from);
        let ack = match message {
            // Each ask costs a synced write: a peer asking faster is told `busy`.
            ApprovalMessage::Ask(_) if asks.check_key(&peer).is_err() => {
                ApprovalAck::refused("busy")
            }
            ApprovalMessage::Ask(ask) => sidecar.take_ask(from, ask).await,
            ApprovalMessage::Grant(compact) => sidecar.take_grant(&from, &compact).await,
        };
        if client.answer_approval(responder, ack).await.is_err() {
            return;
        }
    }
}

impl super::Node {
    /// What holders asked this agent to approve: `(request id, holder, ask)`.
    pub async fn approvals_asked(&self) -> Result<Vec<serde_json::Value>, NodeError> {
        Ok(self
            .sidecar
            .asked()
            .await?
            .into_iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.ask.id,
                    "holder": a.holder,
                    "caller": a.ask.caller,
                    "resource": a.ask.resource,
                    "action": a.ask.action,
                    "args": a.ask.args,
                    "request": a.ask.dig,
                    "exp": a.ask.exp,
                })
            })
            .collect())
    }

    /// Approves request `id` (see `Sidecar::approve`): `(holder, call digest, approval
    /// commitment)`.
    pub async fn approve(&self, id: CapabilityId) -> Result<(Did, String, String), NodeError> {
        let (asked, commitment) = self.sidecar.approve(id).await?;
        Ok((asked.holder, asked.ask.dig, commitment.to_string()))
    }

    /// Declines request `id`: forgotten here; its holder refuses the call when it lapses.
    pub async fn decline(&self, id: CapabilityId) -> Result<(), NodeError> {
        self.sidecar.decline(id).await
    }
}
