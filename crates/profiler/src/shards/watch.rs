//! Filesystem watching as a hint only: a modified shard under the root is
//! re-indexed in the background so the next lookup finds its index warm.
//! Correctness never depends on it — every lookup re-verifies size/mtime.

use std::path::{Component, Path};
use std::sync::Arc;

use notify::{RecursiveMode, Watcher};

use super::{ArtifactsRoot, ShardCache};

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchGuard {
    _watcher: notify::RecommendedWatcher,
}

/// Starts watching `root`. Returns None (logged) if the platform watcher
/// cannot be set up; the daemon then simply indexes on demand.
pub fn start(root: ArtifactsRoot, cache: Arc<ShardCache>) -> Option<WatchGuard> {
    let base = std::fs::canonicalize(root.configured()).ok()?;
    let (tx, rx) = std::sync::mpsc::channel::<std::path::PathBuf>();
    let mut watcher = match notify::recommended_watcher(
        move |res: notify::Result<notify::Event>| {
            if let Ok(ev) = res {
                if ev.kind.is_modify() || ev.kind.is_create() {
                    for p in ev.paths {
                        let _ = tx.send(p);
                    }
                }
            }
        },
    ) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "artifacts watcher unavailable; indexing on demand only");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&base, RecursiveMode::Recursive) {
        tracing::warn!(error = %e, "cannot watch the artifacts root; indexing on demand only");
        return None;
    }
    std::thread::Builder::new()
        .name("shard-warm".into())
        .spawn(move || {
            while let Ok(p) = rx.recv() {
                if let Some((decky, service, name)) = split(&base, &p) {
                    if let Ok(shard) = root.shard(&decky, &service, &name) {
                        cache.warm(&shard);
                    }
                }
            }
        })
        .ok()?;
    Some(WatchGuard { _watcher: watcher })
}

/// `{base}/{decky}/{service}/transcripts/{name}` → its three names.
fn split(base: &Path, p: &Path) -> Option<(String, String, String)> {
    let rel = p.strip_prefix(base).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str().map(str::to_string),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [d, s, t, n] if t == "transcripts" => Some((d.clone(), s.clone(), n.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_modified_shard_is_indexed_in_the_background() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = dir.path().join("d1/ssh/transcripts");
        std::fs::create_dir_all(&t).expect("mkdir");
        let root = ArtifactsRoot::new(dir.path());
        let cache = Arc::new(ShardCache::new());
        let Some(_guard) = start(root, cache.clone()) else {
            eprintln!("SKIP: no inotify here");
            return;
        };
        let line = "{\"sid\":\"11111111-2222-4333-8444-555555555555\",\"t\":1.0,\"ch\":\"i\",\"d\":\"x\"}\n";
        let shard = t.join("sessions-2026-05-02.jsonl");
        std::fs::write(&shard, line).expect("write");
        let real = std::fs::canonicalize(&shard).expect("canonical");
        let start = Instant::now();
        while cache.indexed_bytes(&real) != Some(line.len() as u64) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "watcher never warmed the index"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
