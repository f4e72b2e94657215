//! The agent's side of calls: invoking a peer agent under a capability (this node signs
//! the invocation with the agent's identity, the chain's holder), answering the calls the
//! sidecar let through, and revoking capabilities this node issued.

use std::time::Duration;

use serde_json::{Map, Value};
use talos_capability::invocation::{self, Request};
use talos_capability::txn::{DEFAULT_TXN_LIFETIME, TxnClaims, TxnToken};
use talos_capability::{Capability, ResourcePattern, Token};
use talos_net::NetError;
use talos_net::invoke::{InvokeRequest, InvokeResponse};
use talos_primitives::{CapabilityId, Did, Ed25519Public, TraceParent};

use super::sidecar::{Answer, AnswerError, Call};
use super::{Node, directory};
use crate::error::NodeError;

/// A call to make.
#[derive(Debug, Clone)]
pub struct Invoke {
    /// The callee.
    pub to: Ed25519Public,
    /// The authority the call runs under.
    pub under: Authority,
    /// The concrete resource.
    pub resource: String,
    /// The action.
    pub action: String,
    /// The arguments.
    pub args: Map<String, Value>,
    /// The call's id (16 bytes) and time (Unix ms): by default fresh ones. A call sent again with
    /// the same id is refused as a replay, so an agent can retry safely with it.
    pub nonce: Option<([u8; 16], u64)>,
    /// Attach a detached invocation signed by this agent: a signature over this very call
    /// (callee, chain leaf, resource, action, arguments, nonce, time) on top of the
    /// connection's proof. The callee still requires the connection to be the holder.
    pub sign_invocation: bool,
    /// The caller's W3C trace context, passed to the callee (recorded in its audit event).
    pub traceparent: Option<TraceParent>,
}

/// What a call runs under.
#[derive(Debug, Clone)]
pub enum Authority {
    /// A capability chain (compact tokens, root first); this agent is its holder.
    Chain(Vec<String>),
    /// A new transaction this agent starts (it mints the first transaction token).
    Start {
        /// The principal the transaction acts for (default: this agent).
        sub: Option<Did>,
        /// Its purpose.
        purp: String,
        /// What the callee may do in it.
        azd: Vec<Capability>,
    },
    /// The transaction of call `id`, which this agent is handling: its token is replaced
    /// for the next callee, with `azd` (default: the same; never wider).
    Within {
        /// The call being handled.
        id: u64,
        /// Narrower authorization details for the next hop.
        azd: Option<Vec<Capability>>,
    },
}

/// What a call was sent as: its id and time (to retry it idempotently).
#[derive(Debug, Clone)]
pub struct Sent {
    /// The nonce.
    pub nonce: [u8; 16],
    /// The time, Unix ms.
    pub at_ms: u64,
    /// The transaction id, for calls under a transaction token.
    pub txn: Option<String>,
    /// The id of the approval request the callee would hold this call under (`apv`).
    pub approval: Option<CapabilityId>,
}

