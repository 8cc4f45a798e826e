//! MariaDB/MySQL (what DECNET runs). The upsert uses
//! `ON DUPLICATE KEY UPDATE col = VALUES(col)`, the form MariaDB 10.11
//! accepts (it has no `AS new` row alias). `key` is reserved: quoted.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{MySqlPool, Row};

use super::rows::{self, Dialect, StoredIds, ROWS_PER_STATEMENT};
use super::schema::{self, TableInfo};
use super::{
    profiled_bounds, LogRow, NewLog, SessionWrite, Store, StoreError, StoreOutcome, StoredRow,
};
use crate::config::{AttackerMode, Backend, DbSettings, SchemaMode};
use crate::inflight::InFlight;

/// The conflict clause of the observation upsert. MariaDB 10.11 has no row
/// alias (`AS new`), so `VALUES(col)`.
macro_rules! upsert_tail {
    () => {
        "ON DUPLICATE KEY UPDATE \
         identity_ref = VALUES(identity_ref), value = VALUES(value), \
         confidence = VALUES(confidence), window_start_ts = VALUES(window_start_ts), \
         window_end_ts = VALUES(window_end_ts), source = VALUES(source), \
         envelope_v = VALUES(envelope_v), ts = VALUES(ts), \
         attacker_uuid = VALUES(attacker_uuid)"
    };
}

/// MySQL (no `RETURNING`): the stored ids are read back with one `SELECT`
/// in the same transaction.
const UPSERT: Dialect = Dialect {
    numbered: false,
    value_cast: None,
    tail: upsert_tail!(),
};

/// MariaDB ≥ 10.5: `INSERT … ON DUPLICATE KEY UPDATE … RETURNING` gives each
/// row as stored (the kept id of an updated row), one round trip less per
/// session than the read-back.
const UPSERT_RETURNING: Dialect = Dialect {
    numbered: false,
    value_cast: None,
    tail: concat!(upsert_tail!(), " RETURNING primitive, id"),
};

/// Whether the server's `VERSION()` is a MariaDB that has `INSERT …
/// RETURNING` (10.5 and later).
fn has_insert_returning(version: &str) -> bool {
    if !version.contains("MariaDB") {
        return false;
    }
    // Some MariaDB servers still prefix "5.5.5-" for old replication clients.
    let version = version.strip_prefix("5.5.5-").unwrap_or(version);
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    matches!((major, minor), (Some(ma), Some(mi)) if ma > 10 || (ma == 10 && mi >= 5))
}

const MIGRATION: &str = include_str!("../../../../migrations/mysql/0001_init.sql");

pub struct MysqlStore {
    pool: MySqlPool,
    /// Sessions of the same attacker IP write one at a time (in this
    /// process), so a new IP gets one attacker row, without relying on
    /// InnoDB gap locks (see `connect`).
    attacker_locks: InFlight,
    /// The server has `INSERT … RETURNING` ([`has_insert_returning`]).
    returning: bool,
}

impl MysqlStore {
    pub async fn connect(db: &DbSettings) -> Result<MysqlStore, StoreError> {
        let opts = MySqlConnectOptions::from_str(&db.url)?.charset("utf8mb4");
        // READ COMMITTED: under InnoDB's default REPEATABLE READ the
        // attacker lookup of a new IP (`… FOR UPDATE` finding nothing)
        // takes a gap lock, and two sessions inserting new attackers into
        // the same gap deadlock (measured: ~1 in 8 sessions of a backlog
        // rolled back and retried after 100 ms+). Same-IP sessions are
        // serialised in-process instead (`attacker_locks`).
        let pool = MySqlPoolOptions::new()
            .max_connections(db.max_connections)
            .acquire_timeout(Duration::from_millis(db.busy_timeout_ms.max(5_000)))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::Executor::execute(
                        conn,
                        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                    )
                    .await
                    .map(|_| ())
                })
            })
            .connect_with(opts)
            .await?;
        let version: String = sqlx::query_scalar("SELECT CAST(VERSION() AS CHAR)")
            .fetch_one(&pool)
            .await?;
        Ok(MysqlStore {
            pool,
            attacker_locks: InFlight::new(),
            returning: has_insert_returning(&version),
        })
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    async fn table_info(&self, table: &str) -> Result<Option<TableInfo>, StoreError> {
        let cols: Vec<String> = sqlx::query(
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        )
        .bind(table)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
        if cols.is_empty() {
            return Ok(None);
        }
        let idx = sqlx::query(
            "SELECT CAST(GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS CHAR) \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = ? AND NON_UNIQUE = 0 GROUP BY INDEX_NAME",
        )
        .bind(table)
        .fetch_all(&self.pool)
        .await?;
        let unique_keys = idx
            .iter()
            .map(|r| {
                r.try_get::<String, _>(0)
                    .map(|s| s.split(',').map(str::to_string).collect())
            })
            .collect::<Result<Vec<Vec<String>>, _>>()?;
        Ok(Some(TableInfo {
            columns: cols.into_iter().collect::<BTreeSet<_>>(),
            unique_keys,
        }))
    }
}

