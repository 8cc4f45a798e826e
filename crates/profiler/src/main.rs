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
    /// Run the daemon (poll trigger; SIGTERM/SIGINT stop it cleanly).
    Run(cli::common::GlobalArgs),
    /// Smoke harness: replay calibration shards through the production
    /// handler against a temporary SQLite DB (bundled samples by default).
    Replay(cli::replay::ReplayArgs),
    /// Profile every session under the artifacts root not stored yet.
    Backfill {
        #[command(flatten)]
        global: cli::common::GlobalArgs,
        #[command(flatten)]
        args: cli::backfill::BackfillArgs,
    },
    /// Print the effective configuration and where each value came from.
    CheckConfig(cli::common::GlobalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Extract(args) => cli::extract::run(args),
        Command::Run(g) => cli::run::run(&g),
        Command::Replay(args) => cli::replay::run(args),
        Command::Backfill { global, args } => cli::backfill::run(&global, &args),
        Command::CheckConfig(g) => cli::check_config::run(&g),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("decnet-profiler: {err:#}");
            ExitCode::from(2)
        }
    }
}
