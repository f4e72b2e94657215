//! The gate: the sidecar's decision on one call, with no I/O (the sidecar adds the
//! audit trail, the agent hand-off and the answer). Public so the benchmark measures the
//! very code the node runs.
//!
//! In order: the per-peer rate limit; the chain (signatures and links cached once
//! verified, expiry, revocation, scope and caveats); possession: the authenticated
//! connection is the chain's holder, or a detached invocation signed by the holder
//! says so; the call's nonce, once only and close to now; the per-capability rate limit.

use std::cell::RefCell;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use talos_capability::budget::{Counter, Ledger, Spend};
use talos_capability::invocation::Request;
use talos_capability::nonce::ReplayCache;
use talos_capability::published::{Publication, Published};
use talos_capability::stateful::{CounterKey, Stateful};
use talos_capability::txn::{TxnToken, verify_hops};
use talos_capability::{
    Authorizer, Capability, Possession, RevocationSet, Revocations, VerifierConfig,
};
use talos_net::invoke::InvokeRequest;
use talos_primitives::{CapabilityId, Commitment, Did, Ed25519Public, Hash32};
use talos_reputation::Book;

use super::attested::AttVerdict;
use super::sidecar::InvokeConfig;

/// Chains whose verification is cached.
const CHAIN_CACHE: usize = 4096;
/// Call nonces remembered (against replay), and how far a call's time may be from ours
/// (ms); an older call is refused as stale, so the cache need not remember it. The
/// replay cache is per caller (finding #6 of issue 17: a shared one let one caller with a
/// fast clock raise the floor past everyone's): each caller's window is 5 minutes or its
/// last 8,192 calls, whichever is shorter, and a call delayed beyond it is refused (fails
/// closed), never run twice. 8,192 is well above what one caller can send within a
/// millisecond (the warm gate takes ~550 ns), so a caller at full speed is not refused by
/// its own floor; at most 1,024 callers and 65,536 nonces in all (a few MB) are kept, the
/// least recently used caller being forgotten first (its floor kept, never past now: see
/// `talos_capability::nonce`).
const NONCES: usize = 65_536;
const NONCES_PER_CALLER: usize = 8_192;
const REPLAY_CALLERS: usize = 1_024;
const NONCE_TTL_MS: u64 = 300_000;
/// How far ahead of our clock a call's time may be (ms).
const FUTURE_SKEW_MS: u64 = 30_000;
/// Detached invocations carry their time in seconds.
const INVOCATION_TTL: u64 = 300;

/// A refusal, as the fixed kind that goes back on the wire and into the audit event.
pub type Refusal = &'static str;

/// A call the gate lets through.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The chain's leaf commitment, or the last transaction token's.
    pub leaf: Commitment,
    /// What that leaf grants (the leaf's `cap`, or the transaction token's `azd`).
    pub scope: std::sync::Arc<[Capability]>,
    /// The transaction, for a call under transaction tokens (from the hops the gate
    /// parsed and verified, so nothing parses them again).
    pub txn: Option<super::TxnView>,
    /// What the call spends from budgets (`bud` caveats), counted here already: the
    /// sidecar makes it durable with the call's audit event.
    pub spend: Option<Spend>,
    /// For a call under `apv`: the call digest, its request and the approvals that
    /// admitted it (the request is already forgotten here; the sidecar deletes it from
    /// disk before the agent sees the call).
    pub approved: Option<Approved>,
}

/// The approvals that admitted a held call.
#[derive(Debug, Clone)]
pub struct Approved {
    /// The call digest.
    pub dig: talos_primitives::Hash32,
    /// The request's id.
    pub id: CapabilityId,
    /// The approvals spent: commitments and when each was signed.
    pub used: Vec<(Commitment, u64)>,
}

