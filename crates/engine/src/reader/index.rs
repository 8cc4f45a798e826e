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

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::keystroke::keystroke_into;
use super::line::{
    fast_event_into, fast_event_strict_into, parse_event_into, read_line_into, scan_line, LineKind,
    SkipReason,
};
use super::lines::LineSplitter;
use crate::event::{EventBuf, Text};

/// One event line of a session: absolute byte offset and content length
/// (terminator excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpan {
    pub offset: u64,
    pub len: u64,
}

/// One session's event-line spans, in push order, stored compactly: per
/// span a LEB128 varint of the gap from the end of the previous span plus
/// one (so a typical interleaved line costs 2–3 bytes instead of 16), then
/// a varint of the length. A span that starts before the previous one's
/// end (never the case for spans pushed by [`ShardIndex::feed`], which are
/// in file order, but any `u64` values are accepted) is escaped: a `0`
/// gap byte, then its absolute offset. Lengths and offsets are never
/// truncated: every `u64` round-trips (at most 10 bytes each).
///
/// The buffer grows by a quarter at a time (not doubling), so the slack
/// is at most ~25 % of the encoded size.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SpanList {
    bytes: Vec<u8>,
    count: usize,
    /// `offset + len` (wrapping) of the last span: the base of the next gap.
    next: u64,
}

/// Longest LEB128 encoding of a `u64`.
const VARINT_MAX: usize = 10;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decodes one varint from `bytes[*pos..]`; `None` on a truncated or
/// over-long encoding (not produced by [`put_varint`]).
fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        let part = u64::from(b & 0x7f);
        if shift == 63 && part > 1 {
            return None;
        }
        v |= part << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl SpanList {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends a span (any values; see the type's docs).
    pub fn push(&mut self, span: LineSpan) {
        let need = 3 * VARINT_MAX;
        if self.bytes.capacity() - self.bytes.len() < need {
            let grow = (self.bytes.len() / 4).max(need).max(16);
            self.bytes.reserve_exact(grow);
        }
        match span
            .offset
            .checked_sub(self.next)
            .and_then(|g| g.checked_add(1))
        {
            Some(gap1) => put_varint(&mut self.bytes, gap1),
            None => {
                self.bytes.push(0);
                put_varint(&mut self.bytes, span.offset);
            }
        }
        put_varint(&mut self.bytes, span.len);
        self.next = span.offset.wrapping_add(span.len);
        self.count += 1;
    }

    /// The spans, in push order.
    pub fn iter(&self) -> SpanIter<'_> {
        SpanIter {
            bytes: &self.bytes,
            pos: 0,
            next: 0,
            left: self.count,
        }
    }

    /// Heap bytes held (the encoded spans plus growth slack).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    /// Bytes of the encoding (without slack).
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }
}

impl std::fmt::Debug for SpanList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a SpanList {
    type Item = LineSpan;
    type IntoIter = SpanIter<'a>;
    fn into_iter(self) -> SpanIter<'a> {
        self.iter()
    }
}

impl FromIterator<LineSpan> for SpanList {
    fn from_iter<I: IntoIterator<Item = LineSpan>>(iter: I) -> Self {
        let mut l = SpanList::new();
        for s in iter {
            l.push(s);
        }
        l
    }
}

/// Iterator over a [`SpanList`].
#[derive(Debug, Clone)]
pub struct SpanIter<'a> {
    bytes: &'a [u8],
    pos: usize,
    next: u64,
    left: usize,
}

