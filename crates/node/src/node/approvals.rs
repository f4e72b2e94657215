//! Calls held for approval (capability FORMAT.md §3.5, `apv`), at the callee's node: the
//! open requests, the approvals that arrived for them, and the decision a call under an
//! `apv` caveat gets. Durable under `approval/<request id>` in `CF_META` (the request and
//! the approvals' compact forms, re-verified at start), written before the caller is told
//! `pending` and before an approver's node is acknowledged.

use talos_capability::approval::Approval;
use talos_capability::stateful::ApvCaveat;
use talos_primitives::{CapabilityId, Commitment, Did};
use talos_store::Store;
use talos_store::db::CF_META;

use super::gate::{Approved, Gate, Refusal};
pub(crate) use super::requests::{
    Decision, GrantError, HOLD_SECS, Held, MAX_OPEN, Request, Requests,
};
use crate::error::NodeError;
use talos_capability::approval::call_digest;
use talos_net::invoke::InvokeRequest;
use talos_primitives::Ed25519Public;

const PREFIX: &[u8] = b"approval/";

impl Gate {
    /// `apv`: admitted with `k` approvals of this very call; else held (`pending`, and a
    /// new request left in [`Gate::take_held`] for the sidecar to persist and send), or
    /// refused once its request lapsed (`not_approved`) or with no room (`busy`).
    pub(super) fn check_approvals(
        &mut self,
        caller: &Ed25519Public,
        req: &InvokeRequest,
        apv: &ApvCaveat,
        now: u64,
        leaf: &Commitment,
    ) -> Result<Approved, Refusal> {
        let caller = Did::Key(*caller);
        let dig = call_digest(
            &caller,
            &self.me,
            leaf,
            &req.resource,
            &req.action,
            &req.args,
        )
        .map_err(|e| e.kind())?;
        let open = || {
            let args =
                talos_identity::jcs::digest(&serde_json::Value::Object(req.args.clone())).ok()?;
            Some(Request {
                dig,
                caller,
                apv: apv.clone(),
                opened: now,
                exp: now.saturating_add(HOLD_SECS),
                resource: req.resource.clone(),
                action: req.action.clone(),
                args,
                grants: Vec::new(),
            })
        };
        match self
            .requests
            .decide(&self.me, (dig, &caller), apv, now, open)
        {
            Decision::Approved(id, used) => Ok(Approved { dig, id, used }),
            Decision::Pending(id, held) => {
                self.held = Some((id, held));
                Err("pending")
            }
            Decision::Lapsed(id) => {
                self.held = Some((id, Held::Waiting));
                Err("not_approved")
            }
            Decision::Full => Err("busy"),
        }
    }

    /// The request a call just refused `pending` or `not_approved` was held under: its
    /// id, and what its answer also does (persist and ask, or ask again).
    pub(crate) fn take_held(&mut self) -> Option<(CapabilityId, Held)> {
        self.held.take()
    }

    /// Takes a verified approval for a held call, as the approval protocol does (for
    /// tests and benchmarks driving a gate directly); the refusal kind otherwise.
    pub fn take_approval(
        &mut self,
        a: Approval,
        compact: &str,
        now: u64,
    ) -> Result<(), GrantError> {
        let me = self.me;
        self.requests.grant(&me, a, compact, now)
    }

    /// The held calls.
    pub(crate) fn requests(&mut self) -> &mut Requests {
        &mut self.requests
    }
}

fn key(id: &CapabilityId) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(id.to_string().as_bytes());
    k
}

/// Loads the stored requests; deletes the lapsed and unreadable ones.
pub(crate) fn restore(store: &Store, requests: &mut Requests, now: u64) -> Result<(), NodeError> {
    let cf = store.cf(CF_META)?;
    let mode = rocksdb::IteratorMode::From(PREFIX, rocksdb::Direction::Forward);
    let mut stale = Vec::new();
    for item in store.db().iterator_cf(cf, mode).take(MAX_OPEN * 2) {
        let (k, v) = item.map_err(|e| NodeError::Internal(e.to_string()))?;
        if !k.starts_with(PREFIX) {
            break;
        }
        let kept = serde_json::from_slice::<Request>(&v).is_ok_and(|r| requests.restore(r, now));
        if !kept {
            stale.push(k.to_vec());
        }
    }
    if !stale.is_empty() {
        let mut batch = rocksdb::WriteBatch::default();
        for k in stale {
            batch.delete_cf(cf, k);
        }
        store.write(batch, true)?;
    }
    Ok(())
}

/// Writes a request as it stands (`Some`) or deletes it, synced.
pub(crate) async fn persist(
    store: &std::sync::Arc<Store>,
    id: CapabilityId,
    req: Option<Request>,
) -> Result<(), NodeError> {
    let value = req
        .map(|r| serde_json::to_vec(&r))
        .transpose()
        .map_err(|e| NodeError::Internal(e.to_string()))?;
    super::meta::write(store, vec![(key(&id), value)]).await
}
