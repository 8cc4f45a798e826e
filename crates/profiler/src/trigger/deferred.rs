//! The deferred set: sessions that could not be stored yet (no attacker
//! row, no shard) are kept in ONE bounded `state` key and retried with
//! exponential backoff until they succeed or `attackers.max_wait_s` passes;
//! then they are logged as given up (still listed, so `backfill` retries
//! them). Using `state` works in both schema modes: in `decnet` mode it is
//! the only table besides `observations` we may write. Survives restarts.

use serde::{Deserialize, Serialize};

use crate::handler::{DeferReason, SessionRef};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deferred {
    pub sid: String,
    pub decky: String,
    pub service: String,
    pub attacker_ip: String,
    pub reason: DeferReason,
    /// Epoch seconds of the first deferral.
    pub first_ts: f64,
    pub next_ts: f64,
    pub attempts: u32,
    #[serde(default)]
    pub given_up: bool,
}

impl Deferred {
    pub fn session(&self) -> SessionRef {
        SessionRef {
            sid: self.sid.clone(),
            decky: self.decky.clone(),
            service: self.service.clone(),
            attacker_ip: self.attacker_ip.clone(),
            shard_path: None,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeferredSet {
    pub entries: Vec<Deferred>,
}

impl DeferredSet {
    pub async fn load<S: Store>(store: &S, key: &str) -> Result<DeferredSet, StoreError> {
        match store.get_state(key).await? {
            None => Ok(DeferredSet::default()),
            Some(v) => serde_json::from_str(&v).map_err(|_| StoreError::State(key.to_string())),
        }
    }

    pub async fn save<S: Store>(&self, store: &S, key: &str) -> Result<(), StoreError> {
        let v = serde_json::to_string(self).map_err(|_| StoreError::State(key.to_string()))?;
        store.set_state(key, &v).await
    }

    /// Adds or refreshes an entry; keeps the set within `max` by dropping
    /// given-up entries first, then the oldest (each drop is logged).
    pub fn add(&mut self, s: &SessionRef, reason: DeferReason, now: f64, retry_s: u64, max: usize) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.sid == s.sid) {
            e.reason = reason;
            return;
        }
        self.entries.push(Deferred {
            sid: s.sid.clone(),
            decky: s.decky.clone(),
            service: s.service.clone(),
            attacker_ip: s.attacker_ip.clone(),
            reason,
            first_ts: now,
            next_ts: now + retry_s as f64,
            attempts: 0,
            given_up: false,
        });
        while self.entries.len() > max {
            let idx = self.entries.iter().position(|e| e.given_up).unwrap_or(0);
            let e = self.entries.remove(idx);
            tracing::warn!(
                sid = %e.sid, decky = %e.decky, service = %e.service,
                reason = "deferred set full", "deferred session dropped; `backfill` recovers it"
            );
        }
    }

    pub fn remove(&mut self, sid: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.sid != sid);
        before != self.entries.len()
    }

    /// Entries due for a retry.
    pub fn due(&self, now: f64) -> Vec<Deferred> {
        self.entries
            .iter()
            .filter(|e| !e.given_up && e.next_ts <= now)
            .cloned()
            .collect()
    }

    /// Records a failed retry: backoff, or give up after `max_wait_s`.
    pub fn retry_failed(
        &mut self,
        sid: &str,
        now: f64,
        initial: u64,
        max_backoff: u64,
        max_wait_s: u64,
    ) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.sid == sid) {
            e.attempts = e.attempts.saturating_add(1);
            let backoff =
                (initial as f64 * 2f64.powi(e.attempts.min(30) as i32)).min(max_backoff as f64);
            e.next_ts = now + backoff;
            if now - e.first_ts >= max_wait_s as f64 {
                e.given_up = true;
                tracing::warn!(
                    sid = %e.sid, decky = %e.decky, service = %e.service,
                    reason = e.reason_str(), attempts = e.attempts,
                    "deferred session given up; `decnet-profiler backfill` retries it"
                );
            }
        }
    }
}

impl Deferred {
    fn reason_str(&self) -> &'static str {
        self.reason.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(sid: &str) -> SessionRef {
        SessionRef {
            sid: sid.into(),
            decky: "d".into(),
            service: "ssh".into(),
            attacker_ip: "1.2.3.4".into(),
            shard_path: None,
        }
    }

    #[test]
    fn bounded_backoff_and_give_up() {
        let mut d = DeferredSet::default();
        d.add(&s("a"), DeferReason::NoAttacker, 0.0, 30, 2);
        d.add(&s("b"), DeferReason::NoAttacker, 0.0, 30, 2);
        assert!(d.due(10.0).is_empty());
        assert_eq!(d.due(30.0).len(), 2);
        d.retry_failed("a", 30.0, 30, 600, 100);
        assert_eq!(d.entries[0].next_ts, 90.0);
        d.retry_failed("a", 100.0, 30, 600, 100);
        assert!(d.entries[0].given_up);
        d.add(&s("c"), DeferReason::ShardMissing, 0.0, 30, 2);
        // The given-up entry went first.
        let sids: Vec<_> = d.entries.iter().map(|e| e.sid.as_str()).collect();
        assert_eq!(sids, vec!["b", "c"]);
    }
}
