//! The systemd watchdog, fed only by real progress.
//!
//! A timer that pings `WATCHDOG=1` no matter what would keep a wedged daemon
//! alive forever. Instead each work loop (the bus worker pool, the poll loop)
//! holds a [`Beat`] and calls [`Beat::beat`] every time it turns: after each
//! session and on each idle wake-up (loops wake at least every
//! [`IDLE_WAKE`]). The watchdog task pings only while every registered loop
//! has beaten within half the watchdog period, so a loop stuck on a hung
//! database or a dead lock stops the pings and systemd restarts us.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::notify::Notifier;

/// The longest an idle work loop may sleep before beating again.
pub const IDLE_WAKE: Duration = Duration::from_secs(2);

/// The set of work loops whose progress the watchdog watches.
#[derive(Debug)]
pub struct Liveness {
    origin: Instant,
    loops: Mutex<Vec<(&'static str, Arc<AtomicU64>)>>,
}

/// One work loop's progress beacon; cheap to clone.
#[derive(Debug, Clone)]
pub struct Beat {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Beat {
    /// The loop made progress (or woke idle and is ready for work).
    pub fn beat(&self) {
        self.last_ms
            .store(millis_since(self.origin), Ordering::Relaxed);
    }
}

impl Liveness {
    /// An empty set.
    pub fn new() -> Arc<Self> {
        Arc::new(Liveness {
            origin: Instant::now(),
            loops: Mutex::new(Vec::new()),
        })
    }

    /// Registers a loop, counted as fresh from now.
    pub fn register(&self, name: &'static str) -> Beat {
        let last_ms = Arc::new(AtomicU64::new(millis_since(self.origin)));
        if let Ok(mut loops) = self.loops.lock() {
            loops.push((name, last_ms.clone()));
        }
        Beat {
            origin: self.origin,
            last_ms,
        }
    }

    /// Loops whose last beat is older than `max_age`.
    pub fn stalled(&self, max_age: Duration) -> Vec<&'static str> {
        let now = millis_since(self.origin);
        let max = u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX);
        match self.loops.lock() {
            Ok(loops) => loops
                .iter()
                .filter(|(_, last)| now.saturating_sub(last.load(Ordering::Relaxed)) > max)
                .map(|(name, _)| *name)
                .collect(),
            // A poisoned lock means a loop panicked while registering: no
            // progress can be vouched for.
            Err(_) => vec!["<poisoned>"],
        }
    }
}

tokio::task_local! {
    /// The beacon of the loop the current task belongs to.
    static CURRENT: Beat;
}

/// Runs `f` with `beat` as the current task's beacon, so code deep inside
/// (the handler, once per session) can report progress with
/// [`beat_current`] without knowing which loop it serves.
pub async fn with_beat<F: std::future::Future>(beat: Beat, f: F) -> F::Output {
    CURRENT.scope(beat, f).await
}

/// The current task's beacon, to hand on to tasks it spawns.
pub fn current_beat() -> Option<Beat> {
    CURRENT.try_with(Beat::clone).ok()
}

/// Beats the current task's beacon, if it has one (no-op otherwise).
pub fn beat_current() {
    let _ = CURRENT.try_with(Beat::beat);
}

fn millis_since(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Pings `WATCHDOG=1` every `period / 4` while every loop has beaten within
/// `period / 2`; logs once per stall. Returns when `shutdown` fires.
pub async fn run_watchdog(
    notifier: Arc<Notifier>,
    liveness: Arc<Liveness>,
    period: Duration,
    shutdown: CancellationToken,
) {
    let tick = (period / 4).max(Duration::from_millis(50));
    let max_age = period / 2;
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stalled_before = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let stalled = liveness.stalled(max_age);
        if stalled.is_empty() {
            if stalled_before {
                tracing::info!("work loops progressing again; watchdog pings resume");
                stalled_before = false;
            }
            if let Err(err) = notifier.watchdog() {
                tracing::warn!(error = %err, "sd_notify WATCHDOG=1 failed");
            }
        } else if !stalled_before {
            stalled_before = true;
            tracing::error!(
                loops = ?stalled,
                max_age_ms = u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX),
                "work loop made no progress; withholding watchdog pings"
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn a_loop_that_stops_beating_is_reported() {
        let l = Liveness::new();
        let a = l.register("bus");
        let _b = l.register("poll");
        std::thread::sleep(Duration::from_millis(60));
        a.beat();
        assert_eq!(l.stalled(Duration::from_millis(30)), vec!["poll"]);
        assert!(l.stalled(Duration::from_secs(5)).is_empty());
    }

    #[tokio::test]
    async fn beat_current_reaches_the_scoped_beacon_only() {
        let l = Liveness::new();
        let b = l.register("poll");
        tokio::time::sleep(Duration::from_millis(60)).await;
        beat_current(); // outside any scope: no effect, no panic
        assert_eq!(l.stalled(Duration::from_millis(30)), vec!["poll"]);
        with_beat(b, async { beat_current() }).await;
        assert!(l.stalled(Duration::from_millis(30)).is_empty());
    }

    #[tokio::test]
    async fn pings_only_while_loops_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.sock");
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_nonblocking(true).unwrap();
        let notifier = Arc::new(Notifier::for_address(path.to_str().unwrap()).unwrap());
        let liveness = Liveness::new();
        let beat = liveness.register("work");
        let stop = CancellationToken::new();
        let period = Duration::from_millis(400);
        let task = tokio::spawn(run_watchdog(
            notifier,
            liveness.clone(),
            period,
            stop.clone(),
        ));

        // Progressing: beat every 50 ms for 500 ms → pings arrive.
        for _ in 0..10 {
            beat.beat();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut buf = [0u8; 64];
        let mut pings = 0;
        while let Ok(n) = rx.recv(&mut buf) {
            assert_eq!(&buf[..n], b"WATCHDOG=1");
            pings += 1;
        }
        assert!(pings >= 3, "expected pings while progressing, got {pings}");

        // Stalled: no beats for 600 ms → at most the pings of the first
        // 200 ms (before the beat went stale), then none.
        tokio::time::sleep(Duration::from_millis(300)).await;
        while rx.recv(&mut buf).is_ok() {}
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(rx.recv(&mut buf).is_err(), "pinged while stalled");

        stop.cancel();
        task.await.unwrap();
    }
}
