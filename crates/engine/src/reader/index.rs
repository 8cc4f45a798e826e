//! Grouping lines by session with bounded memory.
//!
//! [`ShardIndex`] is built from a first pass over a shard's bytes: for each
//! sid (in order of first appearance) it records the byte spans of its
//! event lines in file order, whether one of its lines makes the reference
//! raise, and its header's `timestamp`. A second pass then reads and parses
//! one session at a time, so memory is bounded by the index plus the
//! largest session, not by the file (day-shards reach gigabytes).
//!
//! The index grows incrementally: [`ShardIndex::feed`] takes the next bytes
//! of the shard, indexes the complete lines and says how many bytes it used;
//! the caller keeps the rest for the next call. With `at_eof = false` an
//! unterminated tail is never indexed (a live shard's last line may still
//! be being written).
//!
//! Which sids form a session, as the reference harness groups them: every
//! line that is a JSON object with a non-empty string `sid` and no `hdr`
//! key puts its sid in the index (even if the line itself is then skipped,
//! e.g. a resize); only event lines are kept as spans. Header-only sids get
//! an entry too (with no spans) so their header timestamp is kept.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::line::{parse_event, read_line_with, scan_line, LineKind, SkipReason};
use super::lines::LineSplitter;
use crate::event::{Event, Text};

/// One event line of a session: absolute byte offset and content length
/// (terminator excluded). 16 bytes per event line is the index's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpan {
    pub offset: u64,
    pub len: u64,
}

/// Everything the index knows about one sid.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    pub sid: Text,
    /// Event lines in file order.
    pub spans: Vec<LineSpan>,
    /// Line number of the first line whose `t` makes the reference raise.
    pub raises_at: Option<u64>,
    /// `hdr.timestamp` of the first header line carrying a numeric one.
    pub header_timestamp: Option<f64>,
    /// Whether any non-header line carries this sid (the reference harness
    /// only extracts sids that have such a line).
    pub has_body: bool,
}

/// A refused line, for reporting: line number and fixed reason only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedLine {
    pub line_no: u64,
    pub offset: u64,
    pub reason: SkipReason,
}

/// Incremental sid → line-span index of one shard.
#[derive(Debug, Default)]
pub struct ShardIndex {
    sessions: Vec<SessionEntry>,
    by_sid: HashMap<Text, usize, BuildHasherDefault<FxHasher>>,
    /// Absolute offset of the first byte not yet indexed.
    scanned_to: u64,
    /// Lines indexed so far.
    lines: u64,
    sid_buf: Text,
}

impl ShardIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Absolute offset where the next [`feed`](Self::feed) must start.
    pub fn scanned_to(&self) -> u64 {
        self.scanned_to
    }

    /// Number of lines indexed so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Sessions in order of first appearance.
    pub fn sessions(&self) -> &[SessionEntry] {
        &self.sessions
    }

    pub fn session(&self, sid: &[u32]) -> Option<&SessionEntry> {
        self.by_sid.get(sid).map(|&i| &self.sessions[i])
    }

    /// Indexes the complete lines of `buf`, which holds the shard's bytes
    /// from [`scanned_to`](Self::scanned_to) on. `at_eof`: `buf` reaches
    /// the end of a finished file, so an unterminated last line counts.
    /// Calls `on_skip` for every refused line. Returns the number of bytes
    /// consumed; the caller passes the rest again, followed by more data.
    pub fn feed(
        &mut self,
        buf: &[u8],
        at_eof: bool,
        mut on_skip: impl FnMut(SkippedLine),
    ) -> usize {
        let base = self.scanned_to;
        let mut split = LineSplitter::new(buf, at_eof);
        for l in split.by_ref() {
            self.lines += 1;
            let line_no = self.lines;
            let offset = base + l.start as u64;
            let content = &buf[l.start..l.end];
            let kind = scan_line(content, &mut self.sid_buf);
            if let LineKind::Skip(reason) = kind {
                on_skip(SkippedLine {
                    line_no,
                    offset,
                    reason,
                });
                if self.sid_buf.is_empty() {
                    continue;
                }
            }
            let idx = match self.by_sid.get(&self.sid_buf[..]) {
                Some(&i) => i,
                None => {
                    let i = self.sessions.len();
                    self.sessions.push(SessionEntry {
                        sid: self.sid_buf.clone(),
                        spans: Vec::new(),
                        raises_at: None,
                        header_timestamp: None,
                        has_body: false,
                    });
                    self.by_sid.insert(self.sid_buf.clone(), i);
                    i
                }
            };
            let entry = &mut self.sessions[idx];
            match kind {
                LineKind::Header { timestamp } => {
                    if entry.header_timestamp.is_none() {
                        entry.header_timestamp = timestamp;
                    }
                }
                LineKind::Event => {
                    entry.has_body = true;
                    entry.spans.push(LineSpan {
                        offset,
                        len: (l.end - l.start) as u64,
                    });
                }
                LineKind::Raises => {
                    entry.has_body = true;
                    entry.raises_at.get_or_insert(line_no);
                }
                LineKind::Skip(_) => entry.has_body = true,
            }
        }
        let used = split.consumed();
        self.scanned_to = base + used as u64;
        used
    }
}

