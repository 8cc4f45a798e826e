//! SQLite (the embedded default): WAL, busy timeout, writes in
//! `BEGIN IMMEDIATE` so two writers serialise at the start of the
//! transaction instead of failing at commit.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::rows::{self, Dialect, StoredIds, ROWS_PER_STATEMENT};
use super::schema::{self, TableInfo};
use super::{
    profiled_bounds, LogRow, NewLog, SessionWrite, Store, StoreError, StoreOutcome, StoredRow,
};
use crate::config::{AttackerMode, Backend, DbSettings, SchemaMode};

/// `RETURNING` gives the stored row's id, also when the row existed and
/// was updated (the id column is never in the `SET` list).
const UPSERT: Dialect = Dialect {
    numbered: false,
    value_cast: None,
    tail: "ON CONFLICT(evidence_ref, primitive) DO UPDATE SET \
           identity_ref = excluded.identity_ref, value = excluded.value, \
           confidence = excluded.confidence, window_start_ts = excluded.window_start_ts, \
           window_end_ts = excluded.window_end_ts, source = excluded.source, \
           envelope_v = excluded.envelope_v, ts = excluded.ts, \
           attacker_uuid = excluded.attacker_uuid \
           RETURNING primitive, id",
};

const MIGRATION: &str = include_str!("../../../../migrations/sqlite/0001_init.sql");

pub struct SqliteStore {
    /// Reads (already-profiled checks, poll rows, state, read-backs).
    pool: SqlitePool,
    /// Every write, on ONE connection: SQLite has one writer at a time, and
    /// a connection drops its whole page cache whenever another connection
    /// committed since its last transaction; a single writer keeps its
    /// cache (the observation indexes' pages) warm.
    writer: SqlitePool,
    /// Our own writers queue here instead of in the pool's acquire timeout
    /// or SQLite's busy handler (which sleeps and retries, 1 ms to 100 ms a
    /// round); other processes still meet the busy timeout.
    write: tokio::sync::Mutex<()>,
}

/// Page cache of the writer connection (KiB; SQLite's default is 2 MB).
/// It counts in the daemon's RSS (target ≤ 64 MB), hence not more.
const WRITER_CACHE_KIB: &str = "-16384";
/// WAL pages before the writer checkpoints (SQLite's default: 1,000). A
/// checkpoint writes each page changed since the last one once and fsyncs;
/// a session dirties ~100 index pages, many of them the same ones, so a
/// longer interval writes and syncs less. Durability is unchanged.
/// 32,768 pages (a WAL file of up to 128 MiB at 4 KiB pages) against 8,192:
/// +10–20 % sessions/s on the backlog benchmark, four alternating pairs
/// (docs/BENCHMARKS.md); the checkpoint's fsync was 7 % of the daemon's CPU.
const AUTOCHECKPOINT_PAGES: &str = "32768";
/// Statement journals (one per multi-row upsert inside the session's
/// transaction) in memory instead of a temporary file: perf showed the
/// writer thread spending 17 % of the daemon's CPU in `subjournalPage` →
/// `pwrite`; a session's statement journal is a few hundred KiB at most.
const TEMP_STORE: &str = "MEMORY";

