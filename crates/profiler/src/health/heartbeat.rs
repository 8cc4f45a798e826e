//! `system.<worker>.health`: the presence beacon DECNET's workers publish.
//!
//! DECNET's dashboard subscribes to `system.*.health`, shows a worker as "ok"
//! while its last `ts` is under 90 s old, and shows the payload minus
//! `worker`/`ts` as "extra" (contracts.md §2). The payload is
//! `{"worker":"<name>","ts":<float epoch>}` followed by our extra keys, every
//! 30 s. The worker name must differ from the Python profiler's (`profiler`)
//! so the two processes stay distinguishable.

use std::time::Duration;

use serde_json::{Map, Value};

/// DECNET's heartbeat period (publish.py default).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
/// The EVT `type` DECNET gives heartbeats.
pub const HEALTH_TYPE: &str = "health";
/// Our default worker name: not the Python profiler's `profiler`.
pub const DEFAULT_WORKER: &str = "profiler-rs";

/// The health topic for a worker name.
pub fn health_topic(worker: &str) -> String {
    format!("system.{worker}.health")
}

/// A worker name DECNET's topic builder would accept: non-empty, no `.`,
/// `*`, `>` or whitespace (topics.py:639-653).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerName(String);

/// Why a worker name is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerNameError {
    #[error("worker name is empty")]
    Empty,
    #[error("worker name contains '.', '*', '>' or whitespace")]
    BadCharacter,
    #[error("worker name `profiler` belongs to DECNET's Python profiler")]
    TakenByPython,
}

impl WorkerName {
    /// Validates a configured worker name.
    pub fn parse(name: &str) -> Result<Self, WorkerNameError> {
        if name.is_empty() {
            return Err(WorkerNameError::Empty);
        }
        if name
            .chars()
            .any(|c| c == '.' || c == '*' || c == '>' || c.is_whitespace())
        {
            return Err(WorkerNameError::BadCharacter);
        }
        if name == "profiler" {
            return Err(WorkerNameError::TakenByPython);
        }
        Ok(WorkerName(name.to_owned()))
    }

    /// The name as published.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `system.<worker>.health`.
    pub fn health_topic(&self) -> String {
        health_topic(&self.0)
    }

    /// `system.<worker>.control`.
    pub fn control_topic(&self) -> String {
        super::control::control_topic(&self.0)
    }
}

impl Default for WorkerName {
    fn default() -> Self {
        WorkerName(DEFAULT_WORKER.to_owned())
    }
}

impl std::fmt::Display for WorkerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Counters shown in the dashboard's "extra" column. Counts only: never a
/// session's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatExtra {
    /// Sessions stored since start.
    pub sessions_stored: u64,
    /// Observations published since start.
    pub published: u64,
    /// Publishes dropped because the bus was down.
    pub publish_dropped: u64,
    /// Bus events waiting in the work queue.
    pub queue_depth: u64,
    /// Whether the bus connection is up right now.
    pub bus_connected: bool,
}

/// Builds the heartbeat payload: DECNET's `{"worker":…,"ts":…}` plus our
/// extra keys (which never override `worker`/`ts`).
pub fn heartbeat_payload(worker: &WorkerName, ts: f64, extra: &HeartbeatExtra) -> Value {
    let mut m = Map::new();
    m.insert("worker".into(), Value::from(worker.as_str()));
    m.insert("ts".into(), Value::from(ts));
    m.insert("impl".into(), Value::from("rust"));
    m.insert("version".into(), Value::from(env!("CARGO_PKG_VERSION")));
    m.insert("sessions_stored".into(), Value::from(extra.sessions_stored));
    m.insert("published".into(), Value::from(extra.published));
    m.insert("publish_dropped".into(), Value::from(extra.publish_dropped));
    m.insert("queue_depth".into(), Value::from(extra.queue_depth));
    m.insert("bus_connected".into(), Value::from(extra.bus_connected));
    Value::Object(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_worker_ts_and_counts() {
        let w = WorkerName::parse("profiler-rs").unwrap();
        let extra = HeartbeatExtra {
            sessions_stored: 3,
            published: 21,
            publish_dropped: 1,
            queue_depth: 0,
            bus_connected: true,
        };
        let p = heartbeat_payload(&w, 1795311251.5, &extra);
        // Key order is irrelevant to DECNET's consumers (Python dicts).
        assert_eq!(p["worker"], "profiler-rs");
        assert_eq!(p["ts"], 1795311251.5);
        assert_eq!(p["sessions_stored"], 3);
        assert_eq!(p["published"], 21);
        assert_eq!(p["publish_dropped"], 1);
        assert_eq!(p["bus_connected"], true);
        assert_eq!(p["impl"], "rust");
    }

    #[test]
    fn worker_names_follow_decnet_rules() {
        assert_eq!(WorkerName::parse(""), Err(WorkerNameError::Empty));
        for bad in ["a.b", "a*", ">", "a b", "a\tb"] {
            assert_eq!(
                WorkerName::parse(bad),
                Err(WorkerNameError::BadCharacter),
                "{bad}"
            );
        }
        assert_eq!(
            WorkerName::parse("profiler"),
            Err(WorkerNameError::TakenByPython)
        );
        let w = WorkerName::default();
        assert_eq!(w.as_str(), "profiler-rs");
        assert_eq!(w.health_topic(), "system.profiler-rs.health");
        assert_eq!(w.control_topic(), "system.profiler-rs.control");
    }
}
