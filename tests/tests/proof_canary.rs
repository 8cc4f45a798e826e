//! PII canary (issue 7 item 3): sessions whose typed input (a password at
//! a `Password:` prompt, a command argument), pasted input, output and TERM
//! carry unique canary strings (`scripts/gen_hostile.py --canary`). The
//! daemon runs at `trace` level with the bus on (when
//! `DECNET_BUS_PYTHON` is set: DECNET's real bus, a raw capture of every
//! frame of `>`), profiles them on SQLite, MariaDB and PostgreSQL; then the
//! full dump of each database (`sqlite3 .dump`, `mysqldump`, `pg_dump`),
//! the bus capture and the daemon's whole log output are searched for each
//! canary: 0 hits, asserted.

mod proof_common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use decnet_e2e::bus::PyBus;
use decnet_e2e::daemon::{profiler_bin, Daemon};
use decnet_e2e::db::{Backend, TestDb};
use decnet_e2e::env::{bus_python, is_ci, py_script};
use decnet_e2e::require;
use proof_common::*;

/// The whole database as text, from the backend's own dump tool.
fn dump(db: &TestDb) -> String {
    let url = db.url.clone();
    let out = match db.backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://").to_owned();
            Command::new("sqlite3").arg(path).arg(".dump").output()
        }
        Backend::Mysql => {
            let name = url.rsplit('/').next().unwrap_or_default().to_owned();
            Command::new("mysqldump")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-P",
                    "3306",
                    "-u",
                    "root",
                    "--skip-extended-insert",
                    &name,
                ])
                .output()
        }
        Backend::Postgres => Command::new("pg_dump").arg(&url).output(),
    };
    let o = match out {
        Ok(o) => o,
        Err(e) => panic!("dumping {}: {e}", db.backend.name()),
    };
    assert!(
        o.status.success(),
        "dump of {} failed: {}",
        db.backend.name(),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("observations"),
        "dump has no observations table"
    );
    text
}

struct Capture {
    child: Child,
    file: PathBuf,
}

impl Capture {
    fn start(python: &Path, socket: &Path, file: PathBuf) -> Capture {
        let child = Command::new(python)
            .arg(py_script("bus_capture.py"))
            .arg(socket)
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => panic!("bus capture: {e}"),
        };
        std::thread::sleep(Duration::from_millis(500));
        Capture { child, file }
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.file).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hits(hay: &[u8], needle: &str) -> usize {
    let n = needle.as_bytes();
    hay.windows(n.len()).filter(|w| *w == n).count()
}

fn canary_run(db: TestDb) {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    let dir = tempdir("proof-canary");
    let man = gen(dir.path(), &["--canary", "--seed", "5"]);
    let good = goods(&man);
    let canaries: Vec<String> = man["canaries"]
        .as_object()
        .map(|m| {
            m.values()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(canaries.len(), 5);
    let expected = expected_counts(&bin, &good);
    let total: usize = expected.values().sum();
    assert!(total > 0, "canary sessions yield no observations");

    // The bus, when we can run DECNET's: capture every frame.
    let python = bus_python();
    if python.is_none() && is_ci() {
        panic!("prerequisite missing in CI: DECNET_BUS_PYTHON");
    }
    let bus = python.as_ref().map(|p| match PyBus::start(p) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    });
    let capture = match (&python, &bus) {
        (Some(p), Some(b)) => Some(Capture::start(p, b.socket(), dir.path().join("frames.bin"))),
        _ => None,
    };
    let cfg = dir.path().join("profiler.toml");
    let text = config(
        &db,
        &dir.path().join("root"),
        bus.as_ref().map(PyBus::socket),
        "trace",
    );
    if let Err(e) = std::fs::write(&cfg, text) {
        panic!("{e}");
    }
    let mut d = match Daemon::run(
        &bin,
        &cfg,
        &[("RUST_LOG", "trace".into())],
        dir.path().join("daemon.log"),
    ) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    // Both triggers: the bus event (if any) and the poll row.
    if let (Some(p), Some(b)) = (&python, &bus) {
        std::thread::sleep(Duration::from_secs(1));
        let evs: Vec<_> = good.iter().map(|g| g.session().session_ended()).collect();
        if let Err(e) = decnet_e2e::py::publish(p, b.socket(), &evs, 0) {
            panic!("{e}");
        }
    }
    insert_rows(&db, &good);
    let ok = wait_until(Duration::from_secs(60), || db.observations().len() >= total);
    assert!(ok, "canary sessions not stored; log:\n{}", d.log());
    let rows = db.observations();
    assert_eq!(assert_no_partial(&rows, &expected), good.len());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        d.terminate(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );

    let log = std::fs::read(d.log_path()).unwrap_or_default();
    assert!(
        log.len() > 1000,
        "trace log suspiciously short ({} bytes)",
        log.len()
    );
    let dumped = dump(&db);
    let frames = capture.as_ref().map(Capture::bytes).unwrap_or_default();
    let mut report = Vec::new();
    // The shard holds each canary (the test is not vacuous): as raw bytes,
    // or typed key by key (the concatenated input of a session).
    let shard = std::fs::read(&good[0].shard).unwrap_or_default();
    let mut typed = String::new();
    for line in shard.split(|&b| b == b'\n') {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
            if v["ch"] == "i" {
                typed.push_str(v["d"].as_str().unwrap_or_default());
            }
        }
    }
    for c in &canaries {
        assert!(
            hits(&shard, c) > 0 || typed.contains(c.as_str()),
            "canary {c} missing from the shard"
        );
        let (l, db_hits, f) = (hits(&log, c), hits(dumped.as_bytes(), c), hits(&frames, c));
        report.push(format!("{c}: log {l}, db {db_hits}, bus {f}"));
        assert_eq!(l, 0, "canary {c} in the daemon's log");
        assert_eq!(db_hits, 0, "canary {c} in the {} dump", db.backend.name());
        assert_eq!(f, 0, "canary {c} in a bus frame");
    }
    eprintln!(
        "canary on {}: log {} bytes, dump {} bytes, bus capture {} bytes; {}",
        db.backend.name(),
        log.len(),
        dumped.len(),
        frames.len(),
        report.join("; ")
    );
}

#[test]
fn canary_never_leaves_the_shard_sqlite() {
    canary_run(TestDb::sqlite());
}

#[test]
fn canary_never_leaves_the_shard_mariadb() {
    let db = require!(TestDb::mysql(), "MariaDB at 127.0.0.1:3306");
    canary_run(db);
}

#[test]
fn canary_never_leaves_the_shard_postgres() {
    let db = require!(TestDb::postgres(), "PostgreSQL at 127.0.0.1:5432");
    canary_run(db);
}
