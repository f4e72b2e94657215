//! The sidecar's decision: does this request run?

use talos_primitives::{Commitment, Did};

use crate::cache::ChainCache;
use crate::chain::{VerifiedChain, VerifierConfig, parse_chain_with, verify_chain};
use crate::didcache::DidCache;
use crate::error::CapError;
use crate::invocation::{self, Request};
use crate::nonce::ReplayCache;
use crate::revocation::RevocationSet;
use crate::scope::Capability;

/// How the holder proves possession of the leaf token.
#[derive(Debug, Clone, Copy)]
pub enum Possession<'a> {
    /// The request arrived over a channel (ratchet session, Noise connection) already
    /// authenticated to this peer's key.
    Channel(&'a Did),
    /// A detached invocation (compact JWS) signed by the holder.
    Invocation(&'a str),
}

/// A request that may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorized {
    /// Who is acting.
    pub holder: Did,
    /// The leaf commitment (audit events record this).
    pub leaf: Commitment,
    /// What the leaf grants (the agent may narrow its answer by it, such as a tool list);
    /// shared with the cache, so handing it out costs no copy.
    pub scope: std::sync::Arc<[Capability]>,
    /// True when the chain came from the cache.
    pub cached: bool,
    /// The stateful caveats the node must still decide (FORMAT.md §3.5), if any.
    pub stateful: Option<crate::stateful::Stateful>,
}

/// Verifies chains, remembers verified ones, and refuses replays.
#[derive(Debug)]
pub struct Authorizer {
    config: VerifierConfig,
    cache: ChainCache,
    /// Invocation nonces, per holder (the invocation's signer).
    nonces: ReplayCache<Did>,
    dids: DidCache,
}

impl Authorizer {
    /// An authorizer for the agent `config` trusts, caching `cache` chains and `nonces`
    /// invocation nonces for `nonce_ttl` seconds (kept per holder: see
    /// [`ReplayCache::new`]).
    pub fn new(config: VerifierConfig, cache: usize, nonces: usize, nonce_ttl: u64) -> Self {
        Self {
            config,
            cache: ChainCache::new(cache),
            nonces: ReplayCache::new(nonce_ttl, nonces),
            dids: DidCache::new(1024),
        }
    }

    /// Decides a request. `chain` is compact tokens, root first.
    pub fn authorize<S: AsRef<str>>(
        &mut self,
        chain: &[S],
        req: &Request<'_>,
        possession: Possession<'_>,
        revocations: &dyn RevocationSet,
    ) -> Result<Authorized, CapError> {
        let leaf_text = chain.last().ok_or(CapError::EmptyChain)?.as_ref();
        let cached = match self.cache.get(leaf_text, req.now, revocations) {
            Some(Ok(c)) => Some((
                c.holder,
                c.leaf,
                c.allows(req.resource, req.action, req.args),
                c.caps.clone(),
                c.stateful(req.resource, req.action, req.args),
            )),
            Some(Err(e)) => return Err(e),
            None => None,
        };
        let (holder, leaf, allowed, scope, stateful, was_cached) = match cached {
            Some((h, l, a, s, st)) => (h, l, a, s, st, true),
            None => {
                let verified = self.verify_cold(chain, req.now, revocations)?;
                let allowed = verified.allows(req.resource, req.action, req.args);
                let stateful = verified.stateful(req.resource, req.action, req.args);
                let (holder, leaf, scope) = (verified.holder, verified.leaf, verified.caps.clone());
                self.cache.insert(leaf_text, verified, revocations.epoch());
                (holder, leaf, allowed, scope, stateful, false)
            }
        };
        match possession {
            Possession::Channel(peer) if *peer == holder => {}
            Possession::Channel(_) => return Err(CapError::WrongAudience),
            Possession::Invocation(inv) => {
                invocation::verify(inv, &holder, leaf, req, &mut self.nonces)?
            }
        }
        if !allowed {
            return Err(CapError::NotAuthorized);
        }
        Ok(Authorized {
            holder,
            leaf,
            scope,
            cached: was_cached,
            stateful,
        })
    }

    fn verify_cold<S: AsRef<str>>(
        &mut self,
        chain: &[S],
        now: u64,
        revocations: &dyn RevocationSet,
    ) -> Result<VerifiedChain, CapError> {
        let tokens = parse_chain_with(chain, &self.config, &mut self.dids)?;
        verify_chain(&tokens, &self.config, now, revocations)
    }

    /// Chains in the cache.
    pub fn cached_chains(&self) -> usize {
        self.cache.len()
    }
}
