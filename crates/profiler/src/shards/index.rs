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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use decnet_engine::reader::ShardIndex;
use decnet_engine::EventBuf;

use super::{ArtifactsRoot, PathError, ShardPath};
use crate::shard_file::read_spans;

/// Shards whose index is kept warm, at most.
const MAX_ENTRIES: usize = 256;
/// Heap bytes of all kept indexes together, at most (an estimate,
/// [`ShardIndex::heap_bytes`]). Least recently used indexes are dropped
/// first; the index in use is always kept, even if it alone is larger
/// (it is what the lookup needs). Measured: a 1 GB day-shard of 10.3 M
/// event lines and 29,296 sessions has a 37 MiB index (~3.8 bytes per
/// event line: 2.6 encoded, the rest growth slack, sids and entries), so
/// while such an index is the newest one no other index is kept.
const MAX_BYTES: usize = 32 << 20;

#[derive(Debug, Default)]
struct Entry {
    index: ShardIndex,
    ident: Option<(u64, u64)>,
    seen: Option<(u64, i64, i64)>,
}

/// One cached shard. The bookkeeping used for eviction lives outside the
/// entry's mutex, so choosing what to evict never waits for an index
/// being built.
#[derive(Debug, Default)]
struct Slot {
    last_used: AtomicU64,
    bytes: AtomicUsize,
    entry: Mutex<Entry>,
}

/// One session's events read through the index.
#[derive(Debug, Default)]
pub struct SessionRead {
    pub events: EventBuf,
    /// A line makes the reference raise: the session yields nothing.
    pub raises: bool,
    /// The session header's numeric `timestamp` (epoch source of the
    /// `behave-0.1.4` profile, docs/DEVIATIONS.md D-EPOCH).
    pub header_timestamp: Option<f64>,
}

/// The per-shard indexes of one artifacts root. Blocking: call from
/// `spawn_blocking`.
#[derive(Debug)]
pub struct ShardCache {
    entries: Mutex<HashMap<PathBuf, Arc<Slot>>>,
    clock: Mutex<u64>,
    max_bytes: usize,
}

impl Default for ShardCache {
    fn default() -> Self {
        Self::with_max_bytes(MAX_BYTES)
    }
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

    /// A cache whose kept indexes total at most `max_bytes` heap bytes
    /// (the one in use excepted); [`new`](Self::new) uses 32 MiB.
    pub fn with_max_bytes(max_bytes: usize) -> Self {
        Self {
            entries: Mutex::default(),
            clock: Mutex::default(),
            max_bytes,
        }
    }

    /// Estimated heap bytes of the kept indexes (for diagnostics/tests).
    pub fn kept_bytes(&self) -> usize {
        let map = lock(&self.entries);
        map.values().map(|e| e.bytes.load(Ordering::Relaxed)).sum()
    }

    fn entry(&self, path: &PathBuf) -> Arc<Slot> {
        let tick = {
            let mut c = lock(&self.clock);
            *c += 1;
            *c
        };
        let mut map = lock(&self.entries);
        if !map.contains_key(path) && map.len() >= MAX_ENTRIES {
            let oldest = map
                .iter()
                .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                .map(|(p, _)| p.clone());
            if let Some(p) = oldest {
                map.remove(&p);
            }
        }
        let e = map.entry(path.clone()).or_default().clone();
        e.last_used.store(tick, Ordering::Relaxed);
        e
    }

    /// Drops least recently used indexes (never `keep`) until the kept
    /// ones fit in the byte budget. A dropped index still in use by another
    /// lookup lives until that lookup ends (it holds an `Arc`).
    fn trim(&self, keep: &PathBuf) {
        let mut map = lock(&self.entries);
        let mut total: usize = map.values().map(|e| e.bytes.load(Ordering::Relaxed)).sum();
        while total > self.max_bytes {
            let oldest = map
                .iter()
                .filter(|(p, _)| *p != keep)
                .min_by_key(|(_, e)| e.last_used.load(Ordering::Relaxed))
                .map(|(p, e)| (p.clone(), e.bytes.load(Ordering::Relaxed)));
            match oldest {
                Some((p, b)) => {
                    map.remove(&p);
                    total = total.saturating_sub(b);
                }
                None => break,
            }
        }
    }

