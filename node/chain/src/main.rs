//! talos-chain: the node of a talos consortium chain.
//!
//! `talos-chain --dev` runs a single-validator development chain (Alice);
//! `talos-chain --chain chain-spec/local.json --validator --alice ...` runs one of the
//! consortium's validators. The binary only parses the command line; the node is in
//! `service.rs`.

// sc-cli's and sc-service's error types are large (176 bytes); they are polkadot-sdk's
// and every function here returns them as the framework expects.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
    command::run()
}