/// Whether a session can be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Ok,
    /// A line's `t` is an integer too large for a float (at this line
    /// number): the reference raises, the session yields nothing.
    Raises {
        line_no: u64,
    },
}

/// One session of an in-memory shard.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedSession {
    pub sid: Text,
    pub events: Vec<Event>,
    pub status: SessionStatus,
}

/// Parses the events of one indexed session from the shard bytes `shard`
/// (the whole file, offsets absolute). Spans outside `shard` are skipped.
pub fn session_events(shard: &[u8], entry: &SessionEntry) -> Vec<Event> {
    entry
        .spans
        .iter()
        .filter_map(|s| {
            let start = usize::try_from(s.offset).ok()?;
            let end = start.checked_add(usize::try_from(s.len).ok()?)?;
            parse_event(shard.get(start..end)?)
        })
        .collect()
}

/// Groups a whole in-memory shard into sessions (sids with at least one
/// non-header line, in order of first appearance), for tests and benches.
/// A raising session has no events.
///
/// One pass: each line is parsed once, straight into its session (the
/// whole shard is in memory anyway). Gives exactly what
/// [`group_sessions_two_pass`] (a [`ShardIndex`] plus [`session_events`]
/// per session, the bounded-memory way) gives.
pub fn group_sessions(shard: &[u8]) -> Vec<GroupedSession> {
    let mut sessions: Vec<(GroupedSession, bool)> = Vec::new();
    let mut by_sid: HashMap<Text, usize, BuildHasherDefault<FxHasher>> = HashMap::default();
    let mut sid = Text::new();
    let mut scratch = Text::new();
    // Consecutive lines usually share a sid: skip the lookup then.
    let mut last: Option<usize> = None;
    for (k, l) in LineSplitter::new(shard, true).enumerate() {
        let line_no = k as u64 + 1;
        let (kind, event) = read_line_with(&shard[l.start..l.end], &mut sid, &mut scratch);
        if matches!(kind, LineKind::Skip(_)) && sid.is_empty() {
            continue;
        }
        let idx = match last {
            Some(i) if sessions[i].0.sid == sid => i,
            _ => {
                let i = match by_sid.get(&sid[..]) {
                    Some(&i) => i,
                    None => {
                        let i = sessions.len();
                        sessions.push((
                            GroupedSession {
                                sid: sid.clone(),
                                events: Vec::new(),
                                status: SessionStatus::Ok,
                            },
                            false,
                        ));
                        by_sid.insert(sid.clone(), i);
                        i
                    }
                };
                last = Some(i);
                i
            }
        };
        let (s, has_body) = &mut sessions[idx];
        match kind {
            LineKind::Header { .. } => {}
            LineKind::Event => {
                *has_body = true;
                if s.status == SessionStatus::Ok {
                    s.events.extend(event);
                }
            }
            LineKind::Raises => {
                *has_body = true;
                if s.status == SessionStatus::Ok {
                    s.status = SessionStatus::Raises { line_no };
                    s.events = Vec::new();
                }
            }
            LineKind::Skip(_) => *has_body = true,
        }
    }
    sessions
        .into_iter()
        .filter_map(|(s, has_body)| has_body.then_some(s))
        .collect()
}

/// [`group_sessions`] the bounded-memory way (index pass, then one session
/// at a time), as the CLI reads files: the reference for equivalence tests.
pub fn group_sessions_two_pass(shard: &[u8]) -> Vec<GroupedSession> {
    let mut index = ShardIndex::new();
    index.feed(shard, true, |_| {});
    index
        .sessions()
        .iter()
        .filter(|e| e.has_body)
        .map(|e| match e.raises_at {
            Some(line_no) => GroupedSession {
                sid: e.sid.clone(),
                events: Vec::new(),
                status: SessionStatus::Raises { line_no },
            },
            None => GroupedSession {
                sid: e.sid.clone(),
                events: session_events(shard, e),
                status: SessionStatus::Ok,
            },
        })
        .collect()
}

/// FxHash (rustc's): sids are looked up once per line, and SipHash's
/// DoS resistance buys nothing for a map rebuilt per shard file whose keys
/// an attacker controls only as far as the recorder lets them.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}