    /// Brings the shard's index up to the file's current complete lines.
    fn refresh(&self, shard: &ShardPath) -> io::Result<Arc<Slot>> {
        let slot = self.entry(&shard.path);
        {
            let mut e = lock(&slot.entry);
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
                    ..Entry::default()
                };
            }
            let seen = (size, md.mtime(), md.mtime_nsec());
            if e.seen == Some(seen) {
                return Ok(slot.clone());
            }
            let mut file = file;
            let res = crate::shard_file::index_more(&mut file, &mut e.index, false, |_| {});
            slot.bytes.store(e.index.heap_bytes(), Ordering::Relaxed);
            res?;
            e.seen = Some(seen);
        }
        self.trim(&shard.path);
        Ok(slot)
    }

    /// Bytes of `path` indexed so far, without touching the file (None: no
    /// index yet). For diagnostics and tests of the watcher hint.
    pub fn indexed_bytes(&self, path: &std::path::Path) -> Option<u64> {
        let map = lock(&self.entries);
        map.get(path).map(|e| lock(&e.entry).index.scanned_to())
    }

    /// Pre-warms one shard's index (watcher hint). Errors are ignored: the
    /// next lookup verifies again.
    pub fn warm(&self, shard: &ShardPath) {
        let _ = self.refresh(shard);
    }

    /// Whether the shard's index knows `sid` (header-only sids count, as in
    /// `find_shard_with_sid`).
    pub fn contains(&self, shard: &ShardPath, sid: &str) -> io::Result<bool> {
        let slot = self.refresh(shard)?;
        let e = lock(&slot.entry);
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
        let slot = self.refresh(shard)?;
        // Copy out this session's (compact) spans only, so the read below
        // does not hold the shard's lock.
        let (spans, header_timestamp) = {
            let e = lock(&slot.entry);
            match e.index.session(&sid_text(sid)) {
                None => return Ok(SessionRead::default()),
                Some(s) if s.raises_at.is_some() => {
                    return Ok(SessionRead {
                        events: EventBuf::new(),
                        raises: true,
                        header_timestamp: s.header_timestamp,
                    })
                }
                Some(s) => (s.spans.clone(), s.header_timestamp),
            }
        };
        let file = File::open(&shard.path)?;
        let events = read_spans(&file, &spans, &mut Vec::new(), MAX_GAP, MAX_READ)?;
        Ok(SessionRead {
            events,
            raises: false,
            header_timestamp,
        })
    }

    /// Sids with at least one non-header line, in order of first appearance
    /// (the sessions `extract` would profile).
    pub fn sessions(&self, shard: &ShardPath) -> io::Result<Vec<String>> {
        let slot = self.refresh(shard)?;
        let e = lock(&slot.entry);
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
        assert_eq!(r.events.get(2).map(|e| e.t), Some(0.7));
        assert_eq!(cache.sessions(&shard).expect("s"), vec![SID.to_string()]);
        let found = cache.find(&root, "d1", "ssh", SID).expect("find");
        assert_eq!(
            found.map(|s| s.name),
            Some("sessions-2026-05-02.jsonl".into())
        );
    }

    #[test]
    fn byte_budget_drops_least_recently_used_index() {
        let (dir, root) = setup();
        let names = ["sessions-2026-05-01.jsonl", "sessions-2026-05-02.jsonl"];
        for (k, name) in names.iter().enumerate() {
            let mut body = String::new();
            for i in 0..200 {
                body.push_str(&format!(
                    "{{\"sid\":\"{SID}\",\"t\":{i},\"ch\":\"i\",\"d\":\"{k}\"}}\n"
                ));
            }
            std::fs::write(dir.path().join("d1/ssh/transcripts").join(name), body).expect("write");
        }
        let shards: Vec<ShardPath> = names
            .iter()
            .map(|n| root.shard("d1", "ssh", n).expect("shard"))
            .collect();
        // Room for one small index, not two.
        let one = {
            let c = ShardCache::new();
            c.read_session(&shards[0], SID).expect("read");
            c.kept_bytes()
        };
        assert!(one > 0);
        let cache = ShardCache::with_max_bytes(one + one / 2);
        assert_eq!(
            cache
                .read_session(&shards[0], SID)
                .expect("read")
                .events
                .len(),
            200
        );
        assert!(cache.indexed_bytes(&shards[0].path).is_some());
        let r = cache.read_session(&shards[1], SID).expect("read");
        assert_eq!(r.events.len(), 200);
        assert_eq!(
            r.events.to_events()[0],
            decnet_engine::Event::new(0.0, decnet_engine::EventKind::Input, "1")
        );
        assert!(
            cache.indexed_bytes(&shards[0].path).is_none(),
            "LRU dropped"
        );
        assert!(
            cache.indexed_bytes(&shards[1].path).is_some(),
            "in use kept"
        );
        assert!(cache.kept_bytes() <= one + one / 2);
        // A budget smaller than one index still serves it (and keeps it).
        let tiny = ShardCache::with_max_bytes(1);
        assert_eq!(
            tiny.read_session(&shards[0], SID)
                .expect("read")
                .events
                .len(),
            200
        );
        assert!(tiny.indexed_bytes(&shards[0].path).is_some());
        assert_eq!(
            tiny.read_session(&shards[1], SID)
                .expect("read")
                .events
                .len(),
            200
        );
        assert!(tiny.indexed_bytes(&shards[0].path).is_none());
        assert_eq!(
            tiny.read_session(&shards[0], SID)
                .expect("read")
                .events
                .len(),
            200
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
