//! Storage: one trait, three implementations with their own SQL.
//!
//! Every session is written in ONE transaction (attacker resolution + the
//! upsert of all its observations on `uq_observations_evidence_primitive`),
//! so a crash leaves either the whole session or nothing (contracts.md §8.1).

pub mod mysql;
pub mod postgres;
pub mod rows;
pub mod schema;
pub mod sqlite;

use std::future::Future;

use decnet_engine::Observation;

use crate::config::{AttackerMode, Backend, DbSettings, SchemaMode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// `decnet` schema mode found something missing; names it.
    #[error("schema check failed: {0}")]
    Schema(String),
    /// Test hook: a failure injected inside the transaction.
    #[error("injected failure after {0} rows")]
    Injected(usize),
    #[error("corrupt state value under key {0:?}")]
    State(String),
}

impl StoreError {
    /// Deadlocks, lock timeouts, serialization failures and SQLite BUSY:
    /// retrying the whole transaction is safe (the upsert is idempotent).
    pub fn is_retryable(&self) -> bool {
        let StoreError::Db(sqlx::Error::Database(db)) = self else {
            return matches!(self, StoreError::Db(sqlx::Error::PoolTimedOut));
        };
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        matches!(
            code.as_str(),
            // MySQL/MariaDB: deadlock, lock wait timeout (error numbers and SQLSTATE).
            "1213" | "1205" | "40001" | "40P01"
            // SQLite: BUSY, LOCKED (and their extended codes).
            | "5" | "6" | "261" | "262" | "517"
        ) && !code.is_empty()
    }
}

/// One session's write: the observations of one evidence_ref.
#[derive(Debug)]
pub struct SessionWrite<'a> {
    pub attacker_ip: &'a str,
    pub attackers: AttackerMode,
    pub evidence_ref: &'a str,
    pub observations: &'a [Observation],
    /// Test hook: fail inside the transaction after this many rows.
    pub fail_after: Option<usize>,
}

/// What a session write did.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOutcome {
    /// Committed. `ids[i]` is the id stored for `observations[i]` (the
    /// original id when the row was overwritten, contracts.md §6.4).
    Stored {
        attacker_uuid: String,
        ids: Vec<String>,
    },
    /// `attackers = "wait"` and no attacker row has this IP yet; nothing
    /// was written.
    NoAttacker,
}

/// A `session_recorded` row of `logs`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub id: i64,
    pub decky: String,
    pub service: String,
    pub attacker_ip: String,
    /// The raw `fields` JSON text.
    pub fields: String,
}

/// A row to insert into `logs` (replay, tests; DECNET's collector in prod).
#[derive(Debug, Clone)]
pub struct NewLog<'a> {
    pub timestamp: &'a str,
    pub decky: &'a str,
    pub service: &'a str,
    pub event_type: &'a str,
    pub attacker_ip: &'a str,
    pub fields: &'a str,
}

/// A stored observation as read back (replay summaries, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub id: String,
    pub evidence_ref: String,
    pub primitive: String,
    pub value: String,
    pub attacker_uuid: String,
}

