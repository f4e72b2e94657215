//! The sidecar: every call from a peer agent (`/talos/invoke/1.0.0`) is decided here
//! before the local agent sees it, by the [`Gate`](super::gate::Gate). A refusal goes
//! back at once with a fixed kind and is audited through the auditor's bounded refusal
//! queue, shed (and counted) when full (rate-limit refusals are not audited: a flood
//! must not become a flood of synced writes); the agent is never bothered. An allowed call waits
//! (bounded, with a deadline) for the agent's answer; the answer leaves only once the
//! call's `capability_used` event is durable, and its outcome (`call_answered`: result
//! digest, duration, trace context) is queued behind it.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use talos_audit::event::{DenyKind, EventKind};
use talos_capability::Capability;
use talos_identity::IdentityKey;
use talos_identity::peer_id::key_of;
use talos_net::invoke::{InvokeRequest, InvokeResponse};
use talos_net::{Client, InboundInvoke, InvokeResponder};
use talos_primitives::{Did, Hash32, TraceParent};
use talos_store::Store;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::debug;

mod answer;
mod forward;
pub(super) mod recent;

pub use answer::{Answer, AnswerError};
pub(crate) use answer::{from_peer, is_node_kind};

use super::audit::Auditor;
use super::gate::{Admitted, Gate};
use crate::error::NodeError;

/// Calls allowed and waiting for the agent, at most.
const MAX_WAITING: usize = 1024;
/// The sidecar's settings.
#[derive(Debug, Clone)]
pub struct InvokeConfig {
    /// Calls per second per peer, and per capability (leaf).
    pub rate: NonZeroU32,
    /// Burst above the rate.
    pub burst: NonZeroU32,
    /// How long the agent has to answer an allowed call.
    pub answer_within: Duration,
    /// Agents whose transactions this agent accepts: the first hop of a transaction
    /// token must be minted by one of them.
    pub trusted_txn: Vec<Did>,
    /// The agent's URL: allowed calls are POSTed there (`sidecar::forward`) instead of
    /// waiting for a long-poll.
    pub agent_url: Option<reqwest::Url>,
    /// Reporters whose misbehaviour reports count fully (at most 64).
    pub reputation_seeds: std::collections::BTreeSet<Did>,
    /// Callers scoring below this are refused `low_reputation`; 0: no check.
    pub min_reputation: u16,
}

impl Default for InvokeConfig {
    fn default() -> Self {
        InvokeConfig {
            rate: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(400).unwrap_or(NonZeroU32::MIN),
            answer_within: Duration::from_secs(20),
            trusted_txn: Vec::new(),
            agent_url: None,
            reputation_seeds: std::collections::BTreeSet::new(),
            min_reputation: 0,
        }
    }
}

/// An allowed call, as the agent sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Call {
    /// This node's id for the call (increasing).
    pub id: u64,
    /// The caller's DID.
    pub from: String,
    /// The resource.
    pub resource: String,
    /// The action.
    pub action: String,
    /// The arguments.
    pub args: Map<String, Value>,
    /// The authority's commitment (the capability chain's leaf, or the last
    /// transaction token).
    pub capability: String,
    /// What that authority grants (the leaf's capabilities, or the transaction token's
    /// authorization details): an agent may narrow its answer by it (a proxy lists only
    /// the tools a caller may call).
    pub scope: Vec<Capability>,
    /// The transaction, for a call under a transaction token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn: Option<TxnView>,
    /// The caller's W3C trace context, when the call carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<TraceParent>,
}

/// A call's transaction, as the agent sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TxnView {
    /// The transaction id.
    pub id: String,
    /// The principal it acts for.
    pub sub: String,
    /// Its purpose.
    pub purp: String,
    /// Hops so far (this call's included).
    pub hops: usize,
    /// Each hop's claims, first hop first.
    pub chain: Vec<recent::TxnHop>,
}

struct Waiting {
    call: Call,
    /// The caller (the audit events' `caller`).
    caller: Did,
    /// The request's digest (the audit events' `request`).
    digest: Hash32,
    /// When it was admitted (the answer's event records the duration).
    admitted: Instant,
    deadline: Instant,
    responder: InvokeResponder,
    /// The call's audit event: the answer waits for it.
    audited: JoinHandle<bool>,
    /// The transaction token's hops, to replace for the calls this one leads to.
    hops: Vec<String>,
    /// Handed to the agent's URL (`agent_url`): long-polls do not see it, so one call
    /// never reaches two agents.
    forwarded: bool,
}

