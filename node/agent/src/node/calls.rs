//! The agent's side of calls: invoking a peer agent under a capability (this node signs
//! the invocation with the agent's identity, the chain's holder), answering the calls the
//! sidecar let through, and revoking capabilities this node issued.

use std::time::Duration;

use serde_json::{Map, Value};
use talos_capability::Token;
use talos_capability::invocation::{self, Request};
use talos_net::NetError;
use talos_net::invoke::{InvokeRequest, InvokeResponse};
use talos_primitives::{CapabilityId, Did, Ed25519Public};

use super::invoke::{AnswerError, Call};
use super::{Node, directory};

/// A call to make.
#[derive(Debug, Clone)]
pub struct Invoke {
    /// The callee.
    pub to: Ed25519Public,
    /// The capability chain (compact tokens, root first); this agent is its holder.
    pub chain: Vec<String>,
    /// The concrete resource.
    pub resource: String,
    /// The action.
    pub action: String,
    /// The arguments.
    pub args: Map<String, Value>,
    /// The call's id (16 bytes) and time (Unix ms): by default fresh ones. A call sent again with
    /// the same id is refused as a replay, so an agent can retry safely with it.
    pub nonce: Option<([u8; 16], u64)>,
    /// Attach a detached invocation signed by this agent (needed only when the call is
    /// carried by another node; over our own connection the connection proves it).
    pub sign_invocation: bool,
}

/// What a call was sent as: its id and time (to retry it idempotently).
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// The nonce.
    pub nonce: [u8; 16],
    /// The time, Unix ms.
    pub at_ms: u64,
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
            .unwrap_or_else(|| (rand::random(), super::invoke::now_ms()));
        let invocation = if call.sign_invocation {
            let leaf = Token::parse(call.chain.last().map(String::as_str).unwrap_or_default())?
                .commitment();
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
        let request = InvokeRequest {
            chain: call.chain,
            nonce: hex::encode(nonce),
            at_ms,
            invocation,
            resource: call.resource,
            action: call.action,
            args: call.args,
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
        Ok((response, Sent { nonce, at_ms }))
    }

    /// Calls the sidecar let through, with an id above `after`, waiting up to `wait`.
    pub async fn calls(&self, after: u64, max: usize, wait: Duration) -> Vec<Call> {
        self.sidecar.waiting(after, max, wait).await
    }

    /// Answers call `id` with the agent's result or error message.
    pub async fn answer(&self, id: u64, outcome: Result<Value, String>) -> Result<(), AnswerError> {
        self.sidecar.answer(id, outcome).await
    }

    /// Revokes a capability id: durable before this returns, refused from then on.
    /// Returns false if it was revoked already.
    pub async fn revoke(&self, id: CapabilityId) -> anyhow::Result<bool> {
        self.sidecar.revoke(id).await
    }
}
