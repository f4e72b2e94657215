//! Signed A2A agent cards (A2A v1 `AgentCard`), the way callers find an agent and learn
//! what to ask it for.
//!
//! - [`config`]: `card.toml`, what the agent's operator writes (name, skills, and the
//!   capability scope each skill needs);
//! - [`card`]: the card's JSON (A2A v1 field names), with the agent's DID as its
//!   `TALOS` interface;
//! - [`sign`]: the signature A2A specifies: a JWS whose payload is the RFC 8785 (JCS)
//!   form of the card without `signatures`, `alg: EdDSA`, and a `kid` that is the
//!   agent's DID URL, so a verifier takes the key from the DID, never from a URL in the
//!   card; and its verification.
//!
//! The rules, stated for independent implementations, are in `docs/card.md`.

pub mod card;
pub mod config;
pub mod sign;

pub use card::{Card, TALOS_BINDING, build};
pub use config::{CardConfig, Scope, Skill};
pub use sign::{CardError, Verified, canonical, sign, signed, verify};

/// Largest card accepted, in bytes, checked before parsing.
pub const MAX_CARD: usize = 64 * 1024;
