//! The `did:talos` method's document model: the pure rules, with no chain.
//!
//! - **Name.** `did:talos:z<base58btc(SHA-256(JCS(inception)))>`, where the inception
//!   record is `{"controllerKey": <multikey>, "type": "talos-inception-v1"}`. The name is
//!   bound to the first key and survives rotations.
//! - **Versions.** Version 1 is signed by its own controller key. Every later version N is
//!   signed by the controller key of version N-1 and carries the hash of version N-1. A
//!   rotation is therefore signed by the old key over the new one; an update keeps the key.
//! - **Hash.** A version's hash is SHA-256 of the JCS bytes of the signed document,
//!   proof included. Chains store it as [`DidRecord::doc_hash`].
//! - **Deactivation** is a final version with `deactivated: true`; nothing may follow it.
//! - **Signatures** are W3C Data Integrity `eddsa-jcs-2022` proofs.
//!
//! Resolution through a chain lives in `talos-anchor`; it feeds the documents it fetches
//! to [`TalosDidState::apply`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use talos_primitives::{Did, DidError, DidRecord, DidUrl, Ed25519Public, Hash32, TalosId};

use crate::did_key::x25519_multikey;
use crate::document::{
    DID_CONTEXT_V1, DidDocument, DocumentError, MAX_DOCUMENT_BYTES, MULTIKEY_CONTEXT_V1, Service,
    VerificationMethod,
};
use crate::jcs::{self, JcsError};
use crate::keys::{IdentityKey, x25519_public_of};

/// Proof purpose used on every version.
const PURPOSE: &str = "capabilityInvocation";
/// Fragment of the controller key's verification method.
const CONTROLLER_FRAGMENT: &str = "controller";
/// Fragment of the key-agreement method.
const KEY_AGREEMENT_FRAGMENT: &str = "key-agreement";

/// Why a did:talos document or history was rejected.
#[derive(Debug, thiserror::Error)]
pub enum TalosDidError {
    /// The DID is not a did:talos DID.
    #[error("not a did:talos DID")]
    NotTalosDid,
    /// A version-1 document's DID does not match the hash of its inception record.
    #[error("DID does not match its inception record")]
    WrongInceptionId,
    /// A later version names a different DID.
    #[error("document belongs to another DID")]
    IdMismatch,
    /// The version is not exactly one more than the current one.
    #[error("expected version {expected}, got {got}")]
    VersionGap {
        /// The version that should come next.
        expected: u32,
        /// The version found.
        got: u32,
    },
    /// Version 1 has a previous hash, or a later version's does not match.
    #[error("previous-version hash does not match")]
    PreviousHashMismatch,
    /// The proof names a key other than the one entitled to sign this version.
    #[error("document is not signed by the entitled controller key")]
    WrongSigner,
    /// The DID was deactivated; no version may follow.
    #[error("DID is deactivated")]
    Deactivated,
    /// The version counter would overflow.
    #[error("version counter overflow")]
    VersionOverflow,
    /// An empty history.
    #[error("empty document history")]
    EmptyHistory,
    /// Signature or canonicalization failure.
    #[error(transparent)]
    Jcs(#[from] JcsError),
    /// The document's JSON is malformed or over its bounds.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// A DID or DID URL failed to parse.
    #[error(transparent)]
    Did(#[from] DidError),
}

/// The body of one version of a did:talos document (everything but the proof).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TalosDocument {
    /// The did:talos DID.
    pub id: Did,
    /// 1, 2, 3, ...
    pub version: u32,
    /// Hash of the previous signed version; absent on version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version_hash: Option<Hash32>,
    /// The key that controls the DID from this version on.
    pub controller_key: Ed25519Public,
    /// Services (libp2p addresses, mailbox peers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<Service>,
    /// True on the final, deactivating version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated: bool,
}

/// A document version with its `eddsa-jcs-2022` proof, as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTalosDocument {
    document: TalosDocument,
    json: Value,
}

