//! `decnet-profiler run` as real processes: two daemons on one database
//! store each session once, and SIGTERM stops them with exit status 0.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use decnet_profiler::config::{AttackerMode, Backend, DbSettings, SchemaMode};
use decnet_profiler::store::{AnyStore, NewLog, Store};
use sqlx::Connection;

const DAY: &str = "sessions-2026-05-02.jsonl";

fn spawn(url: &str, root: &Path, cfg: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_decnet-profiler"))
        .args(["run", "--config"])
        .arg(cfg)
        .args(["--database-url", url, "--artifacts-root"])
        .arg(root)
        // The counts below are the reference engine's (decnet-1.2).
        .args(["--profile", "decnet-1.2"])
        .env("DECNET_BUS_ENABLED", "false")
        .env("DECNET_PROFILER__POLL__INTERVAL_S", "1")
        .env("DECNET_PROFILER__ARTIFACTS__WATCH", "false")
        .env("DECNET_CONFIG", "/nonexistent")
        .env_remove("DECNET_DB_URL")
        .env_remove("DECNET_DB_TYPE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn two_daemons(url: String, backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("artifacts");
    let t = root.join("decky-01/ssh/transcripts");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples/calibration/sessions-2026-05-02-with-llm.jsonl"),
        t.join(DAY),
    )
    .unwrap();
    let cfg = dir.path().join("empty.toml");
    std::fs::write(&cfg, "").unwrap();
    let settings = DbSettings {
        backend,
        url: url.clone(),
        schema: SchemaMode::Own,
        max_connections: 2,
        busy_timeout_ms: 30_000,
    };
    let st = AnyStore::connect(&settings).await.unwrap();
    st.prepare(SchemaMode::Own, AttackerMode::Create)
        .await
        .unwrap();
    for (i, sid) in [
        "d591a79d-a1d5-491a-8e76-4dabbcaaafa9",
        "e516a46e-2543-4065-b204-b856c3104931",
    ]
    .iter()
    .enumerate()
    {
        let ip = format!("203.0.113.{}", i + 1);
        let fields = format!(r#"{{"sid":"{sid}","service":"ssh","src_ip":"{ip}"}}"#);
        st.insert_log(&NewLog {
            timestamp: "2026-05-02 12:00:00",
            decky: "decky-01",
            service: "sessrec",
            event_type: "session_recorded",
            attacker_ip: &ip,
            fields: &fields,
        })
        .await
        .unwrap();
    }
    let mut a = spawn(&url, &root, &cfg);
    let mut b = spawn(&url, &root, &cfg);
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(60) {
        n = st
            .observations_with_prefix("shard:decky-01/ssh/")
            .await
            .unwrap()
            .len();
        if n >= 61 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let both daemons see the rows at least once more.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for c in [&a, &b] {
        let ok = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let (ea, eb) = (a.wait().unwrap(), b.wait().unwrap());
    assert!(
        ea.success() && eb.success(),
        "exit on SIGTERM: {ea:?} {eb:?}"
    );
    assert_eq!(n, 61);
    let rows = st
        .observations_with_prefix("shard:decky-01/ssh/")
        .await
        .unwrap();
    assert_eq!(rows.len(), 61, "each session stored once");
    for ip in ["203.0.113.1", "203.0.113.2"] {
        let n = st.attackers_for_ip(ip).await.unwrap().len();
        assert!(n >= 1, "attacker for {ip}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemon_processes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    two_daemons(url, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemon_processes_on_mariadb() {
    let admin = std::env::var("PROFILER_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let name = format!(
        "profiler_test_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut c = match sqlx::MySqlConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("MariaDB unreachable: {e}")
        }
        Err(e) => {
            eprintln!("SKIP: MariaDB unreachable: {e}");
            return;
        }
    };
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
    let mut u = url::Url::parse(&admin).unwrap();
    u.set_path(&format!("/{name}"));
    two_daemons(u.to_string(), Backend::Mysql).await;
    sqlx::raw_sql(&format!("DROP DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_profiles_what_is_missing_and_is_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("artifacts");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/calibration");
    for (decky, file) in [
        ("decky-a", "sessions-2026-05-02-with-llm.jsonl"),
        ("decky-b", "sessions-2026-05-02-closed-loop.jsonl"),
    ] {
        let t = root.join(decky).join("ssh/transcripts");
        std::fs::create_dir_all(&t).unwrap();
        std::fs::copy(samples.join(file), t.join(DAY)).unwrap();
    }
    // An old shard excluded by --since.
    std::fs::copy(
        samples.join("sessions-2026-05-02-new.jsonl"),
        root.join("decky-a/ssh/transcripts/sessions-2026-04-01.jsonl"),
    )
    .unwrap();
    let cfg = dir.path().join("empty.toml");
    std::fs::write(&cfg, "").unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let st = AnyStore::connect(&DbSettings {
        backend: Backend::Sqlite,
        url: url.clone(),
        schema: SchemaMode::Own,
        max_connections: 2,
        busy_timeout_ms: 30_000,
    })
    .await
    .unwrap();
    st.prepare(SchemaMode::Own, AttackerMode::Create)
        .await
        .unwrap();
    // Log rows for three of the four sessions; closed-loop's second has none.
    for (decky, sid) in [
        ("decky-a", "d591a79d-a1d5-491a-8e76-4dabbcaaafa9"),
        ("decky-a", "e516a46e-2543-4065-b204-b856c3104931"),
        ("decky-b", "f0b57d42-0143-4134-93b4-c5c554d9022e"),
    ] {
        let fields = format!(r#"{{"sid":"{sid}","service":"ssh"}}"#);
        st.insert_log(&NewLog {
            timestamp: "2026-05-02 12:00:00",
            decky,
            service: "sessrec",
            event_type: "session_recorded",
            attacker_ip: "203.0.113.77",
            fields: &fields,
        })
        .await
        .unwrap();
    }
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_decnet-profiler"))
            .args(["backfill", "--since", "2026-05-01", "--config"])
            .arg(&cfg)
            .args(["--database-url", &url, "--artifacts-root"])
            .arg(&root)
            .env("DECNET_CONFIG", "/nonexistent")
            .env_remove("DECNET_DB_URL")
            .env_remove("DECNET_DB_TYPE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(
        first.contains("shards=2 sessions=4 stored=3 already_profiled=0 skipped=0 deferred=0 no_log_row=1 failed=0"),
        "{first}"
    );
    assert!(first.contains("no session_recorded row: eb89bbcf-a7bd-4948-8be4-0840bcaa9642"));
    let second = run();
    assert!(second.contains("stored=0 already_profiled=3"), "{second}");
    assert_eq!(st.attackers_for_ip("203.0.113.77").await.unwrap().len(), 1);
    let bad = Command::new(env!("CARGO_BIN_EXE_decnet-profiler"))
        .args(["backfill", "--since", "May 1st"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn replay_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_decnet-profiler");
    let ok = Command::new(bin).arg("replay").output().unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let out = String::from_utf8(ok.stdout).unwrap();
    assert!(
        out.contains("[HUMAN]      sessions=1 observations=40 distinct_primitives=40"),
        "{out}"
    );
    assert!(out.contains("[CLAUDE-CL]  sessions=2 observations=58 distinct_primitives=29"));
    assert!(out.ends_with("smoke: OK — all classes emit observations end-to-end\n"));
    // A class whose session yields nothing regresses.
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/calibration");
    std::fs::copy(
        samples.join("sessions-2026-05-02-closed-loop.jsonl"),
        dir.path().join("good.jsonl"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("empty.jsonl"),
        "{\"sid\":\"11111111-2222-4333-8444-555555555555\",\"t\":1.0,\"ch\":\"r\",\"d\":\"80x24\"}\n",
    )
    .unwrap();
    let bad = Command::new(bin)
        .arg("replay")
        .arg(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8(bad.stdout).unwrap();
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains("[empty]      sessions=1 observations=0 distinct_primitives=0"),
        "{out}"
    );
    assert!(out.contains("smoke: FAIL — empty: 1 session(s) yielded no observation"));
    // Fewer distinct primitives than the recorded reference regresses.
    std::fs::remove_file(dir.path().join("empty.jsonl")).unwrap();
    std::fs::write(
        dir.path().join("reference-counts.json"),
        r#"{"good.jsonl": {"distinct_primitives": 99}}"#,
    )
    .unwrap();
    let worse = Command::new(bin)
        .arg("replay")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(worse.status.code(), Some(1));
    assert!(String::from_utf8(worse.stdout)
        .unwrap()
        .contains("reference engine gives 99"));
    // Argument/IO errors.
    let missing = Command::new(bin)
        .args(["replay", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
