//! Announce: one `attacker.observation.<primitive>` event per stored
//! observation, after the commit.
//!
//! The payload is the observation envelope without `id`/`ts`/`v`, with
//! `id`, `ts`, `v` and `attacker_uuid` merged back in (contracts.md §6.4),
//! where `id` is the id **stored** in the database (on an upsert-overwrite
//! that is the row's original id; the Python peer publishes a fresh one).
//! Consumers (DECNET's attribution worker) need `attacker_uuid` and
//! `primitive`, then re-read the table: the database is the source of truth
//! and a publish is only a notification. So a publish never affects the
//! stored rows, and while the bus is down publishes are dropped and counted.

use std::sync::atomic::{AtomicU64, Ordering};

use decnet_bus::{BusHandle, Published};
use decnet_engine::Observation;
use serde_json::{json, Value};

use crate::handler::StoredSession;

/// `attacker.observation.<primitive>`.
pub fn observation_topic(primitive: &str) -> String {
    format!("attacker.observation.{primitive}")
}

/// The §6.4 payload for one stored observation.
pub fn observation_payload(o: &Observation, attacker_uuid: &str) -> Value {
    json!({
        "primitive": o.primitive,
        "value": o.value,
        "confidence": o.confidence,
        "window": {"start_ts": o.window_start_ts, "end_ts": o.window_end_ts},
        "source": o.source,
        "evidence_ref": o.evidence_ref,
        "identity_ref": o.identity_ref,
        "id": o.id,
        "ts": o.ts,
        "v": o.v,
        "attacker_uuid": attacker_uuid,
    })
}

/// Counts of what happened to announcements (for the heartbeat).
#[derive(Debug, Default)]
pub struct AnnounceCounters {
    /// Queued for the bus.
    pub published: AtomicU64,
    /// Dropped: bus down, queue overflow, or refused frame.
    pub dropped: AtomicU64,
}

/// Publishes stored sessions on the bus.
#[derive(Debug)]
pub struct Announcer {
    bus: BusHandle,
    counters: AnnounceCounters,
}

/// What one session's announcement did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Announced {
    pub published: u64,
    pub dropped: u64,
}

impl Announcer {
    pub fn new(bus: BusHandle) -> Announcer {
        Announcer {
            bus,
            counters: AnnounceCounters::default(),
        }
    }

    /// Announces every observation of a committed session. Never fails: a
    /// refused or dropped publish is counted and logged (ids and counts
    /// only).
    pub fn announce(&self, stored: &StoredSession) -> Announced {
        let mut done = Announced::default();
        for o in &stored.observations {
            let topic = observation_topic(o.primitive);
            let payload = observation_payload(o, &stored.attacker_uuid);
            match self.bus.publish(&topic, o.primitive, &payload) {
                Ok(Published::Queued) => done.published += 1,
                Ok(Published::QueuedDroppedOldest) => {
                    // Ours went out; an older one was pushed off the queue.
                    done.published += 1;
                    done.dropped += 1;
                }
                Ok(Published::DroppedDisconnected) => done.dropped += 1,
                Err(e) => {
                    done.dropped += 1;
                    tracing::warn!(
                        evidence_ref = %stored.evidence_ref,
                        primitive = o.primitive,
                        error = %e,
                        "observation publish refused"
                    );
                }
            }
        }
        self.counters
            .published
            .fetch_add(done.published, Ordering::Relaxed);
        self.counters
            .dropped
            .fetch_add(done.dropped, Ordering::Relaxed);
        if done.dropped > 0 {
            tracing::warn!(
                evidence_ref = %stored.evidence_ref,
                published = done.published,
                dropped = done.dropped,
                "bus unavailable: observation events dropped (rows are stored)"
            );
        }
        done
    }

    /// Totals since start.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.counters.published.load(Ordering::Relaxed),
            self.counters.dropped.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn obs() -> Observation {
        Observation {
            primitive: "motor.input_modality",
            value: "pasted".into(),
            confidence: 0.9,
            window_start_ts: 0.5,
            window_end_ts: 12.25,
            source: "decnet/profiler/behave_shell/extract.py".into(),
            evidence_ref:
                "shard:decky-01/ssh/sessions-2026-05-08.jsonl#11111111-2222-4333-8444-555555555555"
                    .into(),
            identity_ref: None,
            id: "d4be1be9bef548edb4b3b0311d16bce1".into(),
            ts: 1795311334.957588,
            v: 1,
        }
    }

    #[test]
    fn payload_matches_contract_6_4() {
        let p = observation_payload(&obs(), "0b7c2d4e-1111-4222-8333-444455556666");
        let want = json!({
            "primitive":"motor.input_modality","value":"pasted","confidence":0.9,
            "window":{"start_ts":0.5,"end_ts":12.25},
            "source":"decnet/profiler/behave_shell/extract.py",
            "evidence_ref":"shard:decky-01/ssh/sessions-2026-05-08.jsonl#11111111-2222-4333-8444-555555555555",
            "identity_ref":null,
            "id":"d4be1be9bef548edb4b3b0311d16bce1","ts":1795311334.957588,"v":1,
            "attacker_uuid":"0b7c2d4e-1111-4222-8333-444455556666"
        });
        assert_eq!(p, want);
        assert_eq!(p.as_object().unwrap().len(), 11);
    }

    #[test]
    fn topic_keeps_the_dotted_primitive() {
        assert_eq!(
            observation_topic("motor.shell_mastery.tab_completion"),
            "attacker.observation.motor.shell_mastery.tab_completion"
        );
    }
}
