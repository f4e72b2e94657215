//! The held-call state machine of `apv` (capability FORMAT.md §3.5–§3.6), in memory: the
//! open requests, the approvals that arrived for each, what an admission spent, and the
//! decision a call gets. Persistence and the gate's side are in `approvals`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use talos_capability::approval::{self, Approval, MAX_APPROVAL_AGE};
use talos_capability::stateful::ApvCaveat;
use talos_primitives::{CapabilityId, Commitment, Did, Hash32};

/// Open requests a node holds at once.
pub(crate) const MAX_OPEN: usize = 1024;
/// Open requests one caller may have.
pub(crate) const MAX_OPEN_PER_CALLER: usize = 16;
/// How long a request stays open (seconds): its approvals must arrive by then.
pub(crate) const HOLD_SECS: u64 = 900;
/// How far ahead of our clock an approval's `iat` may be, and how long before its
/// request opened it may have been signed (an approver's clock a little behind).
pub(crate) const SKEW: u64 = 300;
/// How often (seconds) a call sent again while its request is open asks the approvers
/// again (an approver's node was down, or this node restarted).
pub(crate) const REASK_SECS: u64 = 30;
/// Request ids whose spent approvals are remembered, and spent approvals remembered per
/// id. A spent approval matters only while a request opened from now on could count it
/// (signed less than [`SKEW`] ago), so few are ever held.
const MAX_SPENT: usize = 16_384;
const MAX_SPENT_PER_ID: usize = 256;

/// One held call: what approvers were asked, and what they answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Request {
    /// The call digest.
    pub dig: Hash32,
    /// Who called.
    pub caller: Did,
    /// Whom the caveat named, and how many must approve.
    pub apv: ApvCaveat,
    /// When it opened (Unix seconds): approvals signed more than [`SKEW`] before do not
    /// count, so an approval of an earlier identical call cannot admit this one.
    pub opened: u64,
    /// When it lapses (Unix seconds).
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

/// What a held call's answer also does.
#[derive(Debug)]
pub(crate) enum Held {
    /// The call opened the request: persist it, audit it, ask the approvers.
    Opened(Box<Request>),
    /// The request was open and its approvers were last asked long ago: ask again.
    Reask(Box<Request>),
    /// Nothing more.
    Waiting,
}

/// The decision on a call under `apv`.
#[derive(Debug)]
pub(crate) enum Decision {
    /// `k` valid approvals: the call may go on (their commitments and `iat`s).
    Approved(CapabilityId, Vec<(Commitment, u64)>),
    /// Open and waiting.
    Pending(CapabilityId, Held),
    /// Its request lapsed unapproved (and is forgotten).
    Lapsed(CapabilityId),
    /// No room for another open request.
    Full,
}

/// The open requests.
#[derive(Default)]
pub(crate) struct Requests {
    /// Each request, its verified approvals, and when its approvers were last asked.
    open: HashMap<CapabilityId, (Request, Vec<Approval>, u64)>,
    per_caller: HashMap<Did, usize>,
    /// Per request id: the approvals admissions spent, with when each was signed.
    spent: HashMap<CapabilityId, HashMap<Commitment, u64>>,
}

/// Why an approval is not taken (the kind its sender is told).
pub(crate) type GrantError = &'static str;

