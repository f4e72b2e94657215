//! `talos`: the agent node's command line and demo, over the `talos-node` library. This
//! file only parses arguments and maps the outcome to an exit code (`cli::outcome`).

use clap::Parser;

pub mod cli;
pub mod demo;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli::run(cli) {
        Ok(outcome) => outcome,
        Err(err) => {
            eprintln!("error: {err:#}");
            cli::Outcome::of(&err)
        }
    };
    outcome.into()
}
