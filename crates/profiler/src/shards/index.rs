//! Per-shard sid → byte-offset indexes that grow as the shard grows, so
//! profiling one session reads that session's lines only: O(session), not
//! O(day-shard).
//!
//! Each refresh `fstat`s the open file and compares (device, inode, size,
//! mtime) with what was indexed: the same file grown → only the new bytes
//! are scanned; replaced or shrunk → rebuilt from byte 0; unchanged → no
//! read at all. Only complete lines are indexed (`at_eof = false`): a live
//! shard's unterminated last line is not read until it is terminated. The
//! filesystem watcher ([`super::watch`]) only pre-warms; every lookup
//! verifies on its own.
//!
//! The line parsing, index structure and positioned reads are the engine
//! reader's (`decnet_engine::reader::ShardIndex`) driven by
//! [`crate::shard_file`], so the daemon reads exactly what `extract` reads.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use decnet_engine::reader::ShardIndex;
use decnet_engine::Event;

use super::{ArtifactsRoot, PathError, ShardPath};
use crate::shard_file::read_spans;

/// Shards whose index is kept warm.
const MAX_ENTRIES: usize = 256;

#[derive(Debug, Default)]
struct Entry {
    index: ShardIndex,
    ident: Option<(u64, u64)>,
    seen: Option<(u64, i64, i64)>,
    last_used: u64,
}

/// One session's events read through the index.
#[derive(Debug, Default)]
pub struct SessionRead {
    pub events: Vec<Event>,
    /// A line makes the reference raise: the session yields nothing.
    pub raises: bool,
    /// The session header's numeric `timestamp` (epoch source of the
    /// `behave-0.1.4` profile, docs/DEVIATIONS.md D-EPOCH).
    pub header_timestamp: Option<f64>,
}

/// The per-shard indexes of one artifacts root. Blocking: call from
/// `spawn_blocking`.
#[derive(Debug, Default)]
pub struct ShardCache {
    entries: Mutex<HashMap<PathBuf, Arc<Mutex<Entry>>>>,
    clock: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sid_text(sid: &str) -> Vec<u32> {
    sid.chars().map(u32::from).collect()
}

impl ShardCache {
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&self, path: &PathBuf) -> Arc<Mutex<Entry>> {
        let tick = {
            let mut c = lock(&self.clock);
            *c += 1;
            *c
        };
        let mut map = lock(&self.entries);
        if !map.contains_key(path) && map.len() >= MAX_ENTRIES {
            let oldest = map
                .iter()
                .min_by_key(|(_, e)| lock(e).last_used)
                .map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                map.remove(&p);
            }
        }
        let e = map.entry(path.clone()).or_default().clone();
        lock(&e).last_used = tick;
        e
    }

    /// Brings the shard's index up to the file's current complete lines.
    fn refresh(&self, shard: &ShardPath) -> io::Result<Arc<Mutex<Entry>>> {
        let arc = self.entry(&shard.path);
        {
            let mut e = lock(&arc);
            let file = File::open(&shard.path)?;
            let md = file.metadata()?;
            if !md.is_file() {
                return Err(io::Error::other("not a regular file"));
            }
            let ident = (md.dev(), md.ino());
            let size = md.len();
            if e.ident != Some(ident) || size < e.index.scanned_to() {
                *e = Entry {
                    ident: Some(ident),
                    last_used: e.last_used,
                    ..Entry::default()
                };
            }
            let seen = (size, md.mtime(), md.mtime_nsec());
            if e.seen == Some(seen) {
                return Ok(arc.clone());
            }
            let mut file = file;
            crate::shard_file::index_more(&mut file, &mut e.index, false, |_| {})?;
            e.seen = Some(seen);
        }
        Ok(arc)
    }

    /// Bytes of `path` indexed so far, without touching the file (None: no
    /// index yet). For diagnostics and tests of the watcher hint.
    pub fn indexed_bytes(&self, path: &std::path::Path) -> Option<u64> {
        let map = lock(&self.entries);
        map.get(path).map(|e| lock(e).index.scanned_to())
    }

    /// Pre-warms one shard's index (watcher hint). Errors are ignored: the
    /// next lookup verifies again.
    pub fn warm(&self, shard: &ShardPath) {
        let _ = self.refresh(shard);
    }

    /// Whether the shard's index knows `sid` (header-only sids count, as in
    /// `find_shard_with_sid`).
    pub fn contains(&self, shard: &ShardPath, sid: &str) -> io::Result<bool> {
        let arc = self.refresh(shard)?;
        let e = lock(&arc);
        Ok(e.index.session(&sid_text(sid)).is_some())
    }

    /// The newest shard of (decky, service) that holds `sid`.
    pub fn find(
        &self,
        root: &ArtifactsRoot,
        decky: &str,
        service: &str,
        sid: &str,
    ) -> Result<Option<ShardPath>, PathError> {
        for shard in root.list_shards(decky, service)? {
            if let Ok(true) = self.contains(&shard, sid) {
                return Ok(Some(shard));
            }
        }
        Ok(None)
    }

    /// Reads `sid`'s event lines only, through the index.
    pub fn read_session(&self, shard: &ShardPath, sid: &str) -> io::Result<SessionRead> {
        let arc = self.refresh(shard)?;
        let entry = {
            let e = lock(&arc);
            match e.index.session(&sid_text(sid)) {
                None => return Ok(SessionRead::default()),
                Some(s) if s.raises_at.is_some() => {
                    return Ok(SessionRead {
                        events: Vec::new(),
                        raises: true,
                        header_timestamp: s.header_timestamp,
                    })
                }
                Some(s) => s.clone(),
            }
        };
        let file = File::open(&shard.path)?;
        let events = read_spans(&file, &entry.spans, &mut Vec::new(), MAX_GAP, MAX_READ)?;
        Ok(SessionRead {
            events,
            raises: false,
            header_timestamp: entry.header_timestamp,
        })
    }

    /// Sids with at least one non-header line, in order of first appearance
    /// (the sessions `extract` would profile).
    pub fn sessions(&self, shard: &ShardPath) -> io::Result<Vec<String>> {
        let arc = self.refresh(shard)?;
        let e = lock(&arc);
        Ok(e.index
            .sessions()
            .iter()
            .filter(|s| s.has_body)
            .map(|s| s.sid.iter().filter_map(|&c| char::from_u32(c)).collect())
            .collect())
    }
}