impl SignedTalosDocument {
    /// Parses a published version. Its proof is checked by [`TalosDidState`], which knows
    /// which key is entitled to sign it.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TalosDidError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge(bytes.len()).into());
        }
        let json: Value = serde_json::from_slice(bytes).map_err(DocumentError::Json)?;
        let mut body = json.clone();
        if let Value::Object(map) = &mut body {
            map.remove("proof");
        }
        let document: TalosDocument = serde_json::from_value(body).map_err(DocumentError::Json)?;
        Ok(Self { document, json })
    }

    fn sign(key: &IdentityKey, document: TalosDocument) -> Result<Self, TalosDidError> {
        let vm = DidUrl::new(document.id, CONTROLLER_FRAGMENT)?;
        let json = jcs::add_proof(key, &document, &vm, PURPOSE)?;
        Ok(Self { document, json })
    }

    /// The document body.
    pub const fn document(&self) -> &TalosDocument {
        &self.document
    }

    /// The canonical bytes, proof included: what gets stored and hashed.
    pub fn to_canonical(&self) -> Result<Vec<u8>, TalosDidError> {
        Ok(jcs::canonicalize(&self.json)?)
    }

    /// SHA-256 of the canonical bytes.
    pub fn hash(&self) -> Result<Hash32, TalosDidError> {
        Ok(jcs::sha256(&self.to_canonical()?))
    }

    fn verify_signed_by(&self, key: &Ed25519Public) -> Result<(), TalosDidError> {
        let (vm, purpose) = jcs::verify_proof(&self.json, key)?;
        if vm.did() != &self.document.id
            || vm.fragment() != CONTROLLER_FRAGMENT
            || purpose != PURPOSE
        {
            return Err(TalosDidError::WrongSigner);
        }
        Ok(())
    }
}

/// The did:talos DID a controller key creates.
pub fn talos_did_for(key: &Ed25519Public) -> Result<Did, TalosDidError> {
    let inception = serde_json::json!({
        "controllerKey": key.to_multikey(),
        "type": "talos-inception-v1",
    });
    Ok(Did::Talos(TalosId(jcs::digest(&inception)?)))
}

/// Creates version 1 of a new did:talos DID controlled by `key`.
pub fn create(
    key: &IdentityKey,
    service: Vec<Service>,
) -> Result<SignedTalosDocument, TalosDidError> {
    let document = TalosDocument {
        id: talos_did_for(&key.public())?,
        version: 1,
        previous_version_hash: None,
        controller_key: key.public(),
        service,
        deactivated: false,
    };
    SignedTalosDocument::sign(key, document)
}

/// The verified current state of a did:talos DID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalosDidState {
    current: SignedTalosDocument,
    hash: Hash32,
}

impl TalosDidState {
    /// Accepts version 1 after checking its name and self-signature.
    pub fn genesis(v1: SignedTalosDocument) -> Result<Self, TalosDidError> {
        let doc = v1.document();
        if !matches!(doc.id, Did::Talos(_)) {
            return Err(TalosDidError::NotTalosDid);
        }
        if doc.version != 1 {
            return Err(TalosDidError::VersionGap {
                expected: 1,
                got: doc.version,
            });
        }
        if doc.previous_version_hash.is_some() {
            return Err(TalosDidError::PreviousHashMismatch);
        }
        if talos_did_for(&doc.controller_key)? != doc.id {
            return Err(TalosDidError::WrongInceptionId);
        }
        v1.verify_signed_by(&doc.controller_key)?;
        let hash = v1.hash()?;
        Ok(Self { current: v1, hash })
    }

    /// Applies the next version, checking every rule in the module docs.
    pub fn apply(&self, next: SignedTalosDocument) -> Result<Self, TalosDidError> {
        let cur = self.current.document();
        let doc = next.document();
        if cur.deactivated {
            return Err(TalosDidError::Deactivated);
        }
        if doc.id != cur.id {
            return Err(TalosDidError::IdMismatch);
        }
        let expected = cur
            .version
            .checked_add(1)
            .ok_or(TalosDidError::VersionOverflow)?;
        if doc.version != expected {
            return Err(TalosDidError::VersionGap {
                expected,
                got: doc.version,
            });
        }
        if doc.previous_version_hash != Some(self.hash) {
            return Err(TalosDidError::PreviousHashMismatch);
        }
        next.verify_signed_by(&cur.controller_key)?;
        let hash = next.hash()?;
        Ok(Self {
            current: next,
            hash,
        })
    }

