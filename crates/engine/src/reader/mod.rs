//! Shard reader: raw shard bytes → per-session events, read exactly as the
//! reference reads them (engine.md §1.2–§1.4, §10).
//!
//! The pieces, bottom up:
//! * [`decode`]: `surrogateescape` UTF-8 decoding into code points;
//! * [`lines`]: universal-newline line splitting (`\n`, `\r\n`, lone `\r`);
//! * [`json`]: a strict Python-`json`-compatible scanner that only keeps
//!   the top-level fields the engine reads (`sid`, `hdr`, `t`, `ch`, `d`);
//! * `keystroke` (private): the usual keystroke/echo line of a known session,
//!   read without the scanner (refuses anything else);
//! * [`line`](mod@line): one line → [`LineOutcome`] (event, header, skip with a fixed
//!   reason, or "the reference raises");
//! * [`index`]: a bounded-memory sid → line-span index that can grow
//!   incrementally, plus [`group_sessions`] for in-memory use.
//!
//! Nothing here ever puts line content into an error or a reason: only
//! sids, offsets, line numbers and fixed reasons.

pub mod decode;
pub mod index;
pub mod json;
mod keystroke;
pub mod line;
pub mod lines;

pub use decode::decode_surrogateescape;
pub use index::{
    group_sessions, group_sessions_two_pass, session_events, GroupedSession, LineSpan,
    SessionEntry, SessionStatus, ShardIndex, SkippedLine, SpanIter, SpanList,
};
pub use line::{parse_line, read_line, scan_line, LineKind, LineOutcome, SkipReason};
pub use lines::{split_lines, LineSplitter};

#[cfg(test)]
mod tests;
