//! Hostile input (issue 7 item 2), from `scripts/gen_hostile.py`.
//!
//! * `extract` over the hostile shards: no panic, exit 0, one fixed-form
//!   stderr line per refused line / session (never content), and the good
//!   sessions still come out.
//! * The daemon (poll path, SQLite) fed hostile `session_recorded` rows
//!   (poison fields, path traversal in decky / service / sid, absurd
//!   lengths, shards symlinked out of the root) beside good ones: no panic,
//!   it keeps running, stores exactly the good sessions, never a session
//!   whose shard lies outside the root, and (under strace, when available)
//!   opens nothing outside the artifacts root.

mod proof_common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use decnet_e2e::daemon::{profiler_bin, Daemon};
use decnet_e2e::db::{LogRow, TestDb};
use decnet_e2e::require;
use proof_common::*;
use serde_json::{json, Value};

fn case_lines(man: &Value, name: &str) -> Vec<u64> {
    man["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["case"] == name)
        .flat_map(|c| {
            let a = c["first_line"].as_u64().unwrap_or(0);
            let b = c["last_line"].as_u64().unwrap_or(0);
            a..=b
        })
        .collect()
}

#[test]
fn extract_refuses_hostile_lines_one_clear_line_each() {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    let dir = tempdir("proof-hostile");
    let man = gen(dir.path(), &["--big-mb", "10"]);
    let shard = dir
        .path()
        .join("root/decky-a/ssh/transcripts/sessions-2026-05-02.jsonl");
    let o = match Command::new(&bin)
        .args(["extract", "--decky", "decky-a", "--service", "ssh"])
        .arg(&shard)
        .env("DECNET_CONFIG", "/nonexistent")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("extract: {e}"),
    };
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "stderr: {stderr}");
    assert!(panics(&stderr).is_empty(), "{stderr}");

    // Every stderr line has one of the two fixed forms.
    let name = shard.display().to_string();
    let mut refused_lines = BTreeSet::new();
    let mut refused_sessions = BTreeSet::new();
    for l in stderr.lines() {
        let rest = l
            .strip_prefix("extract: ")
            .and_then(|r| r.strip_prefix(name.as_str()))
            .unwrap_or_else(|| panic!("stderr line of unknown form: {l:.200}"));
        if rest.starts_with(": session ") {
            assert!(rest.contains(": skipped: "), "unknown form: {l:.200}");
            let sid = rest
                .trim_start_matches(": session ")
                .split(':')
                .next()
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned();
            refused_sessions.insert(sid);
        } else if let Some(r) = rest.strip_prefix(':') {
            let (n, reason) = r
                .split_once(": line skipped: ")
                .unwrap_or_else(|| panic!("stderr line of unknown form: {l:.200}"));
            let n: u64 = n
                .parse()
                .unwrap_or_else(|_| panic!("line number: {l:.200}"));
            assert!(refused_lines.insert(n), "line {n} reported twice");
            assert!(reason.len() < 80, "reason too long: {l:.200}");
        } else {
            panic!("stderr line of unknown form: {l:.200}");
        }
        assert!(l.len() < 300, "stderr line too long ({} bytes)", l.len());
    }
    // Never content: command text, prompts, output.
    for needle in ["whoami", "root@", "passwd", "AAAA", "[[[[", "xxxx"] {
        assert!(!stderr.contains(needle), "stderr leaks content ({needle})");
    }
    // Each malformed / truncated / wrong-typed line is reported once.
    for case in ["malformed_json", "truncated_lines", "deep_nesting"] {
        for n in case_lines(&man, case) {
            assert!(refused_lines.contains(&n), "{case}: line {n} not reported");
        }
    }
    // The overflowing `t` session is refused as a session.
    let overflow = man["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["case"] == "overflow_time")
        .and_then(|c| c["sids"][0].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        refused_sessions.contains(&overflow),
        "overflowing t not refused"
    );

    // The good sessions still yield observations; each odd-but-parsable
    // one either yields observations or is refused with its one line (a
    // first token that is not UTF-8 makes the reference raise).
    let mut sids = BTreeSet::new();
    for l in stdout.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or(Value::Null);
        if let Some(s) = v["sid"].as_str() {
            sids.insert(s.to_owned());
        }
    }
    for g in goods(&man).iter().filter(|g| g.decky == "decky-a") {
        assert!(sids.contains(&g.sid), "good session {} lost", g.sid);
    }
    for case in [
        "non_utf8",
        "lone_surrogates",
        "out_of_order",
        "duplicate_headers",
    ] {
        let sid = man["cases"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["case"] == case)
            .and_then(|c| c["sids"][0].as_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            sids.contains(&sid) || refused_sessions.contains(&sid),
            "{case} session yielded nothing and was not reported"
        );
    }
    eprintln!(
        "hostile extract: {} refused lines, {} refused sessions, {} sessions with observations",
        refused_lines.len(),
        refused_sessions.len(),
        sids.len()
    );
}

