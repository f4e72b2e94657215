//! The talos agent node as a library; the `talos` binary (CLI and demo) sits on top.
//!
//! - [`node`]: the running node (network event loop, durable delivery, the sidecar that
//!   decides calls, revocations, anchoring, metrics);
//! - [`config`]: `config.toml` and its overrides;
//! - [`home`]: the home directory, every path in it, the passphrase;
//! - [`anchor_target`]: where the audit head is anchored (`embedded`, `evm:URL`,
//!   `substrate:URL`) and opening that backend;
//! - [`error`]: `NodeError`, every failure at the edge with its `kind` and HTTP status;
//! - [`records`]: proofs, checkpoints and anchoring shared by the CLI and the node;
//! - [`aggregator`]: aggregated anchoring, taking agents' checkpoints into this log;
//! - [`public_log`]: the opt-in public read API (C2SP tlog-tiles) and its static copy;
//! - [`api`]: the local agent API (axum) and its OpenAPI document; [`client`]: the one
//!   typed client of it, used by `talos agent` and the test kit.
//!
//! Every failure at the edge has one stable kind and one status:
//!
//! ```
//! use talos_node::error::NodeError;
//! let e = NodeError::PeerNotFound;
//! assert_eq!((e.kind(), e.status()), ("peer_not_found", 404));
//! let doc = talos_node::api::problem_document(&e); // RFC 9457 problem+json
//! assert_eq!(doc["type"], "urn:talos:problem:peer_not_found");
//! ```

pub mod aggregator;
pub mod anchor_target;
pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod home;
pub mod node;
pub mod public_log;
pub mod records;
