//! `talos`: the agent node's command line. Everything lives in the library; this only
//! parses arguments and maps errors to exit codes.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = talos_node::cli::Cli::parse();
    match talos_node::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}
