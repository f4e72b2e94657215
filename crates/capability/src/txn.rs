//! Transaction tokens, after draft-ietf-oauth-transaction-tokens: a short-lived token that
//! carries the identity and authorization context of one transaction across a chain of
//! calls, replaced at each hop.
//!
//! In talos there is no central Transaction Token Service: each hop is its own service. The
//! hop that received token N mints token N+1 for the next callee ("replace"): same `txn` and
//! `sub`, an equal or narrower `azd`, an expiry no later than N's, `prv` = N's commitment,
//! signed by the hop itself (N's audience). The chain of hops is verifiable end to end, and
//! an audit hook fires for each hop as it is verified.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talos_identity::IdentityKey;
use talos_primitives::{Commitment, Did};

use crate::error::CapError;
use crate::jws;
use crate::scope::{Capability, set_contains};
use crate::token::commitment_of;

/// The JWS `typ` the draft assigns to transaction tokens.
pub const TXN_TYP: &str = "txntoken+jwt";
/// Default lifetime: five minutes.
pub const DEFAULT_TXN_LIFETIME: u64 = 300;
/// Longest lifetime a verifier accepts for one hop.
pub const MAX_TXN_LIFETIME: u64 = 3600;

/// Transaction token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxnClaims {
    /// The hop that minted this token.
    pub iss: Did,
    /// The next callee.
    pub aud: Did,
    /// Issued at.
    pub iat: u64,
    /// Expiry; at most `iat + MAX_TXN_LIFETIME`.
    pub exp: u64,
    /// The transaction id, constant across hops.
    pub txn: String,
    /// The principal the transaction acts for, constant across hops.
    pub sub: Did,
    /// Purpose of the transaction.
    pub purp: String,
    /// Authorization details: what this hop may do.
    pub azd: Vec<Capability>,
    /// Requester context (for example the original requester's environment).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub rctx: Map<String, Value>,
    /// The previous hop's token commitment; absent at the first hop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prv: Option<Commitment>,
}

/// A parsed transaction token.
#[derive(Debug, Clone)]
pub struct TxnToken {
    compact: String,
    claims: TxnClaims,
    signer: talos_primitives::Ed25519Public,
    signing_input_len: usize,
    signature: talos_identity::Signature,
}

/// Called once per verified hop, in order: the place to append an audit event.
pub trait TxnAuditHook {
    /// Hop `index` (0 = first) of `txn` went from `from` to `to`; `token` is its commitment.
    fn on_hop(&mut self, txn: &str, index: usize, from: &Did, to: &Did, token: Commitment);
}

impl<F: FnMut(&str, usize, &Did, &Did, Commitment)> TxnAuditHook for F {
    fn on_hop(&mut self, txn: &str, index: usize, from: &Did, to: &Did, token: Commitment) {
        self(txn, index, from, to, token)
    }
}

impl TxnToken {
    /// Parses (without checking the signature).
    pub fn parse(compact: &str) -> Result<Self, CapError> {
        let parsed = jws::parse(compact, TXN_TYP)?;
        let claims: TxnClaims = jws::canonical_payload(&parsed.payload)?;
        let key = claims.iss.as_key().ok_or(CapError::UnknownKid)?;
        if !jws::kid_matches(&parsed.kid, &claims.iss.to_string()) {
            return Err(CapError::UnknownKid);
        }
        if claims.txn.is_empty()
            || claims.txn.len() > 128
            || claims.azd.is_empty()
            || claims.exp <= claims.iat
            // `att` and `bud` are decided against counters and credentials kept per
            // capability chain (FORMAT.md §3.5); a transaction token has no such chain.
            || claims.azd.iter().any(|c| c.cav.is_stateful())
        {
            return Err(CapError::MalformedClaims("txn, azd or lifetime".into()));
        }
        if claims.exp - claims.iat > MAX_TXN_LIFETIME {
            return Err(CapError::Widening(talos_primitives::CapabilityId::default()));
        }
        Ok(Self {
            signer: *key,
            signing_input_len: parsed.signing_input.len(),
            signature: parsed.signature,
            compact: compact.to_string(),
            claims,
        })
    }

