//! The poll trigger: `session_recorded` rows of `logs` after our own cursor
//! (a `state` key distinct from the Python worker's), in id order, in
//! bounded batches.
//!
//! Up to `poll.concurrency` rows of a batch are handled at once (each
//! through the same [`Handler`] as the bus path, so the in-flight guard
//! still holds a session against the other trigger).
//!
//! Cursor rules:
//! * it only moves past a row that was stored, skipped for good, or
//!   recorded in the deferred set, and only once every row before it is
//!   too (rows finish out of order) — a failure (DB down, …) stops the
//!   batch (no new rows start; those in hand finish) and the failed row is
//!   retried next tick;
//! * it is written once per batch, after the deferred set;
//! * a poison row (`fields` not a JSON object, no string `sid`) is logged
//!   once and passed: it can never stall the loop;
//! * a cursor above the table's max id (logs purged, SQLite reusing ids)
//!   is detected every tick and reset to 0; re-reading is cheap because
//!   already-profiled sessions are skipped before any shard I/O.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use super::deferred::DeferredSet;
use crate::config::{AttackersConfig, PollConfig};
use crate::handler::{Handler, HandlerError, Outcome, SessionRef};
use crate::store::{LogRow, Store, StoreError};

/// What a tick did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TickReport {
    pub rows: usize,
    pub stored: usize,
    pub skipped: usize,
    pub deferred: usize,
    pub poison: usize,
    /// The batch was full: poll again at once.
    pub more: bool,
}

