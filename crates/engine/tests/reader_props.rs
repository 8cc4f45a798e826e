//! Property tests of the shard line reader: it never panics on arbitrary
//! bytes, and well-formed recorder lines round-trip.

use decnet_engine::reader::{group_sessions, parse_line, LineOutcome};
use decnet_engine::{Event, EventKind};
use proptest::prelude::*;

/// JSON-escapes code points the way sessrec would (plus `\u` escapes for
/// everything non-ASCII, with surrogate pairs, and lone surrogates).
fn json_string(cps: &[u32]) -> String {
    let mut s = String::from("\"");
    for &c in cps {
        match c {
            0x22 => s.push_str("\\\""),
            0x5C => s.push_str("\\\\"),
            0x0A => s.push_str("\\n"),
            0x20..=0x7E => s.push(char::from(c as u8)),
            0x10000.. => {
                let v = c - 0x10000;
                s.push_str(&format!(
                    "\\u{:04x}\\u{:04x}",
                    0xD800 + (v >> 10),
                    0xDC00 + (v & 0x3FF)
                ));
            }
            _ => s.push_str(&format!("\\u{c:04x}")),
        }
    }
    s.push('"');
    s
}

fn code_point() -> impl Strategy<Value = u32> {
    prop_oneof![
        0x20u32..0x7F,
        0u32..0x20,
        0x80u32..0x800,
        // Lone surrogates: kept as code points (a high one followed by a
        // low one would pair up, so only low ones here).
        0xDC00u32..0xE000,
        0xE000u32..0x110000,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_line(&bytes);
        let _ = group_sessions(&bytes);
    }

    #[test]
    fn never_panics_on_mutated_event_lines(
        pos in 0usize..60,
        byte in any::<u8>(),
        cut in 0usize..70,
    ) {
        let mut line = br#"{"sid":"a-1","t":12.345678,"ch":"i","d":"ls \u001b[A\u00e9"}"#.to_vec();
        let p = pos % line.len();
        line[p] = byte;
        line.truncate(cut.max(1));
        let _ = parse_line(&line);
    }

    #[test]
    fn event_lines_round_trip(
        sid in "[a-f0-9-]{1,40}",
        t in prop_oneof![any::<f64>().prop_filter("finite", |x| x.is_finite()), Just(0.0)],
        input in any::<bool>(),
        data in proptest::collection::vec(code_point(), 0..40),
        ws in "[ \t]{0,3}",
    ) {
        let ch = if input { "i" } else { "o" };
        let line = format!(
            "{ws}{{\"sid\":{},\"t\":{:?},\"ch\":\"{ch}\",\"d\":{}}}{ws}",
            json_string(&sid.chars().map(u32::from).collect::<Vec<_>>()),
            t,
            json_string(&data)
        );
        let want = Event {
            t,
            kind: if input { EventKind::Input } else { EventKind::Output },
            data: data.clone(),
        };
        match parse_line(line.as_bytes()) {
            LineOutcome::Event { sid: got_sid, event } => {
                prop_assert_eq!(got_sid, sid.chars().map(u32::from).collect::<Vec<_>>());
                prop_assert_eq!(event.t.to_bits(), want.t.to_bits());
                prop_assert_eq!(event, want);
            }
            other => prop_assert!(false, "not an event: {:?}", other),
        }
    }

    /// Raw (unescaped) UTF-8 and raw invalid bytes inside `d` decode with
    /// `surrogateescape`, exactly as `decode_surrogateescape` of the bytes.
    #[test]
    fn raw_bytes_in_strings_decode_like_surrogateescape(
        raw in proptest::collection::vec(prop_oneof![0x20u8..0x7F, 0x80u8..=0xFF], 0..60),
    ) {
        let raw: Vec<u8> = raw.into_iter().filter(|&b| b != b'"' && b != b'\\').collect();
        let mut line = br#"{"sid":"s","t":1,"ch":"o","d":""#.to_vec();
        line.extend_from_slice(&raw);
        line.extend_from_slice(b"\"}");
        let mut want = Vec::new();
        decnet_engine::reader::decode_surrogateescape(&raw, &mut want);
        match parse_line(&line) {
            LineOutcome::Event { event, .. } => prop_assert_eq!(event.data, want),
            other => prop_assert!(false, "not an event: {:?}", other),
        }
    }
}