impl Store for MysqlStore {
    fn backend(&self) -> Backend {
        Backend::Mysql
    }

    async fn prepare(&self, mode: SchemaMode, attackers: AttackerMode) -> Result<(), StoreError> {
        if mode == SchemaMode::Own {
            sqlx::raw_sql(MIGRATION).execute(&self.pool).await?;
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
        let _same_ip = self.attacker_locks.acquire(w.attacker_ip.to_string()).await;
        let mut tx = self.pool.begin().await?;
        let found: Option<String> = sqlx::query_scalar(
            "SELECT uuid FROM attackers WHERE ip = ? ORDER BY first_seen ASC, uuid ASC LIMIT 1 \
             FOR UPDATE",
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
                     ipv6_leak_count) VALUES (?, ?, UTC_TIMESTAMP(), \
                     UTC_TIMESTAMP(), UTC_TIMESTAMP(), \
                     0, 0, 0, '[]', '[]', 0, 0, 0, '[]', '[]', 0, 0)",
                )
                .bind(&u)
                .bind(w.attacker_ip)
                .execute(&mut *tx)
                .await?;
                u
            }
        };
        // One multi-row upsert per group (normally one per session), then,
        // where the server cannot return the stored rows, one read-back.
        let (obs, injected) = rows::rows_to_write(w);
        let dialect = if self.returning {
            &UPSERT_RETURNING
        } else {
            &UPSERT
        };
        let mut ids = StoredIds::default();
        for g in rows::statement_groups(obs, ROWS_PER_STATEMENT) {
            let group = &obs[g];
            let sql = rows::upsert_sql(dialect, group.len());
            let q = rows::bind_rows(sqlx::query(&sql), group, w.evidence_ref, &attacker_uuid);
            if self.returning {
                ids.extend(&q.fetch_all(&mut *tx).await?)?;
            } else {
                q.execute(&mut *tx).await?;
            }
        }
        if let Some(n) = injected {
            return Err(StoreError::Injected(n));
        }
        if !self.returning && !obs.is_empty() {
            let stored =
                sqlx::query("SELECT primitive, id FROM observations WHERE evidence_ref = ?")
                    .bind(w.evidence_ref)
                    .fetch_all(&mut *tx)
                    .await?;
            ids.extend(&stored)?;
        }
        tx.commit().await?;
        Ok(StoreOutcome::Stored {
            attacker_uuid,
            ids: ids.for_observations(w.observations),
        })
    }

    async fn get_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM state WHERE `key` = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO state (`key`, value) VALUES (?, ?) \
             ON DUPLICATE KEY UPDATE value = VALUES(value)",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_logs_after(&self, after: i64, limit: u32) -> Result<Vec<LogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT CAST(id AS SIGNED), decky, service, attacker_ip, fields FROM logs \
             WHERE id > ? AND event_type = 'session_recorded' ORDER BY id ASC LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows::decode_all(&rows, rows::log_row)
    }

    async fn max_log_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT CAST(MAX(id) AS SIGNED) FROM logs")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn insert_log(&self, row: &NewLog<'_>) -> Result<i64, StoreError> {
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
        .execute(&self.pool)
        .await?;
        i64::try_from(r.last_insert_id())
            .map_err(|_| StoreError::State("logs.id out of range".into()))
    }

    async fn observations_with_prefix(&self, prefix: &str) -> Result<Vec<StoredRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, evidence_ref, primitive, CAST(value AS CHAR), attacker_uuid \
             FROM observations WHERE LEFT(evidence_ref, CHAR_LENGTH(?)) = ? \
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

#[cfg(test)]
mod tests {
    use super::has_insert_returning;

    #[test]
    fn returning_only_on_mariadb_10_5_and_later() {
        assert!(has_insert_returning("10.11.19-MariaDB-0+deb12u1"));
        assert!(has_insert_returning("10.5.0-MariaDB"));
        assert!(has_insert_returning("11.4.2-MariaDB-log"));
        assert!(has_insert_returning("5.5.5-10.11.6-MariaDB"));
        assert!(!has_insert_returning("10.4.32-MariaDB"));
        assert!(!has_insert_returning("8.0.36"));
        assert!(!has_insert_returning("8.4.0-commercial"));
        assert!(!has_insert_returning(""));
    }
}
