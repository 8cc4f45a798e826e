//! Reading shard files with bounded memory: a streaming first pass builds
//! the engine's [`ShardIndex`] (sid → event-line spans), then each session's
//! lines are read back with positioned reads, one session at a time.
//! Memory is the index plus the largest session, whatever the file size.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use decnet_engine::reader::{
    index::SkippedLine, line::parse_event_into, LineSpan, SessionEntry, ShardIndex, SpanList,
};
use decnet_engine::EventBuf;

/// Bytes read per call in the indexing pass.
const CHUNK: usize = 1 << 20;
/// Spans closer than this are fetched with one read in the second pass.
const MAX_GAP: u64 = 64 << 10;
/// Upper bound of one coalesced read (a single longer line is read whole).
const MAX_READ: u64 = 4 << 20;

/// Indexes a whole (finished) shard from `file`, streaming. An
/// unterminated last line is a line, as in the reference.
pub fn index_file(file: &mut File, on_skip: impl FnMut(SkippedLine)) -> io::Result<ShardIndex> {
    let mut index = ShardIndex::new();
    index_more(file, &mut index, true, on_skip)?;
    Ok(index)
}

/// Extends `index` with the bytes of `file` from `index.scanned_to()` on.
/// With `at_eof = false` (a live shard) an unterminated tail is left for a
/// later call.
pub fn index_more(
    file: &mut File,
    index: &mut ShardIndex,
    at_eof: bool,
    mut on_skip: impl FnMut(SkippedLine),
) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut pos = index.scanned_to();
    loop {
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let n = read_at_full(file, &mut buf[old..], pos)?;
        buf.truncate(old + n);
        pos += n as u64;
        let done = n == 0;
        let used = index.feed(&buf, done && at_eof, &mut on_skip);
        buf.drain(..used);
        if done {
            return Ok(());
        }
    }
}

/// `read_at` until `buf` is full or the end of the file.
fn read_at_full(file: &File, buf: &mut [u8], mut pos: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], pos) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads and parses one indexed session's events, in file order. `buf` is
/// a reusable scratch buffer. A span that no longer parses as an event
/// (the file changed between the passes) is dropped.
pub fn read_session(file: &File, entry: &SessionEntry, buf: &mut Vec<u8>) -> io::Result<EventBuf> {
    read_spans(file, &entry.spans, buf, MAX_GAP, MAX_READ)
}

/// Reads and parses the event lines at `spans` (file order). Lines at most
/// `max_gap` bytes apart are fetched with one positioned read of at most
/// `max_read` bytes; the daemon passes a small gap so a session interleaved
/// with many others costs O(its own bytes). A span that no longer parses as
/// an event is dropped.
pub fn read_spans(
    file: &File,
    spans: &SpanList,
    buf: &mut Vec<u8>,
    max_gap: u64,
    max_read: u64,
) -> io::Result<EventBuf> {
    let mut events = EventBuf::with_capacity(spans.len(), 0);
    let mut it = spans.iter().peekable();
    let mut run: Vec<LineSpan> = Vec::new();
    while let Some(first) = it.next() {
        let start = first.offset;
        let mut end = span_end(first)?;
        run.clear();
        run.push(first);
        while let Some(&s) = it.peek() {
            let s_end = span_end(s)?;
            if s.offset < end || s.offset - end > max_gap || s_end - start > max_read {
                break;
            }
            end = s_end;
            run.push(s);
            it.next();
        }
        let len = usize::try_from(end - start).map_err(|_| io::Error::other("line too long"))?;
        buf.clear();
        buf.resize(len, 0);
        file.read_exact_at(buf, start)?;
        for s in &run {
            let a = usize::try_from(s.offset - start).map_err(io::Error::other)?;
            let b = a
                .checked_add(usize::try_from(s.len).map_err(io::Error::other)?)
                .ok_or_else(|| io::Error::other("span out of range"))?;
            if let Some(line) = buf.get(a..b) {
                parse_event_into(line, &mut events);
            }
        }
    }
    Ok(events)
}

fn span_end(s: LineSpan) -> io::Result<u64> {
    s.offset
        .checked_add(s.len)
        .ok_or_else(|| io::Error::other("span out of range"))
}
