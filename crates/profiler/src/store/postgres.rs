//! PostgreSQL (not a DECNET backend; for standalone installs). The upsert
//! is `ON CONFLICT (evidence_ref, primitive) DO UPDATE`; `value` is bound as
//! text and cast to JSON.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use super::rows::{self, Dialect, StoredIds, ROWS_PER_STATEMENT};
use super::schema::{self, TableInfo};
use super::{
    profiled_bounds, LogRow, NewLog, SessionWrite, Store, StoreError, StoreOutcome, StoredRow,
};
use crate::config::{AttackerMode, Backend, DbSettings, SchemaMode};
use crate::inflight::InFlight;

/// `RETURNING` gives the stored row's id, also when the row existed and
/// was updated (the id column is never in the `SET` list).
const UPSERT: Dialect = Dialect {
    numbered: true,
    value_cast: Some("JSON"),
    tail: "ON CONFLICT(evidence_ref, primitive) DO UPDATE SET \
           identity_ref = EXCLUDED.identity_ref, value = EXCLUDED.value, \
           confidence = EXCLUDED.confidence, window_start_ts = EXCLUDED.window_start_ts, \
           window_end_ts = EXCLUDED.window_end_ts, source = EXCLUDED.source, \
           envelope_v = EXCLUDED.envelope_v, ts = EXCLUDED.ts, \
           attacker_uuid = EXCLUDED.attacker_uuid \
           RETURNING primitive, id",
};

const MIGRATION: &str = include_str!("../../../../migrations/postgres/0001_init.sql");

pub struct PostgresStore {
    pool: PgPool,
    /// Sessions of the same attacker IP write one at a time (in this
    /// process): under READ COMMITTED two transactions looking up the same
    /// new IP both find nothing and would both insert an attacker row.
    attacker_locks: InFlight,
}

impl PostgresStore {
    pub async fn connect(db: &DbSettings) -> Result<PostgresStore, StoreError> {
        let opts = PgConnectOptions::from_str(&db.url)?;
        let pool = PgPoolOptions::new()
            .max_connections(db.max_connections)
            .acquire_timeout(Duration::from_millis(db.busy_timeout_ms.max(5_000)))
            .connect_with(opts)
            .await?;
        Ok(PostgresStore {
            pool,
            attacker_locks: InFlight::new(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn table_info(&self, table: &str) -> Result<Option<TableInfo>, StoreError> {
        let cols: Vec<String> = sqlx::query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
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
            "SELECT array_to_string(ARRAY(SELECT a.attname::text FROM unnest(i.indkey) \
             WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a \
             ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord), ',') \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
             WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace \
             AND i.indisunique",
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

impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
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
        let row = sqlx::query("SELECT 1 FROM observations WHERE evidence_ref = $1 LIMIT 1")
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
            "SELECT 1 FROM observations WHERE evidence_ref >= $1 AND evidence_ref < $2 \
             AND evidence_ref LIKE $3 LIMIT 1",
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
            "SELECT uuid FROM attackers WHERE ip = $1 ORDER BY first_seen ASC, uuid ASC LIMIT 1",
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
                     ipv6_leak_count) VALUES ($1, $2, (now() AT TIME ZONE 'utc'), \
                     (now() AT TIME ZONE 'utc'), (now() AT TIME ZONE 'utc'), \
                     0, 0, 0, '[]', '[]', FALSE, 0, 0, '[]', '[]', 0, 0)",
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

    async fn get_state(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM state WHERE \"key\" = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO state (\"key\", value) VALUES ($1, $2) \
             ON CONFLICT(\"key\") DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_logs_after(&self, after: i64, limit: u32) -> Result<Vec<LogRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id::bigint, decky, service, attacker_ip, fields FROM logs \
             WHERE id > $1 AND event_type = 'session_recorded' ORDER BY id ASC LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows::decode_all(&rows, rows::log_row)
    }

    async fn max_log_id(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(id)::bigint FROM logs")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn insert_log(&self, row: &NewLog<'_>) -> Result<i64, StoreError> {
        let r = sqlx::query(
            "INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, \
             fields, msg) VALUES (CAST($1 AS TIMESTAMP), $2, $3, $4, $5, '', $6, '') RETURNING id::bigint",
        )
        .bind(row.timestamp)
        .bind(row.decky)
        .bind(row.service)
        .bind(row.event_type)
        .bind(row.attacker_ip)
        .bind(row.fields)
        .fetch_one(&self.pool)
        .await?;
        Ok(r.try_get(0)?)
    }

    async fn observations_with_prefix(&self, prefix: &str) -> Result<Vec<StoredRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, evidence_ref, primitive, value::text, attacker_uuid \
             FROM observations WHERE left(evidence_ref, length($1)) = $2 \
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
            sqlx::query_scalar("SELECT uuid FROM attackers WHERE ip = $1 ORDER BY uuid")
                .bind(ip)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
