//! Attestation credentials: an attester (a consortium's operator) states what an agent
//! runs, as a W3C Verifiable Credential 2.0 secured with an `eddsa-jcs-2022` Data
//! Integrity proof (`talos_identity::jcs::secure`, which reproduces the W3C vectors).
//!
//! - [`credential`]: issuing and verifying the credential (parse, don't validate: a
//!   [`credential::Verified`] is only made by [`credential::verify`]);
//! - [`measure`]: the digests a verifier recomputes, the binary's and the
//!   configuration's (its canonical form, with the settings that may carry secrets left
//!   out).
//!
//! The rules are stated in `docs/attestation.md`.

pub mod credential;
pub mod measure;

pub use credential::{AttestError, Claims, MAX_CREDENTIAL, Verified, issue, verify};
