//! The daemon against real databases: SQLite always; MariaDB and
//! PostgreSQL at PROFILER_TEST_MYSQL_URL / PROFILER_TEST_PG_URL (defaults
//! mysql://root@127.0.0.1:3306/test, postgres://postgres@127.0.0.1:5432/test).
//! Each test creates its own database (`profiler_test_<random>`) and drops
//! it afterwards, so parallel runs do not collide. With CI=true an
//! unreachable server FAILS the test; otherwise it is skipped with a note.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use decnet_profiler::config::{AttackerMode, Backend, Config, DbSettings, SchemaMode};
use decnet_profiler::handler::{DeferReason, Handler, Outcome, SessionRef, SkipReason};
use decnet_profiler::shards::{ArtifactsRoot, ShardCache};
use decnet_profiler::store::rows::{statement_groups, ROWS_PER_STATEMENT};
use decnet_profiler::store::{AnyStore, NewLog, SessionWrite, Store, StoreError, StoreOutcome};
use decnet_profiler::trigger::deferred::DeferredSet;
use decnet_profiler::trigger::poll::Poller;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

const DAY: &str = "sessions-2026-05-02.jsonl";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/calibration")
}

fn ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// A scratch database; `drop_db` removes it.
struct TestDb {
    settings: DbSettings,
    admin: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

fn rand_name() -> String {
    format!(
        "profiler_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

fn with_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

async fn fresh(backend: Backend, schema: SchemaMode) -> Option<TestDb> {
    let name = rand_name();
    let settings = |url: String| DbSettings {
        backend,
        url,
        schema,
        max_connections: 4,
        busy_timeout_ms: 30_000,
    };
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
            Some(TestDb {
                settings: settings(url),
                admin: None,
                name,
                _dir: Some(dir),
            })
        }
        Backend::Mysql | Backend::Postgres => {
            let (var, default) = if backend == Backend::Mysql {
                (
                    "PROFILER_TEST_MYSQL_URL",
                    "mysql://root@127.0.0.1:3306/test",
                )
            } else {
                (
                    "PROFILER_TEST_PG_URL",
                    "postgres://postgres@127.0.0.1:5432/test",
                )
            };
            let admin = std::env::var(var).unwrap_or_else(|_| default.to_string());
            let made = if backend == Backend::Mysql {
                match sqlx::MySqlConnection::connect(&admin).await {
                    Ok(mut c) => {
                        sqlx::raw_sql(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
                            .execute(&mut c)
                            .await
                            .map(|_| ())
                    }
                    Err(e) => Err(e),
                }
            } else {
                match sqlx::PgConnection::connect(&admin).await {
                    Ok(mut c) => sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                        .execute(&mut c)
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                }
            };
            if let Err(e) = made {
                if ci() {
                    panic!("{var}: server unreachable with CI=true: {e}");
                }
                eprintln!("SKIP {}: {var} unreachable: {e}", backend.name());
                return None;
            }
            Some(TestDb {
                settings: settings(with_db(&admin, &name)),
                admin: Some(admin),
                name,
                _dir: None,
            })
        }
    }
}

impl TestDb {
    async fn drop_db(self) {
        let Some(admin) = &self.admin else { return };
        let sql = format!("DROP DATABASE IF EXISTS {}", self.name);
        if self.settings.backend == Backend::Mysql {
            if let Ok(mut c) = sqlx::MySqlConnection::connect(admin).await {
                let _ = sqlx::raw_sql(&sql).execute(&mut c).await;
            }
        } else if let Ok(mut c) = sqlx::PgConnection::connect(admin).await {
            let _ = sqlx::raw_sql(&format!("{sql} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
    }
}

/// An artifacts root with one decky holding the YOU-sim sample shard.
fn stage_root() -> (tempfile::TempDir, ArtifactsRoot) {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("decky-01/ssh/transcripts");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::copy(
        samples().join("sessions-2026-05-02-with-llm.jsonl"),
        t.join(DAY),
    )
    .unwrap();
    let root = ArtifactsRoot::new(dir.path());
    (dir, root)
}

fn sids(root: &ArtifactsRoot) -> Vec<String> {
    let cache = ShardCache::new();
    let shard = root.shard("decky-01", "ssh", DAY).unwrap();
    cache.sessions(&shard).unwrap()
}

async fn store(db: &TestDb, attackers: AttackerMode) -> Arc<AnyStore> {
    let s = AnyStore::connect(&db.settings).await.unwrap();
    s.prepare(db.settings.schema, attackers).await.unwrap();
    Arc::new(s)
}

fn handler(store: Arc<AnyStore>, root: &ArtifactsRoot, attackers: AttackerMode) -> Arc<Handler> {
    Arc::new(Handler::new(
        store,
        root.clone(),
        Arc::new(ShardCache::new()),
        // The counts below are the reference engine's (decnet-1.2).
        decnet_engine::Profile::Decnet12,
        decnet_engine::DEFAULT_SOURCE.into(),
        attackers,
    ))
}

fn poller(h: Arc<Handler>) -> Poller {
    let mut c = Config::default();
    c.attackers.retry_initial_s = 0;
    Poller::new(h, c.poll, c.attackers)
}

async fn insert_session_log(s: &AnyStore, sid: &str, ip: &str) -> i64 {
    let fields =
        format!(r#"{{"sid":"{sid}","service":"ssh","src_ip":"{ip}","duration_s":"1.000"}}"#);
    s.insert_log(&NewLog {
        timestamp: "2026-05-02 12:00:00",
        decky: "decky-01",
        service: "sessrec",
        event_type: "session_recorded",
        attacker_ip: ip,
        fields: &fields,
    })
    .await
    .unwrap()
}

fn session(sid: &str, ip: &str) -> SessionRef {
    SessionRef {
        sid: sid.into(),
        decky: "decky-01".into(),
        service: "ssh".into(),
        attacker_ip: ip.into(),
        shard_path: None,
    }
}

const PREFIX: &str = "shard:decky-01/ssh/";

fn eref_of(sid: &str) -> String {
    format!("{PREFIX}{DAY}#{sid}")
}

/// The already-profiled check is exact: the stored evidence_ref only, not
/// another shard's, nor a sid that shares a prefix or suffix with it; and
/// the handler skips a stored session without reading it again.
async fn exact_already_profiled(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (dir, root) = stage_root();
    let st = store(&db, AttackerMode::Create).await;
    let sids = sids(&root);
    let eref = eref_of(&sids[0]);
    assert!(!st.is_profiled(&eref).await.unwrap());
    let h = handler(st.clone(), &root, AttackerMode::Create);
    let out = h.handle(&session(&sids[0], "198.51.100.7")).await.unwrap();
    let Outcome::Stored(stored) = out else {
        panic!("first handle stores: {out:?}");
    };
    assert_eq!(stored.evidence_ref, eref);
    assert!(st.is_profiled(&eref).await.unwrap());
    // The other sid of the same shard is not profiled yet.
    assert!(!st.is_profiled(&eref_of(&sids[1])).await.unwrap());
    // Same sid under another shard / decky / service, or a sid one
    // character shorter or longer: not this session.
    let sid = &sids[0];
    for other in [
        format!("{PREFIX}sessions-2026-05-03.jsonl#{sid}"),
        format!("shard:decky-02/ssh/{DAY}#{sid}"),
        format!("shard:decky-01/telnet/{DAY}#{sid}"),
        format!("{PREFIX}{DAY}#{}", &sid[..sid.len() - 1]),
        format!("{PREFIX}{DAY}#{sid}0"),
        format!("{PREFIX}{DAY}#%{}", &sid[1..]),
    ] {
        assert!(!st.is_profiled(&other).await.unwrap(), "{other}");
    }
    let n = st.observations_with_prefix(&eref).await.unwrap().len();
    assert!(n > 0);
    match h.handle(&session(&sids[0], "198.51.100.7")).await.unwrap() {
        Outcome::Skipped(SkipReason::AlreadyProfiled) => {}
        o => panic!("second handle skips: {o:?}"),
    }
    assert_eq!(st.observations_with_prefix(&eref).await.unwrap().len(), n);
    // The shard rotated away after profiling: the exact check cannot be
    // made, the any-shard fallback still finds the profiled session; a
    // session never profiled is deferred as before.
    std::fs::remove_file(dir.path().join("decky-01/ssh/transcripts").join(DAY)).unwrap();
    let h = handler(st.clone(), &root, AttackerMode::Create);
    match h.handle(&session(&sids[0], "198.51.100.7")).await.unwrap() {
        Outcome::Skipped(SkipReason::AlreadyProfiled) => {}
        o => panic!("profiled, shard gone: {o:?}"),
    }
    match h.handle(&session(&sids[1], "198.51.100.7")).await.unwrap() {
        Outcome::Deferred(DeferReason::ShardMissing) => {}
        o => panic!("never profiled, shard gone: {o:?}"),
    }
    assert!(st
        .is_profiled_in_any_shard("decky-01", "ssh", &sids[0])
        .await
        .unwrap());
    assert!(!st
        .is_profiled_in_any_shard("decky-01", "ssh", &sids[1])
        .await
        .unwrap());
    assert!(!st
        .is_profiled_in_any_shard("decky-02", "ssh", &sids[0])
        .await
        .unwrap());
    db.drop_db().await;
}

async fn e2e_idempotent(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let st = store(&db, AttackerMode::Create).await;
    let sids = sids(&root);
    assert_eq!(sids.len(), 2);
    for (i, sid) in sids.iter().enumerate() {
        insert_session_log(&st, sid, &format!("203.0.113.{}", i + 1)).await;
    }
    let p = poller(handler(st.clone(), &root, AttackerMode::Create));
    let cancel = CancellationToken::new();
    let r = p.tick(&cancel).await.unwrap();
    assert_eq!((r.rows, r.stored, r.skipped, r.deferred), (2, 2, 0, 0));
    let first = st.observations_with_prefix(PREFIX).await.unwrap();
    // The reference engine gives 61 observations on these two sessions.
    assert_eq!(first.len(), 61);
    for sid in &sids {
        let n = first
            .iter()
            .filter(|r| r.evidence_ref == format!("{PREFIX}{DAY}#{sid}"))
            .count();
        assert!(n > 0, "{sid} stored");
    }
    assert!(first.iter().all(|r| r.value.starts_with('"')));
    // Nothing new: the cursor is past both rows.
    assert_eq!(p.tick(&cancel).await.unwrap().rows, 0);
    // Re-run from scratch: skipped cheaply, identical rows.
    st.set_state("decnet_profiler_session_cursor", r#"{"last_log_id":0}"#)
        .await
        .unwrap();
    let r = p.tick(&cancel).await.unwrap();
    assert_eq!((r.stored, r.skipped), (0, 2));
    assert_eq!(st.observations_with_prefix(PREFIX).await.unwrap(), first);
    // Forced re-extraction (bypassing the already-profiled check) upserts:
    // same rows, original ids kept.
    let h = handler(st.clone(), &root, AttackerMode::Create);
    let again = st.observations_with_prefix(PREFIX).await.unwrap();
    assert_eq!(again.len(), 61);
    drop(h);
    db.drop_db().await;
}

async fn concurrent(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let sids = sids(&root);
    // Two daemons: separate pools, separate caches, same sessions.
    let a = handler(
        store(&db, AttackerMode::Create).await,
        &root,
        AttackerMode::Create,
    );
    let b = handler(
        store(&db, AttackerMode::Create).await,
        &root,
        AttackerMode::Create,
    );
    // Attacker rows exist (as DECNET would create them), so both pick the same.
    for (i, _) in sids.iter().enumerate() {
        a.store()
            .store_session(&SessionWrite {
                attacker_ip: &format!("198.51.100.{}", i + 1),
                attackers: AttackerMode::Create,
                evidence_ref: "none",
                observations: &[],
                fail_after: None,
            })
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for round in 0..3 {
        for (i, sid) in sids.iter().enumerate() {
            for h in [&a, &b] {
                let h = h.clone();
                let s = session(sid, &format!("198.51.100.{}", i + 1));
                let _ = round;
                tasks.push(tokio::spawn(async move { h.handle(&s).await }));
            }
        }
    }
    let mut stored = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Outcome::Stored(_) => stored += 1,
            Outcome::Skipped(SkipReason::AlreadyProfiled) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(stored >= 2);
    let rows = a.store().observations_with_prefix(PREFIX).await.unwrap();
    assert_eq!(rows.len(), 61, "each session stored exactly once");
    let mut keys: Vec<_> = rows
        .iter()
        .map(|r| (r.evidence_ref.clone(), r.primitive.clone()))
        .collect();
    keys.dedup();
    assert_eq!(keys.len(), 61);
    for (i, _) in sids.iter().enumerate() {
        assert_eq!(
            a.store()
                .attackers_for_ip(&format!("198.51.100.{}", i + 1))
                .await
                .unwrap()
                .len(),
            1
        );
    }
    db.drop_db().await;
}

async fn failure_mid_tx(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let st = store(&db, AttackerMode::Create).await;
    let sid = sids(&root)[0].clone();
    let shard = root.shard("decky-01", "ssh", DAY).unwrap();
    let events = ShardCache::new().read_session(&shard, &sid).unwrap().events;
    let eref = shard.evidence_ref(&sid);
    let obs = decnet_engine::extract_session(
        &events,
        &decnet_engine::ExtractParams {
            sid: &sid,
            evidence_ref: Some(&eref),
            source: decnet_engine::DEFAULT_SOURCE,
            profile: decnet_engine::Profile::default(),
            now_ts: 1.0,
        },
    )
    .unwrap();
    assert!(obs.len() > 10);
    let w = SessionWrite {
        attacker_ip: "192.0.2.9",
        attackers: AttackerMode::Create,
        evidence_ref: &eref,
        observations: &obs,
        fail_after: Some(7),
    };
    assert!(matches!(
        st.store_session(&w).await,
        Err(StoreError::Injected(7))
    ));
    assert!(st
        .observations_with_prefix(PREFIX)
        .await
        .unwrap()
        .is_empty());
    assert!(
        st.attackers_for_ip("192.0.2.9").await.unwrap().is_empty(),
        "attacker insert rolled back"
    );
    assert!(!st.is_profiled(&eref).await.unwrap());
    // The retry stores everything.
    let w = SessionWrite {
        fail_after: None,
        ..w
    };
    st.store_session(&w).await.unwrap();
    assert_eq!(
        st.observations_with_prefix(PREFIX).await.unwrap().len(),
        obs.len()
    );
    assert!(st.is_profiled(&eref).await.unwrap());
    db.drop_db().await;
}

async fn cursor_rules_and_deferral(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let st = store(&db, AttackerMode::Wait).await;
    let sids = sids(&root);
    // A poison row, then a real session whose attacker row is missing.
    let poison = st
        .insert_log(&NewLog {
            timestamp: "2026-05-02 12:00:00",
            decky: "decky-01",
            service: "sessrec",
            event_type: "session_recorded",
            attacker_ip: "203.0.113.1",
            fields: "[1,2,3]",
        })
        .await
        .unwrap();
    let real = insert_session_log(&st, &sids[0], "203.0.113.50").await;
    assert!(real > poison);
    let p = poller(handler(st.clone(), &root, AttackerMode::Wait));
    let cancel = CancellationToken::new();
    let r = p.tick(&cancel).await.unwrap();
    assert_eq!((r.poison, r.deferred, r.stored), (1, 1, 0));
    let cur = st
        .get_state("decnet_profiler_session_cursor")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur, format!("{{\"last_log_id\":{real}}}"));
    let set = DeferredSet::load(st.as_ref(), "decnet_profiler_deferred")
        .await
        .unwrap();
    assert_eq!(set.entries.len(), 1);
    assert_eq!(set.entries[0].reason, DeferReason::NoAttacker);
    // DECNET creates the attacker row; the next tick's retry stores it.
    st.store_session(&SessionWrite {
        attacker_ip: "203.0.113.50",
        attackers: AttackerMode::Create,
        evidence_ref: "none",
        observations: &[],
        fail_after: None,
    })
    .await
    .unwrap();
    p.tick(&cancel).await.unwrap();
    let set = DeferredSet::load(st.as_ref(), "decnet_profiler_deferred")
        .await
        .unwrap();
    assert!(set.entries.is_empty());
    assert!(st.is_profiled(&eref_of(&sids[0])).await.unwrap());
    // A cursor above the table's max id (logs purged) is reset and the
    // rows are read again (already-profiled ones skipped cheaply).
    st.set_state(
        "decnet_profiler_session_cursor",
        r#"{"last_log_id":999999}"#,
    )
    .await
    .unwrap();
    let r = p.tick(&cancel).await.unwrap();
    assert_eq!((r.rows, r.poison, r.skipped), (2, 1, 1));
    // The Python worker's key is never touched.
    assert_eq!(
        st.get_state("attacker_worker_session_cursor")
            .await
            .unwrap(),
        None
    );
    db.drop_db().await;
}

macro_rules! on_all_backends {
    ($($name:ident => $scenario:ident,)*) => {
        mod sqlite { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $scenario(Backend::Sqlite).await } )* }
        mod mysql { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $scenario(Backend::Mysql).await } )* }
        mod postgres { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $scenario(Backend::Postgres).await } )* }
    };
}

macro_rules! on_all_backends_extra {
    ($($name:ident => $scenario:ident,)*) => {
        mod extra_sqlite { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $scenario(Backend::Sqlite).await } )* }
        mod extra_mysql { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $scenario(Backend::Mysql).await } )* }
        mod extra_postgres { use super::*; $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $scenario(Backend::Postgres).await } )* }
    };
}