/// Adjacent lines closer than this are fetched with one read. Kept small
/// so a session interleaved with many others in a big day-shard costs
/// O(its own bytes), not O(the bytes between its lines).
const MAX_GAP: u64 = 4096;
/// Upper bound of one coalesced read.
const MAX_READ: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const SID: &str = "11111111-2222-4333-8444-555555555555";

    fn setup() -> (tempfile::TempDir, ArtifactsRoot) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("d1/ssh/transcripts")).expect("mkdir");
        let root = ArtifactsRoot::new(dir.path());
        (dir, root)
    }

    #[test]
    fn grows_incrementally_and_skips_unterminated_tail() {
        let (dir, root) = setup();
        let p = dir
            .path()
            .join("d1/ssh/transcripts/sessions-2026-05-02.jsonl");
        let mut f = File::create(&p).expect("create");
        writeln!(
            f,
            r#"{{"sid":"{SID}","hdr":{{"version":2,"timestamp":1}}}}"#
        )
        .expect("w");
        writeln!(f, r#"{{"sid":"{SID}","t":0.5,"ch":"i","d":"l"}}"#).expect("w");
        write!(f, r#"{{"sid":"{SID}","t":0.6,"ch":"i","d":"s"}}"#).expect("w");
        f.flush().expect("flush");
        let cache = ShardCache::new();
        let shard = root
            .shard("d1", "ssh", "sessions-2026-05-02.jsonl")
            .expect("shard");
        assert_eq!(
            cache.read_session(&shard, SID).expect("read").events.len(),
            1
        );
        writeln!(f).expect("w");
        writeln!(f, r#"{{"sid":"{SID}","t":0.7,"ch":"o","d":"x"}}"#).expect("w");
        f.flush().expect("flush");
        let r = cache.read_session(&shard, SID).expect("read");
        assert_eq!(r.events.len(), 3);
        assert_eq!(r.events[2].t, 0.7);
        assert_eq!(cache.sessions(&shard).expect("s"), vec![SID.to_string()]);
        let found = cache.find(&root, "d1", "ssh", SID).expect("find");
        assert_eq!(
            found.map(|s| s.name),
            Some("sessions-2026-05-02.jsonl".into())
        );
    }

    #[test]
    fn symlinked_shard_and_directory_are_refused() {
        let (dir, root) = setup();
        let outside = tempfile::tempdir().expect("tempdir");
        let target = outside.path().join("sessions-2026-05-01.jsonl");
        std::fs::write(
            &target,
            format!("{{\"sid\":\"{SID}\",\"t\":1,\"ch\":\"i\",\"d\":\"x\"}}\n"),
        )
        .expect("write");
        let link = dir
            .path()
            .join("d1/ssh/transcripts/sessions-2026-05-01.jsonl");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert_eq!(
            root.shard("d1", "ssh", "sessions-2026-05-01.jsonl"),
            Err(PathError::Escape)
        );
        assert_eq!(
            root.accept_payload_path("d1", "ssh", &link),
            Err(PathError::Escape)
        );
        assert_eq!(
            root.accept_payload_path("d1", "ssh", &target),
            Err(PathError::Escape)
        );
        assert!(root.list_shards("d1", "ssh").expect("list").is_empty());
        let cache = ShardCache::new();
        assert_eq!(cache.find(&root, "d1", "ssh", SID), Ok(None));
        // A symlinked transcripts directory escaping the root.
        std::fs::create_dir_all(dir.path().join("d2/ssh")).expect("mkdir");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("d2/ssh/transcripts"))
            .expect("symlink");
        assert_eq!(root.transcripts_dir("d2", "ssh"), Err(PathError::Dir));
        // Traversal through names.
        assert_eq!(root.transcripts_dir("..", "ssh"), Err(PathError::BadDecky));
        assert_eq!(
            root.shard("d1", "ssh", "../../../etc/passwd"),
            Err(PathError::Escape)
        );
        let dotdot = dir
            .path()
            .join("d1/ssh/transcripts/../../../d1/ssh/transcripts/x.jsonl");
        assert_eq!(
            root.accept_payload_path("d1", "ssh", &dotdot),
            Err(PathError::Escape)
        );
    }
}