impl Iterator for SpanIter<'_> {
    type Item = LineSpan;

    fn next(&mut self) -> Option<LineSpan> {
        if self.left == 0 {
            return None;
        }
        let decoded = (|| {
            let gap1 = get_varint(self.bytes, &mut self.pos)?;
            let offset = match gap1 {
                0 => get_varint(self.bytes, &mut self.pos)?,
                g => self.next.checked_add(g - 1)?,
            };
            let len = get_varint(self.bytes, &mut self.pos)?;
            Some(LineSpan { offset, len })
        })();
        match decoded {
            Some(s) => {
                self.next = s.offset.wrapping_add(s.len);
                self.left -= 1;
                Some(s)
            }
            None => {
                // Only reachable if the encoding were corrupt: stop.
                self.left = 0;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// Everything the index knows about one sid.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    pub sid: Text,
    /// Event lines in file order (compact: ~2–3 bytes per line).
    pub spans: SpanList,
    /// Line number of the first line whose `t` makes the reference raise.
    pub raises_at: Option<u64>,
    /// `hdr.timestamp` of the sid's first header line, when that header
    /// carries a JSON integer there (issue 3 item 3: a float, a string, a
    /// missing field or a later header give no epoch).
    pub header_timestamp: Option<f64>,
    /// Whether a header line of this sid has been seen: only the first
    /// one counts for [`header_timestamp`](Self::header_timestamp).
    pub header_seen: bool,
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
    /// FxHash of a sid → the newest session with that hash; `chain[i]` is
    /// the next older one with the same hash. The sid itself is stored once
    /// (in its entry), not again as a map key.
    by_hash: HashMap<u64, usize, BuildHasherDefault<FxHasher>>,
    chain: Vec<usize>,
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
        self.find(sid_hash(sid), sid).map(|i| &self.sessions[i])
    }

    fn find(&self, hash: u64, sid: &[u32]) -> Option<usize> {
        let mut i = *self.by_hash.get(&hash)?;
        loop {
            let e = self.sessions.get(i)?;
            if e.sid == sid {
                return Some(i);
            }
            i = *self.chain.get(i)?;
        }
    }

    /// Heap bytes held by the index (spans with their slack, sids, entries
    /// and the hash table), an estimate for cache budgets.
    pub fn heap_bytes(&self) -> usize {
        let per_session: usize = self
            .sessions
            .iter()
            .map(|e| e.spans.heap_bytes() + e.sid.capacity() * std::mem::size_of::<u32>())
            .sum();
        per_session
            + self.sessions.capacity() * std::mem::size_of::<SessionEntry>()
            + self.chain.capacity() * std::mem::size_of::<usize>()
            // hashbrown: key + value + one control byte per bucket.
            + self.by_hash.capacity() * (std::mem::size_of::<(u64, usize)>() + 1)
            + self.sid_buf.capacity() * std::mem::size_of::<u32>()
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
            let hash = sid_hash(&self.sid_buf);
            let idx = match self.find(hash, &self.sid_buf) {
                Some(i) => i,
                None => {
                    let i = self.sessions.len();
                    self.sessions.push(SessionEntry {
                        sid: self.sid_buf.clone(),
                        spans: SpanList::new(),
                        raises_at: None,
                        header_timestamp: None,
                        header_seen: false,
                        has_body: false,
                    });
                    let older = self.by_hash.insert(hash, i).unwrap_or(usize::MAX);
                    self.chain.push(older);
                    i
                }
            };
            let entry = &mut self.sessions[idx];
            match kind {
                LineKind::Header { timestamp } => {
                    if !entry.header_seen {
                        entry.header_seen = true;
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
    pub events: EventBuf,
    pub status: SessionStatus,
}

/// Parses the events of one indexed session from the shard bytes `shard`
/// (the whole file, offsets absolute). Spans outside `shard` are skipped.
pub fn session_events(shard: &[u8], entry: &SessionEntry) -> EventBuf {
    let mut out = EventBuf::with_capacity(entry.spans.len(), 0);
    // The usual keystroke line names the sid as these bytes (a sid that is
    // a plain JSON string by itself): read it without the scanner.
    let plain: Option<Vec<u8>> = entry
        .sid
        .iter()
        .map(|&c| u8::try_from(c).ok().filter(|&b| is_plain_sid_byte(b)))
        .collect();
    for s in entry.spans.iter() {
        let Ok(start) = usize::try_from(s.offset) else {
            continue;
        };
        let Some(end) = usize::try_from(s.len)
            .ok()
            .and_then(|l| start.checked_add(l))
        else {
            continue;
        };
        if let Some(line) = shard.get(start..end) {
            if let Some(sid) = plain.as_deref() {
                let q = SID_PREFIX.len() + sid.len();
                // The span is the line's content: a keystroke line ends
                // with its `}` there. (`keystroke_into` checks the quote
                // closing the sid at `q`.)
                if line.starts_with(SID_PREFIX)
                    && line.get(SID_PREFIX.len()..q) == Some(sid)
                    && keystroke_into(shard, start + q, Some(end), &mut out).is_some()
                {
                    continue;
                }
            }
            parse_event_into(line, &mut out);
        }
    }
    out
}

/// A sid byte that stands for itself inside a JSON string (printable
/// ASCII, no backslash or quote).
#[inline]
fn is_plain_sid_byte(b: u8) -> bool {
    (0x20..=0x7F).contains(&b) && b != b'\\' && b != b'"'
}

/// The bytes between `{"sid":"` and the next `"` of a line, unvalidated:
/// only a hint for finding the line's session before [`fast_event_into`]
/// parses the line. When that accepts it, its sid is exactly these bytes
/// (an accepted sid is ASCII without escapes, so it ends at the first
/// quote); when the hint names another session, the sids differ and the
/// fast path refuses the line, which then takes the general way.
#[inline]
fn peek_sid(line: &[u8]) -> Option<std::ops::Range<usize>> {
    let rest = line.strip_prefix(SID_PREFIX)?;
    let n = memchr::memchr(b'"', rest)?;
    (n > 0).then_some(SID_PREFIX.len()..SID_PREFIX.len() + n)
}

/// How the recorder's lines start.
const SID_PREFIX: &[u8] = b"{\"sid\":\"";

/// A sid as a map key: its bytes when it is ASCII (what the fast path
/// reads straight from the line, so the usual line needs no widening),
/// else a `0xFF` marker (never in ASCII) and the code points.
fn sid_key(sid: &[u32], out: &mut Vec<u8>) {
    out.clear();
    if sid.iter().all(|&c| c < 0x80) {
        out.extend(sid.iter().map(|&c| c as u8));
    } else {
        out.push(0xFF);
        for &c in sid {
            out.extend_from_slice(&c.to_le_bytes());
        }
    }
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
    let mut by_sid: BySid = HashMap::default();
    let mut by_prefix = SidPrefixes::default();
    let mut sid = Text::new();
    let mut key: Vec<u8> = Vec::new();
    // A line's event when its session is not known yet, or its events are
    // dropped (the session raised): decoded here, then moved or dropped.
    let mut spare = EventBuf::new();
    // Consecutive lines often share a sid: compare the line's raw sid
    // bytes with the last one's before any lookup. Only set from lines the
    // fast path accepted, so these bytes are a plain ASCII sid.
    let mut last: Option<(usize, std::ops::Range<usize>)> = None;
    let mut pos = 0;
    let mut line_no = 0u64;
    while pos < shard.len() {
        line_no += 1;
        // The usual line: the recorder's exact shape, read straight from
        // the shard (no separate line split) onto its session's buffer.
        if shard[pos..].starts_with(SID_PREFIX) {
            let sid_at = pos + SID_PREFIX.len();
            // The previous line's session, its sid bytes not scanned again.
            let same = last.as_ref().and_then(|(i, r)| {
                let n = r.len();
                (shard.get(sid_at + n) == Some(&b'"')
                    && shard
                        .get(sid_at..sid_at + n)
                        .is_some_and(|s| same_bytes(s, &shard[r.clone()])))
                .then_some((*i, n))
            });
            // Else a known plain sid found by its first eight bytes (no
            // scan for the closing quote, no hash of the whole sid), else
            // the session named by the raw bytes up to the next quote (a
            // hint: the fast path validates the sid).
            let known = same.map(|(i, n)| (i, n, true)).or_else(|| {
                if let Some((i, n)) = by_prefix.find(shard, sid_at) {
                    return Some((i, n, true));
                }
                let r = peek_sid(&shard[pos..])?;
                let raw = pos + r.start..pos + r.end;
                let &(i, plain) = by_sid.get(&shard[raw.clone()])?;
                // Known from its header line, or from a line of the
                // general way: found by its prefix from now on.
                by_prefix.insert(shard, raw, i);
                Some((i, r.len(), plain))
            });
            if let Some((i, n, plain)) = known {
                let (s, has_body) = &mut sessions[i];
                // `spare` is only cleared when it is written to: a clear per
                // line was 1 % of the pipeline.
                let dest = if s.status == SessionStatus::Ok {
                    &mut s.events
                } else {
                    spare.clear();
                    &mut spare
                };
                // The usual keystroke or echo first, without the scanner
                // (it refuses anything else). Its sid bytes are the
                // previous line's, or a known key that is a plain JSON
                // string by itself, so they need no validation.
                if plain {
                    if let Some(end) = keystroke_into(shard, sid_at + n, None, dest) {
                        *has_body = true;
                        last = Some((i, sid_at..sid_at + n));
                        pos = line_after(shard, end);
                        continue;
                    }
                }
                let hint = same.map(|_| n);
                if let Some((f, end)) = fast_event_strict_into(shard, pos, hint, dest) {
                    *has_body = true;
                    last = Some((i, f.sid_start..f.sid_end));
                    pos = line_after(shard, end);
                    continue;
                }
            } else {
                // A new session's first event line.
                spare.clear();
                if let Some((f, end)) = fast_event_strict_into(shard, pos, None, &mut spare) {
                    let raw = f.sid_start..f.sid_end;
                    sid.clear();
                    sid.extend(shard[raw.clone()].iter().map(|&b| u32::from(b)));
                    let i = new_session(
                        &mut sessions,
                        &mut by_sid,
                        &sid,
                        shard[raw.clone()].to_vec(),
                    );
                    by_prefix.insert(shard, raw.clone(), i);
                    let (s, has_body) = &mut sessions[i];
                    *has_body = true;
                    std::mem::swap(&mut s.events, &mut spare);
                    last = Some((i, raw));
                    pos = line_after(shard, end);
                    continue;
                }
            }
        }
        // Anything else: split the line off and read it the general way.
        let Some(l) = LineSplitter::new(&shard[pos..], true).next() else {
            break;
        };
        let line = &shard[pos + l.start..pos + l.end];
        let line_start = pos;
        pos += l.next;
        spare.clear();
        if let Some((f, _)) = fast_event_into(line, &mut spare) {
            // The recorder's shape with whitespace between tokens.
            let raw = line_start + f.sid_start..line_start + f.sid_end;
            let i = match by_sid.get(&shard[raw.clone()]) {
                Some(&(i, _)) => i,
                None => {
                    sid.clear();
                    sid.extend(shard[raw.clone()].iter().map(|&b| u32::from(b)));
                    let key = shard[raw.clone()].to_vec();
                    new_session(&mut sessions, &mut by_sid, &sid, key)
                }
            };
            last = Some((i, raw));
            let (s, has_body) = &mut sessions[i];
            *has_body = true;
            if s.status == SessionStatus::Ok {
                s.events.append(&spare);
            }
            continue;
        }
        spare.clear();
        let kind = read_line_into(line, &mut sid, &mut spare);
        if matches!(kind, LineKind::Skip(_)) && sid.is_empty() {
            continue;
        }
        sid_key(&sid, &mut key);
        let idx = match by_sid.get(&key[..]) {
            Some(&(i, _)) => i,
            None => new_session(&mut sessions, &mut by_sid, &sid, key.clone()),
        };
        last = None;
        let (s, has_body) = &mut sessions[idx];
        match kind {
            LineKind::Header { .. } => {}
            LineKind::Event => {
                *has_body = true;
                if s.status == SessionStatus::Ok {
                    s.events.append(&spare);
                }
            }
            LineKind::Raises => {
                *has_body = true;
                if s.status == SessionStatus::Ok {
                    s.status = SessionStatus::Raises { line_no };
                    s.events = EventBuf::new();
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

/// Plain sids (see [`is_plain_sid_byte`]) of at least eight bytes, by
/// their first eight bytes, each with where the shard first holds it: a
/// line whose sid starts with a known prefix is that session's when the
/// full sid and its closing quote match. Two sessions whose sids share a
/// prefix (not the recorder's UUIDs, but possible) are both left to the
/// map of whole sids.
#[derive(Default)]
struct SidPrefixes {
    /// Prefix → (session, start and length of its sid in the shard), or
    /// `None` once the prefix is shared.
    map: HashMap<u64, Option<(usize, usize, usize)>, BuildHasherDefault<FxHasher>>,
}

impl SidPrefixes {
    fn prefix(shard: &[u8], at: usize) -> Option<u64> {
        let w: [u8; 8] = shard.get(at..at + 8)?.try_into().ok()?;
        Some(u64::from_le_bytes(w))
    }

    /// Records the plain sid at `shard[raw]` as session `i`'s.
    fn insert(&mut self, shard: &[u8], raw: std::ops::Range<usize>, i: usize) {
        let plain = shard[raw.clone()].iter().all(|&b| is_plain_sid_byte(b));
        let Some(p) = Self::prefix(shard, raw.start).filter(|_| plain && raw.len() >= 8) else {
            return;
        };
        match self.map.entry(p) {
            Entry::Occupied(mut e) => {
                if e.get().is_some_and(|(j, _, _)| j != i) {
                    e.insert(None);
                }
            }
            Entry::Vacant(e) => {
                e.insert(Some((i, raw.start, raw.len())));
            }
        }
    }

    /// The session whose sid is the one at `shard[at..]` (followed by its
    /// closing quote), and that sid's length.
    #[inline]
    fn find(&self, shard: &[u8], at: usize) -> Option<(usize, usize)> {
        let (i, first, n) = (*self.map.get(&Self::prefix(shard, at)?)?)?;
        (shard.get(at + n) == Some(&b'"')
            && shard
                .get(at..at + n)
                .is_some_and(|s| same_bytes(s, &shard[first..first + n])))
        .then_some((i, n))
    }
}

/// `a == b`, compared 8 bytes at a time inline (sids are short: a `memcmp`
/// call per line cost more than the comparison).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if b.len() != n {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    let word = |s: &[u8], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(w)
    };
    // Whole words, then the last eight bytes (overlapping the last word):
    // no byte-wise tail.
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// Where the line whose content ends at `end` is followed by the next one
/// (`\n`, `\r\n` or a lone `\r`, as [`LineSplitter`] at end of data).
#[inline]
fn line_after(shard: &[u8], end: usize) -> usize {
    match shard.get(end) {
        Some(b'\n') => end + 1,
        Some(b'\r') if shard.get(end + 1) == Some(&b'\n') => end + 2,
        Some(b'\r') => end + 1,
        _ => end,
    }
}

/// Events room a new session of [`group_sessions`] starts with.
const NEW_SESSION_EVENTS: usize = 128;

/// Raw sid bytes (see [`sid_key`]) → (session, the key is a plain JSON
/// string by itself: printable ASCII, no backslash or quote).
type BySid = HashMap<Vec<u8>, (usize, bool), BuildHasherDefault<FxHasher>>;

fn new_session(
    sessions: &mut Vec<(GroupedSession, bool)>,
    by_sid: &mut BySid,
    sid: &[u32],
    key: Vec<u8>,
) -> usize {
    let i = sessions.len();
    sessions.push((
        GroupedSession {
            sid: sid.to_vec(),
            // Sessions hold hundreds of events: skip the first doublings.
            events: EventBuf::with_capacity(NEW_SESSION_EVENTS, 0),
            status: SessionStatus::Ok,
        },
        false,
    ));
    let plain = key.iter().all(|&b| is_plain_sid_byte(b));
    by_sid.insert(key, (i, plain));
    i
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
                events: EventBuf::new(),
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

fn sid_hash(sid: &[u32]) -> u64 {
    let mut h = FxHasher::default();
    for &c in sid {
        h.write_u32(c);
    }
    h.write_usize(sid.len());
    h.finish()
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

#[cfg(test)]
mod span_tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(spans: &[LineSpan]) {
        let list: SpanList = spans.iter().copied().collect();
        assert_eq!(list.len(), spans.len());
        assert_eq!(list.iter().collect::<Vec<_>>(), spans);
        assert!(list.heap_bytes() >= list.encoded_len());
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        let base: Vec<u8> = (0..40u8).collect();
        for n in 0..40 {
            let a = &base[..n];
            assert!(same_bytes(a, a));
            for k in 0..n {
                let mut b = a.to_vec();
                b[k] ^= 0x20;
                assert!(!same_bytes(a, &b), "{n} {k}");
            }
            assert!(!same_bytes(a, &base[..n + 1]));
        }
    }

    #[test]
    fn edge_values_round_trip() {
        let m = u64::MAX;
        let s = |offset, len| LineSpan { offset, len };
        round_trip(&[]);
        round_trip(&[s(0, 0)]);
        round_trip(&[s(0, 0), s(0, 0), s(0, 1), s(1, 0)]);
        round_trip(&[s(m, m), s(0, m), s(m, 0), s(m - 1, 1), s(0, 0)]);
        // Gap of u64::MAX (offset MAX after an empty span at 0): escaped.
        round_trip(&[s(0, 0), s(m, 7)]);
        // Backwards, overlapping, wrapping end.
        round_trip(&[s(100, 50), s(120, 10), s(5, m), s(3, 2)]);
        // A line far longer than the recorder's bound is kept whole.
        round_trip(&[s(10, 8312), s(9000, 1 << 40), s((1 << 40) + 9000, 3)]);
    }

    #[test]
    fn typical_lines_are_small() {
        // An interleaved shard: ~100-byte lines a few KiB apart.
        let list: SpanList = (0..10_000u64)
            .map(|i| LineSpan {
                offset: i * 3000,
                len: 100 + i % 20,
            })
            .collect();
        assert!(list.encoded_len() <= 3 * 10_000, "{}", list.encoded_len());
        assert!(list.heap_bytes() <= list.encoded_len() * 5 / 4 + 64);
    }

    #[test]
    fn corrupt_encoding_stops_without_panic() {
        for bytes in [
            vec![],
            vec![0x80],
            vec![0xff; 11],
            vec![
                0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
            vec![5],
        ] {
            let list = SpanList {
                bytes,
                count: 3,
                next: u64::MAX,
            };
            assert!(list.iter().count() <= 3);
        }
    }

    #[test]
    fn long_lines_are_indexed_exactly() {
        let mut shard = b"{\"sid\":\"a\",\"t\":1,\"ch\":\"i\",\"d\":\"".to_vec();
        shard.extend(vec![b'x'; 300_000]);
        shard.extend(b"\"}\n{\"sid\":\"b\",\"t\":1,\"ch\":\"o\",\"d\":\"y\"}\n");
        shard.extend(b"{\"sid\":\"a\",\"t\":2,\"ch\":\"i\",\"d\":\"z\"}");
        let mut idx = ShardIndex::new();
        idx.feed(&shard, true, |_| {});
        let spans: Vec<LineSpan> = idx
            .session(&[u32::from('a')])
            .expect("a")
            .spans
            .iter()
            .collect();
        assert_eq!(spans.len(), 2);
        let first_len = shard.iter().position(|&b| b == b'\n').expect("newline") as u64;
        assert!(first_len > 300_000);
        assert_eq!(
            spans[0],
            LineSpan {
                offset: 0,
                len: first_len
            }
        );
        assert_eq!(spans[1].offset + spans[1].len, shard.len() as u64);
        assert_eq!(group_sessions_two_pass(&shard), group_sessions(&shard));
    }

    /// Sids that share their first eight bytes, one the prefix of the
    /// others, one with an escape, some known first from a header line:
    /// the prefix table must never hand a line to the wrong session.
    #[test]
    fn sids_sharing_a_prefix_group_like_the_two_pass_reader() {
        let sids = [
            "abcdefgh",
            "abcdefgh-1",
            "abcdefgh-2",
            "abcdefgh\\u0041",
            "abcdefgX",
            "abc",
        ];
        let mut next = crate::xorshift(0x51D5);
        // First a short sid, then a longer one it is a prefix of (the
        // prefix table then holds the short one: only its closing quote
        // tells the two apart), then the short one again.
        let mut shard = Vec::new();
        for (sid, t) in [("abcdefgh", 0.5), ("abcdefgh-1", 0.75), ("abcdefgh", 0.875)] {
            shard.extend(
                format!("{{\"sid\":\"{sid}\",\"t\":{t},\"ch\":\"i\",\"d\":\"k\"}}\n").bytes(),
            );
        }
        for (k, sid) in sids.iter().enumerate() {
            if k % 2 == 0 {
                shard.extend(format!("{{\"sid\":\"{sid}\",\"hdr\":{{\"version\":2}}}}\n").bytes());
            }
        }
        for i in 0..600 {
            let sid = sids[(next() % sids.len() as u64) as usize];
            let (ch, d) = if i % 3 == 0 {
                ("o", "out\\r\\n$ ")
            } else {
                ("i", "k")
            };
            shard.extend(
                format!(
                    "{{\"sid\":\"{sid}\",\"t\":{}.25,\"ch\":\"{ch}\",\"d\":\"{d}\"}}\n",
                    i + 1
                )
                .bytes(),
            );
        }
        let one = group_sessions(&shard);
        assert_eq!(one.len(), sids.len());
        assert_eq!(group_sessions_two_pass(&shard), one);
    }

    fn span() -> impl Strategy<Value = LineSpan> {
        let both = (any::<u64>(), any::<u64>());
        let small = (0u64..1 << 20, 0u64..20_000);
        prop_oneof![
            both,
            small,
            (Just(u64::MAX), any::<u64>()),
            (any::<u64>(), Just(u64::MAX))
        ]
        .prop_map(|(offset, len)| LineSpan { offset, len })
    }

    proptest! {
        #[test]
        fn any_spans_round_trip(spans in proptest::collection::vec(span(), 0..200)) {
            round_trip(&spans);
        }

        #[test]
        fn file_order_spans_round_trip(
            steps in proptest::collection::vec((0u64..100_000, prop_oneof![0u64..300, 0u64..(1 << 33)]), 0..300),
            start in any::<u32>(),
        ) {
            let mut off = u64::from(start);
            let spans: Vec<LineSpan> = steps
                .iter()
                .map(|&(gap, len)| {
                    off += gap;
                    let s = LineSpan { offset: off, len };
                    off += len + 1;
                    s
                })
                .collect();
            round_trip(&spans);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64), count in 0usize..40) {
            let list = SpanList { bytes, count, next: 0 };
            prop_assert!(list.iter().count() <= count);
        }
    }
}
