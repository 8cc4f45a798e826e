//! `run`: the daemon around the handler, as systemd and DECNET see it.
//!
//! ```text
//!  bus: attacker.session.ended ─► bounded queue ─► N workers ─┐
//!                                                             ├─► Handler ─► commit ─► announce
//!  poll: logs rows after our cursor (catch-up) ───────────────┘
//!  heartbeat (system.<worker>.health), control (system.<worker>.control)
//!  sd_notify: READY / WATCHDOG (only while the loops turn) / STOPPING / STATUS
//! ```
//!
//! Start-up: the database must answer (retried for `DB_WAIT`), the bus
//! client starts and subscribes, and READY=1 is sent once the subscription
//! is up, or the bus is disabled, or it stayed unreachable for
//! `ready_timeout` (the daemon then works through the poll path and
//! subscribes whenever the bus appears). Shutdown (SIGTERM, SIGINT, or a
//! `{"action":"stop"}` control event): STOPPING=1, the reader stops taking
//! events, workers and the poll loop finish the sessions in hand within the
//! drain deadline, queued publishes are flushed, exit 0. Sessions left in
//! the queue are picked up by the poll path at the next start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use decnet_bus::{BusHandle, ConnectionState, Subscription};
use tokio_util::sync::CancellationToken;

use crate::announce::Announcer;
use crate::config::{AttackersConfig, PollConfig};
use crate::handler::{Handler, Outcome};
use crate::health::control::{parse_control, ControlAction};
use crate::health::heartbeat::{heartbeat_payload, HeartbeatExtra, WorkerName, HEALTH_TYPE};
use crate::health::notify::{watchdog_period_from_env, Notifier};
use crate::health::watchdog::{run_watchdog, with_beat, Beat, Liveness, IDLE_WAKE};
use crate::trigger::bus::{
    run_workers, session_from_payload, work_queue, Job, WorkQueue, SESSION_ENDED_TOPIC,
};
use crate::trigger::poll::{next_wait, Poller};

/// Everything `serve` needs besides the handler.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub bus_enabled: bool,
    pub socket: PathBuf,
    pub worker: WorkerName,
    /// Bus workers handling sessions at the same time.
    pub concurrency: usize,
    /// Sessions waiting for a worker before the reader waits.
    pub queue: usize,
    pub heartbeat: Duration,
    /// How long READY=1 waits for the bus at start.
    pub ready_timeout: Duration,
    /// How long shutdown waits for sessions in hand.
    pub drain: Duration,
    pub poll_enabled: bool,
    pub poll: PollConfig,
    pub attackers: AttackersConfig,
}

/// Counters shared by the loops, read by the heartbeat and STATUS.
#[derive(Debug, Default)]
struct Stats {
    stored: AtomicU64,
    failed: AtomicU64,
}

