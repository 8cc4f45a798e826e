//! `decnet-profiler run`: the daemon. Bus trigger + poll catch-up, heartbeat
//! and control, sd_notify, journald (see [`crate::service`]). SIGTERM/SIGINT
//! or a `{"action":"stop"}` control event finish the sessions in hand, then
//! exit 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::common::{build_handler, GlobalArgs};
use crate::config::Config;
use crate::handler::Handler;
use crate::health::heartbeat::WorkerName;
use crate::health::notify::Notifier;
use crate::service::{serve, ServiceSettings};
use crate::shards::watch;

/// How long start-up retries an unreachable database before giving up
/// (systemd's `TimeoutStartSec=` in the unit is longer).
const DB_WAIT: Duration = Duration::from_secs(90);

pub fn run(args: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.load()?;
    let sink = crate::logging::init(&cfg.log.level).context("setting up logging")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let notifier = Arc::new(match Notifier::from_env() {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "NOTIFY_SOCKET unusable; not notifying systemd");
                Notifier::disabled()
            }
        });
        let stop = CancellationToken::new();
        spawn_signal_handler(stop.clone());
        tracing::info!(
            log = ?sink,
            backend = cfg.db_settings()?.backend.name(),
            root = %cfg.artifacts.root.display(),
            profile = %cfg.engine.profile,
            cursor_key = %cfg.poll.cursor_key,
            "decnet-profiler starting"
        );
        let Some(handler) = connect(&cfg, &notifier, &stop).await? else {
            return Ok(ExitCode::SUCCESS);
        };
        let _watch = if cfg.artifacts.watch {
            watch::start(handler.root().clone(), Arc::clone(handler.cache()))
        } else {
            None
        };
        let settings = ServiceSettings {
            bus_enabled: cfg.bus.enabled,
            socket: cfg.bus.socket.clone(),
            worker: WorkerName::parse(&cfg.bus.worker)
                .map_err(|e| anyhow::anyhow!("bus.worker: {e}"))?,
            concurrency: cfg.bus.concurrency,
            queue: cfg.bus.queue,
            heartbeat: Duration::from_secs(cfg.bus.heartbeat_s),
            ready_timeout: Duration::from_secs(cfg.bus.ready_timeout_s),
            drain: Duration::from_secs(cfg.bus.drain_s),
            poll_enabled: cfg.poll.enabled,
            poll: cfg.poll.clone(),
            attackers: cfg.attackers.clone(),
        };
        Ok(serve(handler, settings, notifier, stop).await)
    })
}

/// Connects and prepares the database, retrying for [`DB_WAIT`] (a DECNET
/// host may start us before MariaDB answers). `None` = stopped while
/// waiting.
async fn connect(
    cfg: &Config,
    notifier: &Notifier,
    stop: &CancellationToken,
) -> anyhow::Result<Option<Arc<Handler>>> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match build_handler(cfg).await {
            Ok(h) => return Ok(Some(h)),
            Err(e) if started.elapsed() < DB_WAIT => {
                tracing::warn!(error = %format!("{e:#}"), retry_in_ms = delay.as_millis() as u64,
                    "database unreachable; retrying");
                let _ = notifier.status("waiting for the database");
            }
            Err(e) => return Err(e.context("database unreachable")),
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
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
            _ = term.recv() => tracing::info!("SIGTERM: finishing the sessions in hand"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing the sessions in hand"),
        }
        cancel.cancel();
    });
}
