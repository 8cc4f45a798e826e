//! Fault suite (issue 7 item 1): the daemon as a process, real databases,
//! faults injected from outside. Each test has a bounded CI form; the long
//! form is the same test with larger numbers from the environment:
//!
//! | variable | CI default | long form | test |
//! |---|---|---|---|
//! | `PROOF_KILL_POINTS` | 10 | 100 | SIGKILL during a backlog |
//! | `PROOF_BACKLOG` | 200 | 2000 | sessions in that backlog |
//! | `PROOF_DB_CUT_S` | 8 | 30 | MariaDB unreachable through our proxy |
//! | `PROOF_BUS_EVENTS` | 1000 | 10000 | bus restarts during a stream (proof_bus.rs) |
//!
//! `PROOF_KILL_POINTS=100 PROOF_BACKLOG=2000 PROOF_DB_CUT_S=30 cargo test -p
//! decnet-e2e --test proof_faults -- --test-threads=1 --nocapture`.
//!
//! What every test asserts: no (evidence_ref, primitive) pair stored twice,
//! no session stored with fewer rows than the engine gives for it (no
//! partial session), and every session stored in the end.

mod proof_common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use decnet_e2e::daemon::{profiler_bin, Daemon};
use decnet_e2e::db::TestDb;
use decnet_e2e::require;
use proof_common::*;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift: reproducible "random" kill points without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn start(bin: &Path, cfg: &Path, log: PathBuf) -> Daemon {
    match Daemon::run(bin, cfg, &[], log) {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("{}: {e}", path.display());
    }
}

fn sigkill_backlog(db: TestDb) {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    let points = env_num("PROOF_KILL_POINTS", 10);
    let n = env_num("PROOF_BACKLOG", 200);
    let dir = tempdir("proof-kill");
    let man = gen(dir.path(), &["--backlog", &n.to_string(), "--deckies", "6"]);
    let good = goods(&man);
    let expected = expected_counts(&bin, &good);
    let total: usize = expected.values().sum();
    let cfg = dir.path().join("profiler.toml");
    write(&cfg, &config(&db, &dir.path().join("root"), None, "info"));

    let mut d = start(&bin, &cfg, dir.path().join("daemon-0.log"));
    insert_rows(&db, &good);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ points);
    let mut during = 0;
    // Each kill point: a random 1..=budget sessions stored after the
    // previous kill, plus 0–4 ms; so the kills spread over the pipeline
    // (read, extract, inside the transaction, publish). The budget is a
    // quarter of each kill's share of the backlog (a restart stores a few
    // sessions before the first poll sees them), so the backlog lasts for
    // every kill.
    let mut at_kill = db.wait_stored_sessions(Duration::ZERO, |_| true);
    for k in 1..=points {
        let left = (good.len() - at_kill.min(good.len())) as u64;
        let budget = (n / points / 4).min(left / (points - k + 1) / 4).max(1);
        let target = (at_kill + rng.range(1, budget) as usize).min(good.len() - 1);
        db.wait_stored_sessions(Duration::from_secs(15), |count| count >= target);
        std::thread::sleep(Duration::from_millis(rng.range(0, 4)));
        d.kill();
        let rows = db.observations();
        let stored = assert_no_partial(&rows, &expected);
        at_kill = stored;
        if stored < good.len() {
            during += 1;
        }
        eprintln!(
            "kill {k}/{points}: {stored}/{} sessions stored, none partial",
            good.len()
        );
        d = start(&bin, &cfg, dir.path().join(format!("daemon-{k}.log")));
    }
    assert_eq!(
        during, points,
        "every kill must land while the backlog is being drained"
    );
    let done = wait_until(Duration::from_secs(240), || {
        db.observations().len() >= total
    });
    let rows = db.observations();
    let stored = assert_no_partial(&rows, &expected);
    assert!(
        done,
        "backlog not finished: {stored}/{}; log:\n{}",
        good.len(),
        d.log()
    );
    assert_eq!(stored, good.len());
    assert_eq!(rows.len(), total);
    assert_eq!(
        d.terminate(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );
    eprintln!(
        "SIGKILL x{points} ({during} mid-backlog) on {}: {} sessions, {} rows, each stored once",
        db.backend.name(),
        stored,
        rows.len()
    );
}

