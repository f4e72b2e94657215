//! The did:key method for Ed25519 keys: `did:key:z6Mk...`, where the identifier is
//! multibase base58btc of the multicodec `0xed01` prefix and the 32-byte key.
//!
//! The DID's key-agreement key is the X25519 key obtained from the Ed25519 key by the
//! birational map (public) and the SHA-512 seed expansion (secret), encoded with multicodec
//! `0xec01` (`z6LS...`), as the did:key specification derives it.

use talos_primitives::{Did, DidError, DidUrl, Ed25519Public, X25519_PUB_MULTICODEC};

use crate::document::{
    DID_CONTEXT_V1, DidDocument, MULTIKEY_CONTEXT_V1, PublicJwk, VerificationMethod,
};
use crate::keys::x25519_public_of;

/// How public keys appear in a generated did:key document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyFormat {
    /// `Multikey` with `publicKeyMultibase` (the current did:key specification).
    #[default]
    Multikey,
    /// `Ed25519VerificationKey2018` / `X25519KeyAgreementKey2019` with `publicKeyBase58`,
    /// the form of most published did:key test vectors.
    Legacy2018,
    /// `JsonWebKey2020` with `publicKeyJwk` (RFC 8037 OKP keys).
    JsonWebKey2020,
}

/// The did:key string of an Ed25519 public key.
pub fn encode(key: &Ed25519Public) -> String {
    Did::Key(*key).to_string()
}

/// Parses a did:key string into its Ed25519 key.
pub fn decode(s: &str) -> Result<Ed25519Public, DidError> {
    match Did::parse(s)? {
        Did::Key(k) => Ok(k),
        Did::Talos(_) => Err(DidError::UnsupportedMethod),
    }
}

/// The X25519 key-agreement key as a Multikey string (`z6LS...`).
pub fn x25519_multikey(x25519_public: &[u8; 32]) -> String {
    let mut buf = [0u8; 34];
    let (head, tail) = buf.split_at_mut(2);
    head.copy_from_slice(&X25519_PUB_MULTICODEC);
    tail.copy_from_slice(x25519_public);
    multibase::encode(multibase::Base::Base58Btc, buf)
}

fn base58(bytes: &[u8; 32]) -> String {
    // multibase's base58btc with the leading 'z' removed is plain base58btc.
    let mb = multibase::encode(multibase::Base::Base58Btc, bytes);
    mb.get(1..).unwrap_or_default().to_string()
}

/// Resolves a did:key DID to the document the method derives from the key alone.
pub fn document(key: &Ed25519Public, format: KeyFormat) -> Result<DidDocument, DidError> {
    let did = Did::Key(*key);
    let ed_frag = key.to_multikey();
    let x_pub = x25519_public_of(key);
    let x_frag = x25519_multikey(&x_pub);
    let ed_id = DidUrl::new(did, &ed_frag)?;
    let x_id = DidUrl::new(did, &x_frag)?;

    let (context, ed_method, x_method) = match format {
        KeyFormat::Multikey => (
            vec![DID_CONTEXT_V1.to_string(), MULTIKEY_CONTEXT_V1.to_string()],
            VerificationMethod {
                id: ed_id.clone(),
                kind: "Multikey".into(),
                controller: did,
                public_key_multibase: Some(ed_frag.clone()),
                public_key_base58: None,
                public_key_jwk: None,
            },
            VerificationMethod {
                id: x_id.clone(),
                kind: "Multikey".into(),
                controller: did,
                public_key_multibase: Some(x_frag.clone()),
                public_key_base58: None,
                public_key_jwk: None,
            },
        ),
        KeyFormat::Legacy2018 => (
            vec![
                DID_CONTEXT_V1.to_string(),
                "https://w3id.org/security/suites/ed25519-2018/v1".to_string(),
                "https://w3id.org/security/suites/x25519-2019/v1".to_string(),
            ],
            VerificationMethod {
                id: ed_id.clone(),
                kind: "Ed25519VerificationKey2018".into(),
                controller: did,
                public_key_multibase: None,
                public_key_base58: Some(base58(key.as_bytes())),
                public_key_jwk: None,
            },
            VerificationMethod {
                id: x_id.clone(),
                kind: "X25519KeyAgreementKey2019".into(),
                controller: did,
                public_key_multibase: None,
                public_key_base58: Some(base58(&x_pub)),
                public_key_jwk: None,
            },
        ),
        KeyFormat::JsonWebKey2020 => (
            vec![
                DID_CONTEXT_V1.to_string(),
                "https://w3id.org/security/suites/jws-2020/v1".to_string(),
            ],
            VerificationMethod {
                id: ed_id.clone(),
                kind: "JsonWebKey2020".into(),
                controller: did,
                public_key_multibase: None,
                public_key_base58: None,
                public_key_jwk: Some(PublicJwk::okp("Ed25519", key.as_bytes())),
            },
            VerificationMethod {
                id: x_id.clone(),
                kind: "JsonWebKey2020".into(),
                controller: did,
                public_key_multibase: None,
                public_key_base58: None,
                public_key_jwk: Some(PublicJwk::okp("X25519", &x_pub)),
            },
        ),
    };
    Ok(DidDocument {
        context,
        id: did,
        verification_method: vec![ed_method, x_method],
        authentication: vec![ed_id.clone()],
        assertion_method: vec![ed_id.clone()],
        capability_invocation: vec![ed_id.clone()],
        capability_delegation: vec![ed_id],
        key_agreement: vec![x_id],
        service: Vec::new(),
    })
}