    /// Mints the first hop's token.
    pub fn mint(key: &IdentityKey, claims: TxnClaims) -> Result<Self, CapError> {
        if claims.iss != key.did() || claims.prv.is_some() {
            return Err(CapError::UnknownKid);
        }
        Self::parse(&jws::sign(key, TXN_TYP, &claims)?)
    }

    /// The replace step: the holder of this token (its audience) mints the next hop's
    /// token for `next`, with `azd` no wider than this one's.
    pub fn replace(
        &self,
        hop: &IdentityKey,
        next: Did,
        azd: Vec<Capability>,
        now: u64,
    ) -> Result<Self, CapError> {
        if hop.did() != self.claims.aud {
            return Err(CapError::WrongAudience);
        }
        if !set_contains(&self.claims.azd, &azd) {
            return Err(CapError::Widening(talos_primitives::CapabilityId::default()));
        }
        let claims = TxnClaims {
            iss: hop.did(),
            aud: next,
            iat: now,
            exp: self
                .claims
                .exp
                .min(now.saturating_add(DEFAULT_TXN_LIFETIME)),
            txn: self.claims.txn.clone(),
            sub: self.claims.sub,
            purp: self.claims.purp.clone(),
            azd,
            rctx: self.claims.rctx.clone(),
            prv: Some(self.commitment()),
        };
        Self::parse(&jws::sign(hop, TXN_TYP, &claims)?)
    }

    /// The claims.
    pub const fn claims(&self) -> &TxnClaims {
        &self.claims
    }

    /// The compact form.
    pub fn as_str(&self) -> &str {
        &self.compact
    }

    /// SHA-256 of the compact bytes.
    pub fn commitment(&self) -> Commitment {
        commitment_of(&self.compact)
    }

    fn verify_signature(&self) -> Result<(), CapError> {
        let input = self
            .compact
            .as_bytes()
            .get(..self.signing_input_len)
            .unwrap_or_default();
        talos_identity::keys::verify(&self.signer, input, &self.signature)
            .map_err(|_| CapError::BadSignature)
    }
}

/// Verifies a hop chain, first hop first, for the final callee `me` at time `now`,
/// calling `hook` for each hop. The first hop must be minted by a trusted issuer.
pub fn verify_hops(
    hops: &[TxnToken],
    trusted_first: &[Did],
    me: &Did,
    now: u64,
    hook: &mut dyn TxnAuditHook,
) -> Result<(), CapError> {
    let first = hops.first().ok_or(CapError::EmptyChain)?;
    let last = hops.last().ok_or(CapError::EmptyChain)?;
    if first.claims.prv.is_some() {
        return Err(CapError::BrokenChain(Default::default()));
    }
    if !trusted_first.contains(&first.claims.iss) {
        return Err(CapError::UntrustedRoot);
    }
    for (i, t) in hops.iter().enumerate() {
        t.verify_signature()?;
        if let Some(prev) = i.checked_sub(1).and_then(|j| hops.get(j)) {
            let (p, c) = (&prev.claims, &t.claims);
            if c.prv != Some(prev.commitment())
                || c.iss != p.aud
                || c.txn != p.txn
                || c.sub != p.sub
            {
                return Err(CapError::BrokenChain(Default::default()));
            }
            if !set_contains(&p.azd, &c.azd) || c.exp > p.exp {
                return Err(CapError::Widening(Default::default()));
            }
        }
        hook.on_hop(
            &t.claims.txn,
            i,
            &t.claims.iss,
            &t.claims.aud,
            t.commitment(),
        );
    }
    if &last.claims.aud != me {
        return Err(CapError::WrongAudience);
    }
    if now < last.claims.iat {
        return Err(CapError::NotYetValid(Default::default()));
    }
    if now >= last.claims.exp {
        return Err(CapError::Expired(Default::default()));
    }
    Ok(())
}