/// Decides calls to one agent.
pub struct Gate {
    pub(super) me: Did,
    trusted_txn: Vec<Did>,
    authorizer: Authorizer,
    /// Call nonces, per caller (the connection's authenticated key).
    nonces: ReplayCache<Ed25519Public>,
    revocations: Revocations,
    /// Revocations the chain recorded, by the revoking DID's chain key: per (revoker, id)
    /// under the same per-publisher bounds as gossiped ones, so no revoker can take a slot
    /// another needs; revokers whose DID issued a link of a chain seen here are pinned.
    on_chain: Published<Hash32>,
    per_peer: DefaultKeyedRateLimiter<Ed25519Public>,
    per_capability: DefaultKeyedRateLimiter<Commitment>,
    /// Credentials callers presented (the `att` caveat).
    attested: super::attested::Attested,
    /// Budget counters (the `bud` caveat), durable ones plus admitted calls' spends.
    ledger: Ledger,
    /// Misbehaviour reports held, and the score they give (`talos-reputation`).
    pub(super) reports: Book,
    /// Callers scoring below this are refused; 0: no check.
    min_reputation: u16,
    /// Calls held for approval (`apv`).
    pub(super) requests: super::approvals::Requests,
    /// The request the last call was held under (see [`Gate::take_held`]).
    pub(super) held: Option<(CapabilityId, super::requests::Held)>,
}

