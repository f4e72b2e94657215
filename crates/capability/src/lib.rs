//! Capability tokens for talos: who may do what, for how long, delegated how far.
//!
//! - [`scope`]: resource patterns, action sets, caveats, and containment.
//! - [`token`]: capability tokens as strict EdDSA JWS (`typ: talos-cap+jwt`).
//! - [`chain`]: delegation chains verified link by link (never widening), batch signatures.
//! - [`invocation`]: detached proof of possession, with a bounded replay cache ([`nonce`]).
//! - [`revocation`]: revocation by id, O(1) per link; [`published`]: others' revocations,
//!   bounded per publisher.
//! - [`cache`] and [`authorize`]: the sidecar decision, warm path without signature work.
//! - [`txn`]: transaction tokens, replaced hop by hop.
//! - [`statement`]: other signed statements (revocation [`notice`]s, reports) under the
//!   same strict JWS rules.
//! - [`stateful`] and [`budget`]: the caveats the callee's node decides with state of its
//!   own (`att`: the caller is attested; `bud`: budgets, in bounded counters).
//!
//! `FORMAT.md` beside this crate specifies the format and every verification rule.
//!
//! ```
//! use talos_capability::{ActionSet, Capability, Caveats, Claims, ResourcePattern, Token};
//! use talos_identity::IdentityKey;
//! use talos_primitives::CapabilityId;
//! let (booking, planner) = (IdentityKey::generate()?, IdentityKey::generate()?);
//! let token = Token::issue(&booking, Claims {
//!     iss: booking.did(),
//!     aud: planner.did(),
//!     cap: vec![Capability {
//!         res: ResourcePattern::parse("talos://booking/flights/*")?,
//!         act: ActionSet::new(["book".to_string()])?,
//!         cav: Caveats::default(),
//!     }],
//!     nbf: 1_700_000_000,
//!     exp: 1_700_003_600,
//!     jti: CapabilityId([7; 16]),
//!     prf: None,
//! })?;
//! let parsed = Token::parse(token.as_str())?; // strict EdDSA JWS
//! parsed.verify_signature()?;
//! assert_eq!(parsed.claims().aud, planner.did());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod approval;
pub mod authorize;
mod batch;
pub mod budget;
pub mod cache;
pub mod chain;
mod didcache;
pub mod error;
mod fifo;
pub mod invocation;
mod jws;
pub mod nonce;
pub mod notice;
pub mod published;
pub mod revocation;
pub mod scope;
pub mod stateful;
pub mod statement;
pub mod token;
pub mod txn;

pub use authorize::{Authorized, Authorizer, Possession};
pub use chain::{VerifiedChain, VerifierConfig};
pub use didcache::DidCache;
pub use error::CapError;
pub use invocation::Request;
pub use jws::{MAX_INTEGER, MAX_TOKEN_BYTES};
pub use published::{Publication, Published};
pub use revocation::{MemoryRevocations, RevocationSet, Revocations};
pub use scope::{ActionSet, Capability, Caveats, PathPrefix, ResourcePattern};
pub use token::{Claims, Token};