#[test]
fn sigkill_during_backlog_sqlite() {
    sigkill_backlog(TestDb::sqlite());
}

#[test]
fn sigkill_during_backlog_mariadb() {
    let db = require!(TestDb::mysql(), "MariaDB at 127.0.0.1:3306");
    sigkill_backlog(db);
}

#[test]
fn sigkill_during_backlog_postgres() {
    let db = require!(TestDb::postgres(), "PostgreSQL at 127.0.0.1:5432");
    sigkill_backlog(db);
}

/// A TCP proxy the test owns: the daemon reaches the DB only through it.
/// `cut()` drops every open connection and refuses new ones until
/// `restore()`. The real server is never touched.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    accepted: Arc<Mutex<u64>>,
}

impl Proxy {
    fn start(upstream: &'static str) -> Proxy {
        let l = match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => panic!("proxy bind: {e}"),
        };
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let accepted: Arc<Mutex<u64>> = Arc::default();
        let (c2, k2, a2) = (cut.clone(), conns.clone(), accepted.clone());
        std::thread::spawn(move || {
            for client in l.incoming() {
                let Ok(client) = client else { continue };
                if c2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                if let Ok(mut a) = a2.lock() {
                    *a += 1;
                }
                if let (Ok(c), Ok(s), Ok(mut k)) =
                    (client.try_clone(), server.try_clone(), k2.lock())
                {
                    k.push(c);
                    k.push(s);
                }
                let (Ok(c_r), Ok(s_w)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                std::thread::spawn(move || pipe(c_r, s_w));
                std::thread::spawn(move || pipe(server, client));
            }
        });
        Proxy {
            port,
            cut,
            conns,
            accepted,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        if let Ok(mut k) = self.conns.lock() {
            for c in k.drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    fn accepted(&self) -> u64 {
        self.accepted.lock().map(|a| *a).unwrap_or(0)
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

#[test]
fn mariadb_unreachable_mid_stream_then_recovers() {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    let db = require!(TestDb::mysql(), "MariaDB at 127.0.0.1:3306");
    let cut_s = env_num("PROOF_DB_CUT_S", 8);
    let proxy = Proxy::start("127.0.0.1:3306");
    let dir = tempdir("proof-dbcut");
    let man = gen(dir.path(), &["--backlog", "120", "--deckies", "3"]);
    let good = goods(&man);
    let expected = expected_counts(&bin, &good);
    let total: usize = expected.values().sum();
    let cfg_text = config(&db, &dir.path().join("root"), None, "info")
        .replace("127.0.0.1:3306", &format!("127.0.0.1:{}", proxy.port));
    assert!(cfg_text.contains(&proxy.port.to_string()), "{cfg_text}");
    let cfg = dir.path().join("profiler.toml");
    write(&cfg, &cfg_text);
    let mut d = start(&bin, &cfg, dir.path().join("daemon.log"));

    let (first, second) = good.split_at(good.len() / 2);
    insert_rows(&db, first);
    let want_first: usize = first.iter().map(|g| expected[&g.evidence_ref()]).sum();
    assert!(
        wait_until(Duration::from_secs(90), || db.observations().len()
            >= want_first),
        "first half not stored; log:\n{}",
        d.log()
    );

    proxy.cut();
    let cut_at = Instant::now();
    // Sessions keep ending while the DB is away (rows go straight to the
    // real server: DECNET's collector is not behind our proxy).
    insert_rows(&db, second);
    while cut_at.elapsed() < Duration::from_secs(cut_s) {
        std::thread::sleep(Duration::from_millis(250));
        assert!(
            d.is_running(),
            "daemon exited while the DB was away:\n{}",
            d.log()
        );
    }
    let stored_during = db.observations().len();
    proxy.restore();
    let before = proxy.accepted();
    let done = wait_until(Duration::from_secs(120), || {
        db.observations().len() >= total
    });
    let rows = db.observations();
    let stored = assert_no_partial(&rows, &expected);
    assert!(
        done,
        "not recovered: {stored}/{}; log:\n{}",
        good.len(),
        d.log()
    );
    assert_eq!(stored, good.len());
    assert_eq!(rows.len(), total);
    assert!(proxy.accepted() > before, "daemon never reconnected");
    assert_eq!(
        stored_during, want_first,
        "rows written while the DB was cut?"
    );
    let log = d.log();
    assert!(panics(&log).is_empty(), "{log}");
    let db_errors = log
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("error") || l.contains("retry") || l.contains("fail")
        })
        .count();
    assert!(db_errors > 0, "the outage left no log line:\n{log}");
    assert_eq!(
        d.terminate(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );
    eprintln!(
        "MariaDB cut {cut_s}s: {} sessions, {} rows, each once; {} connections through the proxy; {db_errors} error/retry/fail log lines",
        stored,
        rows.len(),
        proxy.accepted()
    );
}

/// Lines of `shard` grouped by sid, in file order (for a writer that
/// replays a shard as it grows).
fn shard_lines(shard: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(shard).unwrap_or_default();
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn sid_of(line: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v["sid"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[test]
fn growing_shard_and_utc_midnight_rotation() {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    let dir = tempdir("proof-grow");
    let day1 = gen(
        &dir.path().join("g1"),
        &[
            "--backlog",
            "16",
            "--deckies",
            "1",
            "--day",
            "2026-05-02",
            "--seed",
            "11",
        ],
    );
    let day2 = gen(
        &dir.path().join("g2"),
        &[
            "--backlog",
            "10",
            "--deckies",
            "1",
            "--day",
            "2026-05-03",
            "--seed",
            "12",
        ],
    );
    let root = dir.path().join("root");
    let tdir = root.join("decky-00/ssh/transcripts");
    if let Err(e) = std::fs::create_dir_all(&tdir) {
        panic!("{e}");
    }
    // The sessions as they will live under the real root.
    let mut good = Vec::new();
    for g in goods(&day1).into_iter().chain(goods(&day2)) {
        let name = g
            .shard
            .file_name()
            .map(|n| n.to_owned())
            .unwrap_or_default();
        good.push(Gen {
            shard: tdir.join(name),
            ..g
        });
    }
    let src1 = shard_lines(
        &dir.path()
            .join("g1/root/decky-00/ssh/transcripts/sessions-2026-05-02.jsonl"),
    );
    let src2 = shard_lines(
        &dir.path()
            .join("g2/root/decky-00/ssh/transcripts/sessions-2026-05-03.jsonl"),
    );
    let db = TestDb::sqlite();
    let cfg = dir.path().join("profiler.toml");
    write(&cfg, &config(&db, &root, None, "info"));
    let mut d = start(&bin, &cfg, dir.path().join("daemon.log"));

    // Writer: both shards grow together after "midnight" (day 1's sessions
    // still running keep writing to day 1's file, as sessrec does); each
    // write may end mid-line; a session's row is inserted once its last line
    // is fully written.
    let f1 = tdir.join("sessions-2026-05-02.jsonl");
    let f2 = tdir.join("sessions-2026-05-03.jsonl");
    let last_line = |src: &[Vec<u8>]| {
        let mut m = std::collections::BTreeMap::new();
        for (i, l) in src.iter().enumerate() {
            m.insert(sid_of(l), i);
        }
        m
    };
    let (last1, last2) = (last_line(&src1), last_line(&src2));
    let open = |p: &Path| match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
    {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    };
    let (mut w1, mut w2) = (open(&f1), None::<std::fs::File>);
    let mut rng = Rng(77);
    let (mut i1, mut i2) = (0usize, 0usize);
    let by_sid: std::collections::BTreeMap<String, Gen> =
        good.iter().map(|g| (g.sid.clone(), g.clone())).collect();
    let mut pending_tail: Vec<u8> = Vec::new();
    let t_start = Instant::now();
    while i1 < src1.len() || i2 < src2.len() {
        let midnight = i1 >= src1.len() / 2;
        let use2 =
            midnight && i2 < src2.len() && (i1 >= src1.len() || rng.next().is_multiple_of(2));
        let mut ended = Vec::new();
        for _ in 0..rng.range(10, 80) {
            if use2 {
                if i2 >= src2.len() {
                    break;
                }
                let w = w2.get_or_insert_with(|| open(&f2));
                let _ = w.write_all(&src2[i2]);
                if last2.get(&sid_of(&src2[i2])) == Some(&i2) {
                    ended.push(sid_of(&src2[i2]));
                }
                i2 += 1;
            } else {
                if i1 >= src1.len() {
                    break;
                }
                let line = &src1[i1];
                // Half a line now, the rest on the next round: the daemon
                // must never read the unterminated tail.
                if pending_tail.is_empty() && rng.next().is_multiple_of(40) && line.len() > 4 {
                    let cut = line.len() / 2;
                    let _ = w1.write_all(&line[..cut]);
                    pending_tail = line[cut..].to_vec();
                    break;
                }
                if !pending_tail.is_empty() {
                    let _ = w1.write_all(&pending_tail);
                    pending_tail.clear();
                } else {
                    let _ = w1.write_all(line);
                }
                if last1.get(&sid_of(line)) == Some(&i1) {
                    ended.push(sid_of(line));
                }
                i1 += 1;
            }
        }
        let ended: Vec<Gen> = ended
            .iter()
            .filter_map(|s| by_sid.get(s).cloned())
            .collect();
        if !ended.is_empty() {
            insert_rows(&db, &ended);
        }
        std::thread::sleep(Duration::from_millis(rng.range(5, 30)));
    }
    let wrote = t_start.elapsed();
    let expected = expected_counts(&bin, &good);
    let total: usize = expected.values().sum();
    let done = wait_until(Duration::from_secs(120), || {
        db.observations().len() >= total
    });
    eprintln!(
        "growing: shards written in {wrote:?}, all stored after {:?}",
        t_start.elapsed()
    );
    let rows = db.observations();
    let stored = assert_no_partial(&rows, &expected);
    assert!(done, "{stored}/{} stored; log:\n{}", good.len(), d.log());
    assert_eq!(stored, good.len());
    let on_day2 = rows
        .iter()
        .filter(|r| r.evidence_ref.contains("sessions-2026-05-03.jsonl#"))
        .count();
    let want_day2: usize = good
        .iter()
        .filter(|g| g.shard == f2)
        .map(|g| expected[&g.evidence_ref()])
        .sum();
    assert_eq!(on_day2, want_day2, "sessions filed under the wrong day");
    assert_eq!(
        d.terminate(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );
    eprintln!(
        "growing shards + rotation: {stored} sessions ({} rows) stored once",
        rows.len()
    );
}

/// Runs `args` in the daemon's mount namespace.
fn in_ns(pid: u32, args: &[&str]) -> bool {
    Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "--"])
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn can_private_mount() -> bool {
    Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=64k tmpfs /tmp"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
        && Command::new("nsenter").arg("--help").output().is_ok()
}

/// SQL through `sqlite3` inside the daemon's mount namespace (SQLite
/// resolves `/proc/PID/root` to our own `/`, so the DB must be opened from
/// inside).
fn ns_sqlite(pid: u32, db: &Path, sql: &str) -> Result<String, String> {
    let o = Command::new("nsenter")
        .args([
            "-t",
            &pid.to_string(),
            "-m",
            "--",
            "sqlite3",
            "-bail",
            "-cmd",
            ".timeout 20000",
        ])
        .arg(db)
        .arg(sql)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

fn ns_observations(pid: u32, db: &Path) -> Vec<decnet_e2e::db::ObsRow> {
    let out = ns_sqlite(
        pid,
        db,
        "SELECT id, evidence_ref, primitive, attacker_uuid FROM observations",
    )
    .unwrap_or_default();
    out.lines()
        .filter_map(|l| {
            let mut f = l.split('|');
            Some(decnet_e2e::db::ObsRow {
                id: f.next()?.to_owned(),
                evidence_ref: f.next()?.to_owned(),
                primitive: f.next()?.to_owned(),
                attacker_uuid: f.next()?.to_owned(),
            })
        })
        .collect()
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ns_insert_rows(pid: u32, db: &Path, sessions: &[Gen]) {
    let mut sql = String::from("BEGIN;");
    for g in sessions {
        let r = g.session().log_row();
        sql.push_str(&format!(
            "INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, fields, msg) VALUES ({}, {}, {}, {}, {}, '', {}, '');",
            sql_str(&r.timestamp),
            sql_str(&r.decky),
            sql_str(&r.service),
            sql_str(&r.event_type),
            sql_str(&r.attacker_ip),
            sql_str(&r.fields)
        ));
    }
    sql.push_str("COMMIT;");
    let mut last = String::new();
    for _ in 0..150 {
        match ns_sqlite(pid, db, &sql) {
            Ok(_) => return,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("inserting logs rows: {last}");
}

/// Holds a private mount namespace with a tmpfs on `dir` for as long as
/// it lives (the daemons join it with nsenter; nothing on the host is
/// mounted).
struct NsHolder {
    child: std::process::Child,
}

impl NsHolder {
    fn start(dir: &Path, size: &str) -> NsHolder {
        let script = format!(
            "mount -t tmpfs -o size={size},mode=0755 tmpfs '{}' && echo up && exec sleep 100000",
            dir.display()
        );
        let child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => panic!("unshare: {e}"),
        };
        let mut line = String::new();
        if let Some(out) = child.stdout.as_mut() {
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
        }
        assert_eq!(line.trim(), "up", "private tmpfs not mounted");
        NsHolder { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn daemon(&self, bin: &Path, cfg: &Path, log: PathBuf) -> Daemon {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.pid().to_string(), "-m", "--"])
            .arg(bin)
            .arg("run")
            .arg("--config")
            .arg(cfg);
        match Daemon::spawn(cmd, &[], log) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }
}

impl Drop for NsHolder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SQLite on a tiny private tmpfs: the disk fills under a running daemon
/// (clear error, it keeps running, no partial session, DB intact, progress
/// again once space returns); then the DB directory is read-only when a
/// daemon starts (clear error, nothing written); write access back → every
/// session stored once.
#[test]
fn sqlite_disk_full_and_read_only_then_recovers() {
    let bin = require!(
        profiler_bin(),
        "decnet-profiler binary (cargo build -p decnet-profiler)"
    );
    if !can_private_mount() {
        require!(
            None::<()>,
            "a private mount namespace (unshare -m, mount tmpfs, nsenter)"
        );
        return;
    }
    let dir = tempdir("proof-full");
    let man = gen(dir.path(), &["--backlog", "120", "--deckies", "3"]);
    let good = goods(&man);
    let expected = expected_counts(&bin, &good);
    let total: usize = expected.values().sum();
    let dbdir = dir.path().join("dbdir");
    if let Err(e) = std::fs::create_dir_all(&dbdir) {
        panic!("{e}");
    }
    let mut db = TestDb::sqlite();
    let inner = dbdir.join("profiler.db");
    db.url = format!("sqlite://{}", inner.display());
    let cfg = dir.path().join("profiler.toml");
    write(&cfg, &config(&db, &dir.path().join("root"), None, "info"));
    // 600 KiB: the schema and the logs rows fit, the observations do not.
    let ns = NsHolder::start(&dbdir, "600k");
    let pid = ns.pid();
    let obs = || ns_observations(pid, &inner);
    let dbdir_s = dbdir.display().to_string();

    let mut d = ns.daemon(&bin, &cfg, dir.path().join("daemon-1.log"));
    ns_insert_rows(pid, &inner, &good);
    let full = wait_until(Duration::from_secs(60), || {
        d.log().to_ascii_lowercase().contains("full")
    });
    let log = d.log();
    assert!(full, "no disk-full error logged:\n{log}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(d.is_running(), "daemon died on a full disk:\n{log}");
    let at_full = assert_no_partial(&obs(), &expected);
    assert!(at_full < good.len(), "the tmpfs never filled");
    let integrity = ns_sqlite(pid, &inner, "PRAGMA integrity_check").unwrap_or_default();
    assert_eq!(integrity.trim(), "ok");

    // Space returns → progress again under the same process.
    assert!(in_ns(pid, &["mount", "-o", "remount,size=64m", &dbdir_s]));
    let half = at_full + (good.len() - at_full) / 2;
    let resumed = wait_until(Duration::from_secs(60), || {
        assert_no_partial(&obs(), &expected) >= half
    });
    assert!(resumed, "no progress after space returned:\n{}", d.log());
    assert_eq!(
        d.terminate(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );
    let at_stop = assert_no_partial(&obs(), &expected);

    // Read-only DB directory at start: a clear error, nothing written.
    assert!(in_ns(pid, &["mount", "-o", "remount,ro", &dbdir_s]));
    let mut d = ns.daemon(&bin, &cfg, dir.path().join("daemon-2.log"));
    let ro_logged = wait_until(Duration::from_secs(20), || {
        let l = d.log().to_ascii_lowercase();
        // SQLite cannot create the WAL's -shm in a read-only directory and
        // says "unable to open database file" (code 14).
        l.contains("read-only")
            || l.contains("readonly")
            || l.contains("read only")
            || l.contains("unable to open database file")
    });
    let ro_log = d.log();
    let ro_exit = if d.is_running() {
        d.terminate(Duration::from_secs(20));
        None
    } else {
        d.wait_exit(Duration::from_secs(1)).and_then(|s| s.code())
    };
    assert!(ro_logged, "no read-only error logged:\n{ro_log}");
    assert_ne!(ro_exit, Some(0), "exit 0 on a read-only DB directory");
    assert!(panics(&ro_log).is_empty(), "{ro_log}");
    // Read through an immutable URI: a WAL reader cannot create its -shm
    // in a read-only directory either.
    let ro_db = PathBuf::from(format!("file:{}?immutable=1", inner.display()));
    assert_eq!(
        assert_no_partial(&ns_observations(pid, &ro_db), &expected),
        at_stop
    );

    // Write access back → the rest, each once.
    assert!(in_ns(pid, &["mount", "-o", "remount,rw", &dbdir_s]));
    let mut d = ns.daemon(&bin, &cfg, dir.path().join("daemon-3.log"));
    let done = wait_until(Duration::from_secs(120), || obs().len() >= total);
    let rows = obs();
    let stored = assert_no_partial(&rows, &expected);
    assert!(
        done,
        "{stored}/{} after recovery; log:\n{}",
        good.len(),
        d.log()
    );
    let integrity = ns_sqlite(pid, &inner, "PRAGMA integrity_check").unwrap_or_default();
    assert_eq!(integrity.trim(), "ok");
    let log = d.log();
    assert!(panics(&log).is_empty(), "{log}");
    assert_eq!(
        d.terminate(Duration::from_secs(20)).and_then(|s| s.code()),
        Some(0)
    );
    let ro_line = ro_log
        .lines()
        .find(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("read") || l.contains("unable to open")
        })
        .unwrap_or_default()
        .to_owned();
    eprintln!(
        "SQLite disk full at {at_full}/{} sessions (daemon kept running), {at_stop} after space returned; read-only dir at start: exit {ro_exit:?}, logged {ro_line:.160}; all {stored} stored once after recovery, integrity ok",
        good.len()
    );
}
