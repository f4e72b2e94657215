//! The `talos` binary's tests: the CLI and real `talos up` processes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod aggregation;
mod anchoring;
mod api;
mod approvals;
mod attest;
mod cap_verify;
mod card;
mod carried;
mod chain_revocations;
mod cli;
mod dashboard;
mod delivery;
mod fee_cap;
mod fill_the_disk;
mod flood;
mod forward;
mod groups;
mod hostile_aggregator;
mod invoke;
mod mcp;
mod mcp_conformance;
mod mcp_proxy;
mod mcp_refusals;
mod monitor;
mod processes;
mod public_log;
mod refused;
mod reputation;
mod substrate;
mod trust;
mod txn;
mod witnesses;