/// Runs the daemon until a stop is requested; returns the exit code.
pub async fn serve(
    handler: Arc<Handler>,
    s: ServiceSettings,
    notifier: Arc<Notifier>,
    stop: CancellationToken,
) -> ExitCode {
    let liveness = Liveness::new();
    let stats = Arc::new(Stats::default());
    // The bus outlives the work loops so that sessions finishing during the
    // drain still get announced; it is closed last.
    let bus_stop = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut work = tokio::task::JoinSet::new();

    let bus = if s.bus_enabled {
        let mut cfg = decnet_bus::BusConfig::new(s.socket.clone(), s.worker.as_str());
        cfg.close_timeout = Duration::from_secs(3);
        let bus = decnet_bus::spawn(cfg, bus_stop.clone());
        let announcer = Arc::new(Announcer::new(bus.clone()));
        handler.set_announcer(announcer.clone());
        Some((bus, announcer))
    } else {
        None
    };

    let mut queue_handle: Option<WorkQueue> = None;
    if let Some((bus, _)) = &bus {
        let sessions = bus.subscribe(SESSION_ENDED_TOPIC);
        let control = bus.subscribe(&s.worker.control_topic());
        match (sessions, control) {
            (Ok(sessions), Ok(control)) => {
                let (queue, source) = work_queue(s.queue);
                queue_handle = Some(queue.clone());
                tasks.spawn(feed(sessions, queue, stop.clone()));
                tasks.spawn(listen_control(control, s.worker.clone(), stop.clone()));
                let h = handler.clone();
                let st = stats.clone();
                let beat = liveness.register("bus workers");
                let wbeat = beat.clone();
                work.spawn(run_workers(
                    s.concurrency,
                    source,
                    beat,
                    stop.clone(),
                    move |job: Job| {
                        let (h, st, b) = (h.clone(), st.clone(), wbeat.clone());
                        async move { handle_job(&h, &st, b, job).await }
                    },
                ));
            }
            (Err(e), _) | (_, Err(e)) => {
                // Only reachable with an invalid worker name, which config
                // validation refuses; say so rather than run deaf.
                tracing::error!(error = %e, "cannot subscribe; running poll-only");
            }
        }
    }

    if s.poll_enabled {
        let poller = Poller::new(handler.clone(), s.poll.clone(), s.attackers.clone());
        let beat = liveness.register("poll");
        let st = stats.clone();
        let interval = Duration::from_secs(s.poll.interval_s.max(1));
        work.spawn(poll_loop(poller, interval, beat, st, stop.clone()));
    }

    // READY once the subscription is up (or the bus is off, or absent).
    let bus_state = match &bus {
        None => "bus disabled (poll only)".to_string(),
        Some((b, _)) => {
            if b.wait_connected(s.ready_timeout).await {
                "bus subscribed".to_string()
            } else {
                tracing::warn!(
                    socket = %s.socket.display(),
                    "bus unreachable; profiling through the poll path until it is back"
                );
                "bus unreachable, retrying (poll catch-up active)".to_string()
            }
        }
    };
    if !s.poll_enabled && bus.is_none() {
        tracing::warn!("poll and bus both disabled: nothing to do until stopped");
    }
    let ready = format!("ready: database up; {bus_state}");
    if let Err(e) = notifier.ready(&ready) {
        tracing::warn!(error = %e, "sd_notify READY=1 failed");
    }
    tracing::info!(
        worker = %s.worker,
        bus = s.bus_enabled,
        poll = s.poll_enabled,
        concurrency = s.concurrency,
        "{ready}"
    );

    if let Some(period) = watchdog_period_from_env() {
        tasks.spawn(run_watchdog(
            notifier.clone(),
            liveness.clone(),
            period,
            stop.clone(),
        ));
    }
    if let Some((b, a)) = &bus {
        tasks.spawn(heartbeat(
            b.clone(),
            a.clone(),
            s.worker.clone(),
            s.heartbeat,
            stats.clone(),
            queue_handle.clone(),
            stop.clone(),
        ));
    }
    tasks.spawn(status_loop(
        notifier.clone(),
        bus.as_ref().map(|(b, a)| (b.clone(), a.clone())),
        stats.clone(),
        queue_handle.clone(),
        stop.clone(),
    ));

    stop.cancelled().await;
    let _ = notifier.stopping("stopping: finishing sessions in hand");
    tracing::info!(
        drain_s = s.drain.as_secs(),
        "stopping: finishing sessions in hand"
    );
    let drained =
        tokio::time::timeout(s.drain, async { while work.join_next().await.is_some() {} })
            .await
            .is_ok();
    if !drained {
        tracing::warn!(
            "drain deadline passed; sessions still in hand are rolled back and retried by the poll path"
        );
        work.abort_all();
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    if let Some((b, a)) = &bus {
        bus_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), b.closed()).await;
        let (published, dropped) = a.totals();
        tracing::info!(
            stored = stats.stored.load(Ordering::Relaxed),
            published,
            publish_dropped = dropped,
            queued_left = queue_handle.as_ref().map_or(0, WorkQueue::depth),
            "stopped"
        );
    } else {
        tracing::info!(stored = stats.stored.load(Ordering::Relaxed), "stopped");
    }
    ExitCode::SUCCESS
}

/// One bus session through the handler (which announces after commit).
async fn handle_job(handler: &Handler, stats: &Stats, beat: Beat, job: Job) {
    let queued_ms = u64::try_from(job.received.elapsed().as_millis()).unwrap_or(u64::MAX);
    match with_beat(beat, handler.handle(&job.session)).await {
        Ok(Outcome::Stored(_)) => {
            stats.stored.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(sid = %job.session.sid, queued_ms, trigger = "bus", "bus session done");
        }
        Ok(_) => {}
        Err(e) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                sid = %job.session.sid,
                decky = %job.session.decky,
                service = %job.session.service,
                outcome = "failed",
                error = %e,
                "session failed; the poll path will retry it"
            );
        }
    }
}

/// Subscription → work queue, until stopped.
async fn feed(mut sub: Subscription, queue: WorkQueue, stop: CancellationToken) {
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = sub.recv() => ev,
        };
        let Some(ev) = ev else { return };
        match session_from_payload(&ev.payload) {
            Ok(session) => {
                let job = Job {
                    session,
                    received: std::time::Instant::now(),
                };
                tokio::select! {
                    _ = stop.cancelled() => return,
                    ok = queue.push(job) => if !ok { return },
                }
            }
            Err(e) => tracing::warn!(error = %e, "session.ended event ignored"),
        }
    }
}

