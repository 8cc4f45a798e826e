//! The bus trigger: `attacker.session.ended` events, handled at once.
//!
//! The Python profiler drains bus events once per tick (30-60 s) from an
//! unbounded queue (contracts.md §8 items 11-12). Here the subscription
//! feeds a **bounded** work queue and a pool of `concurrency` workers hands
//! each event to the same [`Handler`](crate::handler::Handler) as the poll
//! path, as soon as a worker is free. When the queue is full the reader
//! waits; the bus client's own subscription queue then drops its oldest
//! events, which the poll path profiles on its next tick (the two paths meet
//! at the already-profiled check and the unique key). On shutdown the
//! workers finish the session in hand and leave the rest of the queue to the
//! poll path of the next start.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

use crate::handler::SessionRef;
use crate::health::watchdog::{Beat, IDLE_WAKE};

/// The topic DECNET's collector publishes ended sessions on.
pub const SESSION_ENDED_TOPIC: &str = "attacker.session.ended";

/// An event we cannot read at all (not an object); logged, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadEvent {
    #[error("session.ended payload is not a JSON object")]
    NotAnObject,
}

/// `attacker.session.ended` payload (contracts.md §3.1) → the handler's
/// input. Only `session_id`, `decky_id`, `service`, `attacker_ip` and
/// `shard_path` matter. A missing or non-string field becomes empty and the
/// handler skips the session with a fixed reason.
pub fn session_from_payload(payload: &Value) -> Result<SessionRef, BadEvent> {
    let obj = payload.as_object().ok_or(BadEvent::NotAnObject)?;
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let shard_path = obj
        .get("shard_path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    Ok(SessionRef {
        sid: text("session_id"),
        decky: text("decky_id"),
        service: text("service"),
        attacker_ip: text("attacker_ip"),
        shard_path,
    })
}

/// One queued session.
#[derive(Debug, Clone)]
pub struct Job {
    pub session: SessionRef,
    /// When the event was taken off the bus (for the latency log field).
    pub received: Instant,
}

/// The bounded queue between the subscription and the workers.
#[derive(Debug, Clone)]
pub struct WorkQueue {
    tx: mpsc::Sender<Job>,
    depth: Arc<AtomicU64>,
}

/// The workers' end of the queue (shared: each worker takes one job at a
/// time).
#[derive(Debug, Clone)]
pub struct WorkSource {
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    depth: Arc<AtomicU64>,
}

/// A queue holding at most `capacity` sessions.
pub fn work_queue(capacity: usize) -> (WorkQueue, WorkSource) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let depth = Arc::new(AtomicU64::new(0));
    (
        WorkQueue {
            tx,
            depth: depth.clone(),
        },
        WorkSource {
            rx: Arc::new(Mutex::new(rx)),
            depth,
        },
    )
}

impl WorkQueue {
    /// Waits for room, then queues; false once the workers are gone.
    pub async fn push(&self, job: Job) -> bool {
        self.depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(job).await.is_ok() {
            true
        } else {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            false
        }
    }

    /// Sessions waiting for a worker.
    pub fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }
}

impl WorkSource {
    /// Next job, or `None` after `IDLE_WAKE` with nothing to do (so the
    /// caller can beat the watchdog), or when the queue is closed (`closed`
    /// set).
    async fn next(&self) -> (Option<Job>, bool) {
        let mut rx = self.rx.lock().await;
        match tokio::time::timeout(IDLE_WAKE, rx.recv()).await {
            Ok(Some(job)) => {
                self.depth.fetch_sub(1, Ordering::Relaxed);
                (Some(job), false)
            }
            Ok(None) => (None, true),
            Err(_) => (None, false),
        }
    }
}

