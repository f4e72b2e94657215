//! Delegation chains, verified link by link.

use talos_primitives::{CapabilityId, Did};

use crate::batch;
use crate::didcache::DidCache;
use crate::error::CapError;
use crate::revocation::RevocationSet;
use crate::scope::{Capability, set_contains};
use crate::token::Token;

/// Default maximum number of tokens in a chain.
pub const DEFAULT_MAX_DEPTH: usize = 8;

/// Verifier settings.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Issuers whose root tokens are trusted (usually the verifying agent itself).
    pub trusted_roots: Vec<Did>,
    /// Most tokens in one chain.
    pub max_depth: usize,
}

impl VerifierConfig {
    /// Trusts roots issued by `owner`, with the default depth.
    pub fn new(owner: Did) -> Self {
        Self {
            trusted_roots: vec![owner],
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A chain whose signatures, links and revocations have been checked at some time.
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    /// The leaf's holder.
    pub holder: Did,
    /// What the leaf grants (shared: every authorization from the cache hands it out).
    pub caps: std::sync::Arc<[Capability]>,
    /// The leaf's validity window (the narrowest in the chain).
    pub nbf: u64,
    /// See `nbf`.
    pub exp: u64,
    /// Every link's id, root first.
    pub ids: Vec<CapabilityId>,
    /// Every link's issuer, root first (whose published revocations count, per link).
    pub issuers: Vec<Did>,
    /// The leaf's commitment, which commits to the whole chain through `prf`.
    pub leaf: talos_primitives::Commitment,
    /// Every link's id and capabilities, kept only when one has a stateful caveat.
    pub(crate) links: Option<crate::stateful::Links>,
}

/// Parses a chain given as compact tokens, root first.
pub fn parse_chain<S: AsRef<str>>(
    tokens: &[S],
    config: &VerifierConfig,
) -> Result<Vec<Token>, CapError> {
    parse_chain_with(tokens, config, &mut DidCache::new(2 * config.max_depth))
}

/// [`parse_chain`], resolving DIDs through a cache.
pub fn parse_chain_with<S: AsRef<str>>(
    tokens: &[S],
    config: &VerifierConfig,
    dids: &mut DidCache,
) -> Result<Vec<Token>, CapError> {
    if tokens.is_empty() {
        return Err(CapError::EmptyChain);
    }
    if tokens.len() > config.max_depth {
        return Err(CapError::TooDeep(tokens.len()));
    }
    tokens
        .iter()
        .map(|t| Token::parse_with(t.as_ref(), dids))
        .collect()
}

/// Checks the chain's structure and signatures, then revocation and time. The order is
/// fixed (FORMAT.md §Verification) so an input always gets the same error.
pub fn verify_chain(
    tokens: &[Token],
    config: &VerifierConfig,
    now: u64,
    revocations: &dyn RevocationSet,
) -> Result<VerifiedChain, CapError> {
    let (root, leaf) = match (tokens.first(), tokens.last()) {
        (Some(r), Some(l)) => (r, l),
        _ => return Err(CapError::EmptyChain),
    };
    if tokens.len() > config.max_depth {
        return Err(CapError::TooDeep(tokens.len()));
    }
    if root.claims().prf.is_some() {
        return Err(CapError::BrokenChain(root.claims().jti));
    }
    if !config.trusted_roots.contains(&root.claims().iss) {
        return Err(CapError::UntrustedRoot);
    }
    for pair in tokens.windows(2) {
        let [parent, child] = pair else { continue };
        let (p, c) = (parent.claims(), child.claims());
        if c.prf != Some(parent.commitment()) || c.iss != p.aud {
            return Err(CapError::BrokenChain(c.jti));
        }
        if !set_contains(&p.cap, &c.cap) || c.exp > p.exp || c.nbf < p.nbf {
            return Err(CapError::Widening(c.jti));
        }
    }
    batch::verify_all(tokens)?;
    let issuers: Vec<Did> = tokens.iter().map(|t| t.claims().iss).collect();
    // Rooted here with every signature checked: these keys really issued the links, so
    // their published revocations matter (a bounded set keeps them over strangers').
    revocations.saw_issuers(&issuers);
    if let Some(id) = revoked_link(tokens.iter().map(|t| t.claims().jti), &issuers, revocations) {
        return Err(CapError::Revoked(id));
    }
    let l = leaf.claims();
    check_time(l.jti, l.nbf, l.exp, now)?;
    let stateful = tokens
        .iter()
        .any(|t| t.claims().cap.iter().any(|c| c.cav.is_stateful()));
    let links = stateful.then(|| {
        tokens
            .iter()
            .map(|t| crate::stateful::Link {
                commitment: t.commitment(),
                exp: t.claims().exp,
                caps: t.claims().cap.clone(),
            })
            .collect()
    });
    Ok(VerifiedChain {
        links,
        holder: l.aud,
        caps: l.cap.clone().into(),
        nbf: l.nbf,
        exp: l.exp,
        ids: tokens.iter().map(|t| t.claims().jti).collect(),
        issuers,
        leaf: leaf.commitment(),
    })
}

pub(crate) fn check_time(jti: CapabilityId, nbf: u64, exp: u64, now: u64) -> Result<(), CapError> {
    if now < nbf {
        return Err(CapError::NotYetValid(jti));
    }
    if now >= exp {
        return Err(CapError::Expired(jti));
    }
    Ok(())
}

impl VerifiedChain {
    /// True when the leaf grants `action` on `resource` with these arguments.
    pub fn allows(
        &self,
        resource: &str,
        action: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        self.caps.iter().any(|c| c.allows(resource, action, args))
    }

    /// The stateful caveats (FORMAT.md §3.5) the node must decide for this request.
    pub fn stateful(
        &self,
        resource: &str,
        action: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<crate::stateful::Stateful> {
        crate::stateful::of(self.links.as_ref()?, resource, action, args)
    }
}

/// The first revoked link, root first: link `i` counts as revoked when revoked outright
/// or by a revocation published by its issuer or an issuer above it.
pub(crate) fn revoked_link(
    ids: impl Iterator<Item = CapabilityId>,
    issuers: &[Did],
    revocations: &dyn RevocationSet,
) -> Option<CapabilityId> {
    ids.enumerate()
        .find(|(i, id)| revocations.is_revoked_by(id, issuers.get(..=*i).unwrap_or(issuers)))
        .map(|(_, id)| id)
}