/// `system.<worker>.control`: `stop` → shutdown; anything else ignored.
async fn listen_control(mut sub: Subscription, worker: WorkerName, stop: CancellationToken) {
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = sub.recv() => ev,
        };
        let Some(ev) = ev else { return };
        match parse_control(&ev.payload) {
            Ok(ControlAction::Stop { requested_by }) => {
                tracing::info!(
                    worker = %worker,
                    requested_by = requested_by.as_deref().unwrap_or("<unknown>"),
                    "stop requested on the control topic"
                );
                stop.cancel();
                return;
            }
            Ok(ControlAction::Ignore { action }) => tracing::debug!(
                worker = %worker,
                action = action.as_deref().unwrap_or("<none>"),
                "control event ignored"
            ),
            Err(e) => tracing::warn!(worker = %worker, error = %e, "control event ignored"),
        }
    }
}

/// Catch-up: poll ticks, beating while idle and per session.
async fn poll_loop(
    poller: Poller,
    interval: Duration,
    beat: Beat,
    stats: Arc<Stats>,
    stop: CancellationToken,
) {
    let mut failures: u32 = 0;
    // The first tick runs at once; then `next_wait` (at once after a full
    // batch, 100 ms after rows, doubling up to the interval while idle).
    let mut idle = Duration::ZERO;
    loop {
        beat.beat();
        let wait = match with_beat(beat.clone(), poller.tick(&stop)).await {
            Ok(r) => {
                failures = 0;
                stats.stored.fetch_add(r.stored as u64, Ordering::Relaxed);
                if r.rows > 0 {
                    tracing::info!(
                        rows = r.rows,
                        stored = r.stored,
                        skipped = r.skipped,
                        deferred = r.deferred,
                        poison = r.poison,
                        trigger = "poll",
                        "poll tick"
                    );
                }
                idle = next_wait(idle, &r, interval);
                idle
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(error = %e, failures, "poll tick failed (database?)");
                interval.min(Duration::from_secs(1 << failures.min(6)))
            }
        };
        // Sleep in slices so the watchdog sees an idle loop as alive.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if stop.is_cancelled() {
                return;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            beat.beat();
            let slice = (deadline - now).min(IDLE_WAKE);
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(slice) => {}
            }
        }
    }
}

fn extra(
    bus: &BusHandle,
    announcer: &Announcer,
    stats: &Stats,
    queue: Option<&WorkQueue>,
) -> HeartbeatExtra {
    let (published, dropped) = announcer.totals();
    HeartbeatExtra {
        sessions_stored: stats.stored.load(Ordering::Relaxed),
        published,
        publish_dropped: dropped,
        queue_depth: queue.map_or(0, WorkQueue::depth),
        bus_connected: bus.state() == ConnectionState::Connected,
    }
}

/// `system.<worker>.health` every `every`, DECNET's payload shape.
async fn heartbeat(
    bus: BusHandle,
    announcer: Arc<Announcer>,
    worker: WorkerName,
    every: Duration,
    stats: Arc<Stats>,
    queue: Option<WorkQueue>,
    stop: CancellationToken,
) {
    let topic = worker.health_topic();
    let mut state = bus.watch_state();
    loop {
        // Wait for a connection first, so the first beat is not dropped.
        if *state.borrow() != ConnectionState::Connected {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = state.wait_for(|s| *s == ConnectionState::Connected) => {}
            }
        }
        let payload = heartbeat_payload(
            &worker,
            now_epoch(),
            &extra(&bus, &announcer, &stats, queue.as_ref()),
        );
        if let Err(e) = bus.publish(&topic, HEALTH_TYPE, &payload) {
            tracing::warn!(error = %e, "heartbeat refused");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// A one-line STATUS= for `systemctl status`, every 10 s.
async fn status_loop(
    notifier: Arc<Notifier>,
    bus: Option<(BusHandle, Arc<Announcer>)>,
    stats: Arc<Stats>,
    queue: Option<WorkQueue>,
    stop: CancellationToken,
) {
    if !notifier.is_enabled() {
        return;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
        let stored = stats.stored.load(Ordering::Relaxed);
        let line = match &bus {
            None => format!("bus disabled; {stored} sessions stored"),
            Some((b, a)) => {
                let e = extra(b, a, &stats, queue.as_ref());
                format!(
                    "bus {}; {} sessions stored; {} published, {} dropped; queue {}",
                    if e.bus_connected {
                        "up"
                    } else {
                        "DOWN (poll catch-up)"
                    },
                    stored,
                    e.published,
                    e.publish_dropped,
                    e.queue_depth
                )
            }
        };
        let _ = notifier.status(&line);
    }
}

fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