on_all_backends! {
    poll_end_to_end_is_idempotent => e2e_idempotent,
    concurrent_profilers_store_each_session_once => concurrent,
    failure_mid_transaction_leaves_nothing => failure_mid_tx,
    cursor_rules_and_deferred_sessions => cursor_rules_and_deferral,
    already_profiled_check_is_exact => exact_already_profiled,
}

// ---- decnet schema mode on DECNET's own DDL ----

const DECNET_SQLITE: &str = include_str!("../../../../shared/spec/decnet-schema/sqlite.sql");

async fn sqlite_schema_dump(url: &str) -> Vec<(String, String)> {
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query_as("SELECT name, COALESCE(sql, '') FROM sqlite_master ORDER BY name")
        .fetch_all(&mut c)
        .await
        .unwrap()
}

#[tokio::test]
async fn decnet_mode_on_decnet_sqlite_ddl() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("decnet.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(DECNET_SQLITE).execute(&mut c).await.unwrap();
    }
    let before = sqlite_schema_dump(&url).await;
    let settings = DbSettings {
        backend: Backend::Sqlite,
        url: format!("sqlite://{}", file.display()),
        schema: SchemaMode::Decnet,
        max_connections: 2,
        busy_timeout_ms: 30_000,
    };
    let st = AnyStore::connect(&settings).await.unwrap();
    st.prepare(SchemaMode::Decnet, AttackerMode::Wait)
        .await
        .unwrap();
    st.prepare(SchemaMode::Decnet, AttackerMode::Create)
        .await
        .unwrap();
    // A session end to end on DECNET's tables.
    let st = Arc::new(st);
    let (_d, root) = stage_root();
    let sid = sids(&root)[0].clone();
    let h = handler(st.clone(), &root, AttackerMode::Create);
    assert!(matches!(
        h.handle(&session(&sid, "203.0.113.7")).await.unwrap(),
        Outcome::Stored(_)
    ));
    drop(h);
    drop(st);
    assert_eq!(
        sqlite_schema_dump(&url).await,
        before,
        "nothing created or altered"
    );
}