/// Why a call got no answer from the peer's node.
#[derive(Debug, thiserror::Error)]
pub enum InvokeFailure {
    /// The chain or the request could not be turned into an invocation.
    #[error("cannot sign the invocation: {0}")]
    Unsigned(#[from] talos_capability::CapError),
    /// The request is out of the protocol's bounds.
    #[error(transparent)]
    Bounds(#[from] talos_net::invoke::InvokeError),
    /// The peer could not be reached or did not answer in time.
    #[error("{0}")]
    Network(#[from] NetError),
    /// `within` names no call being handled under a transaction token.
    #[error("call {0} is not waiting, or carries no transaction token")]
    NoTransaction(u64),
    /// The peer's key has no PeerId (cannot happen for Ed25519 keys).
    #[error("the peer's key has no libp2p identity")]
    Identity,
}

impl Node {
    /// Calls a peer agent. The answer is the peer's: its agent's result, or its node's
    /// refusal. Unknown peers are found in the directory first.
    pub async fn invoke(&self, call: Invoke) -> Result<(InvokeResponse, Sent), InvokeFailure> {
        let (nonce, at_ms) = call
            .nonce
            .unwrap_or_else(|| (rand::random(), super::sidecar::now_ms()));
        let (chain, txn) = self.authority(&call, at_ms / 1000)?;
        let txn_id = match txn.last() {
            Some(t) => Some(TxnToken::parse(t)?.claims().txn.clone()),
            None => None,
        };
        let invocation = if call.sign_invocation && !chain.is_empty() {
            let leaf =
                Token::parse(chain.last().map(String::as_str).unwrap_or_default())?.commitment();
            let callee = Did::Key(call.to);
            let req = Request {
                callee: &callee,
                resource: &call.resource,
                action: &call.action,
                args: &call.args,
                now: at_ms / 1000,
            };
            Some(invocation::sign(&self.identity, leaf, &req, nonce)?)
        } else {
            None
        };
        let approval = self.approval_id(&chain, &call);
        let att = self.held.for_chain(&chain);
        let request = InvokeRequest {
            att,
            chain,
            txn,
            nonce: hex::encode(nonce),
            at_ms,
            invocation,
            resource: call.resource,
            action: call.action,
            args: call.args,
            traceparent: call.traceparent,
        };
        // Bounds first, so an oversize call is refused here and not by the peer's reader.
        request.encode()?;
        let peer = Node::peer_id(&call.to).map_err(|_| InvokeFailure::Identity)?;
        // Not connected and no known address: look the peer up before calling, so a
        // call is sent once (a retry after a failed call might run twice).
        if self.client.dial(peer, Vec::new()).await.is_err() {
            let lookup = directory::lookup(&self.client, &call.to);
            let _ = tokio::time::timeout(Duration::from_secs(10), lookup).await;
        }
        let response = self.client.invoke(peer, request).await?;
        Ok((
            response,
            Sent {
                nonce,
                at_ms,
                txn: txn_id,
                approval,
            },
        ))
    }

    /// The chain or transaction hops a call carries.
    /// The id an `apv` hold of this call would have (FORMAT.md §3.5): what a `pending`
    /// answer refers to. `None` under a transaction token.
    fn approval_id(&self, chain: &[String], call: &Invoke) -> Option<CapabilityId> {
        let leaf = Token::parse(chain.last()?).ok()?.commitment();
        let dig = talos_capability::approval::call_digest(
            &self.identity.did(),
            &Did::Key(call.to),
            &leaf,
            &call.resource,
            &call.action,
            &call.args,
        )
        .ok()?;
        Some(talos_capability::approval::request_id(&dig))
    }

    fn authority(
        &self,
        call: &Invoke,
        now: u64,
    ) -> Result<(Vec<String>, Vec<String>), InvokeFailure> {
        let next = Did::Key(call.to);
        Ok(match &call.under {
            Authority::Chain(c) => (c.clone(), Vec::new()),
            Authority::Start { sub, purp, azd } => {
                let claims = TxnClaims {
                    iss: self.identity.did(),
                    aud: next,
                    iat: now,
                    exp: now.saturating_add(DEFAULT_TXN_LIFETIME),
                    txn: hex::encode(rand::random::<[u8; 16]>()),
                    sub: sub.unwrap_or_else(|| self.identity.did()),
                    purp: purp.clone(),
                    azd: azd.clone(),
                    rctx: Map::new(),
                    prv: None,
                };
                let first = TxnToken::mint(&self.identity, claims)?;
                (Vec::new(), vec![first.as_str().to_string()])
            }
            Authority::Within { id, azd } => {
                let mut hops = self
                    .sidecar
                    .hops_of(*id)
                    .filter(|h| !h.is_empty())
                    .ok_or(InvokeFailure::NoTransaction(*id))?;
                let last = TxnToken::parse(hops.last().map(String::as_str).unwrap_or_default())?;
                let azd = azd.clone().unwrap_or_else(|| last.claims().azd.clone());
                let replaced = last.replace(&self.identity, next, azd, now)?;
                hops.push(replaced.as_str().to_string());
                (Vec::new(), hops)
            }
        })
    }

    /// Calls the sidecar let through, with an id above `after`, waiting up to `wait`.
    pub async fn calls(
        &self,
        after: u64,
        max: usize,
        wait: Duration,
        only: Option<&ResourcePattern>,
    ) -> Vec<Call> {
        self.sidecar.waiting(after, max, wait, only).await
    }

    /// Answers call `id` with the agent's result or failure.
    pub async fn answer(&self, id: u64, outcome: Answer) -> Result<(), AnswerError> {
        self.sidecar.answer(id, outcome).await
    }

    /// Revokes a capability id: durable before this returns, refused from then on.
    /// Returns false if it was revoked already.
    pub async fn revoke(&self, id: CapabilityId) -> Result<bool, NodeError> {
        self.sidecar.revoke(id).await
    }
}
