//! Calls held for approval (capability FORMAT.md §3.5, `apv`), at the callee's node: the
//! open requests, the approvals that arrived for them, and the decision a call under an
//! `apv` caveat gets. Durable under `approval/<request id>` in `CF_META` (the request and
//! the approvals' compact forms, re-verified at start), written before the caller is told
//! `pending` and before an approver's node is acknowledged.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use talos_capability::approval::{self, Approval, MAX_APPROVAL_AGE};
use talos_capability::stateful::ApvCaveat;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};
use talos_store::Store;
use talos_store::db::CF_META;

use super::gate::{Approved, Gate, Refusal};
use crate::error::NodeError;
use talos_capability::approval::call_digest;
use talos_net::invoke::InvokeRequest;
use talos_primitives::Ed25519Public;

/// Open requests a node holds at once.
pub(crate) const MAX_OPEN: usize = 1024;
/// Open requests one caller may have.
pub(crate) const MAX_OPEN_PER_CALLER: usize = 16;
/// How long a request stays open (seconds): its approvals must arrive by then.
pub(crate) const HOLD_SECS: u64 = 900;
/// How far ahead of our clock an approval's `iat` may be.
const SKEW: u64 = 300;
const PREFIX: &[u8] = b"approval/";

/// One held call: what approvers were asked, and what they answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Request {
    /// The call digest.
    pub dig: Hash32,
    /// Who called.
    pub caller: Did,
    /// Whom the caveat named, and how many must approve.
    pub apv: ApvCaveat,
    /// When the request lapses (Unix seconds).
    pub exp: u64,
    /// What was called (for the approvers).
    pub resource: String,
    /// The action.
    pub action: String,
    /// The arguments' digest.
    pub args: Hash32,
    /// The approvals received, compact, each from a distinct approver.
    pub grants: Vec<String>,
}

/// The decision on a call under `apv`.
#[derive(Debug)]
pub(crate) enum Decision {
    /// `k` valid approvals: the call may go on (these are their commitments).
    Approved(CapabilityId, Vec<Commitment>),
    /// Open and waiting; `Some` when this call opened it (to persist and ask).
    Pending(CapabilityId, Option<Box<Request>>),
    /// Its request lapsed unapproved (and is forgotten).
    Lapsed(CapabilityId),
    /// No room for another open request.
    Full,
}

/// The open requests.
#[derive(Default)]
pub(crate) struct Requests {
    open: HashMap<CapabilityId, (Request, Vec<Approval>)>,
    per_caller: HashMap<Did, usize>,
}

/// Why an approval is not taken (the kind its sender is told).
pub(crate) type GrantError = &'static str;

/// The approvals among `grants` that count for `apv` at `now`, one per approver.
fn counted(
    grants: &[Approval],
    apv: &ApvCaveat,
    me: &Did,
    dig: &Hash32,
    now: u64,
) -> Vec<Commitment> {
    let mut seen: Vec<&Did> = Vec::new();
    let mut out = Vec::new();
    for a in grants {
        let c = &a.claims;
        let fresh =
            c.iat <= now.saturating_add(SKEW) && now <= c.iat.saturating_add(MAX_APPROVAL_AGE);
        if apv.by.contains(&c.iss)
            && c.aud == *me
            && c.dig == *dig
            && fresh
            && !seen.contains(&&c.iss)
        {
            seen.push(&c.iss);
            out.push(a.commitment);
        }
    }
    out
}

impl Requests {
    /// Decides a call by `caller` whose digest is `dig` under the leaf's `apv` at `now`;
    /// `open` builds its request when there is none yet (only then: it costs copies and a
    /// digest of the arguments).
    pub(crate) fn decide(
        &mut self,
        me: &Did,
        (dig, caller): (Hash32, &Did),
        apv: &ApvCaveat,
        now: u64,
        open: impl FnOnce() -> Option<Request>,
    ) -> Decision {
        let id = approval::request_id(&dig);
        if let Some((held, grants)) = self.open.get(&id) {
            if now >= held.exp {
                self.remove(&id);
                return Decision::Lapsed(id);
            }
            // The caveat of this call decides (a re-sent call under another chain may
            // name other approvers; approvals from approvers it does not name do not count).
            let ok = counted(grants, apv, me, &dig, now);
            if ok.len() >= usize::from(apv.k) {
                return Decision::Approved(id, ok.into_iter().take(usize::from(apv.k)).collect());
            }
            return Decision::Pending(id, None);
        }
        let mine = self.per_caller.get(caller).copied().unwrap_or(0);
        if self.open.len() >= MAX_OPEN || mine >= MAX_OPEN_PER_CALLER {
            return Decision::Full;
        }
        let Some(req) = open() else {
            return Decision::Full;
        };
        *self.per_caller.entry(req.caller).or_insert(0) += 1;
        self.open.insert(id, (req.clone(), Vec::new()));
        Decision::Pending(id, Some(Box::new(req)))
    }