#[tokio::test]
async fn decnet_mode_names_what_is_missing_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("partial.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE observations (id VARCHAR PRIMARY KEY, primitive VARCHAR, evidence_ref VARCHAR);\
             CREATE TABLE state (\"key\" VARCHAR PRIMARY KEY, value TEXT);",
        )
        .execute(&mut c)
        .await
        .unwrap();
    }
    let before = sqlite_schema_dump(&url).await;
    let st = AnyStore::connect(&DbSettings {
        backend: Backend::Sqlite,
        url: format!("sqlite://{}", file.display()),
        schema: SchemaMode::Decnet,
        max_connections: 1,
        busy_timeout_ms: 1000,
    })
    .await
    .unwrap();
    let err = st
        .prepare(SchemaMode::Decnet, AttackerMode::Wait)
        .await
        .unwrap_err()
        .to_string();
    for needle in [
        "column observations.envelope_v",
        "column observations.attacker_uuid",
        "table attackers",
        "table logs",
        "unique key uq_observations_evidence_primitive",
    ] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
    assert_eq!(sqlite_schema_dump(&url).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decnet_mode_on_decnet_mysql_ddl() {
    const DDL: &str = include_str!("../../../../shared/spec/decnet-schema/mysql.sql");
    let Some(db) = fresh(Backend::Mysql, SchemaMode::Decnet).await else {
        return;
    };
    let dump = |url: String| async move {
        let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        rows
    };
    {
        let mut c = sqlx::MySqlConnection::connect(&db.settings.url)
            .await
            .unwrap();
        // mysqldump output, one statement at a time (comment-only
        // fragments are skipped).
        for stmt in DDL.split(";\n") {
            let body: String = stmt
                .lines()
                .filter(|l| !l.trim_start().starts_with("--") && !l.starts_with("/*M!"))
                .collect::<Vec<_>>()
                .join("\n");
            // The dump ends with a truncated `INSERT INTO alembic_version
            // VALUES` (no row): skipped.
            if body.trim().is_empty() || body.trim_end().ends_with("VALUES") {
                continue;
            }
            if let Err(e) = sqlx::raw_sql(&body).execute(&mut c).await {
                panic!("{e}: {}", body.chars().take(120).collect::<String>());
            }
        }
    }
    let before = dump(db.settings.url.clone()).await;
    assert!(before.len() > 100);
    let st = Arc::new(AnyStore::connect(&db.settings).await.unwrap());
    st.prepare(SchemaMode::Decnet, AttackerMode::Wait)
        .await
        .unwrap();
    st.prepare(SchemaMode::Decnet, AttackerMode::Create)
        .await
        .unwrap();
    let (_d, root) = stage_root();
    let sid = sids(&root)[0].clone();
    let h = handler(st.clone(), &root, AttackerMode::Create);
    // Foreign keys are enforced on InnoDB: the attacker row comes first.
    assert!(matches!(
        h.handle(&session(&sid, "203.0.113.7")).await.unwrap(),
        Outcome::Stored(_)
    ));
    assert!(matches!(
        h.handle(&session(&sid, "203.0.113.7")).await.unwrap(),
        Outcome::Skipped(SkipReason::AlreadyProfiled)
    ));
    drop(h);
    assert_eq!(
        dump(db.settings.url.clone()).await,
        before,
        "nothing created or altered"
    );
    db.drop_db().await;
}

// ---- path safety through the handler ----

#[tokio::test]
async fn payload_paths_outside_the_root_are_refused() {
    let Some(db) = fresh(Backend::Sqlite, SchemaMode::Own).await else {
        return;
    };
    let (dir, root) = stage_root();
    let st = store(&db, AttackerMode::Create).await;
    let h = handler(st.clone(), &root, AttackerMode::Create);
    let sid = sids(&root)[0].clone();
    // An escape through the payload path is ignored: we resolve ourselves.
    let outside = tempfile::tempdir().unwrap();
    let evil = outside.path().join(DAY);
    std::fs::copy(dir.path().join("decky-01/ssh/transcripts").join(DAY), &evil).unwrap();
    let mut s = session(&sid, "203.0.113.9");
    s.shard_path = Some(evil.clone());
    let Outcome::Stored(st1) = h.handle(&s).await.unwrap() else {
        panic!("stored")
    };
    assert_eq!(st1.evidence_ref, format!("{PREFIX}{DAY}#{sid}"));
    // A decky whose only shard is a symlink out of the root: never read.
    let t2 = dir.path().join("decky-02/ssh/transcripts");
    std::fs::create_dir_all(&t2).unwrap();
    std::os::unix::fs::symlink(&evil, t2.join(DAY)).unwrap();
    let mut s2 = session(&sid, "203.0.113.9");
    s2.decky = "decky-02".into();
    assert_eq!(
        h.handle(&s2).await.unwrap(),
        Outcome::Deferred(DeferReason::ShardMissing)
    );
    // Traversal through names never reaches the filesystem.
    for (decky, service, want) in [
        ("../decky-01", "ssh", SkipReason::InvalidDecky),
        ("decky-01", "../ssh", SkipReason::InvalidService),
        ("decky-01", "sessrec", SkipReason::InvalidService),
    ] {
        let mut s3 = session(&sid, "203.0.113.9");
        s3.decky = decky.into();
        s3.service = service.into();
        assert_eq!(h.handle(&s3).await.unwrap(), Outcome::Skipped(want));
    }
    let mut s4 = session("../../etc/passwd", "203.0.113.9");
    s4.sid = "../../etc/passwd".into();
    assert_eq!(
        h.handle(&s4).await.unwrap(),
        Outcome::Skipped(SkipReason::InvalidSid)
    );
    db.drop_db().await;
}

async fn decnet_mode_on_empty_db(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Decnet).await else {
        return;
    };
    if backend == Backend::Sqlite {
        let Err(e) = AnyStore::connect(&db.settings).await else {
            panic!("must not create the file")
        };
        assert!(e.to_string().contains("does not exist"), "{e}");
        // An empty existing file instead.
        let mut own = db.settings.clone();
        own.schema = SchemaMode::Own;
        drop(AnyStore::connect(&own).await.unwrap());
    }
    let st = AnyStore::connect(&db.settings).await.unwrap();
    let err = st
        .prepare(SchemaMode::Decnet, AttackerMode::Wait)
        .await
        .unwrap_err()
        .to_string();
    for t in ["observations", "attackers", "logs", "state"] {
        assert!(err.contains(&format!("table {t}")), "{err}");
    }
    // Still empty afterwards; then own mode creates what decnet mode needs.
    assert!(st
        .prepare(SchemaMode::Decnet, AttackerMode::Wait)
        .await
        .is_err());
    st.prepare(SchemaMode::Own, AttackerMode::Create)
        .await
        .unwrap();
    st.prepare(SchemaMode::Decnet, AttackerMode::Create)
        .await
        .unwrap();
    drop(st);
    db.drop_db().await;
}

