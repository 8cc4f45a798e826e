//! The row mapping the three backends share (contracts.md §6.3): the
//! multi-row observation upsert (SQL text + binding), the stored-id
//! read-back, and decoding of `logs` / `observations` rows. Only the SQL
//! dialect differs per backend (`Dialect`, private).
//!
//! A session's observations go to the database in as few statements as
//! possible: ONE `INSERT … VALUES (…),(…) … ON CONFLICT / ON DUPLICATE KEY
//! UPDATE` per [`statement_groups`] group (normally one per session). A
//! group never holds the same primitive twice (PostgreSQL refuses to update
//! one row twice in a statement) nor more than [`ROWS_PER_STATEMENT`] rows
//! (bind-parameter limits).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

use decnet_engine::Observation;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};

use super::{value_json, LogRow, SessionWrite, StoredRow};

/// Bound values per observation row.
pub(crate) const BINDS_PER_ROW: usize = 12;

/// Rows per upsert statement: 12 × 1,000 = 12,000 bound parameters, below
/// SQLite's 32,766 (≥ 3.32; sqlx bundles 3.46) and the 65,535 of the
/// MySQL and PostgreSQL protocols.
pub const ROWS_PER_STATEMENT: usize = 1000;

/// The observation columns, in bind order.
pub(crate) const COLUMNS: &str = "id, identity_ref, primitive, value, confidence, \
     window_start_ts, window_end_ts, source, evidence_ref, envelope_v, ts, attacker_uuid";

/// What differs between backends in the observation upsert.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// `$1, $2, …` (PostgreSQL) instead of `?`.
    pub numbered: bool,
    /// Wraps the `value` placeholder, e.g. `CAST(… AS JSON)`.
    pub value_cast: Option<&'static str>,
    /// Everything after `VALUES …`: the conflict clause (and `RETURNING
    /// primitive, id` where the backend returns the stored row's id).
    pub tail: &'static str,
}

/// Splits `obs` into consecutive ranges of at most `max` rows with no
/// primitive twice in one range. Applied in order, the groups give what one
/// statement per row gave: a later duplicate overwrites the earlier row and
/// keeps its id.
pub fn statement_groups(obs: &[Observation], max: usize) -> Vec<Range<usize>> {
    let max = max.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, o) in obs.iter().enumerate() {
        if i - start >= max || !seen.insert(o.primitive) {
            out.push(start..i);
            start = i;
            seen.clear();
            seen.insert(o.primitive);
        }
    }
    if start < obs.len() {
        out.push(start..obs.len());
    }
    out
}

/// The rows a write sends and, with the `fail_after` test hook, where it
/// fails: the first `n` rows are written, then the transaction is abandoned.
pub(crate) fn rows_to_write<'a>(w: &SessionWrite<'a>) -> (&'a [Observation], Option<usize>) {
    match w.fail_after {
        Some(n) if n < w.observations.len() => (&w.observations[..n], Some(n)),
        _ => (w.observations, None),
    }
}

