//! Benchmark (issue 7 item 5): one session profiled from a small and from a
//! large day-shard through the daemon's shard cache — index build time
//! reported separately, then the warm per-session time (locate + read that
//! session's lines + extract), median of `SHARD_SIZE_RUNS` (default 30).
//! Ignored by default: `scripts/bench-shard-size.sh` makes the shards and
//! runs it (`SHARD_SIZE_ROOT`, `SHARD_SIZE_SID`, `SHARD_SIZE_DECKIES`).
//! Prints one `bench-shard-size:` JSON line per shard.

use std::time::Instant;

use decnet_profiler::shards::{ArtifactsRoot, ShardCache};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore]
fn shard_size_bench() {
    let (Ok(root), Ok(sid), Ok(deckies)) = (
        std::env::var("SHARD_SIZE_ROOT"),
        std::env::var("SHARD_SIZE_SID"),
        std::env::var("SHARD_SIZE_DECKIES"),
    ) else {
        eprintln!("SKIP: SHARD_SIZE_ROOT / SHARD_SIZE_SID / SHARD_SIZE_DECKIES not set");
        return;
    };
    let runs: usize = std::env::var("SHARD_SIZE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let root = ArtifactsRoot::new(root);
    for decky in deckies.split(',') {
        // A fresh cache per shard: the index build is measured on its own.
        let cache = ShardCache::new();
        let hwm_before = vm_hwm_kb();
        let t = Instant::now();
        let shard = match cache.find(&root, decky, "ssh", &sid) {
            Ok(Some(s)) => s,
            other => panic!("{decky}: session not found: {other:?}"),
        };
        let index_s = t.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&shard.path).map(|m| m.len()).unwrap_or(0);
        let eref = shard.evidence_ref(&sid);
        let mut n_obs = 0;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let shard = match cache.find(&root, decky, "ssh", &sid) {
                Ok(Some(s)) => s,
                other => panic!("{decky}: {other:?}"),
            };
            let read = match cache.read_session(&shard, &sid) {
                Ok(r) => r,
                Err(e) => panic!("{decky}: {e}"),
            };
            let obs = decnet_engine::extract_session(
                &read.events,
                &decnet_engine::ExtractParams {
                    sid: &sid,
                    evidence_ref: Some(&eref),
                    source: decnet_engine::DEFAULT_SOURCE,
                    profile: decnet_engine::Profile::default(),
                    now_ts: 0.0,
                },
            );
            times.push(t.elapsed().as_secs_f64());
            n_obs = obs.map(|o| o.len()).unwrap_or(0);
        }
        assert!(n_obs > 0, "{decky}: no observations");
        println!(
            "bench-shard-size: {{\"decky\":\"{decky}\",\"bytes\":{bytes},\"index_build_s\":{index_s:.4},\"warm_session_ms\":{:.4},\"observations\":{n_obs},\"vm_hwm_kb_before\":{hwm_before},\"vm_hwm_kb\":{},\"index_heap_bytes\":{}}}",
            median(times) * 1e3,
            vm_hwm_kb(),
            cache.kept_bytes()
        );
    }
}