/// The storage operations the daemon needs. Implementations own their SQL.
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// `own`: apply migrations, then verify. `decnet`: verify only —
    /// never creates or alters anything; the error names what is missing.
    fn prepare(
        &self,
        mode: SchemaMode,
        attackers: AttackerMode,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Cheap check before the session's events are read: does any
    /// observation with exactly this evidence_ref exist? One point lookup
    /// on the unique key (`evidence_ref` leads it), whatever the table's
    /// size.
    fn is_profiled(
        &self,
        evidence_ref: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The fallback when no shard holds the sid any more (rotated away
    /// after profiling, say): does any observation exist whose
    /// evidence_ref starts with `shard:{decky}/{service}/` and ends with
    /// `#{sid}`? An index range on the unique key plus a suffix filter;
    /// its cost grows with the (decky, service)'s observations, so the
    /// handler only asks it when the exact check cannot be made.
    fn is_profiled_in_any_shard(
        &self,
        decky: &str,
        service: &str,
        sid: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Resolves the attacker and upserts every observation, in one
    /// transaction.
    fn store_session(
        &self,
        w: &SessionWrite<'_>,
    ) -> impl Future<Output = Result<StoreOutcome, StoreError>> + Send;

    fn get_state(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn set_state(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `session_recorded` rows with `id > after`, id order, at most `limit`.
    fn session_logs_after(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<LogRow>, StoreError>> + Send;

    /// The largest `logs.id` of any event type (None: empty table).
    fn max_log_id(&self) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    fn insert_log(&self, row: &NewLog<'_>) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Observations whose evidence_ref starts with `prefix`.
    fn observations_with_prefix(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<StoredRow>, StoreError>> + Send;

    /// Attacker uuids for an IP (tests, diagnostics).
    fn attackers_for_ip(
        &self,
        ip: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}

/// The configured backend. One concrete type so the handler and triggers
/// need no generics at their call sites.
pub enum AnyStore {
    Sqlite(sqlite::SqliteStore),
    Mysql(mysql::MysqlStore),
    Postgres(postgres::PostgresStore),
}

impl AnyStore {
    pub async fn connect(db: &DbSettings) -> Result<AnyStore, StoreError> {
        Ok(match db.backend {
            Backend::Sqlite => AnyStore::Sqlite(sqlite::SqliteStore::connect(db).await?),
            Backend::Mysql => AnyStore::Mysql(mysql::MysqlStore::connect(db).await?),
            Backend::Postgres => AnyStore::Postgres(postgres::PostgresStore::connect(db).await?),
        })
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Mysql($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl Store for AnyStore {
    fn backend(&self) -> Backend {
        dispatch!(self, s => s.backend())
    }
    async fn prepare(&self, mode: SchemaMode, attackers: AttackerMode) -> Result<(), StoreError> {
        dispatch!(self, s => s.prepare(mode, attackers).await)
    }
    async fn is_profiled(&self, evidence_ref: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.is_profiled(evidence_ref).await)
    }
    async fn is_profiled_in_any_shard(
        &self,
        decky: &str,
        service: &str,
        sid: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.is_profiled_in_any_shard(decky, service, sid).await)
    }
    async fn store_session(&self, w: &SessionWrite<'_>) -> Result<StoreOutcome, StoreError> {
        dispatch!(self, s => s.store_session(w).await)
    }
    async fn get_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.get_state(key).await)
    }
    async fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_state(key, value).await)
    }
    async fn session_logs_after(&self, after: i64, limit: u32) -> Result<Vec<LogRow>, StoreError> {
        dispatch!(self, s => s.session_logs_after(after, limit).await)
    }
    async fn max_log_id(&self) -> Result<Option<i64>, StoreError> {
        dispatch!(self, s => s.max_log_id().await)
    }
    async fn insert_log(&self, row: &NewLog<'_>) -> Result<i64, StoreError> {
        dispatch!(self, s => s.insert_log(row).await)
    }
    async fn observations_with_prefix(&self, prefix: &str) -> Result<Vec<StoredRow>, StoreError> {
        dispatch!(self, s => s.observations_with_prefix(prefix).await)
    }
    async fn attackers_for_ip(&self, ip: &str) -> Result<Vec<String>, StoreError> {
        dispatch!(self, s => s.attackers_for_ip(ip).await)
    }
}

/// The bounds of the already-profiled range: every evidence_ref of
/// (decky, service) lies in `[lo, hi)` (`'0'` follows `'/'`), and the LIKE
/// pattern pins the sid. Names are validated (`[a-z0-9-]`, `ssh|telnet`) and
/// the sid is `[0-9a-f-]`, so no LIKE metacharacter can occur.
pub(crate) fn profiled_bounds(decky: &str, service: &str, sid: &str) -> (String, String, String) {
    (
        format!("shard:{decky}/{service}/"),
        format!("shard:{decky}/{service}0"),
        format!("shard:{decky}/{service}/%#{sid}"),
    )
}

/// The `value` column: the engine's value JSON-encoded as Python's
/// `json.dumps` does (ASCII-escaped string; every reference value is a
/// string, contracts.md §6.3).
pub fn value_json(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Columns the daemon reads or writes, per table (contracts.md §5).
pub(crate) fn required_columns(attackers: AttackerMode) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut att = vec!["uuid", "ip", "first_seen"];
    if attackers == AttackerMode::Create {
        att.extend([
            "last_seen",
            "updated_at",
            "event_count",
            "service_count",
            "decky_count",
            "bounty_count",
            "credential_count",
            "rotation_count",
            "ipv6_leak_count",
            "is_traversal",
            "services",
            "deckies",
            "fingerprints",
            "commands",
        ]);
    }
    vec![
        (
            "observations",
            vec![
                "id",
                "identity_ref",
                "primitive",
                "value",
                "confidence",
                "window_start_ts",
                "window_end_ts",
                "source",
                "evidence_ref",
                "envelope_v",
                "ts",
                "attacker_uuid",
            ],
        ),
        ("attackers", att),
        (
            "logs",
            vec![
                "id",
                "timestamp",
                "decky",
                "service",
                "event_type",
                "attacker_ip",
                "raw_line",
                "fields",
            ],
        ),
        ("state", vec!["key", "value"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_json_matches_python_dumps() {
        assert_eq!(value_json("pasted"), "\"pasted\"");
        assert_eq!(value_json("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(value_json("é😀"), "\"\\u00e9\\ud83d\\ude00\"");
        assert_eq!(value_json("\u{1}"), "\"\\u0001\"");
    }

    #[test]
    fn profiled_range_brackets_the_prefix() {
        let (lo, hi, like) = profiled_bounds("d-1", "ssh", "abc");
        let r = "shard:d-1/ssh/sessions-2026-05-02.jsonl#abc";
        assert!(r >= lo.as_str() && r < hi.as_str());
        assert!("shard:d-1/sshx/q" >= hi.as_str());
        assert_eq!(like, "shard:d-1/ssh/%#abc");
    }
}