impl core::fmt::Debug for Gate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gate")
            .field("me", &self.me)
            .field("revoked", &self.revocations.len())
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate for the agent `me` (the only trusted root issuer), with `revoked`: ids this
    /// agent revoked (`None`) or that an issuer published (`Some(issuer)`).
    pub fn new(
        me: Ed25519Public,
        config: &InvokeConfig,
        revoked: impl IntoIterator<Item = (CapabilityId, Option<Did>)>,
    ) -> Gate {
        let me = Did::Key(me);
        let quota = Quota::per_second(config.rate).allow_burst(config.burst);
        let mut revocations = Revocations::new();
        for (id, by) in revoked {
            // Within the bounds (what they leave out is dropped); the sidecar restores
            // through `revocations::restore` instead, which deletes that from disk too.
            match by {
                None => revocations.revoke(id),
                Some(issuer) => revocations.revoke_published(issuer, id),
            };
        }
        Gate {
            me,
            trusted_txn: config.trusted_txn.clone(),
            authorizer: Authorizer::new(
                VerifierConfig::new(me),
                CHAIN_CACHE,
                NONCES,
                INVOCATION_TTL,
            ),
            nonces: ReplayCache::with_limits(
                NONCE_TTL_MS,
                NONCES,
                NONCES_PER_CALLER,
                REPLAY_CALLERS,
            ),
            revocations,
            on_chain: Published::new(),
            per_peer: RateLimiter::keyed(quota),
            per_capability: RateLimiter::keyed(quota),
            attested: super::attested::Attested::default(),
            ledger: Ledger::new(),
            // The configuration refuses more than 64 seeds, so this is never the fallback.
            reports: Book::new(config.reputation_seeds.clone())
                .unwrap_or_default()
                .owned_by(me),
            min_reputation: config.min_reputation,
            requests: super::approvals::Requests::default(),
            held: None,
        }
    }

    /// Decides a call from `caller` (the connection's authenticated key) at `now_ms`
    /// (Unix milliseconds): the chain's leaf and scope if it may run.
    pub fn check(
        &mut self,
        caller: &Ed25519Public,
        req: &InvokeRequest,
        now_ms: u64,
    ) -> Result<Admitted, Refusal> {
        let now = now_ms / 1000;
        if self.per_peer.check_key(caller).is_err() {
            return Err("rate_limited");
        }
        let caller_did = Did::Key(*caller);
        // Before the chain: a caller below the threshold costs no signature check.
        if self.min_reputation > 0
            && self.reports.score(&caller_did, now).points < self.min_reputation
        {
            return Err("low_reputation");
        }
        let (mut leaf, stateful) = if req.txn.is_empty() {
            self.check_chain(&caller_did, req, now)?
        } else {
            (self.check_txn(&caller_did, req, now)?, None)
        };
        let (spend, approved) = match &stateful {
            Some(st) => self.check_stateful(caller, req, st, now, &leaf.leaf)?,
            None => (None, None),
        };
        // Rate limit before the nonce is spent, so a call refused here can be retried
        // with the same nonce; and a call from the future (past a small skew) is refused
        // before it reaches the replay cache. There its date can move only its own
        // caller's floor, and never past now, but it keeps that caller's entries (and the
        // caller) from being forgotten until it is due, so the skew bounds that too.
        if self.per_capability.check_key(&leaf.leaf).is_err() {
            return Err("rate_limited");
        }
        if req.at_ms > now_ms.saturating_add(FUTURE_SKEW_MS) {
            return Err("not_yet_valid");
        }
        let nonce = req.nonce_bytes().ok_or("malformed_claims")?;
        self.nonces
            .check(caller, nonce, req.at_ms, now_ms)
            .map_err(|e| e.kind())?;
        // Admitted: the spend counts from now (the ledger stays ahead of the durable
        // counters; a call refused above spent nothing).
        if let Some(spend) = &spend {
            self.ledger.commit(spend);
        }
        // One set of approvals admits one call: its request is forgotten now.
        if let Some(a) = &approved {
            self.requests.consume(&a.id, &a.used, now);
        }
        leaf.spend = spend;
        leaf.approved = approved;
        Ok(leaf)
    }

    /// The stateful caveats (FORMAT.md §3.5) of a call the chain allows: the caller's
    /// reputation, its attestation, its approvals, then the budgets' room (planned, not
    /// yet counted).
    fn check_stateful(
        &mut self,
        caller: &Ed25519Public,
        req: &InvokeRequest,
        st: &Stateful,
        now: u64,
        leaf: &Commitment,
    ) -> Result<(Option<Spend>, Option<Approved>), Refusal> {
        if let Some(rep) = st.rep
            && self.reports.score(&Did::Key(*caller), now).points < rep.min()
        {
            return Err("low_reputation");
        }
        if let Some(att) = &st.att {
            let revoked = CredentialRevocations {
                own: &self.revocations,
                on_chain: &self.on_chain,
            };
            // The issuer of the credential that satisfies the caveat is pinned the first
            // time (as a chain's issuers are), so its published revocations are kept.
            match self.attested.check(caller, &req.att, att, now, &revoked) {
                AttVerdict::Refused => return Err("not_attested"),
                AttVerdict::Admitted { pin: Some(issuer) } => self.note_issuers(&[issuer]),
                AttVerdict::Admitted { pin: None } => {}
            }
        }
        let approved = match &st.apv {
            Some(apv) => Some(self.check_approvals(caller, req, apv, now, leaf)?),
            None => None,
        };
        if st.charges.is_empty() {
            return Ok((None, approved));
        }
        let spend = self.ledger.plan(st, &req.args, now).map_err(|e| e.kind())?;
        Ok((Some(spend), approved))
    }

    /// Restores a durable budget counter (at start); false when there is no room.
    pub fn restore_budget(&mut self, key: CounterKey, counter: Counter) -> bool {
        self.ledger.set(key, counter)
    }

    /// Drops the budget counters of links expired at `now` (plus the grace); how many.
    pub fn sweep_budgets(&mut self, now: u64) -> usize {
        self.ledger.sweep(now).len()
    }

    /// The budget counters.
    pub fn budgets(&self) -> &Ledger {
        &self.ledger
    }

    /// Callers whose attestation credentials are kept.
    pub fn attested_callers(&self) -> usize {
        self.attested.callers()
    }

    /// A call under a capability chain: its leaf.
    fn check_chain(
        &mut self,
        caller_did: &Did,
        req: &InvokeRequest,
        now: u64,
    ) -> Result<(Admitted, Option<Stateful>), Refusal> {
        let request = Request {
            callee: &self.me,
            resource: &req.resource,
            action: &req.action,
            args: &req.args,
            now,
        };
        let possession = match &req.invocation {
            Some(inv) => Possession::Invocation(inv),
            None => Possession::Channel(caller_did),
        };
        let revocations = WithChain {
            own: &self.revocations,
            on_chain: &self.on_chain,
            seen: RefCell::new(Vec::new()),
        };
        let verdict = self
            .authorizer
            .authorize(&req.chain, &request, possession, &revocations);
        // Whatever the verdict (a revoked chain included), the issuers of a chain whose
        // signatures verified from our root are the keys whose revocations matter here:
        // pin them so a flood of throwaway publishers cannot displace theirs.
        let seen = revocations.seen.into_inner();
        if !seen.is_empty() {
            self.note_issuers(&seen);
        }
        let ok = verdict.map_err(|e| e.kind())?;
        // With a detached invocation the holder signed it; the connection must still be
        // the holder, so a captured invocation cannot be sent from elsewhere even once.
        if ok.holder != *caller_did {
            return Err("not_holder");
        }
        let admitted = Admitted {
            leaf: ok.leaf,
            scope: ok.scope,
            txn: None,
            spend: None,
            approved: None,
        };
        Ok((admitted, ok.stateful))
    }

    /// A call under a transaction token: every hop signed by the previous hop's
    /// audience and no wider than it, the first minted by an agent we trust for
    /// transactions, the last minted by the caller for us, unexpired, and granting the
    /// request. Its commitment stands for the leaf.
    fn check_txn(
        &mut self,
        caller_did: &Did,
        req: &InvokeRequest,
        now: u64,
    ) -> Result<Admitted, Refusal> {
        let hops = req
            .txn
            .iter()
            .map(|t| TxnToken::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.kind())?;
        let mut no_hook = |_: &str, _: usize, _: &Did, _: &Did, _: Commitment| {};
        verify_hops(&hops, &self.trusted_txn, &self.me, now, &mut no_hook).map_err(|e| e.kind())?;
        let last = hops.last().ok_or("empty_chain")?;
        if last.claims().iss != *caller_did {
            return Err("not_holder");
        }
        if !last
            .claims()
            .azd
            .iter()
            .any(|c| c.allows(&req.resource, &req.action, &req.args))
        {
            return Err("not_authorized");
        }
        let view = super::TxnView {
            id: last.claims().txn.clone(),
            sub: last.claims().sub.to_string(),
            purp: last.claims().purp.clone(),
            hops: hops.len(),
            chain: hops.iter().map(super::TxnHop::of).collect(),
        };
        Ok(Admitted {
            leaf: last.commitment(),
            scope: last.claims().azd.clone().into(),
            txn: Some(view),
            spend: None,
            approved: None,
        })
    }

    /// Refuses `id` from now on; false if it already was.
    pub fn revoke(&mut self, id: CapabilityId) -> bool {
        self.revocations.revoke(id)
    }

    /// Applies `issuer`'s published revocation of `id` (to the links it issued or
    /// delegated from), within its own quota (`talos_capability::published`). `pinned`:
    /// a durable mark says the issuer issued a link of a chain seen here (on restore).
    pub fn revoke_published(
        &mut self,
        issuer: Did,
        id: CapabilityId,
        pinned: bool,
    ) -> Publication<Did> {
        self.revocations.publish(issuer, id, pinned)
    }

    /// Applies a revocation the chain recorded, by the DID whose chain key is
    /// `revoker` (it counts for links that DID issued or delegated from, like a gossiped
    /// one), within the same bounds.
    pub fn revoke_on_chain(
        &mut self,
        revoker: Hash32,
        id: CapabilityId,
        pinned: bool,
    ) -> Publication<Hash32> {
        self.on_chain.publish(revoker, id, pinned)
    }

    /// Pins `issuers` (of a chain verified from our root) for gossiped and chain
    /// revocations alike.
    fn note_issuers(&mut self, issuers: &[Did]) {
        self.revocations.note_issuers(issuers);
        for d in issuers {
            self.on_chain.note(talos_anchor::did_key(d));
        }
    }

    /// Chain keys of publishers pinned after they first published, whose pin is not
    /// durable yet (drained; the sidecar writes them).
    pub fn take_unsaved_pins(&mut self) -> Vec<Hash32> {
        let mut keys: Vec<Hash32> = self
            .revocations
            .take_unsaved_pins()
            .iter()
            .map(talos_anchor::did_key)
            .collect();
        keys.extend(self.on_chain.take_unsaved_pins());
        keys
    }

    /// Counts of the published revocations: (gossiped pairs, their publishers, chain
    /// pairs, their revokers), each within `talos_capability::published`'s bounds.
    pub fn published_counts(&self) -> (usize, usize, usize, usize) {
        let p = self.revocations.published();
        (
            p.len(),
            p.publishers(),
            self.on_chain.len(),
            self.on_chain.publishers(),
        )
    }

    /// Forgets rate-limiter entries that have refilled. A key is kept only while its
    /// bucket refills (burst / rate: 2 s by default), a new peer key needs a new
    /// authenticated connection (bounded by the connection limits) and a capability key
    /// an allowed call, so the limiters stay small.
    pub fn sweep(&mut self) {
        self.per_peer.retain_recent();
        self.per_peer.shrink_to_fit();
        self.per_capability.retain_recent();
        self.per_capability.shrink_to_fit();
    }
}

