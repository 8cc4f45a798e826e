//! `decnet-profiler extract`: shard files in, observation JSON lines out.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Engine profile.
    #[arg(long, default_value = "decnet-1.2")]
    pub profile: String,
    /// Decky name used in evidence_ref.
    #[arg(long, default_value = "local")]
    pub decky: String,
    /// Service name used in evidence_ref.
    #[arg(long, default_value = "ssh")]
    pub service: String,
    /// Shard files (JSONL written by sessrec).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("extract: not wired yet")
}