pub struct Poller {
    handler: Arc<Handler>,
    poll: PollConfig,
    attackers: AttackersConfig,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A poll row → the handler's input; None = poison.
pub fn session_from_row(row: &LogRow) -> Option<SessionRef> {
    let v: serde_json::Value = serde_json::from_str(if row.fields.is_empty() {
        "{}"
    } else {
        &row.fields
    })
    .ok()?;
    let obj = v.as_object()?;
    let sid = obj.get("sid")?.as_str()?.to_string();
    let service = obj
        .get("service")
        .and_then(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(&row.service)
        .to_string();
    Some(SessionRef {
        sid,
        decky: row.decky.clone(),
        service,
        attacker_ip: row.attacker_ip.clone(),
        shard_path: None,
    })
}

/// Where the cursor may go after a batch whose rows finish in any order:
/// past the longest prefix of rows that are all done (stored, skipped for
/// good, poison, or recorded as deferred), never past a row still in hand
/// or failed.
#[derive(Debug, Clone)]
pub struct DonePrefix {
    start: i64,
    ids: Vec<i64>,
    done: Vec<bool>,
    /// Rows `..len` are all done.
    len: usize,
}

impl DonePrefix {
    /// `start`: the cursor before the batch; `ids`: the batch's row ids in
    /// cursor order.
    pub fn new(start: i64, ids: Vec<i64>) -> DonePrefix {
        let done = vec![false; ids.len()];
        DonePrefix {
            start,
            ids,
            done,
            len: 0,
        }
    }

    /// Row `i` of the batch is done.
    pub fn done(&mut self, i: usize) {
        if let Some(d) = self.done.get_mut(i) {
            *d = true;
        }
        while self.done.get(self.len).copied().unwrap_or(false) {
            self.len += 1;
        }
    }

    /// The id the cursor may be set to.
    pub fn cursor(&self) -> i64 {
        match self.len.checked_sub(1) {
            Some(i) => self.ids.get(i).copied().unwrap_or(self.start),
            None => self.start,
        }
    }
}

impl Poller {
    pub fn new(handler: Arc<Handler>, poll: PollConfig, attackers: AttackersConfig) -> Poller {
        Poller {
            handler,
            poll,
            attackers,
        }
    }

    async fn cursor(&self) -> Result<i64, StoreError> {
        let store = self.handler.store();
        let raw = store.get_state(&self.poll.cursor_key).await?;
        let cursor = match raw {
            None => 0,
            Some(v) => match serde_json::from_str::<serde_json::Value>(&v)
                .ok()
                .and_then(|j| j.get("last_log_id").and_then(|x| x.as_i64()))
            {
                Some(c) => c,
                None => {
                    tracing::warn!(key = %self.poll.cursor_key, "unreadable poll cursor; restarting from 0");
                    0
                }
            },
        };
        let max = store.max_log_id().await?;
        if cursor > max.unwrap_or(0) {
            tracing::warn!(
                cursor,
                max_id = max.unwrap_or(0),
                "poll cursor is above the logs table's max id (logs purged?); restarting from 0"
            );
            self.set_cursor(0).await?;
            return Ok(0);
        }
        Ok(cursor)
    }

    async fn set_cursor(&self, id: i64) -> Result<(), StoreError> {
        self.handler
            .store()
            .set_state(&self.poll.cursor_key, &format!("{{\"last_log_id\":{id}}}"))
            .await
    }

    /// One batch of new rows, then the due deferred sessions. Up to
    /// `poll.concurrency` rows are in hand at once and may finish in any
    /// order; the cursor is written once, at the end of the batch, past the
    /// longest prefix of rows that are all done ([`DonePrefix`]). Deferred
    /// sessions are saved in the deferred set before that write.
    pub async fn tick(&self, cancel: &CancellationToken) -> Result<TickReport, HandlerError> {
        let store = self.handler.store();
        let mut report = TickReport::default();
        let cursor = self.cursor().await?;
        let rows = store.session_logs_after(cursor, self.poll.batch).await?;
        report.rows = rows.len();
        report.more = rows.len() as u64 >= u64::from(self.poll.batch);
        let mut prefix = DonePrefix::new(cursor, rows.iter().map(|r| r.id).collect());
        let mut deferred: Option<DeferredSet> = None;
        let mut deferred_dirty = false;
        let mut failure: Option<HandlerError> = None;
        let limit = self.poll.concurrency.max(1);
        let beat = crate::health::watchdog::current_beat();
        let mut in_hand = tokio::task::JoinSet::new();
        let mut next = 0usize;
        loop {
            // Start rows until `limit` are in hand; none after a failure
            // or a stop request (the rows in hand are finished).
            while next < rows.len()
                && in_hand.len() < limit
                && failure.is_none()
                && !cancel.is_cancelled()
            {
                let i = next;
                next += 1;
                let row = &rows[i];
                let Some(session) = session_from_row(row) else {
                    tracing::warn!(
                        log_id = row.id,
                        reason = "fields is not an object with a string sid",
                        "poison log row skipped"
                    );
                    report.poison += 1;
                    prefix.done(i);
                    continue;
                };
                let handler = self.handler.clone();
                let work = async move {
                    let out = handler.handle(&session).await;
                    (i, session, out)
                };
                match beat.clone() {
                    Some(b) => in_hand.spawn(crate::health::watchdog::with_beat(b, work)),
                    None => in_hand.spawn(work),
                };
            }
            let Some(joined) = in_hand.join_next().await else {
                break;
            };
            let (i, session, out) = match joined {
                Ok(done) => done,
                Err(_) => {
                    // A panicked session task: nothing passes it.
                    failure.get_or_insert(HandlerError::Join);
                    continue;
                }
            };
            match out {
                Ok(Outcome::Stored(_)) => {
                    report.stored += 1;
                    prefix.done(i);
                }
                Ok(Outcome::Skipped(_)) => {
                    report.skipped += 1;
                    prefix.done(i);
                }
                Ok(Outcome::Deferred(reason)) => {
                    let set = match &mut deferred {
                        Some(s) => s,
                        None => {
                            match DeferredSet::load(store.as_ref(), &self.attackers.deferred_key)
                                .await
                            {
                                Ok(s) => deferred.insert(s),
                                Err(e) => {
                                    failure.get_or_insert(e.into());
                                    continue;
                                }
                            }
                        }
                    };
                    set.add(
                        &session,
                        reason,
                        now(),
                        self.attackers.retry_initial_s,
                        self.attackers.deferred_max,
                    );
                    deferred_dirty = true;
                    report.deferred += 1;
                    prefix.done(i);
                }
                Err(e) => {
                    tracing::error!(
                        sid = %session.sid, decky = %session.decky, service = %session.service,
                        log_id = rows[i].id, error = %e, "session failed; will retry"
                    );
                    failure.get_or_insert(e);
                }
            }
        }
        if cancel.is_cancelled() || failure.is_some() {
            report.more = false;
        }
        // Recorded before the cursor moves past them.
        if deferred_dirty {
            if let Some(set) = &deferred {
                set.save(store.as_ref(), &self.attackers.deferred_key)
                    .await?;
            }
        }
        let last = prefix.cursor();
        if last != cursor {
            self.set_cursor(last).await?;
        }
        if let Some(e) = failure {
            return Err(e);
        }
        self.retry_deferred(cancel).await?;
        Ok(report)
    }

    /// Retries due deferred sessions.
    pub async fn retry_deferred(&self, cancel: &CancellationToken) -> Result<(), HandlerError> {
        let store = self.handler.store();
        let key = &self.attackers.deferred_key;
        let mut set = DeferredSet::load(store.as_ref(), key).await?;
        let due = set.due(now());
        if due.is_empty() {
            return Ok(());
        }
        for d in due {
            if cancel.is_cancelled() {
                break;
            }
            match self.handler.handle(&d.session()).await {
                Ok(Outcome::Stored(_)) | Ok(Outcome::Skipped(_)) => {
                    set.remove(&d.sid);
                }
                Ok(Outcome::Deferred(_)) => set.retry_failed(
                    &d.sid,
                    now(),
                    self.attackers.retry_initial_s,
                    self.attackers.retry_max_s,
                    self.attackers.max_wait_s,
                ),
                Err(e) => {
                    set.save(store.as_ref(), key).await?;
                    return Err(e);
                }
            }
        }
        set.save(store.as_ref(), key).await?;
        Ok(())
    }

    /// Polls until cancelled, the first tick at once. The sessions in hand
    /// are finished (or rolled back by their transactions) before
    /// returning. Waits between ticks: [`next_wait`].
    pub async fn run(&self, cancel: CancellationToken) {
        let interval = Duration::from_secs(self.poll.interval_s);
        let mut failures: u32 = 0;
        let mut idle = Duration::ZERO;
        loop {
            let wait = match self.tick(&cancel).await {
                Ok(r) => {
                    failures = 0;
                    if r.rows > 0 {
                        tracing::info!(
                            rows = r.rows,
                            stored = r.stored,
                            skipped = r.skipped,
                            deferred = r.deferred,
                            poison = r.poison,
                            "poll tick"
                        );
                    }
                    idle = next_wait(idle, &r, interval);
                    idle
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::error!(error = %e, failures, "poll tick failed");
                    interval.min(Duration::from_secs(1 << failures.min(6)))
                }
            };
            if cancel.is_cancelled() {
                return;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// The shortest wait after a tick that found rows.
pub const ACTIVE_WAIT: Duration = Duration::from_millis(100);

/// The wait after a successful tick, given the previous one: none after a
/// full batch (more rows are waiting); [`ACTIVE_WAIT`] after a tick that
/// found rows (sessions are arriving: the next ones are picked up within
/// 100 ms instead of a whole interval); after an idle tick, twice the
/// previous wait, up to `poll.interval_s` (100, 200, 400, 800 ms, then the
/// interval: an idle daemon polls once an interval, as before).
pub fn next_wait(prev: Duration, r: &TickReport, interval: Duration) -> Duration {
    if r.more {
        Duration::ZERO
    } else if r.rows > 0 {
        ACTIVE_WAIT.min(interval)
    } else {
        prev.saturating_mul(2).max(ACTIVE_WAIT).min(interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_back_off_when_idle_and_shrink_when_rows_arrive() {
        let s = Duration::from_secs(1);
        let ms = Duration::from_millis;
        let idle = TickReport::default();
        let some = TickReport {
            rows: 3,
            ..TickReport::default()
        };
        let full = TickReport {
            rows: 500,
            more: true,
            ..TickReport::default()
        };
        // From the start (prev 0): 100, 200, 400, 800 ms, then the interval.
        let mut w = Duration::ZERO;
        let mut seen = vec![];
        for _ in 0..6 {
            w = next_wait(w, &idle, s);
            seen.push(w);
        }
        assert_eq!(seen, [ms(100), ms(200), ms(400), ms(800), s, s]);
        assert_eq!(next_wait(s, &some, s), ms(100));
        assert_eq!(next_wait(s, &full, s), Duration::ZERO);
        assert_eq!(
            next_wait(Duration::ZERO, &idle, Duration::from_secs(30)),
            ms(100)
        );
        assert_eq!(
            next_wait(Duration::from_secs(20), &idle, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        // An interval of 0 s: never wait.
        assert_eq!(next_wait(ms(100), &idle, Duration::ZERO), Duration::ZERO);
        assert_eq!(next_wait(ms(100), &some, Duration::ZERO), Duration::ZERO);
    }

    fn row(fields: &str) -> LogRow {
        LogRow {
            id: 1,
            decky: "d".into(),
            service: "sessrec".into(),
            attacker_ip: "1.2.3.4".into(),
            fields: fields.into(),
        }
    }

    #[test]
    fn cursor_passes_only_the_done_prefix_when_rows_finish_out_of_order() {
        let mut p = DonePrefix::new(9, vec![10, 11, 15, 16, 20]);
        assert_eq!(p.cursor(), 9);
        // Later rows first: the cursor does not move.
        p.done(3);
        p.done(2);
        assert_eq!(p.cursor(), 9);
        p.done(0);
        assert_eq!(p.cursor(), 10);
        // Row 1 (id 11) never finishes (in hand, or failed): 15 and 16 are
        // done but the cursor stays at 10.
        p.done(4);
        assert_eq!(p.cursor(), 10);
        p.done(1);
        assert_eq!(p.cursor(), 20);
        // Out of range and repeated marks change nothing.
        p.done(7);
        p.done(1);
        assert_eq!(p.cursor(), 20);
        assert_eq!(DonePrefix::new(3, vec![]).cursor(), 3);
    }

    #[test]
    fn rows_to_sessions() {
        let s = session_from_row(&row(r#"{"sid":"x","service":"telnet"}"#)).expect("session");
        assert_eq!((s.sid.as_str(), s.service.as_str()), ("x", "telnet"));
        let s = session_from_row(&row(r#"{"sid":"x"}"#)).expect("session");
        assert_eq!(s.service, "sessrec");
        assert!(session_from_row(&row("[1,2]")).is_none());
        assert!(session_from_row(&row("\"str\"")).is_none());
        assert!(session_from_row(&row("{\"sid\":5}")).is_none());
        assert!(session_from_row(&row("not json")).is_none());
        assert!(session_from_row(&row("")).is_none());
    }
}
