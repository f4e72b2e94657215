//! The attestation credential:
//!
//! ```json
//! {"@context": ["https://www.w3.org/ns/credentials/v2"],
//!  "id": "urn:uuid:…", "type": ["VerifiableCredential", "TalosAttestation"],
//!  "issuer": "<attester did:key>", "validFrom": "…Z", "validUntil": "…Z",
//!  "credentialSubject": {"id": "<agent DID>", "binarySha256": hex, "configSha256": hex,
//!    "model": "…", "policySha256": hex, "intotoSha256"?: hex},
//!  "proof": {eddsa-jcs-2022, verificationMethod "<issuer>#<key>", proofPurpose
//!    "assertionMethod"}}
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use talos_identity::jcs::{self, ProofOptions};
use talos_identity::keys::IdentityKey;
use talos_identity::{Hash32, did_key};
use talos_primitives::{CapabilityId, Did};
use thiserror::Error;

/// The credential type talos reads.
pub const TYPE: &str = "TalosAttestation";
/// The VC 2.0 context.
pub const CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// Largest credential accepted, in bytes, before parsing.
pub const MAX_CREDENTIAL: usize = 16 * 1024;
/// Longest `model` claim, in bytes.
pub const MAX_MODEL: usize = 128;

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttestError {
    /// Not JSON of the credential's shape (the detail says where).
    #[error("not a talos attestation credential: {0}")]
    Malformed(String),
    /// Over [`MAX_CREDENTIAL`] bytes.
    #[error("credential over {MAX_CREDENTIAL} bytes")]
    TooLarge,
    /// The issuer is not a did:key, or the proof names a key of another DID.
    #[error("the proof is not by the issuer's did:key: {0}")]
    WrongIssuer(String),
    /// The proof does not verify.
    #[error("the proof does not verify: {0}")]
    BadProof(String),
    /// Before `validFrom` or after `validUntil`.
    #[error("not valid at {now}: valid from {from} until {until}")]
    NotValidNow {
        /// Unix seconds checked.
        now: u64,
        /// `validFrom`, unix seconds.
        from: u64,
        /// `validUntil`, unix seconds.
        until: u64,
    },
}

/// What the attester states of the agent (the credential's subject).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Claims {
    /// The agent.
    pub id: Did,
    /// SHA-256 of the agent's node binary (`measure::binary`).
    pub binary_sha256: Hash32,
    /// SHA-256 of its configuration's canonical form (`measure::config`).
    pub config_sha256: Hash32,
    /// The model it runs.
    pub model: String,
    /// SHA-256 of the policy it runs under.
    pub policy_sha256: Hash32,
    /// SHA-256 of an in-toto statement about the build, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intoto_sha256: Option<Hash32>,
}

/// The credential as issued (before its proof).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Credential {
    #[serde(rename = "@context")]
    context: Vec<String>,
    id: String,
    #[serde(rename = "type")]
    types: Vec<String>,
    issuer: Did,
    valid_from: String,
    valid_until: String,
    credential_subject: Claims,
}

/// A credential whose proof verified and which is valid at the time checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The credential's id (`urn:uuid:…`).
    pub id: String,
    /// The attester.
    pub issuer: Did,
    /// What it states.
    pub claims: Claims,
    /// `validFrom`, unix seconds.
    pub valid_from: u64,
    /// `validUntil`, unix seconds.
    pub valid_until: u64,
    /// SHA-256 of the secured credential's JCS form.
    pub commitment: Hash32,
    /// The id's 16 UUID bytes: what the attester's revocation names (as a capability's
    /// `jti`: gossiped notice or on-chain record by the issuer).
    pub revocation_id: CapabilityId,
}

impl Claims {
    /// A claim by its credential name (`binarySha256`, `configSha256`, `intotoSha256`,
    /// `model`, `policySha256`), as the `att` caveat compares it: hex digests in
    /// lowercase, the model as written.
    pub fn claim(&self, name: &str) -> Option<String> {
        match name {
            "binarySha256" => Some(self.binary_sha256.to_string()),
            "configSha256" => Some(self.config_sha256.to_string()),
            "intotoSha256" => self.intoto_sha256.map(|h| h.to_string()),
            "model" => Some(self.model.clone()),
            "policySha256" => Some(self.policy_sha256.to_string()),
            _ => None,
        }
    }
}

/// The 16 bytes of `urn:uuid:<lowercase 8-4-4-4-12 hex>`.
fn uuid_bytes(id: &str) -> Option<CapabilityId> {
    let u = id.strip_prefix("urn:uuid:")?;
    let dashes_ok = u.len() == 36
        && u.char_indices()
            .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
    let hex: String = u.chars().filter(|c| *c != '-').collect();
    if !dashes_ok || hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex.parse().ok()
}

