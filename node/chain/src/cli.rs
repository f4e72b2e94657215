//! The command line: sc-cli's node flags plus the usual chain subcommands.

/// talos-chain's command line.
#[derive(Debug, clap::Parser)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) subcommand: Option<Subcommand>,

    #[clap(flatten)]
    pub(crate) run: sc_cli::RunCmd,
}

/// Chain maintenance subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub(crate) enum Subcommand {
    /// Key management (generate, inspect, insert validator keys).
    #[command(subcommand)]
    Key(sc_cli::KeySubcommand),
    /// Writes a chain spec (`--chain dev|local` for the built-in presets).
    BuildSpec(sc_cli::BuildSpecCmd),
    /// Checks that a block imports.
    CheckBlock(sc_cli::CheckBlockCmd),
    /// Exports blocks to a file.
    ExportBlocks(sc_cli::ExportBlocksCmd),
    /// Exports the state at a block as a chain spec.
    ExportState(sc_cli::ExportStateCmd),
    /// Imports blocks from a file.
    ImportBlocks(sc_cli::ImportBlocksCmd),
    /// Deletes the chain's database.
    PurgeChain(sc_cli::PurgeChainCmd),
    /// Reverts the chain by some blocks.
    Revert(sc_cli::RevertCmd),
    /// Runtime benchmarks (`benchmark pallet`), with feature `runtime-benchmarks`.
    #[cfg(feature = "runtime-benchmarks")]
    #[command(subcommand)]
    Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}
