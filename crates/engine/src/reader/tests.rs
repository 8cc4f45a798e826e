//! Line-level edge cases of engine.md §1.3 / §1.4 (values checked against
//! Python 3.11 `json.loads` + `parse_shard_line`).

use super::*;
use crate::event::{Event, EventKind};

fn cps(s: &str) -> Vec<u32> {
    s.chars().map(u32::from).collect()
}

fn event(line: &[u8]) -> Event {
    match parse_line(line) {
        LineOutcome::Event { event, .. } => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn skip(line: &[u8]) -> SkipReason {
    match parse_line(line) {
        LineOutcome::Skip(r) => r,
        other => panic!("expected a skip, got {other:?}"),
    }
}

#[test]
fn plain_event_lines() {
    let e = event(br#"{"sid":"s1","t":1.500000,"ch":"i","d":"ls\r"}"#);
    assert_eq!(e, Event::new(1.5, EventKind::Input, "ls\r"));
    let e = event(br#"  {"sid":"s1","t":0,"ch":"o"}  "#);
    assert_eq!(e, Event::new(0.0, EventKind::Output, ""));
    match parse_line(br#"{"sid":"s\u00e9","t":1,"ch":"o","d":"x"}"#) {
        LineOutcome::Event { sid, .. } => assert_eq!(sid, cps("sé")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nan_and_infinity_literals() {
    assert!(event(br#"{"sid":"s","t":NaN,"ch":"i","d":""}"#).t.is_nan());
    assert_eq!(
        event(br#"{"sid":"s","t":Infinity,"ch":"i"}"#).t,
        f64::INFINITY
    );
    assert_eq!(
        event(br#"{"sid":"s","t":-Infinity,"ch":"i"}"#).t,
        f64::NEG_INFINITY
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":nan,"ch":"i"}"#),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":-NaN,"ch":"i"}"#),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":infinity,"ch":"i"}"#),
        SkipReason::BadJson
    );
}

#[test]
fn numbers_convert_like_python_float() {
    assert_eq!(event(br#"{"sid":"s","t":1e400,"ch":"i"}"#).t, f64::INFINITY);
    assert_eq!(
        event(br#"{"sid":"s","t":-1e400,"ch":"i"}"#).t,
        f64::NEG_INFINITY
    );
    assert_eq!(event(br#"{"sid":"s","t":1e-400,"ch":"i"}"#).t, 0.0);
    // Integer -0 is int 0 → +0.0; float -0.0 stays negative.
    let z = event(br#"{"sid":"s","t":-0,"ch":"i"}"#).t;
    assert!(z == 0.0 && z.is_sign_positive());
    let z = event(br#"{"sid":"s","t":-0.0,"ch":"i"}"#).t;
    assert!(z == 0.0 && z.is_sign_negative());
    // Correct rounding of a long literal (half-way case rounds to even).
    assert_eq!(
        event(br#"{"sid":"s","t":9007199254740993,"ch":"i"}"#).t,
        9007199254740992.0
    );
    assert_eq!(
        event(br#"{"sid":"s","t":0.1000000000000000055511151231257827,"ch":"i"}"#).t,
        0.1
    );
    assert_eq!(event(br#"{"sid":"s","t":12.345678,"ch":"i"}"#).t, 12.345678);
    assert_eq!(event(br#"{"sid":"s","t":1E2,"ch":"i"}"#).t, 100.0);
    for bad in [
        &br#"{"sid":"s","t":01,"ch":"i"}"#[..],
        br#"{"sid":"s","t":1.,"ch":"i"}"#,
        br#"{"sid":"s","t":.5,"ch":"i"}"#,
        br#"{"sid":"s","t":1e,"ch":"i"}"#,
        br#"{"sid":"s","t":+1,"ch":"i"}"#,
        br#"{"sid":"s","t":-,"ch":"i"}"#,
    ] {
        assert_eq!(skip(bad), SkipReason::BadJson);
    }
}

#[test]
fn huge_integer_t_raises() {
    let mut line = br#"{"sid":"big","t":"#.to_vec();
    line.extend(vec![b'9'; 400]);
    line.extend(br#","ch":"i","d":"x"}"#);
    assert_eq!(parse_line(&line), LineOutcome::Raises { sid: cps("big") });
    // Largest integer that still converts, and the first that does not.
    let max = format!("{{\"sid\":\"s\",\"t\":{},\"ch\":\"i\"}}", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791");
    assert_eq!(event(max.as_bytes()).t, f64::MAX);
    let over = format!("{{\"sid\":\"s\",\"t\":{},\"ch\":\"i\"}}", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792");
    assert!(matches!(
        parse_line(over.as_bytes()),
        LineOutcome::Raises { .. }
    ));
    // Raising needs ch and d to be valid first (parse_shard_line's order).
    let mut bad_ch = br#"{"sid":"big","t":"#.to_vec();
    bad_ch.extend(vec![b'9'; 400]);
    bad_ch.extend(br#","ch":"r"}"#);
    assert_eq!(skip(&bad_ch), SkipReason::Resize);
    // More than 4300 digits: Python's int() refuses the literal (ValueError).
    let mut long = br#"{"sid":"s","t":"#.to_vec();
    long.extend(vec![b'1'; 4301]);
    long.extend(br#","ch":"i"}"#);
    assert_eq!(skip(&long), SkipReason::BadJson);
    let mut ok = br#"{"sid":"s","x":"#.to_vec();
    ok.extend(vec![b'1'; 4300]);
    ok.extend(br#","t":1,"ch":"i"}"#);
    assert_eq!(event(&ok).t, 1.0);
}

#[test]
fn bool_t_and_wrong_types() {
    assert_eq!(event(br#"{"sid":"s","t":true,"ch":"i"}"#).t, 1.0);
    assert_eq!(event(br#"{"sid":"s","t":false,"ch":"o"}"#).t, 0.0);
    assert_eq!(
        skip(br#"{"sid":"s","t":"1.0","ch":"i"}"#),
        SkipReason::BadTime
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":null,"ch":"i"}"#),
        SkipReason::BadTime
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":[1],"ch":"i"}"#),
        SkipReason::BadTime
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"r","d":"80x24"}"#),
        SkipReason::Resize
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"io"}"#),
        SkipReason::BadChannel
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":null}"#),
        SkipReason::BadChannel
    );
    assert_eq!(
        event(br#"{"sid":"s","t":1,"ch":"\u0069"}"#).kind,
        EventKind::Input
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"i","d":null}"#),
        SkipReason::BadData
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"i","d":5}"#),
        SkipReason::BadData
    );
    assert_eq!(
        skip(br#"{"sid":"s","ch":"i"}"#),
        SkipReason::NoTimeOrChannel
    );
    assert_eq!(skip(br#"{"sid":"s","t":1}"#), SkipReason::NoTimeOrChannel);
    assert_eq!(
        skip(br#"{"sid":"s","trunc":true}"#),
        SkipReason::TruncSentinel
    );
    assert_eq!(
        skip(br#"{"sid":"s","trunc":false,"t":1}"#),
        SkipReason::TruncSentinel
    );
}

#[test]
fn sid_rules() {
    assert_eq!(skip(br#"{"t":1,"ch":"i"}"#), SkipReason::NoSid);
    assert_eq!(skip(br#"{"sid":"","t":1,"ch":"i"}"#), SkipReason::NoSid);
    assert_eq!(skip(br#"{"sid":5,"t":1,"ch":"i"}"#), SkipReason::NoSid);
    assert_eq!(skip(br#"{"sid":null,"t":1,"ch":"i"}"#), SkipReason::NoSid);
    assert_eq!(
        skip(br#"[{"sid":"s","t":1,"ch":"i"}]"#),
        SkipReason::NotObject
    );
    assert_eq!(skip(b"42"), SkipReason::NotObject);
    assert_eq!(skip(b"\"x\""), SkipReason::NotObject);
}

#[test]
fn headers_are_skipped_even_with_t_and_ch() {
    let h = br#"{"sid":"s","hdr":{"version":2,"width":80,"height":24,"timestamp":1777680000,"env":{"TERM":"xterm"}}}"#;
    assert_eq!(
        parse_line(h),
        LineOutcome::Header {
            sid: cps("s"),
            timestamp: Some(1777680000.0)
        }
    );
    assert!(matches!(
        parse_line(br#"{"sid":"s","hdr":null,"t":1,"ch":"i","d":"x"}"#),
        LineOutcome::Header {
            timestamp: None,
            ..
        }
    ));
    assert!(matches!(
        parse_line(br#"{"sid":"s","t":1,"ch":"i","hdr":{"timestamp":"x"}}"#),
        LineOutcome::Header {
            timestamp: None,
            ..
        }
    ));
    assert!(matches!(
        parse_line(br#"{"sid":"s","hdr":{"timestamp":1.5,"timestamp":2}}"#),
        LineOutcome::Header { timestamp: Some(t), .. } if t == 2.0
    ));
    // Only a JSON integer is an epoch (issue 3 item 3): an integral float,
    // an exponent, a numeric string or a boolean are not.
    for h in [
        br#"{"sid":"s","hdr":{"timestamp":1777680000.0}}"#.as_slice(),
        br#"{"sid":"s","hdr":{"timestamp":1.77768e9}}"#,
        br#"{"sid":"s","hdr":{"timestamp":"1777680000"}}"#,
        br#"{"sid":"s","hdr":{"timestamp":true}}"#,
    ] {
        assert!(matches!(
            parse_line(h),
            LineOutcome::Header {
                timestamp: None,
                ..
            }
        ));
    }
}

#[test]
fn only_the_first_header_gives_the_epoch() {
    let shard = concat!(
        r#"{"sid":"a","hdr":{"version":2}}"#,
        "\n",
        r#"{"sid":"a","hdr":{"version":2,"timestamp":1777680000}}"#,
        "\n",
        r#"{"sid":"a","t":0.5,"ch":"i","d":"x"}"#,
        "\n",
        r#"{"sid":"b","hdr":{"timestamp":1777680000}}"#,
        "\n",
        r#"{"sid":"b","hdr":{"timestamp":1777690000}}"#,
        "\n",
        r#"{"sid":"b","t":0.5,"ch":"i","d":"x"}"#,
        "\n",
    );
    let mut idx = ShardIndex::new();
    idx.feed(shard.as_bytes(), true, |_| {});
    let a = idx
        .session(&cps("a"))
        .map(|e| (e.header_seen, e.header_timestamp));
    assert_eq!(a, Some((true, None)));
    let b = idx.session(&cps("b")).map(|e| e.header_timestamp);
    assert_eq!(b, Some(Some(1777680000.0)));
}

#[test]
fn strings_control_chars_and_escapes() {
    assert_eq!(
        skip(b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"a\x01b\"}"),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"a\tb\"}"),
        SkipReason::BadJson
    );
    // A control char anywhere, even in an ignored key, spoils the line.
    assert_eq!(
        skip(b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"x\":\"\x1f\"}"),
        SkipReason::BadJson
    );
    assert_eq!(
        event(b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"a\x7fb\"}").data,
        vec![0x61, 0x7F, 0x62]
    );
    let e = event(br#"{"sid":"s","t":1,"ch":"i","d":"\"\\\/\b\f\n\r\t\u001b\u007f"}"#);
    assert_eq!(
        e.data,
        vec![0x22, 0x5C, 0x2F, 8, 0xC, 0xA, 0xD, 9, 0x1B, 0x7F]
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"i","d":"\x"}"#),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"i","d":"\u12"}"#),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"i","d":"\u12G4"}"#),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"ch":"i","d":"abc}"#),
        SkipReason::BadJson
    );
}

#[test]
fn surrogate_escapes() {
    let d = |l: &[u8]| event(l).data;
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\uD83D\uDE00"}"#),
        vec![0x1F600]
    );
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\ud83d\ude00"}"#),
        vec![0x1F600]
    );
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\uD800"}"#),
        vec![0xD800]
    );
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\uDE00\uD83D"}"#),
        vec![0xDE00, 0xD83D]
    );
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\uD800\u0041"}"#),
        vec![0xD800, 0x41]
    );
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\uD800\uD800\uDC00"}"#),
        vec![0xD800, 0x10000]
    );
    assert_eq!(
        d(br#"{"sid":"s","t":1,"ch":"i","d":"\uD800\n"}"#),
        vec![0xD800, 0x0A]
    );
}

#[test]
fn raw_invalid_bytes_become_lone_surrogates() {
    let e = event(b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\",\"d\":\"caf\xe9 \xc3\xa9\xe2\x82\"}");
    assert_eq!(
        e.data,
        vec![0x63, 0x61, 0x66, 0xDCE9, 0x20, 0xE9, 0xDCE2, 0xDC82]
    );
    // Outside a string a non-ASCII byte is a syntax error.
    assert_eq!(
        skip(b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\"}\xe9"),
        SkipReason::BadJson
    );
    // A raw lone surrogate in a sid is kept as such (sids compare as code points).
    match parse_line(b"{\"sid\":\"a\xff\",\"t\":1,\"ch\":\"i\"}") {
        LineOutcome::Event { sid, .. } => assert_eq!(sid, vec![0x61, 0xDCFF]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_keys_last_wins() {
    assert_eq!(event(br#"{"sid":"s","t":1,"t":2,"ch":"i"}"#).t, 2.0);
    assert_eq!(
        skip(br#"{"sid":"s","t":1,"t":"x","ch":"i"}"#),
        SkipReason::BadTime
    );
    assert_eq!(
        skip(br#"{"sid":"s","sid":7,"t":1,"ch":"i"}"#),
        SkipReason::NoSid
    );
    assert_eq!(
        event(br#"{"sid":"s","ch":"r","t":1,"ch":"o","d":1,"d":"k"}"#),
        Event::new(1.0, EventKind::Output, "k")
    );
    // Escaped key spelling is the same key.
    assert_eq!(event(br#"{"sid":"s","t":1,"\u0074":3,"ch":"i"}"#).t, 3.0);
}

#[test]
fn whitespace_and_structure() {
    assert_eq!(skip(b""), SkipReason::Blank);
    assert_eq!(skip(b"  \t "), SkipReason::Blank);
    assert_eq!(skip(b"\x0c\x0b"), SkipReason::Blank);
    assert_eq!(skip("\u{a0}\u{3000}".as_bytes()), SkipReason::Blank);
    assert_eq!(
        event(b"\t {\"sid\" : \"s\" , \"t\" :1 ,\"ch\":\"i\" }\t ").t,
        1.0
    );
    // Python whitespace that is not JSON whitespace fails json.loads.
    assert_eq!(
        skip(b"\x0c{\"sid\":\"s\",\"t\":1,\"ch\":\"i\"}"),
        SkipReason::BadJson
    );
    assert_eq!(
        skip("\u{a0}{\"sid\":\"s\",\"t\":1,\"ch\":\"i\"}".as_bytes()),
        SkipReason::BadJson
    );
    assert_eq!(
        skip(b"\xef\xbb\xbf{\"sid\":\"s\",\"t\":1,\"ch\":\"i\"}"),
        SkipReason::BadJson
    );
    for bad in [
        &br#"{"sid":"s","t":1,"ch":"i",}"#[..],
        br#"{"sid":"s","t":1,"ch":"i"} {}"#,
        br#"{"sid":"s","t":1,"ch":"i""#,
        br#"{"sid":"s" "t":1}"#,
        br#"{'sid':"s"}"#,
        br#"{"sid":"s","x":[1,]}"#,
        br#"{"sid":"s","x":[1 2]}"#,
        br#"{"sid":"s","x":{"a"}}"#,
        br#"{"sid":"s","x":tru}"#,
        b"{\"sid\":\"s\",\"t\":1,\"ch\":\"i\"}\x00",
    ] {
        assert_eq!(
            skip(bad),
            SkipReason::BadJson,
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        event(br#"{"sid":"s","x":[1,{"a":[{}, [], null, -1.5e3]}],"t":1,"ch":"i"}"#).t,
        1.0
    );
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let deep = |n: usize| {
        let mut l = br#"{"sid":"s","t":1,"ch":"i","x":"#.to_vec();
        l.extend(vec![b'['; n]);
        l.extend(vec![b']'; n]);
        l.push(b'}');
        l
    };
    assert_eq!(skip(&deep(100_000)), SkipReason::TooDeep);
    assert_eq!(event(&deep(900)).t, 1.0);
    let mut arr = vec![b'['; 100_000];
    arr.extend(vec![b']'; 100_000]);
    assert_eq!(skip(&arr), SkipReason::TooDeep);
}

#[test]
fn grouping_in_file_order_with_crlf_and_cr() {
    let shard = b"{\"sid\":\"a\",\"hdr\":{\"timestamp\":5}}\r\n\
{\"sid\":\"b\",\"t\":0.5,\"ch\":\"o\",\"d\":\"x\"}\r\
{\"sid\":\"a\",\"t\":1,\"ch\":\"i\",\"d\":\"l\"}\n\
\n\
garbage\n\
{\"sid\":\"a\",\"t\":2,\"ch\":\"r\",\"d\":\"80x24\"}\n\
{\"sid\":\"a\",\"t\":3,\"ch\":\"i\",\"d\":\"s\"}";
    let g = group_sessions(shard);
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].sid, cps("a"));
    assert_eq!(
        g[0].events.to_events(),
        vec![
            Event::new(1.0, EventKind::Input, "l"),
            Event::new(3.0, EventKind::Input, "s")
        ]
    );
    assert_eq!(g[1].sid, cps("b"));
    assert_eq!(
        g[1].events.to_events(),
        vec![Event::new(0.5, EventKind::Output, "x")]
    );
    let mut idx = ShardIndex::new();
    let mut skipped = Vec::new();
    idx.feed(shard, true, |s| skipped.push((s.line_no, s.reason)));
    assert_eq!(idx.lines(), 7);
    assert_eq!(
        skipped,
        vec![
            (4, SkipReason::Blank),
            (5, SkipReason::BadJson),
            (6, SkipReason::Resize)
        ]
    );
    assert_eq!(
        idx.session(&cps("a")).and_then(|e| e.header_timestamp),
        Some(5.0)
    );
}

#[test]
fn raising_line_drops_its_session() {
    let mut shard =
        b"{\"sid\":\"a\",\"t\":1,\"ch\":\"i\",\"d\":\"l\"}\n{\"sid\":\"a\",\"t\":".to_vec();
    shard.extend(vec![b'9'; 400]);
    shard.extend(b",\"ch\":\"i\"}\n{\"sid\":\"b\",\"t\":1,\"ch\":\"i\"}\n");
    let g = group_sessions(&shard);
    assert_eq!(g[0].status, SessionStatus::Raises { line_no: 2 });
    assert!(g[0].events.is_empty());
    assert_eq!(g[1].status, SessionStatus::Ok);
    assert_eq!(g[1].events.len(), 1);
}

#[test]
fn incremental_feed_matches_one_shot() {
    let shard: &[u8] = b"{\"sid\":\"a\",\"t\":1,\"ch\":\"i\"}\r\n{\"sid\":\"b\",\"t\":1,\"ch\":\"i\"}\r{\"sid\":\"a\",\"t\":2,\"ch\":\"o\"}\n{\"sid\":\"c\",\"t\":1,\"ch\":\"i\"}";
    let mut whole = ShardIndex::new();
    whole.feed(shard, true, |_| {});
    for step in 1..shard.len() {
        let mut idx = ShardIndex::new();
        let mut pending: Vec<u8> = Vec::new();
        for chunk in shard.chunks(step) {
            pending.extend_from_slice(chunk);
            let used = idx.feed(&pending, false, |_| {});
            pending.drain(..used);
        }
        // A live shard never yields its unterminated tail...
        assert!(idx.session(&cps("c")).is_none());
        assert_eq!(idx.scanned_to() as usize, shard.len() - pending.len());
        // ...until the caller says the data is final.
        idx.feed(&pending, true, |_| {});
        assert_eq!(idx.sessions(), whole.sessions(), "step {step}");
    }
}

/// Output texts that are all ASCII are held as bytes by the fast paths
/// (`event::TextRef`); anything else as code points. Either way each
/// event equals the full scanner's decoding of its line, in one-pass
/// grouping and in the bounded-memory read pass alike.
mod output_bytes {
    use super::*;
    use crate::reader::line::parse_event_slow;
    use crate::EventBuf;
    use proptest::prelude::*;

    /// Pieces of `d`: plain runs of several lengths (to end inside and
    /// across 8-byte words), escapes that decode below and above 0x80, raw
    /// non-ASCII, surrogates paired and lone.
    const PIECES: [&[u8]; 14] = [
        b"a",
        b"root@web01:~# ",
        b"0123456789abcdef",
        br"\r\n",
        br"\u001b[?2004h",
        br"\u007f",
        br"\u0080",
        br"\u00e9",
        b"\xC3\xA9",
        b"\xFF",
        br"\ud83d\ude00",
        br"\ud800",
        br#"\"\\\/\b\f\t"#,
        b"~\x7F",
    ];

    fn shard_of(lines: &[Vec<usize>], tail: bool) -> Vec<u8> {
        let mut shard = Vec::new();
        for (k, parts) in lines.iter().enumerate() {
            let ch = if k % 5 == 4 { "i" } else { "o" };
            shard.extend_from_slice(
                format!(r#"{{"sid":"s-{}","t":{k}.25,"ch":"{ch}","d":""#, k % 2).as_bytes(),
            );
            for &p in parts {
                shard.extend_from_slice(PIECES[p]);
            }
            shard.extend_from_slice(b"\"}");
            if k + 1 < lines.len() || tail {
                shard.push(b'\n');
            }
        }
        shard
    }

    fn check(shard: &[u8]) {
        let lines: Vec<&[u8]> = split_lines(shard).collect();
        let mut index = ShardIndex::new();
        index.feed(shard, true, |_| {});
        let two_pass: Vec<EventBuf> = index
            .sessions()
            .iter()
            .map(|e| session_events(shard, e))
            .collect();
        for (g, read) in group_sessions(shard).iter().zip(&two_pass) {
            // Lines of this session, in order: sids alternate s-0, s-1.
            let k0 = usize::from(g.sid.last() == Some(&u32::from(b'1')));
            let want: Vec<Event> = lines
                .iter()
                .skip(k0)
                .step_by(2)
                .filter_map(|l| parse_event_slow(l))
                .collect();
            for buf in [&g.events, read] {
                assert_eq!(buf.to_events(), want);
                for (i, e) in want.iter().enumerate() {
                    let ascii = e.data.iter().all(|&c| c < 0x80);
                    if buf.held_as_bytes(i) {
                        assert!(ascii && e.kind == EventKind::Output, "event {i}");
                    } else if ascii && e.kind == EventKind::Output && e.data.len() > 16 {
                        // Too long for the keystroke path: the scanner's
                        // byte decoder took it.
                        panic!("long ASCII output {i} held as code points");
                    }
                }
            }
        }
    }

    #[test]
    fn usual_output_lines() {
        let shard = shard_of(
            &[
                vec![4, 1],
                vec![1, 1, 3, 2, 2],
                vec![4, 7, 1],
                vec![],
                vec![2, 2, 13, 12],
                vec![8, 2, 2],
                vec![10, 2, 2],
            ],
            false,
        );
        check(&shard);
        let g = group_sessions(&shard);
        // s-0: lines 0, 2, 4 (an input), 6; s-1: lines 1, 3, 5.
        let held: Vec<bool> = (0..4).map(|i| g[0].events.held_as_bytes(i)).collect();
        assert_eq!(held, [true, false, false, false]);
        let held: Vec<bool> = (0..3).map(|i| g[1].events.held_as_bytes(i)).collect();
        assert_eq!(held, [true, false, false]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn output_texts_equal_the_full_scanner(
            lines in proptest::collection::vec(
                proptest::collection::vec(0usize..PIECES.len(), 0..40),
                1..14,
            ),
            tail in any::<bool>(),
        ) {
            check(&shard_of(&lines, tail));
        }
    }
}