    /// Takes a verified approval for an open request: the request as it now stands, to
    /// persist.
    pub(crate) fn grant(
        &mut self,
        me: &Did,
        a: Approval,
        compact: &str,
        now: u64,
    ) -> Result<Request, GrantError> {
        let id = a.claims.req;
        let Some((req, grants)) = self.open.get_mut(&id) else {
            return Err("unknown_request");
        };
        if a.claims.aud != *me || a.claims.dig != req.dig {
            return Err("wrong_request");
        }
        if !req.apv.by.contains(&a.claims.iss) {
            return Err("not_approver");
        }
        if counted(std::slice::from_ref(&a), &req.apv, me, &req.dig, now).is_empty() {
            return Err("stale_approval");
        }
        if let Some(i) = grants.iter().position(|g| g.claims.iss == a.claims.iss) {
            // One per approver: a newer one replaces the older (it counts longer).
            grants.remove(i);
            req.grants.remove(i);
        }
        grants.push(a);
        req.grants.push(compact.to_string());
        Ok(req.clone())
    }

    /// Forgets a request (admitted, lapsed or swept).
    pub(crate) fn remove(&mut self, id: &CapabilityId) -> Option<Request> {
        let (req, _) = self.open.remove(id)?;
        if let Some(n) = self.per_caller.get_mut(&req.caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_caller.remove(&req.caller);
            }
        }
        Some(req)
    }

    /// Drops the requests lapsed at `now`; their ids, to delete from disk.
    pub(crate) fn sweep(&mut self, now: u64) -> Vec<CapabilityId> {
        let old: Vec<CapabilityId> = self
            .open
            .iter()
            .filter(|(_, (r, _))| now >= r.exp)
            .map(|(id, _)| *id)
            .collect();
        for id in &old {
            self.remove(id);
        }
        old
    }

    /// Restores one stored request (re-verifying its approvals); false if it is not kept.
    fn restore(&mut self, req: Request, now: u64) -> bool {
        let id = approval::request_id(&req.dig);
        if now >= req.exp || self.open.len() >= MAX_OPEN {
            return false;
        }
        let grants: Vec<Approval> = req
            .grants
            .iter()
            .filter_map(|g| approval::verify(g).ok())
            .collect();
        if grants.len() != req.grants.len() {
            return false;
        }
        *self.per_caller.entry(req.caller).or_insert(0) += 1;
        self.open.insert(id, (req, grants));
        true
    }
}

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
            Decision::Approved(id, approvals) => Ok(Approved { dig, id, approvals }),
            Decision::Pending(id, new) => {
                self.held = Some((id, new));
                Err("pending")
            }
            Decision::Lapsed(id) => {
                self.held = Some((id, None));
                Err("not_approved")
            }
            Decision::Full => Err("busy"),
        }
    }

    /// The request a call just refused `pending` or `not_approved` was held under: its
    /// id, and the request itself when the call opened it.
    pub(crate) fn take_held(&mut self) -> Option<(CapabilityId, Option<Box<Request>>)> {
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
        self.requests.grant(&me, a, compact, now).map(|_| ())
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
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let cf = store.cf(CF_META)?;
        let mut batch = rocksdb::WriteBatch::default();
        match value {
            Some(v) => batch.put_cf(cf, key(&id), v),
            None => batch.delete_cf(cf, key(&id)),
        }
        store.write(batch, true)
    })
    .await??;
    Ok(())
}

#[cfg(test)]
#[path = "approvals_tests.rs"]
mod tests;
