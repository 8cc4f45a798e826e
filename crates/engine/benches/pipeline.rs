//! Throughput of the in-memory pipeline on one thread: shard bytes →
//! sessions grouped by sid (one pass, `group_sessions`) → observations.
//! The bounded-memory two-pass reader (sid index, then one session at a
//! time, as the CLI reads files) is timed on its own too.
//!
//! A plain timing harness (no criterion/divan) to keep the build light.
//! Shard: `$DECNET_BENCH_SHARD` if set, else the calibration shards and
//! `vectors/random-seed1.jsonl` from `../shared/corpus`, concatenated.
//! Prints sessions/s and events/s for the reader alone and for the whole
//! pipeline (the best of `$DECNET_BENCH_ROUNDS` rounds, default 5, by on-CPU
//! time). `$DECNET_BENCH_ONLY`: run only the benches whose name starts with
//! it (e.g. `pipeline (+`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use decnet_engine::reader::{group_sessions, session_events, SessionStatus, ShardIndex};
use decnet_engine::{extract_session_at, EventBuf, ExtractParams, Profile};

fn load() -> Vec<u8> {
    if let Ok(p) = std::env::var("DECNET_BENCH_SHARD") {
        return std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {p}: {e}"));
    }
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("calibration"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "jsonl"));
    files.sort();
    files.push(corpus.join("vectors/random-seed1.jsonl"));
    let mut bytes = Vec::new();
    for f in files {
        let b = std::fs::read(&f).unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        bytes.extend_from_slice(&b);
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
    }
    bytes
}

struct Run {
    sessions: usize,
    events: usize,
    observations: usize,
}

#[derive(Clone, Copy)]
enum Mode {
    /// Bounded-memory reader only: index pass + one session at a time.
    TwoPass,
    /// One-pass in-memory grouping only.
    OnePass,
    /// One-pass grouping + extraction: the pipeline.
    Pipeline,
    /// Index pass, then each session parsed and extracted in turn (the
    /// CLI's bounded-memory way).
    PipelineTwoPass,
}

fn run(bytes: &[u8], mode: Mode) -> Run {
    let mut r = Run {
        sessions: 0,
        events: 0,
        observations: 0,
    };
    if let Mode::TwoPass | Mode::PipelineTwoPass = mode {
        let mut index = ShardIndex::new();
        index.feed(bytes, true, |_| {});
        for e in index
            .sessions()
            .iter()
            .filter(|e| e.has_body && e.raises_at.is_none())
        {
            let events = session_events(bytes, e);
            r.sessions += 1;
            r.events += events.len();
            if let Mode::PipelineTwoPass = mode {
                r.observations += extract(&e.sid, &events);
            }
        }
        return r;
    }
    for s in group_sessions(bytes) {
        if s.status != SessionStatus::Ok {
            continue;
        }
        r.sessions += 1;
        r.events += s.events.len();
        if let Mode::Pipeline = mode {
            r.observations += extract(&s.sid, &s.events);
        }
    }
    r
}

/// Extracts one session; returns the number of observations.
fn extract(sid: &[u32], events: &EventBuf) -> usize {
    let mut s = String::with_capacity(sid.len());
    s.extend(sid.iter().filter_map(|&c| char::from_u32(c)));
    let sid = s;
    let params = ExtractParams {
        sid: &sid,
        evidence_ref: None,
        source: "bench",
        profile: Profile::Decnet12,
        now_ts: 0.0,
    };
    extract_session_at(events, &params, None).map_or(0, |o| o.len())
}

/// This thread's on-CPU time (ns), from `CLOCK_THREAD_CPUTIME_ID`: the
/// machine may be shared, so wall-clock alone overstates the cost, and
/// `/proc/thread-self/schedstat` only moves at scheduler ticks (too coarse
/// for one round). The reference side reads the same clock.
fn cpu_ns() -> Option<u64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let s = u64::try_from(t.tv_sec).ok()?;
    let ns = u64::try_from(t.tv_nsec).ok()?;
    Some(s * 1_000_000_000 + ns)
}

fn bench(name: &str, bytes: &[u8], mode: Mode, rounds: usize) {
    // `DECNET_BENCH_ONLY=pipeline`: only the benches whose name starts so
    // (for profiling one mode).
    if let Ok(only) = std::env::var("DECNET_BENCH_ONLY") {
        if !name.starts_with(only.as_str()) {
            return;
        }
    }
    // Best round by on-CPU time (as the reference side takes its best
    // round by `time.thread_time`), and best wall time on its own.
    let mut best = Duration::MAX;
    let mut best_cpu: Option<Duration> = None;
    let mut last = None;
    for _ in 0..rounds {
        let cpu0 = cpu_ns();
        let t = Instant::now();
        let r = run(bytes, mode);
        best = best.min(t.elapsed());
        if let (Some(a), Some(b)) = (cpu0, cpu_ns()) {
            if b > a {
                let c = Duration::from_nanos(b - a);
                best_cpu = Some(best_cpu.map_or(c, |x| x.min(c)));
            }
        }
        last = Some(r);
    }
    let Some(r) = last else { return };
    let wall = best.as_secs_f64();
    println!("{name}: best wall {:.3} ms", wall * 1e3);
    // Rates from the best round's on-CPU time when available, else best wall.
    let s = best_cpu.map_or(wall, |c| c.as_secs_f64());
    println!(
        "{name:<22} (cpu) {:>6} sessions {:>9} events {:>7} obs  {:>9.3} ms  {:>11.0} sessions/s  {:>12.0} events/s  {:>7.1} MB/s",
        r.sessions,
        r.events,
        r.observations,
        s * 1e3,
        r.sessions as f64 / s,
        r.events as f64 / s,
        bytes.len() as f64 / s / 1e6
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs us too:
    // there, one quick round is enough.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick {
        1
    } else {
        std::env::var("DECNET_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5)
    };
    let bytes = load();
    println!("shard: {} bytes", bytes.len());
    bench("reader (index+parse)", &bytes, Mode::TwoPass, rounds);
    bench("reader (one pass)", &bytes, Mode::OnePass, rounds);
    bench("pipeline (+extract)", &bytes, Mode::Pipeline, rounds);
    bench(
        "pipeline 2-pass (+extract)",
        &bytes,
        Mode::PipelineTwoPass,
        rounds,
    );
}
