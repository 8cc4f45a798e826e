//! The reader's fast paths (one-line-shape scanner, one-pass grouping)
//! give exactly what the full scanner and the bounded-memory two-pass
//! grouping give: on every corpus shard, on the hostile shard, and on
//! generated and mutated event lines.

use std::path::PathBuf;

use decnet_engine::reader::{
    group_sessions, group_sessions_two_pass, line::parse_event, line::parse_event_slow, parse_line,
    read_line, scan_line, session_events, split_lines, LineKind, LineOutcome, ShardIndex,
};
use decnet_engine::Event;
use proptest::prelude::*;

fn corpus_shards() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut out = Vec::new();
    for dir in ["calibration", "vectors", "hostile"] {
        if let Ok(d) = std::fs::read_dir(root.join(dir)) {
            out.extend(
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "jsonl")),
            );
        }
    }
    out.sort();
    out
}

/// Equal events, `t` compared bit for bit (NaN included).
fn same(a: &Event, b: &Event) {
    assert_eq!(a.t.to_bits(), b.t.to_bits());
    assert_eq!(a.kind, b.kind);
    assert_eq!(a.data, b.data);
}

/// Everything the fast paths decide about one line equals the slow path.
fn check_line(line: &[u8]) {
    let mut sid = Vec::new();
    let (kind, event) = read_line(line, &mut sid);
    let mut sid2 = Vec::new();
    let scanned = scan_line(line, &mut sid2);
    assert_eq!(sid, sid2);
    match parse_line(line) {
        LineOutcome::Event { sid: s, event: e } => {
            assert_eq!(kind, LineKind::Event);
            assert_eq!(scanned, LineKind::Event);
            assert_eq!(s, sid);
            same(&event.expect("event"), &e);
            same(&parse_event(line).expect("fast event"), &e);
            same(&parse_event_slow(line).expect("slow event"), &e);
        }
        LineOutcome::Skip(r) => {
            assert_eq!(kind, LineKind::Skip(r));
            assert_eq!(scanned, LineKind::Skip(r));
            assert!(event.is_none());
        }
        LineOutcome::Header { sid: s, timestamp } => {
            assert_eq!(s, sid);
            assert_eq!(kind, LineKind::Header { timestamp });
            assert!(matches!(scanned, LineKind::Header { .. }));
        }
        LineOutcome::Raises { sid: s } => {
            assert_eq!(s, sid);
            assert_eq!(kind, LineKind::Raises);
            assert_eq!(scanned, LineKind::Raises);
        }
    }
}

/// One-pass grouping gives what the two-pass grouping gives.
fn check_grouping(bytes: &[u8], what: &str) {
    let one = group_sessions(bytes);
    let two = group_sessions_two_pass(bytes);
    assert_eq!(one.len(), two.len(), "{what}");
    for (a, b) in one.iter().zip(&two) {
        assert_eq!(a.sid, b.sid, "{what}");
        assert_eq!(a.status, b.status, "{what}");
        assert_eq!(a.events.len(), b.events.len(), "{what}");
        for (x, y) in a.events.to_events().iter().zip(&b.events.to_events()) {
            same(x, y);
        }
    }
}

