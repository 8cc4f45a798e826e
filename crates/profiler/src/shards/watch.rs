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