/// The gate's own and published revocations plus the chain's: a chain revocation counts
/// for a link when its revoker's chain key is the key of that link's issuer or of one
/// above it (`talos_anchor::did_key`, SHA-256 of the DID string). It also collects the
/// issuers the verifier reports, for the gate to pin once the decision is made.
struct WithChain<'a> {
    own: &'a Revocations,
    on_chain: &'a Published<Hash32>,
    seen: RefCell<Vec<Did>>,
}

impl RevocationSet for WithChain<'_> {
    fn is_revoked(&self, id: &CapabilityId) -> bool {
        self.own.is_revoked(id)
    }

    fn is_revoked_by(&self, id: &CapabilityId, issuers: &[Did]) -> bool {
        self.own.is_revoked_by(id, issuers)
            || (!self.on_chain.is_empty()
                && issuers
                    .iter()
                    .any(|d| self.on_chain.contains(&talos_anchor::did_key(d), id)))
    }

    fn saw_issuers(&self, issuers: &[Did]) {
        // One chain per decision (at most the maximum depth); `try_` so a re-entrant
        // call could never panic (there is none).
        if let Ok(mut seen) = self.seen.try_borrow_mut() {
            seen.clear();
            seen.extend_from_slice(issuers);
        }
    }

    fn epoch(&self) -> u64 {
        // Both only move forward, so the sum changes whenever either does.
        self.own.epoch().wrapping_add(self.on_chain.epoch())
    }
}

/// Whether an attestation credential is revoked: by us (its id among our own
/// revocations), or by its issuer (a gossiped notice, or a chain record by the issuer's
/// chain key), like a capability link the issuer issued (FORMAT.md §4.1).
struct CredentialRevocations<'a> {
    own: &'a Revocations,
    on_chain: &'a Published<Hash32>,
}

impl super::attested::Revoked for CredentialRevocations<'_> {
    fn revoked(&self, v: &talos_attest::Verified, chain_key: &Hash32) -> bool {
        let id = &v.revocation_id;
        self.own.is_revoked_by(id, std::slice::from_ref(&v.issuer))
            || self.on_chain.contains(chain_key, id)
    }
}
