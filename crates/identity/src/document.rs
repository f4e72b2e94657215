//! W3C DID Core documents (JSON representation).
//!
//! Parsing is bounded and checks the document hangs together: every verification
//! relationship points at a method the document lists, and every method belongs to the
//! document's DID. A parsed [`DidDocument`] can be trusted structurally; trusting its
//! content is the job of the DID method (did:key derivation, did:talos signatures).

use serde::{Deserialize, Serialize};
use talos_primitives::{Did, DidUrl};

/// The DID Core v1 context, always first.
pub const DID_CONTEXT_V1: &str = "https://www.w3.org/ns/did/v1";
/// The Multikey context.
pub const MULTIKEY_CONTEXT_V1: &str = "https://w3id.org/security/multikey/v1";
/// Service type for a node's libp2p listen addresses.
pub const SERVICE_LIBP2P: &str = "TalosLibp2p";
/// Service type for the peers that hold an agent's offline mailbox.
pub const SERVICE_MAILBOX: &str = "TalosMailbox";

/// Largest document we parse, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// Most services a document may list.
pub const MAX_SERVICES: usize = 16;
/// Most endpoints one service may list.
pub const MAX_ENDPOINTS: usize = 16;
/// Most verification methods a document may list.
pub const MAX_METHODS: usize = 8;
/// Longest string (endpoint, type, context) we accept.
pub const MAX_STRING: usize = 512;

/// Why bytes are not an acceptable DID document.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document is {0} bytes, over the {MAX_DOCUMENT_BYTES}-byte limit")]
    TooLarge(usize),
    /// The JSON is malformed or does not have the DID Core shape.
    #[error("malformed DID document JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The first `@context` is not the DID Core v1 context.
    #[error("missing the DID Core v1 @context")]
    MissingContext,
    /// A list or string is longer than its bound.
    #[error("{0} exceeds its bound")]
    OverLimit(&'static str),
    /// A verification method belongs to another DID.
    #[error("verification method is not under the document's DID")]
    ForeignMethod,
    /// A verification relationship names a method the document does not list.
    #[error("verification relationship references an unlisted method")]
    DanglingReference,
}

/// A verification method: a public key with an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerificationMethod {
    /// `did#fragment`.
    pub id: DidUrl,
    /// `Multikey`, or a legacy suite name such as `Ed25519VerificationKey2018`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The DID that controls this key.
    pub controller: Did,
    /// The key as a multibase Multikey (current form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
    /// The key as bare base58btc (legacy 2018/2019 suites).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_base58: Option<String>,
    /// The key as a JSON Web Key (`JsonWebKey2020`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_jwk: Option<PublicJwk>,
}

/// An OKP public JSON Web Key (RFC 8037): `{"kty":"OKP","crv":"Ed25519"|"X25519","x":...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicJwk {
    /// Always `OKP`.
    pub kty: String,
    /// `Ed25519` or `X25519`.
    pub crv: String,
    /// The key, unpadded base64url.
    pub x: String,
}

impl PublicJwk {
    /// An OKP JWK for a 32-byte key on the named curve.
    pub fn okp(crv: &str, key: &[u8; 32]) -> Self {
        use base64::Engine;
        Self {
            kty: "OKP".into(),
            crv: crv.into(),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
        }
    }
}

/// A service endpoint: one URI, or a set of them (DID Core §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServiceEndpoint {
    /// A single URI (or multiaddr, or DID).
    One(String),
    /// Several.
    Set(Vec<String>),
}

impl ServiceEndpoint {
    fn items(&self) -> &[String] {
        match self {
            ServiceEndpoint::One(s) => std::slice::from_ref(s),
            ServiceEndpoint::Set(v) => v,
        }
    }
}

/// A service: how to reach the DID subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    /// `did#fragment`.
    pub id: DidUrl,
    /// For example [`SERVICE_LIBP2P`] or [`SERVICE_MAILBOX`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Where.
    pub service_endpoint: ServiceEndpoint,
}