fn rfc3339(secs: u64) -> Result<String, AttestError> {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .ok_or_else(|| AttestError::Malformed(format!("time {secs} out of range")))?;
    Ok(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn unix(field: &str, text: &str) -> Result<u64, AttestError> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|t| u64::try_from(t.timestamp()).ok())
        .ok_or_else(|| AttestError::Malformed(format!("`{field}` is not an RFC 3339 time")))
}

/// The credential `attester` issues about `claims.id`, valid from `from` until `until`
/// (unix seconds).
pub fn issue(
    attester: &IdentityKey,
    claims: Claims,
    from: u64,
    until: u64,
) -> Result<Value, AttestError> {
    if until <= from {
        return Err(AttestError::Malformed(
            "validUntil is not after validFrom".into(),
        ));
    }
    if claims.model.is_empty() || claims.model.len() > MAX_MODEL {
        return Err(AttestError::Malformed(format!(
            "`model` must be 1..={MAX_MODEL} bytes"
        )));
    }
    let issuer = attester.did();
    let credential = Credential {
        context: vec![CONTEXT.into()],
        id: format!("urn:uuid:{}", uuid_v4()),
        types: vec!["VerifiableCredential".into(), TYPE.into()],
        issuer,
        valid_from: rfc3339(from)?,
        valid_until: rfc3339(until)?,
        credential_subject: claims,
    };
    let key = did_key::encode(&attester.public());
    let options = ProofOptions {
        verification_method: format!("{key}#{}", key.trim_start_matches("did:key:")),
        proof_purpose: "assertionMethod".into(),
        created: Some(rfc3339(from)?),
    };
    jcs::secure(attester, &credential, &options).map_err(|e| AttestError::BadProof(e.to_string()))
}

/// A random (version 4) UUID, for the credential's id.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Parses and verifies a credential at unix time `now`: the proof by the issuer's
/// did:key (the key comes from the issuer's DID, never from the credential), and the
/// validity period.
pub fn verify(bytes: &[u8], now: u64) -> Result<Verified, AttestError> {
    if bytes.len() > MAX_CREDENTIAL {
        return Err(AttestError::TooLarge);
    }
    let secured: Value =
        serde_json::from_slice(bytes).map_err(|e| AttestError::Malformed(e.to_string()))?;
    let mut bare = secured.clone();
    if let Some(o) = bare.as_object_mut() {
        o.remove("proof");
    }
    let c: Credential =
        serde_json::from_value(bare).map_err(|e| AttestError::Malformed(e.to_string()))?;
    if c.context.first().map(String::as_str) != Some(CONTEXT)
        || c.types != ["VerifiableCredential", TYPE]
    {
        return Err(AttestError::Malformed(format!(
            "`@context` and `type` name a {TYPE}"
        )));
    }
    let Did::Key(issuer_key) = c.issuer else {
        return Err(AttestError::WrongIssuer(c.issuer.to_string()));
    };
    let options = jcs::verify_secured(&secured, &issuer_key)
        .map_err(|e| AttestError::BadProof(e.to_string()))?;
    let vm_did = options
        .verification_method
        .split('#')
        .next()
        .unwrap_or_default();
    if vm_did != c.issuer.to_string() || options.proof_purpose != "assertionMethod" {
        return Err(AttestError::WrongIssuer(options.verification_method));
    }
    // A longer model could never match an `att` caveat (at most 128 bytes), and a
    // verifier keeps the claims per caller: bound it.
    let model = &c.credential_subject.model;
    if model.is_empty() || model.len() > MAX_MODEL {
        return Err(AttestError::Malformed(format!(
            "`model` must be 1..={MAX_MODEL} bytes"
        )));
    }
    let (from, until) = (
        unix("validFrom", &c.valid_from)?,
        unix("validUntil", &c.valid_until)?,
    );
    if now < from || now > until {
        return Err(AttestError::NotValidNow { now, from, until });
    }
    let commitment = jcs::digest(&secured).map_err(|e| AttestError::Malformed(e.to_string()))?;
    let revocation_id = uuid_bytes(&c.id)
        .ok_or_else(|| AttestError::Malformed("`id` is not a lowercase urn:uuid".into()))?;
    Ok(Verified {
        revocation_id,
        id: c.id,
        issuer: c.issuer,
        claims: c.credential_subject,
        valid_from: from,
        valid_until: until,
        commitment,
    })
}

/// The credential's claims as JSON (for `talos attest show`).
pub fn describe(v: &Verified) -> Value {
    json!({
        "id": v.id,
        "issuer": v.issuer.to_string(),
        "subject": v.claims.id.to_string(),
        "validFrom": v.valid_from,
        "validUntil": v.valid_until,
        "claims": v.claims,
        "commitment": v.commitment,
        "revocationId": v.revocation_id.to_string(),
    })
}