/// Both groupings read the usual keystroke line the same special way
/// (`reader/keystroke.rs`): each session's events, read from its indexed
/// lines, equal the full scanner's decoding of those lines.
fn check_session_reads(bytes: &[u8], what: &str) -> usize {
    let mut index = ShardIndex::new();
    index.feed(bytes, true, |_| {});
    let mut n = 0;
    for e in index.sessions() {
        let got = session_events(bytes, e).to_events();
        let want: Vec<Event> = e
            .spans
            .iter()
            .filter_map(|s| {
                let a = usize::try_from(s.offset).ok()?;
                parse_event_slow(bytes.get(a..a + usize::try_from(s.len).ok()?)?)
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{what}");
        for (x, y) in got.iter().zip(&want) {
            same(x, y);
        }
        n += got.len();
    }
    n
}

#[test]
fn corpus_one_pass_equals_two_pass_and_fast_equals_slow() {
    let shards = corpus_shards();
    assert!(shards.len() >= 7, "corpus not found: {shards:?}");
    let mut events = 0;
    for p in shards {
        let bytes = std::fs::read(&p).expect("corpus shard");
        events += check_session_reads(&bytes, &p.display().to_string());
        check_grouping(&bytes, &p.display().to_string());
        for line in split_lines(&bytes) {
            check_line(line);
        }
    }
    // The calibration, vector and hostile shards hold ~38,000 event lines.
    assert!(events > 30_000, "only {events} events read");
}

#[test]
fn fast_path_edge_lines() {
    let lines: &[&[u8]] = &[
        br#"{"sid":"s","t":1,"ch":"i","d":"a"}"#,
        br#"{"sid": "s", "t": -0, "ch": "o", "d": "\u001b[0m\r\n"}"#,
        br#"{"sid":"s","t":1e400,"ch":"i","d":""}"#,
        br#"{"sid":"s","t":1.,"ch":"i","d":""}"#,
        br#"{"sid":"s","t":01,"ch":"i","d":""}"#,
        br#"{"sid":"s","t":-Infinity,"ch":"i","d":""}"#,
        br#"{"sid":"","t":1,"ch":"i","d":""}"#,
        br#"{"sid":"s","t":1,"ch":"r","d":""}"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"\ud83d\ude00\ud800\u0041\udc00"}"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"\ud800\\u0041"}"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"\ud800\uzzzz"}"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"\x"}"#,
        "{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"\u{e9}\\u00e9\u{e9}\"}".as_bytes(),
        b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"a\xe9\\n\xff\"}",
        b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"a\tb\"}",
        b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"a\x7fb\"}",
        br#"{"sid":"s","t":1,"ch":"i","d":"x"} "#,
        br#"{"sid":"s","t":1,"ch":"i","d":"x"}x"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"x","d":"y"}"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"x"}}"#,
        br#"{"sid":"s","t":1,"ch":"i","d":"x""#,
        b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"x\"}\x0b",
    ];
    for l in lines {
        check_line(l);
    }
    let mut huge = br#"{"sid":"s","t":"#.to_vec();
    huge.extend(std::iter::repeat_n(b'9', 400));
    huge.extend_from_slice(br#","ch":"i","d":""}"#);
    check_line(&huge);
    let mut sid = Vec::new();
    assert_eq!(read_line(&huge, &mut sid).0, LineKind::Raises);
}

/// Lines that stress the one-pass grouping's shortcuts: sids sharing a
/// prefix with the previous line's, sids that are the same text written
/// differently, whitespace, headers, resize and trunc lines, raising `t`,
/// non-ASCII bytes, junk after `}`.
const GROUPING_LINES: [&[u8]; 20] = [
    br#"{"sid":"ab","t":1,"ch":"i","d":"x"}"#,
    br#"{"sid":"ab","t":2.5,"ch":"o","d":"\u001b[0m\r\n$ "}"#,
    br#"{"sid":"abc","t":3,"ch":"i","d":"y"}"#,
    br#"{"sid":"a","t":4,"ch":"o","d":"z"}"#,
    br#"{"sid":"a\u0062","t":5,"ch":"i","d":"escaped sid"}"#,
    br#"{"sid": "ab", "t": 6, "ch": "i", "d": "spaced"}"#,
    br#"{"sid":"ab","hdr":{"timestamp":9}}"#,
    br#"{"sid":"abc","t":7,"ch":"r","d":"80x24"}"#,
    br#"{"sid":"ab","trunc":true}"#,
    br#"{"sid":"ab","t":8,"ch":"i","d":"x"} "#,
    br#"{"sid":"ab","t":9,"ch":"i","d":"x"}junk"#,
    br#"{"sid":"ab","t":-Infinity,"ch":"i","d":"x"}"#,
    b"{\"sid\":\"ab\",\"t\":10,\"ch\":\"o\",\"d\":\"caf\xc3\xa9 \xff\"}",
    "{\"sid\":\"\u{e4}b\",\"t\":11,\"ch\":\"i\",\"d\":\"raw non-ASCII sid\"}".as_bytes(),
    br#"{"sid":"ab","t":12,"ch":"i","d":"unterminated"#,
    br#"{"sid":"ab","t":13,"ch":"i"}"#,
    br#"{"sid":"","t":14,"ch":"i","d":"x"}"#,
    br#"not json"#,
    br#""#,
    br#"{"sid":"abc","t":15,"ch":"i","d":"\ud800"}"#,
];

#[test]
fn raising_line_in_one_pass_grouping() {
    let mut shard = br#"{"sid":"ab","t":1,"ch":"i","d":"x"}"#.to_vec();
    shard.extend_from_slice(b"\n{\"sid\":\"ab\",\"t\":");
    shard.extend(std::iter::repeat_n(b'9', 400));
    shard.extend_from_slice(b",\"ch\":\"i\",\"d\":\"\"}\n");
    shard.extend_from_slice(br#"{"sid":"ab","t":2,"ch":"i","d":"x"}"#);
    check_grouping(&shard, "raising");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn one_pass_grouping_equals_two_pass(
        picks in proptest::collection::vec((0usize..20, 0usize..4), 0..24),
        tail in any::<bool>(),
    ) {
        let mut shard = Vec::new();
        for (k, &(line, term)) in picks.iter().enumerate() {
            shard.extend_from_slice(GROUPING_LINES[line]);
            if k + 1 < picks.len() || tail {
                shard.extend_from_slice([&b"\n"[..], b"\r\n", b"\r", b"\n\r"][term]);
            }
        }
        check_grouping(&shard, &String::from_utf8_lossy(&shard));
    }

    /// Texts longer than the room left in a session's open chunk (the
    /// first chunk holds 1 Ki code points): the one-pass reader refuses
    /// them and decodes them again with room for the whole line; escapes,
    /// surrogate pairs and raw non-ASCII bytes on either side of the cut,
    /// and a last line without a terminator.
    #[test]
    fn texts_past_the_open_chunk_equal_two_pass(
        texts in proptest::collection::vec(
            (proptest::collection::vec((0usize..6, 1usize..400), 0..12), any::<bool>()),
            1..30,
        ),
        tail in any::<bool>(),
    ) {
        let pieces: [&[u8]; 6] = [b"a", br"\r\n", br"\u001b[0m", br"\u00e9", b"\xC3\xA9", br"\ud83d\ude00"];
        let mut shard = Vec::new();
        for (k, (parts, second)) in texts.iter().enumerate() {
            let sid: &[u8] = if *second { b"s-2" } else { b"s-1" };
            shard.extend_from_slice(br#"{"sid":""#);
            shard.extend_from_slice(sid);
            shard.extend_from_slice(format!(r#"","t":{k}.5,"ch":"o","d":""#).as_bytes());
            for &(piece, times) in parts {
                for _ in 0..times {
                    shard.extend_from_slice(pieces[piece]);
                }
            }
            shard.extend_from_slice(b"\"}");
            if k + 1 < texts.len() || tail {
                shard.push(b'\n');
            }
        }
        check_grouping(&shard, "long texts");
    }

    #[test]
    fn mutated_event_lines_fast_equals_slow(
        pos in 0usize..80,
        byte in prop_oneof![any::<u8>(), Just(b'"'), Just(b'\\'), Just(b' '), Just(b'u')],
        cut in 0usize..90,
        which in 0usize..3,
    ) {
        let bases: [&[u8]; 3] = [
            br#"{"sid":"a-1","t":12.345678,"ch":"i","d":"ls \u001b[A\u00e9\r\n\ud83d\ude00"}"#,
            br#"{"sid": "a-1", "t": 7, "ch": "o", "d": "x\\y\"z\/\b\f\t"}"#,
            br#"{"sid":"a-1","t":-1e-3,"ch":"o","d":"\ud800\udc00\udc00\ud800"}"#,
        ];
        let mut line = bases[which].to_vec();
        let p = pos % line.len();
        line[p] = byte;
        line.truncate(cut.max(1).max(line.len() * usize::from(cut >= 80)));
        check_line(&line);
    }

    #[test]
    fn t_literals_fast_equals_slow(
        t in prop_oneof![
            "-?[0-9]{0,20}(\\.[0-9]{0,19})?([eE][+-]?[0-9]{0,3})?",
            "[-0-9.eE+]{1,24}",
            "[1-9][0-9]{13,17}",
            "[0-9]{1,3}\\.[0-9]{12,16}",
        ],
    ) {
        let line = format!(r#"{{"sid":"s","t":{t},"ch":"i","d":"x"}}"#);
        check_line(line.as_bytes());
    }

    #[test]
    fn arbitrary_d_bytes_fast_equals_slow(
        raw in proptest::collection::vec(any::<u8>(), 0..60),
    ) {
        let mut line = br#"{"sid":"s","t":1.5,"ch":"o","d":""#.to_vec();
        line.extend_from_slice(&raw);
        line.extend_from_slice(b"\"}");
        check_line(&line);
    }
}