/// `INSERT INTO observations (…) VALUES (…),(…) <tail>` for `rows` rows.
pub(crate) fn upsert_sql(d: &Dialect, rows: usize) -> String {
    let mut sql = String::with_capacity(160 + rows * 64 + d.tail.len());
    sql.push_str("INSERT INTO observations (");
    sql.push_str(COLUMNS);
    sql.push_str(") VALUES ");
    let mut n = 0usize;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..BINDS_PER_ROW {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            let ph = |sql: &mut String| {
                if d.numbered {
                    let _ = write!(sql, "${n}");
                } else {
                    sql.push('?');
                }
            };
            match (c, d.value_cast) {
                (3, Some(ty)) => {
                    sql.push_str("CAST(");
                    ph(&mut sql);
                    let _ = write!(sql, " AS {ty})");
                }
                _ => ph(&mut sql),
            }
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(d.tail);
    sql
}

/// The `value` column: array values verbatim, strings JSON-encoded.
fn value_column(o: &Observation) -> String {
    if o.value_is_json() {
        o.value.to_string()
    } else {
        value_json(&o.value)
    }
}

/// Binds `rows` in [`COLUMNS`] order onto `q` (built from [`upsert_sql`]).
pub(crate) fn bind_rows<'q, DB>(
    mut q: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    rows: &'q [Observation],
    evidence_ref: &'q str,
    attacker_uuid: &'q str,
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    i32: Encode<'q, DB> + Type<DB>,
{
    for o in rows {
        q = q
            .bind(o.id.as_str())
            .bind(o.identity_ref.as_deref())
            .bind(o.primitive)
            .bind(value_column(o))
            .bind(o.confidence)
            .bind(o.window_start_ts)
            .bind(o.window_end_ts)
            .bind(&*o.source)
            .bind(evidence_ref)
            .bind(i32::from(o.v))
            .bind(o.ts)
            .bind(attacker_uuid);
    }
    q
}

/// primitive → id actually stored, filled from `RETURNING primitive, id`
/// or a `SELECT primitive, id … WHERE evidence_ref = ?`.
#[derive(Debug, Default)]
pub(crate) struct StoredIds(HashMap<String, String>);

impl StoredIds {
    /// Adds `(primitive, id)` rows; a later row for a primitive wins.
    pub fn extend<R>(&mut self, rows: &[R]) -> Result<(), sqlx::Error>
    where
        R: Row,
        usize: ColumnIndex<R>,
        for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    {
        for r in rows {
            self.0.insert(r.try_get(0)?, r.try_get(1)?);
        }
        Ok(())
    }

    /// `ids[i]` for `observations[i]`: the stored id (the original one when
    /// the row was overwritten, contracts.md §6.4). An observation the
    /// database did not report keeps its own id (cannot happen inside the
    /// committed transaction; kept total so no lookup can panic).
    pub fn for_observations(&self, observations: &[Observation]) -> Vec<String> {
        observations
            .iter()
            .map(|o| {
                self.0
                    .get(o.primitive)
                    .cloned()
                    .unwrap_or_else(|| o.id.to_string())
            })
            .collect()
    }
}

/// `SELECT id, decky, service, attacker_ip, fields` → [`LogRow`].
pub(crate) fn log_row<R>(r: &R) -> Result<LogRow, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(LogRow {
        id: r.try_get(0)?,
        decky: r.try_get(1)?,
        service: r.try_get(2)?,
        attacker_ip: r.try_get(3)?,
        fields: r.try_get(4)?,
    })
}

/// `SELECT id, evidence_ref, primitive, value-as-text, attacker_uuid` →
/// [`StoredRow`].
pub(crate) fn stored_row<R>(r: &R) -> Result<StoredRow, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(StoredRow {
        id: r.try_get(0)?,
        evidence_ref: r.try_get(1)?,
        primitive: r.try_get(2)?,
        value: r.try_get(3)?,
        attacker_uuid: r.try_get(4)?,
    })
}

/// Decodes every row with `f`.
pub(crate) fn decode_all<R, T>(
    rows: &[R],
    f: impl Fn(&R) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, super::StoreError> {
    rows.iter()
        .map(f)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(super::StoreError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(p: &'static str) -> Observation {
        Observation {
            primitive: p,
            value: "x".into(),
            confidence: 1.0,
            window_start_ts: 0.0,
            window_end_ts: 1.0,
            source: "s".into(),
            evidence_ref: "e".into(),
            identity_ref: None,
            id: "i".into(),
            ts: 0.0,
            v: 1,
        }
    }

    #[test]
    fn groups_split_on_size_and_repeated_primitives() {
        let o: Vec<_> = ["a", "b", "c", "a", "d", "e", "f"]
            .into_iter()
            .map(obs)
            .collect();
        assert_eq!(statement_groups(&o, 1000), vec![0..3, 3..7]);
        assert_eq!(statement_groups(&o, 2), vec![0..2, 2..4, 4..6, 6..7]);
        assert_eq!(statement_groups(&o[..0], 10), Vec::<Range<usize>>::new());
    }

    #[test]
    fn sql_has_one_placeholder_per_bind() {
        let d = Dialect {
            numbered: true,
            value_cast: Some("JSON"),
            tail: "ON CONFLICT DO NOTHING",
        };
        let s = upsert_sql(&d, 2);
        assert!(s.contains("($1, $2, $3, CAST($4 AS JSON), $5"), "{s}");
        assert!(s.contains("$24) ON CONFLICT DO NOTHING"), "{s}");
        let d = Dialect {
            numbered: false,
            value_cast: None,
            tail: "",
        };
        assert_eq!(upsert_sql(&d, 3).matches('?').count(), 3 * BINDS_PER_ROW);
    }
}