    /// Verifies a whole history, oldest first.
    pub fn from_history(
        history: impl IntoIterator<Item = SignedTalosDocument>,
    ) -> Result<Self, TalosDidError> {
        let mut it = history.into_iter();
        let first = it.next().ok_or(TalosDidError::EmptyHistory)?;
        it.try_fold(Self::genesis(first)?, |state, next| state.apply(next))
    }

    fn next_version(
        &self,
        signer: &IdentityKey,
        controller_key: Ed25519Public,
        service: Vec<Service>,
        deactivated: bool,
    ) -> Result<SignedTalosDocument, TalosDidError> {
        let cur = self.current.document();
        if cur.deactivated {
            return Err(TalosDidError::Deactivated);
        }
        if signer.public() != cur.controller_key {
            return Err(TalosDidError::WrongSigner);
        }
        let document = TalosDocument {
            id: cur.id,
            version: cur
                .version
                .checked_add(1)
                .ok_or(TalosDidError::VersionOverflow)?,
            previous_version_hash: Some(self.hash),
            controller_key,
            service,
            deactivated,
        };
        SignedTalosDocument::sign(signer, document)
    }

    /// A new version with new services, same key.
    pub fn update(
        &self,
        key: &IdentityKey,
        service: Vec<Service>,
    ) -> Result<SignedTalosDocument, TalosDidError> {
        self.next_version(key, key.public(), service, false)
    }

    /// A new version handing control to `new_key`, signed by the current (old) key.
    pub fn rotate(
        &self,
        old_key: &IdentityKey,
        new_key: Ed25519Public,
    ) -> Result<SignedTalosDocument, TalosDidError> {
        let service = self.current.document().service.clone();
        self.next_version(old_key, new_key, service, false)
    }

    /// The final version.
    pub fn deactivate(&self, key: &IdentityKey) -> Result<SignedTalosDocument, TalosDidError> {
        self.next_version(key, key.public(), Vec::new(), true)
    }

    /// The current signed version.
    pub const fn current(&self) -> &SignedTalosDocument {
        &self.current
    }

    /// What a chain stores for this DID.
    pub fn record(&self) -> DidRecord {
        let doc = self.current.document();
        DidRecord {
            controller: doc.controller_key,
            doc_hash: self.hash,
            version: doc.version,
            prev: doc.previous_version_hash,
            deactivated: doc.deactivated,
        }
    }

    /// The W3C DID Core view of the current version. A deactivated DID has no keys.
    pub fn did_document(&self) -> Result<DidDocument, TalosDidError> {
        let doc = self.current.document();
        let did = doc.id;
        let mut out = DidDocument {
            context: vec![DID_CONTEXT_V1.into(), MULTIKEY_CONTEXT_V1.into()],
            id: did,
            verification_method: Vec::new(),
            authentication: Vec::new(),
            assertion_method: Vec::new(),
            capability_invocation: Vec::new(),
            capability_delegation: Vec::new(),
            key_agreement: Vec::new(),
            service: doc.service.clone(),
        };
        if doc.deactivated {
            return Ok(out);
        }
        let ctl = DidUrl::new(did, CONTROLLER_FRAGMENT)?;
        let ka = DidUrl::new(did, KEY_AGREEMENT_FRAGMENT)?;
        out.verification_method = vec![
            VerificationMethod {
                id: ctl.clone(),
                kind: "Multikey".into(),
                controller: did,
                public_key_multibase: Some(doc.controller_key.to_multikey()),
                public_key_base58: None,
                public_key_jwk: None,
            },
            VerificationMethod {
                id: ka.clone(),
                kind: "Multikey".into(),
                controller: did,
                public_key_multibase: Some(x25519_multikey(&x25519_public_of(&doc.controller_key))),
                public_key_base58: None,
                public_key_jwk: None,
            },
        ];
        out.authentication = vec![ctl.clone()];
        out.assertion_method = vec![ctl.clone()];
        out.capability_invocation = vec![ctl.clone()];
        out.capability_delegation = vec![ctl];
        out.key_agreement = vec![ka];
        Ok(out)
    }
}
