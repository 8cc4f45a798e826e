use std::process::ExitCode;

use clap::{Parser, Subcommand};
use decnet_profiler::cli;

/// DECNET behavioural profiler: recorded shell sessions → BEHAVE-SHELL observations.
#[derive(Debug, Parser)]
#[command(name = "decnet-profiler", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract observations from shard files and print them as JSON lines.
    Extract(cli::extract::ExtractArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => cli::extract::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("decnet-profiler: {err:#}");
            ExitCode::from(2)
        }
    }
}