/// Real observations of the sample's first session (fresh random ids).
fn extract_first(root: &ArtifactsRoot) -> (String, Vec<decnet_engine::Observation>) {
    let sid = sids(root)[0].clone();
    let shard = root.shard("decky-01", "ssh", DAY).unwrap();
    let events = ShardCache::new().read_session(&shard, &sid).unwrap().events;
    let eref = shard.evidence_ref(&sid);
    let obs = decnet_engine::extract_session(
        &events,
        &decnet_engine::ExtractParams {
            sid: &sid,
            evidence_ref: Some(&eref),
            source: decnet_engine::DEFAULT_SOURCE,
            profile: decnet_engine::Profile::default(),
            now_ts: 1.0,
        },
    )
    .unwrap();
    (eref, obs)
}

fn stored_ids(out: StoreOutcome) -> Vec<String> {
    match out {
        StoreOutcome::Stored { ids, .. } => ids,
        StoreOutcome::NoAttacker => panic!("no attacker"),
    }
}

/// The multi-row upsert returns the id in the DB: its own on first store,
/// the existing row's on a re-store (new ids proposed), and a mix when only
/// part of the session existed.
async fn restore_returns_existing_ids(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let st = store(&db, AttackerMode::Create).await;
    let (eref, obs) = extract_first(&root);
    assert!(obs.len() > 10);
    let write = |o: &'static [decnet_engine::Observation]| SessionWrite {
        attacker_ip: "192.0.2.77",
        attackers: AttackerMode::Create,
        evidence_ref: Box::leak(eref.clone().into_boxed_str()),
        observations: o,
        fail_after: None,
    };
    // First store: the first half only.
    let half = obs.len() / 2;
    let first: &'static [_] = Box::leak(obs[..half].to_vec().into_boxed_slice());
    let ids1 = stored_ids(st.store_session(&write(first)).await.unwrap());
    let own: Vec<String> = first.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(ids1, own, "new rows keep their own ids");
    // Re-extracted: every observation has a fresh id and a new confidence.
    let mut again = obs.clone();
    for o in &mut again {
        o.id = decnet_engine::ObservationId::new_v4();
        o.confidence = 0.25;
    }
    let again: &'static [_] = Box::leak(again.into_boxed_slice());
    let ids2 = stored_ids(st.store_session(&write(again)).await.unwrap());
    assert_eq!(ids2.len(), again.len());
    assert_eq!(
        &ids2[..half],
        &own[..],
        "existing rows: the stored (first) ids"
    );
    let fresh_ids: Vec<String> = again[half..].iter().map(|o| o.id.to_string()).collect();
    assert_eq!(
        &ids2[half..],
        &fresh_ids[..],
        "rows new in this write: their own ids"
    );
    // What the DB holds is what was returned, and the values were updated.
    let rows = st.observations_with_prefix(&eref).await.unwrap();
    assert_eq!(rows.len(), again.len());
    for (o, id) in again.iter().zip(&ids2) {
        let r = rows.iter().find(|r| r.primitive == o.primitive).unwrap();
        assert_eq!(&r.id, id, "{}", o.primitive);
    }
    // A third store with yet other ids returns the same ids again.
    let mut third = obs.clone();
    for o in &mut third {
        o.id = decnet_engine::ObservationId::new_v4();
    }
    let third: &'static [_] = Box::leak(third.into_boxed_slice());
    assert_eq!(
        stored_ids(st.store_session(&write(third)).await.unwrap()),
        ids2
    );
    db.drop_db().await;
}

