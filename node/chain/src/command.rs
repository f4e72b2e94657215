//! Dispatches the command line: run the node, or one of the chain subcommands.

use sc_cli::SubstrateCli;
use talos_runtime::opaque::Block;

use crate::{
    chain_spec,
    cli::{Cli, Subcommand},
    service,
};

impl SubstrateCli for Cli {
    fn impl_name() -> String {
        "talos-chain".into()
    }
    fn impl_version() -> String {
        env!("SUBSTRATE_CLI_IMPL_VERSION").into()
    }
    fn description() -> String {
        env!("CARGO_PKG_DESCRIPTION").into()
    }
    fn author() -> String {
        "the talos authors".into()
    }
    fn support_url() -> String {
        "https://example.invalid/talos/issues".into()
    }
    fn copyright_start_year() -> i32 {
        2026
    }
    fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
        Ok(match id {
            "dev" => Box::new(chain_spec::development()?),
            "" | "local" => Box::new(chain_spec::local()?),
            path => Box::new(chain_spec::ChainSpec::from_json_file(
                std::path::PathBuf::from(path),
            )?),
        })
    }
}

/// Parses the command line and runs it.
pub(crate) fn run() -> sc_cli::Result<()> {
    let cli = Cli::from_args();
    match &cli.subcommand {
        Some(Subcommand::Key(cmd)) => cmd.run(&cli),
        Some(Subcommand::BuildSpec(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
        }
        Some(Subcommand::CheckBlock(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.async_run(|config| {
                let parts = service::new_partial(&config)?;
                Ok((
                    cmd.run(parts.client, parts.import_queue),
                    parts.task_manager,
                ))
            })
        }
        Some(Subcommand::ExportBlocks(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.async_run(|config| {
                let parts = service::new_partial(&config)?;
                Ok((cmd.run(parts.client, config.database), parts.task_manager))
            })
        }
        Some(Subcommand::ExportState(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.async_run(|config| {
                let parts = service::new_partial(&config)?;
                Ok((cmd.run(parts.client, config.chain_spec), parts.task_manager))
            })
        }
        Some(Subcommand::ImportBlocks(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.async_run(|config| {
                let parts = service::new_partial(&config)?;
                Ok((
                    cmd.run(parts.client, parts.import_queue),
                    parts.task_manager,
                ))
            })
        }
        Some(Subcommand::PurgeChain(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.sync_run(|config| cmd.run(config.database))
        }
        Some(Subcommand::Revert(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.async_run(|config| {
                let parts = service::new_partial(&config)?;
                let aux_revert = Box::new(|client, _, blocks| {
                    sc_consensus_grandpa::revert(client, blocks)?;
                    Ok(())
                });
                Ok((
                    cmd.run(parts.client, parts.backend, Some(aux_revert)),
                    parts.task_manager,
                ))
            })
        }
        #[cfg(feature = "runtime-benchmarks")]
        Some(Subcommand::Benchmark(cmd)) => {
            let runner = cli.create_runner(cmd)?;
            runner.sync_run(|config| match cmd {
                frame_benchmarking_cli::BenchmarkCmd::Pallet(cmd) => {
                    cmd.run_with_spec::<sp_runtime::traits::HashingFor<Block>, ()>(Some(
                        config.chain_spec,
                    ))
                }
                // The runtime's DbWeight: reads and writes of this chain's own state in
                // this node's RocksDB (`scripts/weights.sh`).
                frame_benchmarking_cli::BenchmarkCmd::Storage(cmd) => {
                    let parts = service::new_partial(&config)?;
                    let db = parts.backend.expose_db();
                    let storage = parts.backend.expose_storage();
                    let shared_cache = parts.backend.expose_shared_trie_cache();
                    cmd.run(config, parts.client, db, storage, shared_cache)
                }
                // The runtime's ExtrinsicBaseWeight and BlockExecutionWeight: empty blocks
                // and blocks of `System.remark` signed by a dev account, executed in the
                // runtime's wasm.
                frame_benchmarking_cli::BenchmarkCmd::Overhead(cmd) => {
                    cmd.run_with_default_builder_and_spec::<Block, ()>(Some(config.chain_spec))
                }
                _ => Err("`benchmark pallet`, `storage` and `overhead` are supported".into()),
            })
        }
        None => {
            let runner = cli.create_runner(&cli.run)?;
            runner.run_node_until_exit(|config| async move {
                match config.network.network_backend {
                    sc_network::config::NetworkBackendType::Libp2p => service::new_full::<
                        sc_network::NetworkWorker<
                            Block,
                            <Block as sp_runtime::traits::Block>::Hash,
                        >,
                    >(config)
                    .map_err(sc_cli::Error::Service),
                    sc_network::config::NetworkBackendType::Litep2p => {
                        service::new_full::<sc_network::Litep2pNetworkBackend>(config)
                            .map_err(sc_cli::Error::Service)
                    }
                }
            })
        }
    }
}
