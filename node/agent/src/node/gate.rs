//! The gate: the sidecar's decision on one call, with no I/O (the sidecar adds the
//! audit trail, the agent hand-off and the answer). Public so the benchmark measures the
//! very code the node runs.
//!
//! In order: the per-peer rate limit; the chain (signatures and links cached once
//! verified, expiry, revocation, scope and caveats); possession: the authenticated
//! connection is the chain's holder, or a detached invocation signed by the holder
//! says so; the call's nonce, once only and close to now; the per-capability rate limit.

use std::collections::HashMap;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use talos_capability::invocation::Request;
use talos_capability::nonce::NonceCache;
use talos_capability::txn::{TxnToken, verify_hops};
use talos_capability::{Authorizer, Possession, RevocationSet, Revocations, VerifierConfig};
use talos_net::invoke::InvokeRequest;
use talos_primitives::{CapabilityId, Commitment, Did, Ed25519Public, Hash32};

use super::invoke::InvokeConfig;

/// Chains whose verification is cached.
const CHAIN_CACHE: usize = 4096;
/// Call nonces remembered (against replay), and how far a call's time may be from ours
/// (ms); an older call is refused as stale, so the cache need not remember it. The
/// replay window is 5 minutes or the last 65,536 calls, whichever is shorter: a call
/// delayed beyond it is refused (fails closed), never run twice.
const NONCES: usize = 65_536;
const NONCE_TTL_MS: u64 = 300_000;
/// How far ahead of our clock a call's time may be (ms).
const FUTURE_SKEW_MS: u64 = 30_000;
/// Detached invocations carry their time in seconds.
const INVOCATION_TTL: u64 = 300;

/// A refusal, as the fixed kind that goes back on the wire and into the audit event.
pub type Refusal = &'static str;

/// Decides calls to one agent.
pub struct Gate {
    me: Did,
    trusted_txn: Vec<Did>,
    authorizer: Authorizer,
    nonces: NonceCache,
    revocations: Revocations,
    /// Revocations the chain recorded, by the revoking DID's chain key.
    on_chain: HashMap<CapabilityId, Vec<Hash32>>,
    chain_epoch: u64,
    per_peer: DefaultKeyedRateLimiter<Ed25519Public>,
    per_capability: DefaultKeyedRateLimiter<Commitment>,
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
            nonces: NonceCache::new(NONCE_TTL_MS, NONCES),
            revocations,
            on_chain: HashMap::new(),
            chain_epoch: 0,
            per_peer: RateLimiter::keyed(quota),
            per_capability: RateLimiter::keyed(quota),
        }
    }

    /// Decides a call from `caller` (the connection's authenticated key) at `now_ms`
    /// (Unix milliseconds): the chain's leaf if it may run.
    pub fn check(
        &mut self,
        caller: &Ed25519Public,
        req: &InvokeRequest,
        now_ms: u64,
    ) -> Result<Commitment, Refusal> {
        let now = now_ms / 1000;
        if self.per_peer.check_key(caller).is_err() {
            return Err("rate_limited");
        }
        let caller_did = Did::Key(*caller);
        let leaf = if req.txn.is_empty() {
            self.check_chain(&caller_did, req, now)?
        } else {
            self.check_txn(&caller_did, req, now)?
        };
        // Rate limit before the nonce is spent, so a call refused here can be retried
        // with the same nonce; and a call from the future (past a small skew) is refused
        // before it can sit in the replay cache and raise its floor for everyone.
        if self.per_capability.check_key(&leaf).is_err() {
            return Err("rate_limited");
        }
        if req.at_ms > now_ms.saturating_add(FUTURE_SKEW_MS) {
            return Err("not_yet_valid");
        }
        let nonce = req.nonce_bytes().ok_or("malformed_claims")?;
        self.nonces
            .check(nonce, req.at_ms, now_ms)
            .map_err(|e| e.kind())?;
        Ok(leaf)
    }

    /// A call under a capability chain: its leaf.
    fn check_chain(
        &mut self,
        caller_did: &Did,
        req: &InvokeRequest,
        now: u64,
    ) -> Result<Commitment, Refusal> {
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
            chain_epoch: self.chain_epoch,
        };
        let ok = self
            .authorizer
            .authorize(&req.chain, &request, possession, &revocations)
            .map_err(|e| e.kind())?;
        // With a detached invocation the holder signed it; the connection must still be
        // the holder, so a captured invocation cannot be sent from elsewhere even once.
        if ok.holder != *caller_did {
            return Err("not_holder");
        }
        Ok(ok.leaf)
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
    ) -> Result<Commitment, Refusal> {
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
        Ok(last.commitment())
    }

    /// Refuses `id` from now on; false if it already was.
    pub fn revoke(&mut self, id: CapabilityId) -> bool {
        self.revocations.revoke(id)
    }

    /// True when `issuer`'s publication of `id` would be new and within the bounds.
    pub fn would_publish(&self, issuer: &Did, id: &CapabilityId) -> bool {
        self.revocations.would_publish(issuer, id)
    }

    /// Applies `issuer`'s published revocation of `id` (to the links it issued or
    /// delegated from); false if already known or over the bound.
    pub fn revoke_published(&mut self, issuer: Did, id: CapabilityId) -> bool {
        self.revocations.revoke_published(issuer, id)
    }

    /// Applies a revocation the chain recorded, by the DID whose chain key is
    /// `revoker` (it counts for links that DID issued or delegated from, like a gossiped
    /// one); false if already known or over the bound.
    pub fn revoke_on_chain(&mut self, revoker: Hash32, id: CapabilityId) -> bool {
        if !self.on_chain.contains_key(&id)
            && self.on_chain.len() >= talos_capability::revocation::MAX_PUBLISHED
        {
            return false;
        }
        let by = self.on_chain.entry(id).or_default();
        if by.contains(&revoker) || by.len() >= 8 {
            return false;
        }
        by.push(revoker);
        self.chain_epoch = self.chain_epoch.saturating_add(1);
        true
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
/// above it (`talos_anchor::did_key`, SHA-256 of the DID string).
struct WithChain<'a> {
    own: &'a Revocations,
    on_chain: &'a HashMap<CapabilityId, Vec<Hash32>>,
    chain_epoch: u64,
}

impl RevocationSet for WithChain<'_> {
    fn is_revoked(&self, id: &CapabilityId) -> bool {
        self.own.is_revoked(id)
    }

    fn is_revoked_by(&self, id: &CapabilityId, issuers: &[Did]) -> bool {
        self.own.is_revoked_by(id, issuers)
            || self.on_chain.get(id).is_some_and(|keys| {
                issuers
                    .iter()
                    .any(|d| keys.contains(&talos_anchor::did_key(d)))
            })
    }

    fn epoch(&self) -> u64 {
        // Both only grow, so the sum changes whenever either does.
        self.own.epoch().wrapping_add(self.chain_epoch)
    }
}
