//! What the daemon subcommands share: global options → effective config →
//! connected, prepared store → handler.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::config::{self, CliOverrides, Config};
use crate::handler::Handler;
use crate::shards::{ArtifactsRoot, ShardCache};
use crate::store::{AnyStore, Store};

/// Options every daemon subcommand accepts (the top config layer).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// TOML config file [default: /etc/decnet/profiler.toml, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL (sqlite://…, mysql://…, postgres://…).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Schema mode: own | decnet.
    #[arg(long)]
    pub schema: Option<String>,
    /// Artifacts root holding {decky}/{service}/transcripts/.
    #[arg(long, value_name = "DIR")]
    pub artifacts_root: Option<PathBuf>,
    /// Engine profile.
    #[arg(long)]
    pub profile: Option<String>,
    /// Attacker rows: create | wait.
    #[arg(long)]
    pub attackers: Option<String>,
    /// Log filter (info, debug, decnet_profiler=debug, …).
    #[arg(long)]
    pub log_level: Option<String>,
}

impl GlobalArgs {
    pub fn overrides(&self) -> CliOverrides {
        CliOverrides {
            database_url: self.database_url.clone(),
            artifacts_root: self.artifacts_root.clone(),
            profile: self.profile.clone(),
            schema: self.schema.clone(),
            attackers: self.attackers.clone(),
            log_level: self.log_level.clone(),
        }
    }

    pub fn load(&self) -> anyhow::Result<Config> {
        Ok(config::load(self.config.as_deref(), &self.overrides())?.config)
    }
}

/// Plain tracing to stderr (the journald sink is wired by `run`'s service
/// setup in issue 6).
pub fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Connects, migrates or verifies, and builds the handler.
pub async fn build_handler(cfg: &Config) -> anyhow::Result<Arc<Handler>> {
    let db = cfg.db_settings()?;
    let store = AnyStore::connect(&db)
        .await
        .with_context(|| format!("connecting to {}", config::mask_url(&db.url)))?;
    store
        .prepare(db.schema, cfg.attacker_mode()?)
        .await
        .context("preparing the database schema")?;
    Ok(Arc::new(Handler::new(
        Arc::new(store),
        ArtifactsRoot::new(cfg.artifacts.root.clone()),
        Arc::new(ShardCache::new()),
        cfg.profile()?,
        cfg.engine.source.clone(),
        cfg.attacker_mode()?,
    )))
}
