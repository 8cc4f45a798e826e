//! `decnet-profiler run`: the daemon. Poll-only in this build (the bus
//! trigger is issue 6). SIGTERM/SIGINT finish or roll back the session in
//! hand, then exit 0.

use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::common::{build_handler, init_tracing, GlobalArgs};
use crate::shards::watch;
use crate::trigger::poll::Poller;

pub fn run(args: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.load()?;
    init_tracing(&cfg.log.level);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let handler = build_handler(&cfg).await?;
        let cancel = CancellationToken::new();
        spawn_signal_handler(cancel.clone());
        let _watch = if cfg.artifacts.watch {
            watch::start(handler.root().clone(), Arc::clone(handler.cache()))
        } else {
            None
        };
        if cfg.bus.enabled {
            tracing::warn!("bus trigger not available in this build; running poll-only");
        }
        if !cfg.poll.enabled {
            tracing::warn!("poll.enabled = false and no bus trigger: nothing to do until stopped");
            cancel.cancelled().await;
            return Ok(ExitCode::SUCCESS);
        }
        tracing::info!(
            backend = cfg.db_settings()?.backend.name(),
            root = %cfg.artifacts.root.display(),
            profile = %cfg.engine.profile,
            cursor_key = %cfg.poll.cursor_key,
            "decnet-profiler running (poll)"
        );
        let poller = Poller::new(handler, cfg.poll.clone(), cfg.attackers.clone());
        poller.run(cancel).await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

fn spawn_signal_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot install SIGTERM handler");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing the session in hand"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing the session in hand"),
        }
        cancel.cancel();
    });
}