/// The approvals among `grants` that count for `apv` at `now` for `req`, one per
/// approver, none already spent.
fn counted(
    grants: &[Approval],
    apv: &ApvCaveat,
    me: &Did,
    req: &Request,
    spent: Option<&HashMap<Commitment, u64>>,
    now: u64,
) -> Vec<(Commitment, u64)> {
    let mut seen: Vec<&Did> = Vec::new();
    let mut out = Vec::new();
    for a in grants {
        let c = &a.claims;
        let fresh = c.iat <= now.saturating_add(SKEW)
            && now <= c.iat.saturating_add(MAX_APPROVAL_AGE)
            && c.iat.saturating_add(SKEW) >= req.opened;
        if apv.by.contains(&c.iss)
            && c.aud == *me
            && c.dig == req.dig
            && fresh
            && !spent.is_some_and(|s| s.contains_key(&a.commitment))
            && !seen.contains(&&c.iss)
        {
            seen.push(&c.iss);
            out.push((a.commitment, c.iat));
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
        let spent = self.spent.get(&id);
        if let Some((held, grants, asked)) = self.open.get_mut(&id) {
            if held.dig != dig {
                // Two digests with one 128-bit prefix: not a request of this call.
                return Decision::Full;
            }
            if now >= held.exp {
                self.remove(&id);
                return Decision::Lapsed(id);
            }
            // The caveat of this call decides (a re-sent call under another chain may
            // name other approvers; approvals from approvers it does not name do not count).
            let ok = counted(grants, apv, me, held, spent, now);
            if ok.len() >= usize::from(apv.k) {
                return Decision::Approved(id, ok.into_iter().take(usize::from(apv.k)).collect());
            }
            if now >= asked.saturating_add(REASK_SECS) {
                *asked = now;
                return Decision::Pending(id, Held::Reask(Box::new(held.clone())));
            }
            return Decision::Pending(id, Held::Waiting);
        }
        let mine = self.per_caller.get(caller).copied().unwrap_or(0);
        if self.open.len() >= MAX_OPEN || mine >= MAX_OPEN_PER_CALLER {
            return Decision::Full;
        }
        let Some(req) = open() else {
            return Decision::Full;
        };
        *self.per_caller.entry(req.caller).or_insert(0) += 1;
        self.open.insert(id, (req.clone(), Vec::new(), now));
        Decision::Pending(id, Held::Opened(Box::new(req)))
    }

    /// The request `a` is for, as it would stand with `a` taken (one per approver: a newer
    /// approval replaces an older one), without taking it: the caller makes that durable
    /// first, then [`Requests::grant`]s it.
    pub(crate) fn with_grant(
        &self,
        me: &Did,
        a: &Approval,
        compact: &str,
        now: u64,
    ) -> Result<Request, GrantError> {
        let id = a.claims.req;
        let Some((req, grants, _)) = self.open.get(&id) else {
            return Err("unknown_request");
        };
        if a.claims.aud != *me || a.claims.dig != req.dig {
            return Err("wrong_request");
        }
        if !req.apv.by.contains(&a.claims.iss) {
            return Err("not_approver");
        }
        let spent = self.spent.get(&id);
        if counted(std::slice::from_ref(a), &req.apv, me, req, spent, now).is_empty() {
            return Err("stale_approval");
        }
        let mut req = req.clone();
        if let Some(i) = grants.iter().position(|g| g.claims.iss == a.claims.iss) {
            req.grants.remove(i);
        }
        req.grants.push(compact.to_string());
        Ok(req)
    }

    /// Takes a verified approval into its open request (see [`Requests::with_grant`]).
    pub(crate) fn grant(
        &mut self,
        me: &Did,
        a: Approval,
        compact: &str,
        now: u64,
    ) -> Result<(), GrantError> {
        let staged = self.with_grant(me, &a, compact, now)?;
        if let Some((req, grants, _)) = self.open.get_mut(&a.claims.req) {
            grants.retain(|g| g.claims.iss != a.claims.iss);
            grants.push(a);
            *req = staged;
        }
        Ok(())
    }

    /// Closes request `id` for an admitted call: its approvals are spent, so they admit
    /// no later call with the same digest.
    pub(crate) fn consume(&mut self, id: &CapabilityId, used: &[(Commitment, u64)], now: u64) {
        self.remove(id);
        let live = |iat: &u64| iat.saturating_add(SKEW) >= now;
        if self.spent.len() >= MAX_SPENT && !self.spent.contains_key(id) {
            self.spent.retain(|_, set| {
                set.retain(|_, iat| live(iat));
                !set.is_empty()
            });
            if self.spent.len() >= MAX_SPENT {
                // Still full: forget the id spent longest ago (the `opened` rule keeps
                // its approvals out of requests opened more than 5 minutes after them).
                let oldest = self
                    .spent
                    .iter()
                    .min_by_key(|(_, set)| set.values().max().copied().unwrap_or(0))
                    .map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    self.spent.remove(&oldest);
                }
            }
        }
        let set = self.spent.entry(*id).or_default();
        set.retain(|_, iat| live(iat));
        for (c, iat) in used {
            if set.len() >= MAX_SPENT_PER_ID
                && let Some(old) = set.iter().min_by_key(|(_, i)| **i).map(|(c, _)| *c)
            {
                set.remove(&old);
            }
            set.insert(*c, *iat);
        }
    }

    /// Forgets a request (lapsed or swept).
    pub(crate) fn remove(&mut self, id: &CapabilityId) -> Option<Request> {
        let (req, _, _) = self.open.remove(id)?;
        if let Some(n) = self.per_caller.get_mut(&req.caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_caller.remove(&req.caller);
            }
        }
        Some(req)
    }

    /// Drops the requests lapsed at `now` (their ids, to delete from disk) and the spent
    /// approvals that can no longer count.
    pub(crate) fn sweep(&mut self, now: u64) -> Vec<CapabilityId> {
        self.spent.retain(|_, set| {
            set.retain(|_, iat| iat.saturating_add(SKEW) >= now);
            !set.is_empty()
        });
        let old: Vec<CapabilityId> = self
            .open
            .iter()
            .filter(|(_, (r, _, _))| now >= r.exp)
            .map(|(id, _)| *id)
            .collect();
        for id in &old {
            self.remove(id);
        }
        old
    }

    /// Restores one stored request (re-verifying its approvals) within the bounds; false
    /// if it is not kept. Its approvers are asked again on the next call that finds it.
    pub(crate) fn restore(&mut self, req: Request, now: u64) -> bool {
        let id = approval::request_id(&req.dig);
        let mine = self.per_caller.get(&req.caller).copied().unwrap_or(0);
        if now >= req.exp || self.open.len() >= MAX_OPEN || mine >= MAX_OPEN_PER_CALLER {
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
        self.open.insert(id, (req, grants, 0));
        true
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