impl SqliteStore {
    pub async fn connect(db: &DbSettings) -> Result<SqliteStore, StoreError> {
        let opts = SqliteConnectOptions::from_str(&db.url)?
            .create_if_missing(db.schema == SchemaMode::Own)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_millis(db.busy_timeout_ms))
            .foreign_keys(false);
        if db.schema == SchemaMode::Decnet && !opts.get_filename().exists() {
            return Err(StoreError::Schema(format!(
                "SQLite file {} does not exist (decnet schema mode never creates it)",
                opts.get_filename().display()
            )));
        }
        let acquire = Duration::from_millis(db.busy_timeout_ms.max(5_000));
        // The writer first: it creates the file (own mode) and sets WAL.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire)
            .connect_with(
                opts.clone()
                    .pragma("cache_size", WRITER_CACHE_KIB)
                    .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES)
                    .pragma("temp_store", TEMP_STORE),
            )
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(db.max_connections)
            .acquire_timeout(acquire)
            .connect_with(opts)
            .await?;
        Ok(SqliteStore {
            pool,
            writer,
            write: tokio::sync::Mutex::new(()),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn table_info(&self, table: &str) -> Result<Option<TableInfo>, StoreError> {
        let cols: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        if cols.is_empty() {
            return Ok(None);
        }
        let mut unique_keys = Vec::new();
        let idx = sqlx::query("SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1")
            .bind(table)
            .fetch_all(&self.pool)
            .await?;
        for r in idx {
            let name: String = r.try_get(0)?;
            let key: Vec<String> =
                sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<_, _>>()?;
            unique_keys.push(key);
        }
        Ok(Some(TableInfo {
            columns: cols.into_iter().collect::<BTreeSet<_>>(),
            unique_keys,
        }))
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn prepare(&self, mode: SchemaMode, attackers: AttackerMode) -> Result<(), StoreError> {
        if mode == SchemaMode::Own {
            let _writer = self.write.lock().await;
            sqlx::raw_sql(MIGRATION).execute(&self.writer).await?;
        }
        let mut infos = HashMap::new();
        for (t, _) in super::required_columns(attackers) {
            infos.insert(t, self.table_info(t).await?);
        }
        schema::verify(attackers, |t| infos.remove(t).flatten())
    }

    async fn is_profiled(&self, evidence_ref: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM observations WHERE evidence_ref = ? LIMIT 1")
            .bind(evidence_ref)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn is_profiled_in_any_shard(
        &self,
        decky: &str,
        service: &str,
        sid: &str,
    ) -> Result<bool, StoreError> {
        let (lo, hi, like) = profiled_bounds(decky, service, sid);
        let row = sqlx::query(
            "SELECT 1 FROM observations WHERE evidence_ref >= ? AND evidence_ref < ? \
             AND evidence_ref LIKE ? LIMIT 1",
        )
        .bind(lo)
        .bind(hi)
        .bind(like)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn store_session(&self, w: &SessionWrite<'_>) -> Result<StoreOutcome, StoreError> {
        let _writer = self.write.lock().await;
        let mut conn = self.writer.acquire().await?;
        let out = write_session(&mut conn, w).await;
        if out.is_err() {
            // After a failed statement SQLite may already have rolled the
            // transaction back itself (SQLITE_FULL, IOERR, …); sqlx's
            // ROLLBACK then fails and the connection stays "in a
            // transaction" for sqlx, refusing every later BEGIN. The one
            // writer would be stuck for good: close it, the pool opens a
            // fresh one (same pragmas) for the next write.
            conn.close_on_drop();
        }
        out
    }

    async fn get_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM state WHERE \"key\" = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let _writer = self.write.lock().await;
        sqlx::query(
            "INSERT INTO state (\"key\", value) VALUES (?, ?) \
             ON CONFLICT(\"key\") DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn session_logs_after(&self, after: i64, limit: u32) -> Result<Vec<LogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, decky, service, attacker_ip, fields FROM logs \
             WHERE id > ? AND event_type = 'session_recorded' ORDER BY id ASC LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows::decode_all(&rows, rows::log_row)
    }

    async fn max_log_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(id) FROM logs")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn insert_log(&self, row: &NewLog<'_>) -> Result<i64, StoreError> {
        let _writer = self.write.lock().await;
        let r = sqlx::query(
            "INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, \
             fields, msg) VALUES (?, ?, ?, ?, ?, '', ?, '')",
        )
        .bind(row.timestamp)
        .bind(row.decky)
        .bind(row.service)
        .bind(row.event_type)
        .bind(row.attacker_ip)
        .bind(row.fields)
        .execute(&self.writer)
        .await?;
        Ok(r.last_insert_rowid())
    }

    async fn observations_with_prefix(&self, prefix: &str) -> Result<Vec<StoredRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, evidence_ref, primitive, CAST(value AS TEXT), attacker_uuid \
             FROM observations WHERE substr(evidence_ref, 1, length(?)) = ? \
             ORDER BY evidence_ref, primitive",
        )
        .bind(prefix)
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        rows::decode_all(&rows, rows::stored_row)
    }

    async fn attackers_for_ip(&self, ip: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT uuid FROM attackers WHERE ip = ? ORDER BY uuid")
                .bind(ip)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

/// One session's transaction on the writer connection (see
/// [`SqliteStore::store_session`]).
async fn write_session(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Sqlite>,
    w: &SessionWrite<'_>,
) -> Result<StoreOutcome, StoreError> {
    let mut tx = sqlx::Connection::begin_with(&mut **conn, "BEGIN IMMEDIATE").await?;
    let found: Option<String> = sqlx::query_scalar(
        "SELECT uuid FROM attackers WHERE ip = ? ORDER BY first_seen ASC, uuid ASC LIMIT 1",
    )
    .bind(w.attacker_ip)
    .fetch_optional(&mut *tx)
    .await?;
    let attacker_uuid = match (found, w.attackers) {
        (Some(u), _) => u,
        (None, AttackerMode::Wait) => {
            tx.rollback().await?;
            return Ok(StoreOutcome::NoAttacker);
        }
        (None, AttackerMode::Create) => {
            let u = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO attackers (uuid, ip, first_seen, last_seen, updated_at, \
                     event_count, service_count, decky_count, services, deckies, is_traversal, \
                     bounty_count, credential_count, fingerprints, commands, rotation_count, \
                     ipv6_leak_count) VALUES (?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now'), \
                     strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), \
                     0, 0, 0, '[]', '[]', 0, 0, 0, '[]', '[]', 0, 0)",
            )
            .bind(&u)
            .bind(w.attacker_ip)
            .execute(&mut *tx)
            .await?;
            u
        }
    };
    // One multi-row upsert per group (normally one per session).
    let (obs, injected) = rows::rows_to_write(w);
    let mut ids = StoredIds::default();
    for g in rows::statement_groups(obs, ROWS_PER_STATEMENT) {
        let group = &obs[g];
        let sql = rows::upsert_sql(&UPSERT, group.len());
        let stored = rows::bind_rows(sqlx::query(&sql), group, w.evidence_ref, &attacker_uuid)
            .fetch_all(&mut *tx)
            .await?;
        ids.extend(&stored)?;
    }
    if let Some(n) = injected {
        return Err(StoreError::Injected(n));
    }
    tx.commit().await?;
    Ok(StoreOutcome::Stored {
        attacker_uuid,
        ids: ids.for_observations(w.observations),
    })
}
