//! What auditors, monitors and witnesses run against a talos agent's public log
//! (`talos up --public-log`), without the agent's token or cooperation.
//!
//! - [`body`]: an HTTP answer's body read with a byte cap (every server is a stranger's);
//! - [`source`]: reading a log's checkpoint, tiles and entry bundles over HTTP or from a
//!   static copy, every read bounded;
//! - [`monitor`]: following an agent's log against the chain and the witnesses, with
//!   alarms;
//! - [`proof`]: C2SP `tlog-proof`s built from the tiles alone, and their check offline,
//!   with witnesses, and against the chain;
//! - [`witness`]: the C2SP `tlog-witness` service and the client a log collects
//!   cosignatures with.

pub mod body;
pub mod monitor;
pub mod proof;
pub mod source;
pub mod witness;
