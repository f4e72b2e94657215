//! Capability tokens: claims, issuing, delegating, parsing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use ed25519_dalek::VerifyingKey;
use talos_identity::IdentityKey;
use talos_primitives::{CapabilityId, Commitment, Did, Ed25519Public, Hash32};

use crate::didcache::DidCache;
use crate::error::CapError;
use crate::jws;
use crate::scope::{Capability, set_contains};

/// The JWS `typ` of a capability token.
pub const CAP_TYP: &str = "talos-cap+jwt";
/// Most capabilities one token may carry.
pub const MAX_CAPS: usize = 32;

/// What a capability token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Who grants (a did:key: the signer).
    pub iss: Did,
    /// Who holds the grant and may use or delegate it.
    pub aud: Did,
    /// What is granted.
    pub cap: Vec<Capability>,
    /// Not valid before (Unix seconds).
    pub nbf: u64,
    /// Not valid at or after (Unix seconds).
    pub exp: u64,
    /// Unique id; revocation is by id.
    pub jti: CapabilityId,
    /// The parent token's commitment, for a delegated token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prf: Option<Commitment>,
}

impl Claims {
    /// The rules of FORMAT.md §2 that the types alone do not enforce.
    fn check(&self) -> Result<(), CapError> {
        if self.cap.is_empty() || self.cap.len() > MAX_CAPS {
            return Err(CapError::MalformedClaims(format!(
                "cap must hold 1..={MAX_CAPS} entries"
            )));
        }
        jws::check_integer("nbf", self.nbf)?;
        jws::check_integer("exp", self.exp)?;
        for c in &self.cap {
            for v in c.cav.max.values() {
                jws::check_integer("a max caveat", *v)?;
            }
            let stateful = c.cav.att.as_ref().map(|a| a.check()).transpose();
            let stateful = stateful.and(c.cav.bud.as_ref().map(|b| b.check()).transpose());
            let stateful = stateful.and(c.cav.apv.as_ref().map(|a| a.check()).transpose());
            stateful.map_err(|e| CapError::MalformedClaims(e.into()))?;
        }
        if self.nbf >= self.exp {
            return Err(CapError::MalformedClaims("nbf must be before exp".into()));
        }
        Ok(())
    }
}

/// The claims as they travel: DIDs as text, so a [`DidCache`] can resolve them.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireClaims {
    iss: String,
    aud: String,
    cap: Vec<Capability>,
    nbf: u64,
    exp: u64,
    jti: CapabilityId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prf: Option<Commitment>,
}

/// A parsed capability token. Its signature is checked by the verifier (singly or in a
/// batch with the rest of its chain), not at parse time.
#[derive(Debug, Clone)]
pub struct Token {
    compact: String,
    signing_input_len: usize,
    signature: talos_identity::Signature,
    issuer: Ed25519Public,
    issuer_vk: VerifyingKey,
    claims: Claims,
    commitment: Commitment,
}

/// SHA-256 of a token's compact bytes.
pub fn commitment_of(compact: &str) -> Commitment {
    Commitment(Hash32(Sha256::digest(compact.as_bytes()).into()))
}

impl Token {
    /// Parses a compact token: size, JWS shape, header, canonical claims, and `kid` naming
    /// the issuer's did:key, in the order of FORMAT.md §1.1. The signature is not checked.
    pub fn parse(compact: &str) -> Result<Self, CapError> {
        Self::parse_with(compact, &mut DidCache::new(4))
    }

    /// [`Token::parse`], resolving DIDs through a cache.
    pub fn parse_with(compact: &str, dids: &mut DidCache) -> Result<Self, CapError> {
        // Steps 1-13: envelope, header, canonical payload, claims.
        let jws = jws::parse(compact, CAP_TYP)?;
        let wire: WireClaims = jws::canonical_payload(&jws.payload)?;
        // A DID that does not parse, including a did:key whose key is not a point of
        // large order, breaks §2: malformed_claims, at parse time (§4 step 1).
        let bad_did =
            |e: talos_primitives::DidError| CapError::MalformedClaims(format!("DID: {e}"));
        let iss = dids.resolve(&wire.iss).map_err(bad_did)?;
        let aud = dids.resolve(&wire.aud).map_err(bad_did)?.did;
        let claims = Claims {
            iss: iss.did,
            aud,
            cap: wire.cap,
            nbf: wire.nbf,
            exp: wire.exp,
            jti: wire.jti,
            prf: wire.prf,
        };
        claims.check()?;
        // Step 14: the issuer must be a did:key, and `kid` its one verification method
        // (`did:key:z6Mk...#z6Mk...`). A did:talos issuer would need resolution, which this
        // offline verifier does not do, so it is an unknown kid.
        if !jws::kid_matches(&jws.kid, &wire.iss) {
            return Err(CapError::UnknownKid);
        }
        let (Some(issuer), Some(issuer_key)) = (claims.iss.as_key().copied(), iss.key) else {
            return Err(CapError::UnknownKid);
        };
        Ok(Self {
            signing_input_len: jws.signing_input.len(),
            signature: jws.signature,
            issuer,
            issuer_vk: issuer_key,
            commitment: commitment_of(compact),
            compact: compact.to_string(),
            claims,
        })
    }

    /// Signs new claims. The signer must be the claims' issuer.
    pub fn issue(key: &IdentityKey, claims: Claims) -> Result<Self, CapError> {
        if claims.iss != key.did() {
            return Err(CapError::UnknownKid);
        }
        claims.check()?;
        let compact = jws::sign(key, CAP_TYP, &claims)?;
        Self::parse(&compact)
    }

    /// Delegates part of this token to `to`: the holder signs a child whose scope and
    /// lifetime are checked to be within this token's before it is signed.
    pub fn delegate(
        &self,
        holder: &IdentityKey,
        to: Did,
        cap: Vec<Capability>,
        nbf: u64,
        exp: u64,
        jti: CapabilityId,
    ) -> Result<Self, CapError> {
        if holder.did() != self.claims.aud {
            return Err(CapError::WrongAudience);
        }
        if !set_contains(&self.claims.cap, &cap) || exp > self.claims.exp || nbf < self.claims.nbf {
            return Err(CapError::Widening(jti));
        }
        let claims = Claims {
            iss: holder.did(),
            aud: to,
            cap,
            nbf,
            exp,
            jti,
            prf: Some(self.commitment),
        };
        Self::issue(holder, claims)
    }

    /// The claims.
    pub const fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The compact form.
    pub fn as_str(&self) -> &str {
        &self.compact
    }

    /// SHA-256 of the compact bytes: what on-chain registries store.
    pub const fn commitment(&self) -> Commitment {
        self.commitment
    }

    /// The issuer's key, from the did:key.
    pub const fn issuer_key(&self) -> &Ed25519Public {
        &self.issuer
    }

    /// The signed bytes.
    pub(crate) fn signing_input(&self) -> &[u8] {
        self.compact
            .as_bytes()
            .get(..self.signing_input_len)
            .unwrap_or_default()
    }

    /// The signature.
    pub(crate) const fn signature(&self) -> &talos_identity::Signature {
        &self.signature
    }

    /// The issuer's ready verifying key.
    pub(crate) const fn verifying_key(&self) -> &VerifyingKey {
        &self.issuer_vk
    }

    /// Checks this token's signature alone (`verify_strict`).
    pub fn verify_signature(&self) -> Result<(), CapError> {
        let sig = ed25519_dalek::Signature::from_bytes(&self.signature.0);
        self.issuer_vk
            .verify_strict(self.signing_input(), &sig)
            .map_err(|_| CapError::BadSignature)
    }
}
