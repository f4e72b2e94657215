//! C2SP `tlog-witness`: the witness service (`talos witness`) and the client a node
//! uses to collect cosignatures before it anchors. The request format and the rules are
//! `talos_audit::witness` (pure, fuzzed); this is their I/O.
//!
//! - [`state`]: the witness's durable state (the checkpoint last cosigned per origin,
//!   and split-view evidence), checked and updated atomically;
//! - [`server`]: the HTTP service (`POST /add-checkpoint`, and the reads monitors use:
//!   `GET /latest?origin=`, `GET /evidence?origin=`);
//! - [`client`]: submitting a checkpoint to many witnesses with a k-of-n policy.

pub mod client;
pub mod server;
pub mod state;