/// Runs `concurrency` workers until `cancel` fires (each finishes the job in
/// hand first) or the queue closes. `handle` profiles one session (and
/// announces it); it must log its own outcome.
pub async fn run_workers<F, Fut>(
    concurrency: usize,
    source: WorkSource,
    beat: Beat,
    cancel: CancellationToken,
    handle: F,
) where
    F: Fn(Job) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let source = source.clone();
        let beat = beat.clone();
        let cancel = cancel.clone();
        let handle = handle.clone();
        tasks.spawn(async move {
            loop {
                beat.beat();
                let (job, closed) = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return,
                    next = source.next() => next,
                };
                if closed {
                    return;
                }
                if let Some(job) = job {
                    handle(job).await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::health::watchdog::Liveness;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn collector_payload_becomes_a_session_ref() {
        let p = json!({"session_id":"11111111-2222-4333-8444-555555555555","attacker_uuid":null,
            "attacker_ip":"203.0.113.7","decky_id":"decky-01","service":"ssh",
            "ended_at":"2026-05-08T12:34:56","duration_s":42.125,"commands":[],"shard_path":null});
        let s = session_from_payload(&p).unwrap();
        assert_eq!(s.sid, "11111111-2222-4333-8444-555555555555");
        assert_eq!(s.decky, "decky-01");
        assert_eq!(s.service, "ssh");
        assert_eq!(s.attacker_ip, "203.0.113.7");
        assert_eq!(s.shard_path, None);

        let p = json!({"session_id":"x","decky_id":"d","service":"ssh","attacker_ip":"1.2.3.4",
            "shard_path":"/var/lib/decnet/artifacts/d/ssh/transcripts/sessions-2026-05-08.jsonl"});
        let s = session_from_payload(&p).unwrap();
        assert_eq!(
            s.shard_path.unwrap(),
            PathBuf::from("/var/lib/decnet/artifacts/d/ssh/transcripts/sessions-2026-05-08.jsonl")
        );
    }

    #[test]
    fn odd_payloads_become_empty_fields_or_errors() {
        let s = session_from_payload(&json!({"session_id": null, "decky_id": 5})).unwrap();
        assert_eq!((s.sid.as_str(), s.decky.as_str()), ("", ""));
        assert_eq!(
            session_from_payload(&json!([1])),
            Err(BadEvent::NotAnObject)
        );
        assert_eq!(
            session_from_payload(&json!("x")),
            Err(BadEvent::NotAnObject)
        );
    }

    fn job(sid: &str) -> Job {
        Job {
            session: SessionRef {
                sid: sid.into(),
                decky: "d".into(),
                service: "ssh".into(),
                attacker_ip: "1.2.3.4".into(),
                shard_path: None,
            },
            received: Instant::now(),
        }
    }

    #[tokio::test]
    async fn workers_run_jobs_concurrently_up_to_the_limit() {
        let (queue, source) = work_queue(16);
        let liveness = Liveness::new();
        let beat = liveness.register("bus");
        let cancel = CancellationToken::new();
        let running = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let (r, p, d) = (running.clone(), peak.clone(), done.clone());
        let workers = tokio::spawn(run_workers(3, source, beat, cancel.clone(), move |_job| {
            let (r, p, d) = (r.clone(), p.clone(), d.clone());
            async move {
                let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                r.fetch_sub(1, Ordering::SeqCst);
                d.fetch_add(1, Ordering::SeqCst);
            }
        }));
        for i in 0..9 {
            assert!(queue.push(job(&i.to_string())).await);
        }
        for _ in 0..100 {
            if done.load(Ordering::SeqCst) == 9 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(done.load(Ordering::SeqCst), 9);
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(queue.depth(), 0);
        cancel.cancel();
        workers.await.unwrap();
    }

    #[tokio::test]
    async fn shutdown_finishes_the_job_in_hand_and_leaves_the_queue() {
        let (queue, source) = work_queue(16);
        let liveness = Liveness::new();
        let cancel = CancellationToken::new();
        let done = Arc::new(AtomicU64::new(0));
        let d = done.clone();
        let workers = tokio::spawn(run_workers(
            1,
            source,
            liveness.register("bus"),
            cancel.clone(),
            move |_job| {
                let d = d.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    d.fetch_add(1, Ordering::SeqCst);
                }
            },
        ));
        for i in 0..5 {
            queue.push(job(&i.to_string())).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
        workers.await.unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 1);
        assert_eq!(queue.depth(), 4);
    }
}
