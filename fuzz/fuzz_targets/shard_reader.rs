//! The shard-line reader over arbitrary bytes, fed like a live shard.
//!
//! Properties checked, besides "never panics":
//! * indexing a shard in arbitrary growing pieces (`at_eof = false` until
//!   the end, as the daemon does while a shard grows) gives exactly the
//!   index and the refused lines of one pass over the whole file — a `\r`
//!   or an unterminated line cut at a piece boundary changes nothing;
//! * every indexed span lies inside the shard, and every line the index
//!   pass classed as an event still decodes as one in the read pass (no
//!   event silently lost between the two passes);
//! * decoded text holds only code points (≤ U+10FFFF).
#![no_main]

use decnet_engine::reader::{
    group_sessions, group_sessions_two_pass, line::parse_event_slow, parse_line, session_events, split_lines, LineOutcome, ShardIndex, SkippedLine,
};
use libfuzzer_sys::fuzz_target;

fn index_whole(shard: &[u8]) -> (ShardIndex, Vec<SkippedLine>) {
    let mut idx = ShardIndex::new();
    let mut skipped = Vec::new();
    let used = idx.feed(shard, true, |s| skipped.push(s));
    assert_eq!(used, shard.len(), "at_eof feed left bytes");
    assert_eq!(idx.scanned_to(), shard.len() as u64);
    (idx, skipped)
}

fn index_growing(shard: &[u8], step: usize) -> (ShardIndex, Vec<SkippedLine>) {
    let mut idx = ShardIndex::new();
    let mut skipped = Vec::new();
    let mut end = 0usize;
    while end < shard.len() {
        end = (end + step).min(shard.len());
        let start = usize::try_from(idx.scanned_to()).unwrap_or(usize::MAX);
        assert!(start <= end, "index ran past the bytes it was given");
        let used = idx.feed(&shard[start..end], false, |s| skipped.push(s));
        assert!(start + used <= end);
        // A live feed never consumes an unterminated tail.
        if start + used < end {
            let tail = &shard[start + used..end];
            assert!(
                !tail.contains(&b'\n') && (!tail.contains(&b'\r') || tail.ends_with(b"\r")),
                "live feed kept a complete line back"
            );
        }
    }
    let start = usize::try_from(idx.scanned_to()).unwrap_or(usize::MAX);
    idx.feed(&shard[start..], true, |s| skipped.push(s));
    assert_eq!(idx.scanned_to(), shard.len() as u64);
    (idx, skipped)
}

fuzz_target!(|data: &[u8]| {
    // First byte: piece size of the growing feed.
    let Some((&step, shard)) = data.split_first() else {
        return;
    };
    let step = usize::from(step % 64) + 1;

    let (whole, skipped_whole) = index_whole(shard);
    let (grown, skipped_grown) = index_growing(shard, step);
    assert_eq!(whole.sessions(), grown.sessions(), "growing index differs");
    assert_eq!(
        skipped_whole, skipped_grown,
        "growing index refuses other lines"
    );
    assert_eq!(whole.lines(), grown.lines());

    for entry in whole.sessions() {
        for span in &entry.spans {
            let end = span.offset.checked_add(span.len).expect("span overflow");
            assert!(end <= shard.len() as u64, "span outside the shard");
        }
        let events = session_events(shard, entry);
        assert_eq!(
            events.len(),
            entry.spans.len(),
            "an indexed event line did not decode in the read pass"
        );
        // The read pass's special keystroke path decodes as the full
        // scanner does.
        for (e, span) in events.iter().zip(&entry.spans) {
            let (a, n) = (span.offset as usize, span.len as usize);
            let slow = parse_event_slow(&shard[a..a + n]).expect("indexed event line");
            assert_eq!(
                (e.t.to_bits(), e.kind, e.data.to_vec()),
                (slow.t.to_bits(), slow.kind, slow.data),
                "read pass differs from the full scanner"
            );
        }
        for e in events.iter() {
            assert!(e.data.to_vec().iter().all(|&c| c <= 0x10FFFF));
        }
    }

    for line in split_lines(shard) {
        if let LineOutcome::Event { sid, event } = parse_line(line) {
            assert!(!sid.is_empty());
            assert!(event.data.iter().all(|&c| c <= 0x10FFFF));
        }
    }
    // One pass (sid-keyed map, raw sid bytes) and two passes (the index)
    // group every line the same way.
    let one = group_sessions(shard);
    let two = group_sessions_two_pass(shard);
    assert_eq!(one.len(), two.len(), "one-pass grouping differs");
    for (a, b) in one.iter().zip(&two) {
        assert_eq!(a.sid, b.sid);
        assert_eq!(a.status, b.status);
        let key = |s: &decnet_engine::reader::GroupedSession| {
            s.events
                .iter()
                .map(|e| (e.t.to_bits(), e.kind, e.data.to_vec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(a), key(b), "one-pass events differ");
    }
});