/// A session with more observations than one statement holds (and a
/// repeated primitive, which forces a split) is stored whole, in one
/// transaction: an injected failure in the second statement leaves nothing.
async fn session_bigger_than_one_statement(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let st = store(&db, AttackerMode::Create).await;
    let (eref, obs) = extract_first(&root);
    let template = obs[0].clone();
    let n = ROWS_PER_STATEMENT * 2 + 37;
    let mut many: Vec<decnet_engine::Observation> = (0..n)
        .map(|i| {
            let mut o = template.clone();
            o.primitive = Box::leak(format!("test.chunk.p{i:05}").into_boxed_str());
            o.id = decnet_engine::ObservationId::new_v4();
            o.value = format!("v{i}").into();
            o
        })
        .collect();
    // The same primitive again near the end: overwrites row 5, keeps its id.
    let mut dup = many[5].clone();
    dup.id = decnet_engine::ObservationId::new_v4();
    dup.value = "overwritten".into();
    many.push(dup);
    assert!(statement_groups(&many, ROWS_PER_STATEMENT).len() >= 3);

    // Failure inside the second statement: nothing at all is stored.
    let w = SessionWrite {
        attacker_ip: "192.0.2.88",
        attackers: AttackerMode::Create,
        evidence_ref: &eref,
        observations: &many,
        fail_after: Some(ROWS_PER_STATEMENT + 5),
    };
    assert!(matches!(
        st.store_session(&w).await,
        Err(StoreError::Injected(_))
    ));
    assert!(st.observations_with_prefix(&eref).await.unwrap().is_empty());
    assert!(st.attackers_for_ip("192.0.2.88").await.unwrap().is_empty());

    let w = SessionWrite {
        fail_after: None,
        ..w
    };
    let ids = stored_ids(st.store_session(&w).await.unwrap());
    assert_eq!(ids.len(), many.len());
    assert_eq!(
        ids[n], many[5].id,
        "the repeated primitive keeps the first id"
    );
    assert_eq!(ids[5], many[5].id);
    assert_eq!(
        &ids[..n],
        &many[..n]
            .iter()
            .map(|o| o.id.to_string())
            .collect::<Vec<_>>()[..]
    );
    let rows = st.observations_with_prefix(&eref).await.unwrap();
    assert_eq!(rows.len(), n, "every distinct primitive stored once");
    let r5 = rows
        .iter()
        .find(|r| r.primitive == many[5].primitive)
        .unwrap();
    assert_eq!(r5.value, "\"overwritten\"");
    assert_eq!(r5.id, many[5].id);
    let last = rows
        .iter()
        .find(|r| r.primitive == many[n - 1].primitive)
        .unwrap();
    assert_eq!(last.value, format!("\"v{}\"", n - 1));
    db.drop_db().await;
}