/// The sidecar's state, shared by the inbound task, the sweeper and the API.
pub(crate) struct Sidecar {
    pub(super) identity: IdentityKey,
    pub(super) client: Client,
    pub(super) auditor: Auditor,
    pub(super) store: Arc<Store>,
    config: InvokeConfig,
    pub(super) gate: Mutex<Gate>,
    /// Held from a change to the book of reports until it is on disk, so the disk
    /// follows the book's changes in their order.
    pub(super) reports_write: tokio::sync::Mutex<()>,
    /// Held from a change to a held call's request until it is on disk (an approval
    /// taken, a request opened, admitted or lapsed), so the disk follows memory in order.
    pub(super) approvals_write: Arc<tokio::sync::Mutex<()>>,
    /// What holders asked this agent to approve (`apv`).
    pub(super) asked: Mutex<super::approver::AskBook>,
    pub(super) metrics: Arc<super::metrics::Metrics>,
    waiting: Mutex<(u64, BTreeMap<u64, Waiting>)>,
    arrived: Notify,
    /// Where allowed calls are POSTed, with `agent_url` set.
    forward: Option<forward::Forwarder>,
    /// Set when the node begins to stop: long-polls return at once, so the API's
    /// graceful shutdown does not wait out their timeouts.
    stopping: std::sync::atomic::AtomicBool,
    /// Transactions called in lately (for the dashboard).
    pub(super) recent: recent::RecentTxns,
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// SHA-256 over the JCS form of what was asked (the audit trail's request id).
fn request_digest(req: &InvokeRequest) -> Hash32 {
    let v = json!({ "resource": req.resource, "action": req.action, "args": req.args });
    talos_identity::jcs::digest(&v).unwrap_or(Hash32([0; 32]))
}

impl Sidecar {
    /// Loads the persisted revocations and builds the sidecar for `identity`.
    pub(crate) fn open(
        identity: IdentityKey,
        client: Client,
        auditor: Auditor,
        store: Arc<Store>,
        config: InvokeConfig,
        metrics: Arc<super::metrics::Metrics>,
        budgets: Vec<(
            talos_capability::stateful::CounterKey,
            talos_capability::budget::Counter,
        )>,
    ) -> Result<Sidecar, NodeError> {
        let mut gate = Gate::new(identity.public(), &config, std::iter::empty());
        // Within the per-publisher bounds, deleting what they leave out.
        super::revocations::restore(&store, &mut gate)?;
        super::reputation::restore(&store, &mut gate)?;
        super::approvals::restore(&store, gate.requests(), now_ms() / 1000)?;
        let asked = super::approver::AskBook::load(&store)?;
        for (key, counter) in budgets {
            gate.restore_budget(key, counter);
        }
        let forward = config
            .agent_url
            .clone()
            .map(forward::Forwarder::new)
            .transpose()
            .map_err(|e| NodeError::Internal(format!("the agent URL's HTTP client: {e}")))?;
        Ok(Sidecar {
            forward,
            gate: Mutex::new(gate),
            reports_write: tokio::sync::Mutex::new(()),
            asked: Mutex::new(asked),
            approvals_write: Arc::new(tokio::sync::Mutex::new(())),
            metrics,
            identity,
            client,
            auditor,
            store,
            config,
            // Call ids keep increasing across restarts (an agent's `after` cursor stays
            // valid): they start from the clock, in ms × 1024.
            waiting: Mutex::new((now_ms().saturating_mul(1024), BTreeMap::new())),
            arrived: Notify::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            recent: recent::RecentTxns::default(),
        })
    }

