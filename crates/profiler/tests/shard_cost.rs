//! Cost of profiling one session from a large day-shard vs a small one
//! (warm index). Ignored by default; run with
//! `cargo test -p decnet-profiler --release --test shard_cost -- --ignored --nocapture`.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use decnet_profiler::shards::{ArtifactsRoot, ShardCache};

const TARGET: &str = "d591a79d-a1d5-491a-8e76-4dabbcaaafa9";

fn lines_of(path: &Path) -> Vec<Vec<u8>> {
    std::fs::read(path)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.to_vec())
        .collect()
}

fn profile_once(cache: &ShardCache, root: &ArtifactsRoot, decky: &str) -> (f64, usize) {
    let t = Instant::now();
    let shard = cache.find(root, decky, "ssh", TARGET).unwrap().unwrap();
    let events = cache.read_session(&shard, TARGET).unwrap().events;
    let eref = shard.evidence_ref(TARGET);
    let obs = decnet_engine::extract_session(
        &events,
        &decnet_engine::ExtractParams {
            sid: TARGET,
            evidence_ref: Some(&eref),
            source: decnet_engine::DEFAULT_SOURCE,
            profile: decnet_engine::Profile::default(),
            now_ts: 0.0,
        },
    )
    .unwrap();
    (t.elapsed().as_secs_f64(), obs.len())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[test]
#[ignore]
fn large_vs_small_day_shard() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/calibration");
    let target: Vec<Vec<u8>> = lines_of(&samples.join("sessions-2026-05-02-with-llm.jsonl"))
        .into_iter()
        .filter(|l| l.windows(TARGET.len()).any(|w| w == TARGET.as_bytes()))
        .collect();
    let filler = lines_of(&samples.join("sessions-2026-05-02.jsonl"));
    let copies: usize = std::env::var("SHARD_COST_COPIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let dir = tempfile::tempdir().unwrap();
    let root = ArtifactsRoot::new(dir.path());
    for d in ["small", "large"] {
        std::fs::create_dir_all(dir.path().join(d).join("ssh/transcripts")).unwrap();
    }
    let name = "sessions-2026-05-02.jsonl";
    std::fs::write(dir.path().join("small/ssh/transcripts").join(name), {
        let mut v = Vec::new();
        for l in &target {
            v.extend_from_slice(l);
            v.push(b'\n');
        }
        v
    })
    .unwrap();
    // Large: `copies` renamed copies of the HUMAN sample interleaved line
    // by line, with the target session spread through the middle.
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(dir.path().join("large/ssh/transcripts").join(name)).unwrap(),
    );
    let orig_sid = b"ce8c715b-7242-4c8f-a073-707171af6e0a";
    let sids: Vec<String> = (0..copies)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let mut ti = 0;
    for (li, l) in filler.iter().enumerate() {
        for sid in &sids {
            let mut line = l.clone();
            if let Some(p) = line.windows(36).position(|w| w == orig_sid) {
                line[p..p + 36].copy_from_slice(sid.as_bytes());
            }
            f.write_all(&line).unwrap();
            f.write_all(b"\n").unwrap();
        }
        if li >= filler.len() / 4 && ti < target.len() {
            f.write_all(&target[ti]).unwrap();
            f.write_all(b"\n").unwrap();
            ti += 1;
        }
    }
    for l in &target[ti..] {
        f.write_all(l).unwrap();
        f.write_all(b"\n").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let large_bytes = std::fs::metadata(dir.path().join("large/ssh/transcripts").join(name))
        .unwrap()
        .len();
    let cache = ShardCache::new();
    let t = Instant::now();
    let (_, n_large) = profile_once(&cache, &root, "large");
    let cold = t.elapsed().as_secs_f64();
    let (_, n_small) = profile_once(&cache, &root, "small");
    assert_eq!(n_large, n_small);
    let runs = 30;
    let small = median(
        (0..runs)
            .map(|_| profile_once(&cache, &root, "small").0)
            .collect(),
    );
    let large = median(
        (0..runs)
            .map(|_| profile_once(&cache, &root, "large").0)
            .collect(),
    );
    println!(
        "shard_cost: large shard {} MB ({} sessions), cold index+profile {:.3}s; warm profile: small {:.3} ms, large {:.3} ms, ratio {:.2}",
        large_bytes / 1_000_000,
        copies + 1,
        cold,
        small * 1e3,
        large * 1e3,
        large / small
    );
    assert!(
        large / small < 3.0,
        "profiling cost must not scale with the shard"
    );
}
