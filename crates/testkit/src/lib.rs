//! talos-testkit: the harnesses every crate's integration tests and the benchmarks share,
//! so no test copies another's (`publish = false`; never a dependency of shipped code).
//!
//! - `node` (feature `node`): real `talos up` processes on loopback (init a home, start,
//!   read the ready line, talk to the API through `talos_node::client::ApiClient`, kill
//!   -9 or TERM, restart) and the `talos` binary itself;
//! - [`chain`]: a real `talos-chain` node (`--dev` or a spec's validator) and finality
//!   probes;
//! - [`anvil`]: a real anvil from `contracts/node_modules`, optionally with persisted state;
//! - [`keys`]: deterministic identity fixtures;
//! - `aggregate` (feature `audit`): an aggregator's log and an agent's aggregate proof;
//! - [`free_port`]: a free loopback TCP port.
//!
//! Test code: a harness that cannot do its job panics with what went wrong, so the
//! workspace's no-panic lints are off here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(feature = "audit")]
pub mod aggregate;
pub mod anvil;
pub mod chain;
pub mod keys;
#[cfg(feature = "node")]
pub mod node;

/// A free TCP port on loopback (bound, then released for a child process to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