    /// Decides one inbound call.
    async fn decide(self: &Arc<Self>, call: InboundInvoke) {
        let InboundInvoke {
            peer,
            request,
            responder,
        } = call;
        let Ok(caller_key) = key_of(&peer) else {
            self.refuse(responder, "not_holder").await;
            return;
        };
        let caller = Did::Key(caller_key);
        // No room to hold an allowed call: refuse before the gate spends its nonce, so
        // the caller may retry the very same call later.
        if self.waiting_len() >= MAX_WAITING {
            self.refuse(responder, "busy").await;
            return;
        }
        let (verdict, held) = match self.gate.lock() {
            Ok(mut gate) => {
                let verdict = gate.check(&caller_key, &request, now_ms());
                (verdict, gate.take_held())
            }
            Err(_) => (Err("unavailable"), None),
        };
        let digest = request_digest(&request);
        match verdict {
            Err("pending") => {
                if let Some((id, then)) = held {
                    self.hold_for_approval(responder, id, then);
                } else {
                    self.refuse(responder, "unavailable").await;
                }
            }
            Ok(admitted) if admitted.spend.is_some() || admitted.approved.is_some() => {
                // A call that spends from a budget reaches the agent only once its spend
                // is durable: a crash in between could otherwise forget a spend whose
                // effect the agent carried out. Waited for beside the decision loop, so
                // the next calls are decided meanwhile (and share the fsync).
                let mut waiting = self.admit(caller, request, responder, admitted, digest);
                let me = self.clone();
                tokio::spawn(async move {
                    let ok = (&mut waiting.audited).await.unwrap_or(false);
                    waiting.audited = tokio::spawn(async move { ok });
                    if !ok {
                        me.refuse(waiting.responder, "unavailable").await;
                    } else if let Some(id) = me.hold(waiting).await {
                        me.forward(id);
                    }
                });
            }
            Ok(admitted) => {
                let waiting = self.admit(caller, request, responder, admitted, digest);
                if let Some(id) = self.hold(waiting).await {
                    self.forward(id);
                }
            }
            Err(kind) if kind == "rate_limited" => self.refuse(responder, kind).await,
            Err(kind) => {
                if let (Some((id, _)), "not_approved") = (held, kind) {
                    self.forget_request(id);
                }
                // Every capability error kind is a valid deny kind (a test checks it).
                // Queued beside the refusal, not waited for: the decision loop must not
                // wait for an fsync per refused call. The queue is bounded (a flood of
                // refusals sheds refusal events, counted; never an allowed call's).
                if let Some(kind) = DenyKind::new(kind).or_else(|| DenyKind::new("denied")) {
                    self.auditor.refusal(EventKind::CapabilityDenied {
                        caller,
                        kind,
                        request: digest,
                    });
                }
                debug!(%peer, kind, "call refused");
                self.refuse(responder, kind).await;
            }
        }
    }

    /// An allowed call, its `capability_used` event on its way to the log (the agent may
    /// start on it now; the answer waits for the event to be durable).
    fn admit(
        &self,
        caller: Did,
        request: InvokeRequest,
        responder: InvokeResponder,
        admitted: Admitted,
        digest: Hash32,
    ) -> Waiting {
        let auditor = self.auditor.clone();
        let used = EventKind::CapabilityUsed {
            leaf: admitted.leaf,
            holder: caller,
            request: digest,
        };
        let spend = admitted.spend;
        let approved = admitted.approved;
        let mut events = vec![used];
        if let Some(a) = &approved {
            events.push(EventKind::Approved {
                request: a.dig,
                approvals: a.used.iter().map(|(c, _)| *c).collect(),
            });
        }
        let (store, order) = (self.store.clone(), self.approvals_write.clone());
        for item in spend.iter().flat_map(|s| &s.items) {
            self.metrics.budget_spent.inc_by(item.amount);
            if item.over() {
                self.metrics.budget_exceeded.inc();
            }
        }
        // An approved call's request is deleted before the agent sees the call, so a
        // restart cannot admit a second call with the same approvals.
        let audited = tokio::spawn(async move {
            if let Some(a) = approved {
                let _order = order.lock().await;
                if super::approvals::persist(&store, a.id, None).await.is_err() {
                    return false;
                }
            }
            auditor.record_spend(events, spend).await
        });
        let txn = admitted.txn;
        if let Some(view) = &txn {
            self.recent.push(recent::TxnCall {
                at_ms: now_ms(),
                from: caller.to_string(),
                resource: request.resource.clone(),
                action: request.action.clone(),
                txn: view.clone(),
            });
        }
        let InvokeRequest {
            resource,
            action,
            args,
            txn: hops,
            traceparent,
            ..
        } = request;
        Waiting {
            call: Call {
                id: 0,
                from: caller.to_string(),
                resource,
                action,
                args,
                capability: hex::encode(admitted.leaf.0),
                scope: admitted.scope.to_vec(),
                txn,
                traceparent,
            },
            caller,
            digest,
            admitted: Instant::now(),
            deadline: Instant::now() + self.config.answer_within,
            responder,
            audited,
            hops,
            forwarded: self.forward.is_some(),
        }
    }