impl Service {
    /// A libp2p service listing multiaddrs.
    pub fn libp2p(did: Did, addrs: Vec<String>) -> Result<Self, talos_primitives::DidError> {
        Ok(Self {
            id: DidUrl::new(did, "libp2p")?,
            kind: SERVICE_LIBP2P.into(),
            service_endpoint: ServiceEndpoint::Set(addrs),
        })
    }

    /// A mailbox service listing the peers (DIDs or multiaddrs) that hold frames for us.
    pub fn mailbox(did: Did, peers: Vec<String>) -> Result<Self, talos_primitives::DidError> {
        Ok(Self {
            id: DidUrl::new(did, "mailbox")?,
            kind: SERVICE_MAILBOX.into(),
            service_endpoint: ServiceEndpoint::Set(peers),
        })
    }
}

/// A DID document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DidDocument {
    /// JSON-LD contexts; the first is [`DID_CONTEXT_V1`].
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// The DID subject.
    pub id: Did,
    /// Keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification_method: Vec<VerificationMethod>,
    /// Keys that authenticate as the subject.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authentication: Vec<DidUrl>,
    /// Keys that sign assertions (credentials, audit checkpoints).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertion_method: Vec<DidUrl>,
    /// Keys that invoke capabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_invocation: Vec<DidUrl>,
    /// Keys that delegate capabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_delegation: Vec<DidUrl>,
    /// X25519 keys for key agreement (session set-up).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_agreement: Vec<DidUrl>,
    /// Services: libp2p addresses, mailbox peers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<Service>,
}

impl DidDocument {
    /// Parses and checks a document.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DocumentError> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge(bytes.len()));
        }
        let doc: DidDocument = serde_json::from_slice(bytes)?;
        doc.check()?;
        Ok(doc)
    }

    /// Checks bounds and internal references.
    pub fn check(&self) -> Result<(), DocumentError> {
        if self.context.first().map(String::as_str) != Some(DID_CONTEXT_V1) {
            return Err(DocumentError::MissingContext);
        }
        let long = |s: &String| s.len() > MAX_STRING;
        if self.context.len() > 8 || self.context.iter().any(long) {
            return Err(DocumentError::OverLimit("@context"));
        }
        if self.verification_method.len() > MAX_METHODS {
            return Err(DocumentError::OverLimit("verificationMethod"));
        }
        if self.service.len() > MAX_SERVICES {
            return Err(DocumentError::OverLimit("service"));
        }
        for s in &self.service {
            let items = s.service_endpoint.items();
            if items.len() > MAX_ENDPOINTS || items.iter().any(long) || long(&s.kind) {
                return Err(DocumentError::OverLimit("serviceEndpoint"));
            }
            if s.id.did() != &self.id {
                return Err(DocumentError::ForeignMethod);
            }
        }
        for m in &self.verification_method {
            if m.id.did() != &self.id || long(&m.kind) {
                return Err(DocumentError::ForeignMethod);
            }
        }
        let listed = |r: &DidUrl| self.verification_method.iter().any(|m| &m.id == r);
        let relationships = [
            &self.authentication,
            &self.assertion_method,
            &self.capability_invocation,
            &self.capability_delegation,
            &self.key_agreement,
        ];
        for rel in relationships {
            if rel.len() > MAX_METHODS {
                return Err(DocumentError::OverLimit("verification relationship"));
            }
            if !rel.iter().all(listed) {
                return Err(DocumentError::DanglingReference);
            }
        }
        Ok(())
    }

    /// The endpoints of every service of one type.
    pub fn endpoints(&self, kind: &str) -> Vec<&str> {
        self.service
            .iter()
            .filter(|s| s.kind == kind)
            .flat_map(|s| s.service_endpoint.items().iter().map(String::as_str))
            .collect()
    }
}