fn row(decky: &str, service: &str, ip: &str, fields: String) -> LogRow {
    LogRow {
        timestamp: "2026-05-02 12:34:56".into(),
        decky: decky.into(),
        service: service.into(),
        event_type: "session_recorded".into(),
        attacker_ip: ip.into(),
        fields,
    }
}

/// Kills the children of a (strace) process when dropped.
struct Reaper(Option<u32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            for k in kids.split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", k]).status();
            }
        }
    }
}

/// Whether strace can trace a child here (ptrace may be forbidden).
fn strace_works() -> bool {
    Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn daemon_refuses_hostile_rows_and_serves_the_good_ones() {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    let dir = tempdir("proof-hostile-d");
    let man = gen(dir.path(), &["--big-mb", "0"]);
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    let good = goods(&man);
    let expected = expected_counts(&bin, &good);

    let db = TestDb::sqlite();
    let cfg = dir.path().join("profiler.toml");
    if let Err(e) = std::fs::write(&cfg, config(&db, &root, None, "debug")) {
        panic!("{e}");
    }
    let trace = dir.path().join("strace.out");
    let traced = strace_works();
    let mut cmd = if traced {
        let mut c = Command::new("strace");
        c.args([
            "-f",
            "-qq",
            "-e",
            "trace=open,openat,openat2,stat,statx,newfstatat,readlink,readlinkat",
            "-o",
        ])
        .arg(&trace)
        .arg(&bin);
        c
    } else {
        eprintln!("strace unavailable: the outside-the-root open check is skipped");
        Command::new(&bin)
    };
    cmd.arg("run").arg("--config").arg(&cfg);
    let mut d = match Daemon::spawn(cmd, &[], dir.path().join("daemon.log")) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    // If the test fails, killing strace would leave the traced daemon
    // running: kill strace's children first.
    let _reaper = Reaper(d.pid().filter(|_| traced));

    let esc = man["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["case"] == "symlink_escape")
        .and_then(|c| c["sids"][0].as_str())
        .unwrap_or_default()
        .to_owned();
    let g0 = &good[0];
    let sid_fields = |sid: &str| json!({"sid": sid, "service": "ssh"}).to_string();
    let mut rows = vec![
        row("decky-a", "sessrec", "203.0.113.1", "[1,2,3]".into()),
        row("decky-a", "sessrec", "203.0.113.1", "\"text\"".into()),
        row("decky-a", "sessrec", "203.0.113.1", "{not json".into()),
        row(
            "decky-a",
            "sessrec",
            "203.0.113.1",
            json!({"service": "ssh"}).to_string(),
        ),
        row(
            "decky-a",
            "sessrec",
            "203.0.113.1",
            json!({"sid": 5}).to_string(),
        ),
        row("../decky-a", "sessrec", "203.0.113.1", sid_fields(&g0.sid)),
        row("/etc", "sessrec", "203.0.113.1", sid_fields(&g0.sid)),
        row(
            "decky-a",
            "sessrec",
            "203.0.113.1",
            json!({"sid": g0.sid, "service": "../../ssh"}).to_string(),
        ),
        row(
            "decky-a",
            "sessrec",
            "203.0.113.1",
            sid_fields("../../../../etc/passwd"),
        ),
        row(
            "decky-a",
            "sessrec",
            "203.0.113.1",
            sid_fields(&"a".repeat(100_000)),
        ),
        row(
            &"d".repeat(10_000),
            "sessrec",
            "203.0.113.1",
            sid_fields(&g0.sid),
        ),
        row("decky-evil", "sessrec", "203.0.113.1", sid_fields(&esc)),
        row("decky-evil2", "sessrec", "203.0.113.1", sid_fields(&esc)),
        row("decky-a", "sessrec", "-", sid_fields(&g0.sid)),
    ];
    let hostile = rows.len();
    rows.extend(good.iter().map(|g| g.session().log_row()));
    let mut last = String::new();
    let inserted = wait_until(Duration::from_secs(30), || match db.insert_logs(&rows) {
        Ok(()) => true,
        Err(e) => {
            last = e;
            false
        }
    });
    assert!(inserted, "logs insert: {last}");

    let total: usize = expected.values().sum();
    let ok = wait_until(Duration::from_secs(60), || db.observations().len() >= total);
    let log = d.log();
    assert!(ok, "good sessions not stored; log:\n{log}");
    // Let the daemon go through every row, then check it is still up.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        d.is_running(),
        "daemon died on hostile rows; log:\n{}",
        d.log()
    );
    let obs = db.observations();
    assert_eq!(assert_no_partial(&obs, &expected), good.len());
    assert!(
        obs.iter().all(|o| !o.evidence_ref.contains(&esc)),
        "a session whose shard lies outside the root was stored"
    );
    // Under strace, SIGTERM goes to the daemon itself (strace's child).
    if traced {
        let pid = d.pid().unwrap_or(0);
        let kids =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for k in kids.split_whitespace() {
            let _ = Command::new("kill").args(["-TERM", k]).status();
        }
        let status = d.wait_exit(Duration::from_secs(20));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "exit status");
    } else {
        let status = d.terminate(Duration::from_secs(20));
        assert_eq!(status.and_then(|s| s.code()), Some(0), "exit status");
    }
    let log = d.log();
    assert!(panics(&log).is_empty(), "{log}");
    // One line per refused row (skipped / poison / refused), no content.
    let refusals = log
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            (l.contains("skip")
                || l.contains("poison")
                || l.contains("refus")
                || l.contains("defer"))
                && !l.contains("already profiled")
        })
        .count();
    assert!(
        refusals >= hostile - 2,
        "{refusals} refusal lines for {hostile} hostile rows:\n{log}"
    );
    assert!(
        !log.contains(&"d".repeat(100)),
        "log echoes an absurd decky"
    );
    assert!(!log.contains(&"a".repeat(100)), "log echoes an absurd sid");
    assert!(!log.contains("etc/passwd"), "log echoes a hostile sid");

    eprintln!(
        "hostile rows: {hostile} refused ({refusals} log lines), {} good sessions stored once, strace check: {traced}",
        good.len()
    );
    if traced {
        let t = std::fs::read_to_string(&trace).unwrap_or_default();
        let outside = outside.display().to_string();
        let opened: Vec<&str> = t
            .lines()
            .filter(|l| l.contains("open") && l.contains(&outside) && !l.contains("= -1"))
            .collect();
        assert!(opened.is_empty(), "opened outside the root: {opened:?}");
        let etc: Vec<&str> = t
            .lines()
            .filter(|l| l.contains("open") && l.contains("/etc/passwd") && !l.contains("= -1"))
            .collect();
        assert!(etc.is_empty(), "opened /etc/passwd: {etc:?}");
    }
}