    /// Holds an allowed call for the agent, with the next id (returned); refused `busy`
    /// when the table is full.
    async fn hold(&self, mut waiting: Waiting) -> Option<u64> {
        // The guard is not held across an await: a full table gives the call back.
        let held = match self.waiting.lock() {
            Ok(mut w) if w.1.len() < MAX_WAITING => {
                let id = w.0.saturating_add(1);
                w.0 = id;
                waiting.call.id = id;
                w.1.insert(id, waiting);
                Ok(id)
            }
            _ => Err(waiting),
        };
        match held {
            Err(w) => {
                self.refuse(w.responder, "busy").await;
                None
            }
            Ok(id) => {
                self.metrics.call(None);
                self.arrived.notify_waiters();
                Some(id)
            }
        }
    }

    async fn refuse(&self, responder: InvokeResponder, kind: &str) {
        self.metrics.call(Some(kind));
        let _ = self
            .client
            .answer_invoke(responder, InvokeResponse::refused(kind))
            .await;
    }

    /// Calls waiting for the agent with an id above `after` (at most `max`), waiting up
    /// to `wait` for one to arrive; only those whose resource `only` matches, if given.
    pub(crate) async fn waiting(
        &self,
        after: u64,
        max: usize,
        wait: Duration,
        only: Option<&talos_capability::ResourcePattern>,
    ) -> Vec<Call> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.arrived.notified();
            let got: Vec<Call> = match self.waiting.lock() {
                Ok(w) => {
                    w.1.range(after.saturating_add(1)..)
                        .filter(|(_, c)| !c.forwarded)
                        .filter(|(_, c)| only.is_none_or(|p| p.matches(&c.call.resource)))
                        .take(max)
                        .map(|(_, c)| c.call.clone())
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            if !got.is_empty()
                || self.is_stopping()
                || tokio::time::timeout_at(deadline, notified).await.is_err()
            {
                return got;
            }
        }
    }

    /// Ends the long-polls (now and from now on): the node is stopping.
    pub(crate) fn stop_waiters(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Release);
        self.arrived.notify_waiters();
    }

    /// True once the node has begun to stop.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The reputation threshold below which callers are refused (0: none).
    pub(crate) fn min_reputation(&self) -> u16 {
        self.config.min_reputation
    }

    /// Budget counters kept.
    pub(crate) fn budget_counters(&self) -> usize {
        self.gate.lock().map(|g| g.budgets().len()).unwrap_or(0)
    }

    /// Calls waiting for the agent's answer.
    pub(crate) fn waiting_len(&self) -> usize {
        self.waiting.lock().map(|w| w.1.len()).unwrap_or(0)
    }

    /// The transaction hops of call `id`, while it waits for its answer.
    pub(crate) fn hops_of(&self, id: u64) -> Option<Vec<String>> {
        self.waiting.lock().ok()?.1.get(&id).map(|w| w.hops.clone())
    }
}

/// The inbound task: decides each call in arrival order; the sweeper runs beside it.
pub(crate) async fn serve(sidecar: Arc<Sidecar>, mut calls: mpsc::Receiver<InboundInvoke>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    // Expired links' budget counters (the audit writer drops the durable copies).
    let mut minute = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            call = calls.recv() => match call {
                Some(c) => sidecar.decide(c).await,
                None => return,
            },
            _ = tick.tick() => sidecar.sweep().await,
            _ = minute.tick() => {
                // Two minutes behind the audit writer's sweep (at most a minute apart, and
                // at a group's start): the writer's ledger must have dropped a counter
                // before the gate admits a new one in its room, or the new counter's
                // spend would find no room there and not be written.
                let lapsed = match sidecar.gate.lock() {
                    Ok(mut gate) => {
                        gate.sweep_budgets((now_ms() / 1000).saturating_sub(120));
                        gate.requests().sweep(now_ms() / 1000)
                    }
                    Err(_) => Vec::new(),
                };
                for id in lapsed {
                    sidecar.forget_request(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