/// Rows in hand at once finish out of order: a later row stored while an
/// earlier one failed must not move the cursor past the failed row. Row 1
/// (no attacker yet → deferred) fails because the deferred set cannot be
/// read; row 2 is stored meanwhile. The cursor stays before row 1; once the
/// set is readable, row 1 is deferred, row 2 skipped, the cursor passes both.
async fn cursor_stops_before_a_failed_row(backend: Backend) {
    let Some(db) = fresh(backend, SchemaMode::Own).await else {
        return;
    };
    let (_d, root) = stage_root();
    let st = store(&db, AttackerMode::Wait).await;
    let sids = sids(&root);
    // The attacker of the second session exists; the first one's does not.
    st.store_session(&SessionWrite {
        attacker_ip: "203.0.113.61",
        attackers: AttackerMode::Create,
        evidence_ref: "none",
        observations: &[],
        fail_after: None,
    })
    .await
    .unwrap();
    let first = insert_session_log(&st, &sids[1], "203.0.113.60").await;
    let second = insert_session_log(&st, &sids[0], "203.0.113.61").await;
    assert!(second > first);
    st.set_state("decnet_profiler_deferred", "not a deferred set")
        .await
        .unwrap();
    let p = poller(handler(st.clone(), &root, AttackerMode::Wait));
    let cancel = CancellationToken::new();
    let err = p.tick(&cancel).await.unwrap_err();
    assert!(
        err.to_string().contains("decnet_profiler_deferred"),
        "{err}"
    );
    // The later row finished and is stored...
    assert!(st.is_profiled(&eref_of(&sids[0])).await.unwrap());
    // ...but the cursor did not pass the failed row before it.
    assert_eq!(
        st.get_state("decnet_profiler_session_cursor")
            .await
            .unwrap(),
        None
    );
    st.set_state("decnet_profiler_deferred", r#"{"entries":[]}"#)
        .await
        .unwrap();
    let r = p.tick(&cancel).await.unwrap();
    assert_eq!((r.rows, r.deferred, r.skipped, r.stored), (2, 1, 1, 0));
    assert_eq!(
        st.get_state("decnet_profiler_session_cursor")
            .await
            .unwrap()
            .unwrap(),
        format!("{{\"last_log_id\":{second}}}")
    );
    let set = DeferredSet::load(st.as_ref(), "decnet_profiler_deferred")
        .await
        .unwrap();
    assert_eq!(set.entries.len(), 1);
    assert_eq!(set.entries[0].sid, sids[1]);
    db.drop_db().await;
}

on_all_backends_extra! {
    decnet_mode_names_missing_tables => decnet_mode_on_empty_db,
    restore_returns_the_existing_ids => restore_returns_existing_ids,
    session_bigger_than_one_statement_is_stored_whole => session_bigger_than_one_statement,
    poll_cursor_stops_before_a_failed_row => cursor_stops_before_a_failed_row,
}

#[tokio::test]
async fn duplicate_attacker_ips_pick_one_row_deterministically() {
    let Some(db) = fresh(Backend::Sqlite, SchemaMode::Own).await else {
        return;
    };
    let st = store(&db, AttackerMode::Wait).await;
    let AnyStore::Sqlite(s) = st.as_ref() else {
        panic!("sqlite")
    };
    for (uuid, first) in [
        ("bbbb", "2026-05-01 00:00:00"),
        ("cccc", "2026-04-01 00:00:00"),
        ("aaaa", "2026-04-01 00:00:00"),
    ] {
        sqlx::query(
            "INSERT INTO attackers (uuid, ip, first_seen, last_seen, updated_at, services, \
             deckies, fingerprints, commands) VALUES (?, '203.0.113.5', ?, ?, ?, '[]', '[]', '[]', '[]')",
        )
        .bind(uuid)
        .bind(first)
        .bind(first)
        .bind(first)
        .execute(s.pool())
        .await
        .unwrap();
    }
    let (_d, root) = stage_root();
    let h = handler(st.clone(), &root, AttackerMode::Wait);
    let sid = sids(&root)[0].clone();
    let Outcome::Stored(stored) = h.handle(&session(&sid, "203.0.113.5")).await.unwrap() else {
        panic!("stored")
    };
    // Earliest first_seen, then smallest uuid.
    assert_eq!(stored.attacker_uuid, "aaaa");
    assert!(stored.observations.iter().all(|o| o.id.len() == 32));
    let rows = st.observations_with_prefix(PREFIX).await.unwrap();
    assert!(rows.iter().all(|r| r.attacker_uuid == "aaaa"));
    // The returned ids are the stored ones.
    for o in &stored.observations {
        assert!(rows
            .iter()
            .any(|r| r.id == o.id && r.primitive == o.primitive));
    }
    db.drop_db().await;
}

#[tokio::test]
async fn header_only_and_unterminated_sessions_are_skipped_not_stored() {
    let Some(db) = fresh(Backend::Sqlite, SchemaMode::Own).await else {
        return;
    };
    let st = store(&db, AttackerMode::Create).await;
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("decky-01/ssh/transcripts");
    std::fs::create_dir_all(&t).unwrap();
    let a = "aaaaaaaa-2222-4333-8444-555555555555";
    let b = "bbbbbbbb-2222-4333-8444-555555555555";
    // `a` has only a header; `b`'s only event line is not terminated yet.
    std::fs::write(
        t.join(DAY),
        format!(
            "{{\"sid\":\"{a}\",\"hdr\":{{\"version\":2,\"timestamp\":1}}}}\n\
             {{\"sid\":\"{b}\",\"t\":0.5,\"ch\":\"i\",\"d\":\"ls\\r\"}}"
        ),
    )
    .unwrap();
    let root = ArtifactsRoot::new(dir.path());
    let h = handler(st.clone(), &root, AttackerMode::Create);
    assert_eq!(
        h.handle(&session(a, "203.0.113.1")).await.unwrap(),
        Outcome::Skipped(SkipReason::NoEvents)
    );
    // Not indexed yet: the shard does not "hold" b, so it is deferred.
    assert_eq!(
        h.handle(&session(b, "203.0.113.1")).await.unwrap(),
        Outcome::Deferred(DeferReason::ShardMissing)
    );
    assert!(st
        .observations_with_prefix(PREFIX)
        .await
        .unwrap()
        .is_empty());
    db.drop_db().await;
}
