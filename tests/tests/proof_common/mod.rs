//! Shared pieces of the proof suites (fault, hostile, canary): generated
//! inputs from `scripts/gen_hostile.py`, the daemon's config, expected
//! observation counts from `decnet-profiler extract`, and waits on the DB.
//! Kept beside the suites (not in the harness crate) so the harness stays
//! one owner's.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use decnet_e2e::db::{ObsRow, TestDb};
use decnet_e2e::env::workspace_root;
use decnet_e2e::fixtures::Session;
use serde_json::Value;

/// One generated session (the manifest's `good` entries).
#[derive(Debug, Clone)]
pub struct Gen {
    pub sid: String,
    pub decky: String,
    pub service: String,
    pub shard: PathBuf,
    pub attacker_ip: String,
}

impl Gen {
    pub fn session(&self) -> Session {
        Session {
            sid: self.sid.clone(),
            decky: self.decky.clone(),
            service: self.service.clone(),
            attacker_ip: self.attacker_ip.clone(),
            shard_path: self.shard.clone(),
            reference_count: 0,
        }
    }

    pub fn evidence_ref(&self) -> String {
        self.session().evidence_ref()
    }
}

/// Runs `scripts/gen_hostile.py ARGS OUT` and returns its manifest.
pub fn gen(out: &Path, args: &[&str]) -> Value {
    let script = workspace_root().join("scripts").join("gen_hostile.py");
    let o = Command::new("python3")
        .arg(&script)
        .args(args)
        .arg(out)
        .output();
    let o = match o {
        Ok(o) => o,
        Err(e) => panic!("python3 {}: {e}", script.display()),
    };
    assert!(
        o.status.success(),
        "gen_hostile.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = match std::fs::read_to_string(out.join("manifest.json")) {
        Ok(t) => t,
        Err(e) => panic!("manifest: {e}"),
    };
    match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("manifest: {e}"),
    }
}

/// The manifest's good sessions (`attacker_ip` given or numbered).
pub fn goods(man: &Value) -> Vec<Gen> {
    let empty = Vec::new();
    man["good"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .enumerate()
        .map(|(i, g)| Gen {
            sid: g["sid"].as_str().unwrap_or_default().to_owned(),
            decky: g["decky"].as_str().unwrap_or_default().to_owned(),
            service: g["service"].as_str().unwrap_or("ssh").to_owned(),
            shard: PathBuf::from(g["shard"].as_str().unwrap_or_default()),
            attacker_ip: g["attacker_ip"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("198.51.100.{}", 10 + i)),
        })
        .collect()
}

/// Observations per evidence_ref the engine gives for `sessions`, from
/// `decnet-profiler extract` on their shards (the same engine and profile
/// as the daemon, so the daemon must store exactly these counts).
pub fn expected_counts(bin: &Path, sessions: &[Gen]) -> BTreeMap<String, usize> {
    let mut by_shard: BTreeMap<(PathBuf, String, String), Vec<&Gen>> = BTreeMap::new();
    for s in sessions {
        by_shard
            .entry((s.shard.clone(), s.decky.clone(), s.service.clone()))
            .or_default()
            .push(s);
    }
    let mut out = BTreeMap::new();
    for ((shard, decky, service), ss) in by_shard {
        let o = Command::new(bin)
            .args(["extract", "--decky", &decky, "--service", &service])
            .arg(&shard)
            .env("DECNET_CONFIG", "/nonexistent")
            .output();
        let o = match o {
            Ok(o) => o,
            Err(e) => panic!("extract: {e}"),
        };
        let mut per_sid: BTreeMap<String, usize> = BTreeMap::new();
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            if let Ok(v) = serde_json::from_str::<Value>(line) {
                if let Some(sid) = v["sid"].as_str() {
                    *per_sid.entry(sid.to_owned()).or_default() += 1;
                }
            }
        }
        for s in ss {
            out.insert(s.evidence_ref(), per_sid.get(&s.sid).copied().unwrap_or(0));
        }
    }
    out
}

/// Rows per evidence_ref, and whether any (evidence_ref, primitive) pair
/// appears twice.
pub fn tally(rows: &[ObsRow]) -> (BTreeMap<String, usize>, usize) {
    let mut per = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut dups = 0;
    for r in rows {
        *per.entry(r.evidence_ref.clone()).or_default() += 1;
        if !seen.insert((r.evidence_ref.clone(), r.primitive.clone())) {
            dups += 1;
        }
    }
    (per, dups)
}

/// Asserts every stored session is complete (all its primitives or none)
/// and nothing is stored twice; returns how many sessions are stored.
pub fn assert_no_partial(rows: &[ObsRow], expected: &BTreeMap<String, usize>) -> usize {
    let (per, dups) = tally(rows);
    assert_eq!(dups, 0, "an (evidence_ref, primitive) pair is stored twice");
    for (r, n) in &per {
        let want = expected.get(r).copied();
        assert_eq!(
            Some(*n),
            want,
            "session {r} stored with {n} rows, expected {want:?} (partial or unexpected)"
        );
    }
    per.len()
}

/// The daemon's TOML: `db`, the artifacts root, bus off unless `bus` is
/// given, a fast poll, attackers created, `level` logging.
pub fn config(db: &TestDb, root: &Path, bus: Option<&Path>, level: &str) -> String {
    let bus = match bus {
        Some(sock) => format!("[bus]\nenabled = true\nsocket = \"{}\"\n", sock.display()),
        None => "[bus]\nenabled = false\n".to_owned(),
    };
    format!(
        "{}\n[artifacts]\nroot = \"{}\"\nwatch = true\n\n[attackers]\nmode = \"create\"\n\n[poll]\nenabled = true\ninterval_s = 1\nbatch = 200\n\n{bus}\n[log]\nlevel = \"{level}\"\n",
        db.toml(),
        root.display()
    )
}

/// Waits until `f` holds (polling the DB every 200 ms).
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

/// Inserts the `session_recorded` rows, retrying until the daemon has
/// created the tables.
pub fn insert_rows(db: &TestDb, sessions: &[Gen]) {
    let rows: Vec<_> = sessions.iter().map(|s| s.session().log_row()).collect();
    let mut last = String::new();
    for _ in 0..150 {
        match db.insert_logs(&rows) {
            Ok(()) => return,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("inserting logs rows: {last}");
}

/// A temp dir.
pub fn tempdir(prefix: &str) -> tempfile::TempDir {
    match tempfile::Builder::new().prefix(prefix).tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    }
}

/// Lines of `log` that mention a panic.
pub fn panics(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("panicked") || l.contains("RUST_BACKTRACE"))
        .collect()
}
