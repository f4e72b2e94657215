//! The transactions this node's agent was called in lately, each with its hop chain and
//! every hop's claims (who minted it for whom, what it allowed, when): what the
//! dashboard shows. A bounded ring in memory; the audit log has the durable record.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use talos_capability::Capability;
use talos_capability::txn::TxnToken;

/// Transactions kept.
pub(crate) const RECENT_TXNS: usize = 64;

/// One hop's token, as its claims say (the requester context is left out: it is the
/// requester's, not the hop's).
#[derive(Debug, Clone, Serialize)]
pub struct TxnHop {
    /// The hop that minted it.
    pub iss: String,
    /// The callee it was minted for.
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// What it allowed.
    pub azd: Vec<Capability>,
}

impl TxnHop {
    /// The hop of a parsed token.
    pub fn of(t: &TxnToken) -> Self {
        let c = t.claims();
        Self {
            iss: c.iss.to_string(),
            aud: c.aud.to_string(),
            iat: c.iat,
            exp: c.exp,
            azd: c.azd.clone(),
        }
    }
}

/// A call made within a transaction.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TxnCall {
    /// When it was admitted, Unix ms.
    pub at_ms: u64,
    /// The caller.
    pub from: String,
    /// What it called.
    pub resource: String,
    /// How.
    pub action: String,
    /// The transaction.
    pub txn: super::TxnView,
}

/// The ring.
#[derive(Debug, Default)]
pub(crate) struct RecentTxns(Mutex<VecDeque<TxnCall>>);

impl RecentTxns {
    pub(crate) fn push(&self, call: TxnCall) {
        if let Ok(mut r) = self.0.lock() {
            if r.len() == RECENT_TXNS {
                r.pop_front();
            }
            r.push_back(call);
        }
    }

    /// Newest first.
    pub(crate) fn list(&self) -> Vec<TxnCall> {
        self.0
            .lock()
            .map(|r| r.iter().rev().cloned().collect())
            .unwrap_or_default()
    }
}

impl crate::node::Node {
    /// The transactions this agent was called in lately, newest first.
    pub fn recent_transactions(&self) -> Vec<TxnCall> {
        self.sidecar.recent.list()
    }
}
