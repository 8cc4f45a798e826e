//! The commonest line of a day-shard, read without the general scanner: a
//! keystroke, its echo or an output, of a session whose sid the caller has
//! already matched (the previous line's, or a known plain sid).
//!
//! Every line of the recorder's exact shape (`{"sid":"…","t":68.760501,
//! "ch":"i","d":"c"}`) has its fixed runs, `t` and `ch` read here from a
//! fixed window past the sid by word loads at offsets: the fixed runs as
//! word compares, `t` by SWAR. A `d` of a few bytes (two lines in three)
//! is then read in one word (escapes byte by byte into a small array);
//! a longer one (an output, a paste) by the strict path's string decoder,
//! from where this path stopped, so the line is not matched a second time.
//! Anything else — a sign or an exponent in `t`, a non-ASCII output (the
//! strict path chooses its storage), a text larger than the open chunk's
//! room, a line that goes on after `}` — is refused with `buf` as it was,
//! and the caller reads the line the strict way. What this accepts, the
//! strict path accepts with the same event (the property test below holds
//! it to that).

use super::json::{
    eight_digits, hex4, non_digit_bytes, special_bytes, string_body_into, TextSink, HIGH, LOW,
    POW10, POW10_U64, SIMPLE_ESCAPE,
};
use crate::event::{EventBuf, EventKind};

/// Longest `d` read into the small array, in code points (a keystroke, an
/// echo, a key's escape sequence). Longer texts go to the string decoder.
const MAX_TEXT: usize = 16;

/// Bytes read at once from the sid's closing quote: the fixed runs, `t`
/// and a short `d` all fall inside, so they are found by word loads at
/// offsets instead of a byte-by-byte walk. (The last lines of a shard,
/// closer than this to its end, go the strict way.)
const WINDOW: usize = 64;

/// Reads the line whose sid ends at `shard[q]` (the closing quote; the
/// caller has matched the sid) onto `buf`. Returns where the line's content
/// ends (after its `}`), or `None` with `buf` untouched; also `None` when
/// `content_end` is given and the line's content ends elsewhere (a caller
/// that already split the line).
#[inline]
pub(crate) fn keystroke_into(
    shard: &[u8],
    q: usize,
    content_end: Option<usize>,
    buf: &mut EventBuf,
) -> Option<usize> {
    let win: &[u8; WINDOW] = shard.get(q..q + WINDOW)?.try_into().ok()?;
    // `","t":` and the first two bytes of `t`.
    if word(win, 0)? & 0xFFFF_FFFF_FFFF != u64::from_le_bytes(*b"\",\"t\":\0\0") {
        return None;
    }
    // `t`: 1..=7 integer digits (no leading zero but `0` itself), `.`,
    // 1..=7 fraction digits: at most 14 digits, so `w < 2^53` and `10^k`
    // is exact, and `w / 10^k` is one correctly rounded division, the f64
    // Python's `float(t)` gives (as the strict path's short decimals).
    let x = word(win, 6)?;
    let n = digits_at_start(x);
    if n == 0 || n == 8 || win[6 + n] != b'.' || (n > 1 && win[6] == b'0') {
        return None;
    }
    let f = 6 + n + 1;
    let y = word(win, f)?;
    let k = digits_at_start(y);
    if k == 0 || k == 8 {
        return None;
    }
    let w = digits_value(x, n) * POW10_U64[k] + digits_value(y, k);
    let t = w as f64 / POW10[k];
    // `,"ch":"i","d":"` (or `"o"`): two words around the channel byte.
    let c = f + k;
    let (a, b) = (word(win, c)?, word(win, c + 7)?);
    if a & 0x00FF_FFFF_FFFF_FFFF != u64::from_le_bytes(*b",\"ch\":\"\0")
        || b & !0xFF != u64::from_le_bytes(*b"\0\",\"d\":\"")
    {
        return None;
    }
    let kind = match win[c + 7] {
        b'i' => EventKind::Input,
        b'o' => EventKind::Output,
        _ => return None,
    };
    let s = c + 15;
    // `d`: up to 7 plain ASCII bytes and the closing quote in one word;
    // an escape within them, byte by byte; eight plain bytes or more (an
    // output, a paste) by the string decoder ([`long_text_into`]).
    let z = word(win, s)?;
    let m = special_bytes(z) | (z & HIGH);
    let rest = &shard[q..];
    // The closing quote at `close`, then `}` and the end of the line.
    let line_ends = |close: usize| {
        rest.get(close + 1) == Some(&b'}')
            && matches!(rest.get(close + 2), None | Some(b'\n' | b'\r'))
            && content_end.is_none_or(|e| e == q + close + 2)
    };
    if m != 0 {
        let plain = (m.trailing_zeros() / 8) as usize;
        match win[s + plain] {
            b'"' => {
                // `}` and the line's end are inside the window too (`s + 9
                // < WINDOW`), so they are read from it.
                let close = s + plain;
                if win[close + 1] != b'}'
                    || !matches!(win[close + 2], b'\n' | b'\r')
                    || content_end.is_some_and(|e| e != q + close + 2)
                {
                    return None;
                }
                let out = buf.text_for(plain);
                let start = out.len();
                out.extend(win[s..close].iter().map(|&c| u32::from(c)));
                buf.commit(t, kind, start);
                return Some(q + close + 2);
            }
            b'\\' => {
                let mut text = [0u32; MAX_TEXT];
                if let Some((n, close)) = text_with_escapes(rest, s, &mut text) {
                    if !line_ends(close) {
                        return None;
                    }
                    let out = buf.text_for(n);
                    let start = out.len();
                    out.extend_from_slice(&text[..n]);
                    buf.commit(t, kind, start);
                    return Some(q + close + 2);
                }
            }
            _ => {}
        }
    }
    // Anything longer (an output, a paste) or less plain: the line is
    // matched up to `d` already, so `d` is decoded here the strict path's
    // way instead of the strict path matching the whole line again. `end`
    // is past the closing quote, so the `}` is at `end`.
    let end = long_text_into(shard, q + s, t, kind, buf, |end| line_ends(end - q - 1))?;
    Some(end + 1)
}

/// Room ensured in the open chunk before a long `d` is decoded here; a
/// text that does not fit is refused (the strict path then sizes the room
/// from its line).
const LONG_TEXT_ROOM: usize = 512;

/// A `d` of eight plain bytes or more, from `shard[at..]` (past its opening
/// quote), decoded and committed as the strict path would: an output onto
/// the byte chunk when it is all ASCII, an input onto the `u32` one.
/// Returns the index past the closing quote, once `line_ends` accepted it;
/// `None` (nothing committed) for a non-ASCII output, a text larger than
/// the open chunk's room, or a line that goes on, which the strict path
/// decides.
#[inline]
fn long_text_into(
    shard: &[u8],
    at: usize,
    t: f64,
    kind: EventKind,
    buf: &mut EventBuf,
    line_ends: impl Fn(usize) -> bool,
) -> Option<usize> {
    match kind {
        EventKind::Output => {
            let (start, end) = decode_or_undo(shard, at, buf.bytes_for(LONG_TEXT_ROOM), line_ends)?;
            buf.commit_ascii_output(t, start);
            Some(end)
        }
        EventKind::Input => {
            let (start, end) = decode_or_undo(shard, at, buf.text_for(LONG_TEXT_ROOM), line_ends)?;
            buf.commit(t, kind, start);
            Some(end)
        }
    }
}

/// The string body at `shard[at..]` decoded onto the end of `out`: (where
/// its text starts in `out`, the index past the closing quote) once
/// `line_ends` accepted that index; else `out` is cut back as it was.
fn decode_or_undo<T>(
    shard: &[u8],
    at: usize,
    out: &mut Vec<T>,
    line_ends: impl Fn(usize) -> bool,
) -> Option<(usize, usize)>
where
    Vec<T>: TextSink,
{
    let start = out.len();
    let end = string_body_into(shard, at, out).filter(|&end| line_ends(end));
    if end.is_none() {
        out.truncate(start);
    }
    Some((start, end?))
}

/// `d` from `rest[i..]` with escapes, into `text`: (code points, index of
/// the closing quote). `None` for what the strict path must decide: a
/// surrogate escape (paired or not), a raw control or non-ASCII byte, an
/// unknown escape, more than [`MAX_TEXT`] code points.
fn text_with_escapes(
    rest: &[u8],
    mut i: usize,
    text: &mut [u32; MAX_TEXT],
) -> Option<(usize, usize)> {
    let mut n = 0;
    loop {
        let c = *rest.get(i)?;
        let cp = match c {
            b'"' => return Some((n, i)),
            b'\\' => {
                let e = *rest.get(i + 1)?;
                match SIMPLE_ESCAPE[usize::from(e)] {
                    0 if e == b'u' => {
                        let v = hex4(rest.get(i + 2..i + 6))?;
                        if (0xD800..=0xDFFF).contains(&v) {
                            return None;
                        }
                        i += 6;
                        v
                    }
                    0 => return None,
                    v => {
                        i += 2;
                        u32::from(v)
                    }
                }
            }
            0..=0x1F | 0x80.. => return None,
            _ => {
                i += 1;
                u32::from(c)
            }
        };
        *text.get_mut(n)? = cp;
        n += 1;
    }
}

#[inline(always)]
fn word(win: &[u8; WINDOW], at: usize) -> Option<u64> {
    let b: [u8; 8] = win.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// How many of the word's bytes, lowest first, are ASCII digits.
#[inline(always)]
fn digits_at_start(x: u64) -> usize {
    (non_digit_bytes(x).trailing_zeros() / 8) as usize
}

/// The value of the word's lowest `n` bytes (1..=7 digits, lowest first).
#[inline(always)]
fn digits_value(x: u64, n: usize) -> u64 {
    eight_digits(x.wrapping_sub(LOW * 0x30) << (8 * (8 - n) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::line::fast_event_strict_into;
    use proptest::prelude::*;

    /// Both paths on one line; `Some` = (end, t bits, kind, text).
    type Read = Option<(usize, u64, EventKind, Vec<u32>)>;

    fn by_keystroke(line: &[u8], q: usize) -> Read {
        let mut buf = EventBuf::new();
        let end = keystroke_into(line, q, None, &mut buf)?;
        let e = buf.get(0)?;
        assert_eq!(buf.len(), 1);
        Some((end, e.t.to_bits(), e.kind, e.data.to_vec()))
    }

    fn by_strict(line: &[u8], sid_len: usize) -> Read {
        let mut buf = EventBuf::new();
        let (_, end) = fast_event_strict_into(line, 0, Some(sid_len), &mut buf)?;
        let e = buf.get(0)?;
        Some((end, e.t.to_bits(), e.kind, e.data.to_vec()))
    }

    const SID: &str = "ea7fd11f-6405-48d9-a828-293a568ef17e";

    fn line(t: &str, ch: &str, d: &str, tail: &str) -> Vec<u8> {
        format!("{{\"sid\":\"{SID}\",\"t\":{t},\"ch\":\"{ch}\",\"d\":\"{d}\"}}{tail}").into_bytes()
    }

    /// What follows a line in a shard (the next line's start): the
    /// keystroke path reads a fixed window past the sid.
    const NEXT: &str = "{\"sid\":\"ea7fd11f-6405-48d9-a828-293a568ef17e\",\"t\":68.760501,\"ch\":\"i\",\"d\":\"c\"}";

    /// The line alone (end of shard: a short line is always left to the
    /// strict path, a long one with escapes may be read here), then the
    /// line followed by the next one.
    fn check(l: &[u8]) -> Read {
        let q = 8 + SID.len();
        if let Some(alone) = by_keystroke(l, q) {
            assert_eq!(
                Some(alone),
                by_strict(l, SID.len()),
                "{:?}",
                String::from_utf8_lossy(l)
            );
        }
        let mut shard = l.to_vec();
        shard.extend_from_slice(NEXT.as_bytes());
        let k = by_keystroke(&shard, q);
        if let Some(k) = &k {
            assert_eq!(
                Some(k),
                by_strict(&shard, SID.len()).as_ref(),
                "{:?}",
                String::from_utf8_lossy(l)
            );
            // A caller that split the line: its content end must agree.
            let mut buf = EventBuf::new();
            assert_eq!(keystroke_into(&shard, q, Some(k.0), &mut buf), Some(k.0));
            for wrong in [k.0 - 1, k.0 + 1] {
                assert_eq!(keystroke_into(&shard, q, Some(wrong), &mut buf), None);
            }
            assert_eq!(buf.len(), 1);
        }
        k
    }

    #[test]
    fn reads_the_usual_lines() {
        let r = check(&line("68.760501", "i", "\\u007f", "\n")).expect("taken");
        assert_eq!((r.2, r.3), (EventKind::Input, vec![0x7F]));
        assert_eq!(f64::from_bits(r.1), 68.760501);
        let r = check(&line("0.054340", "o", "\\b \\b", "\r\n")).expect("taken");
        assert_eq!((r.2, r.3), (EventKind::Output, vec![8, 0x20, 8]));
        let r = check(&line("1.5", "o", "", "\r")).expect("taken");
        assert_eq!(r.3, Vec::<u32>::new());
        // ESC's escape is read by a compare, any case of its hex digits by
        // the hex parse: the same code point, short text or long.
        for esc in ["\\u001b", "\\u001B", "\\u001b\\u001b"] {
            let r = check(&line("1.5", "i", &format!("{esc}[A"), "\n")).expect("taken");
            assert_eq!(r.3[r.3.len() - 3..], [0x1B, 0x5B, 0x41]);
            let long = format!("{esc}[01;31mroot@web01{esc}[00m:~# ");
            let r = check(&line("1.5", "o", &long, "\n")).expect("taken");
            assert_eq!(
                r.3.iter().filter(|&&c| c == 0x1B).count(),
                2 * esc.matches('u').count()
            );
        }
        let r = check(&line("12.0", "i", "\\u00e9\\n\\\"", "\n")).expect("taken");
        assert_eq!(r.3, vec![0xE9, 0x0A, 0x22]);
    }

    #[test]
    fn refuses_what_the_strict_path_decides() {
        for l in [
            line("-1.5", "i", "a", "\n"),
            line("01.5", "i", "a", "\n"),
            line("1", "i", "a", "\n"),
            line("1.", "i", "a", "\n"),
            line("1.5e3", "i", "a", "\n"),
            line("12345678.5", "i", "a", "\n"),
            line("1.12345678", "i", "a", "\n"),
            line("1.5", "i", "a", ""),
            line("1.5", "r", "a", "\n"),
            line("1.5", "i", "\\x41", "\n"),
            line("1.5", "i", "\\u12G4", "\n"),
            line("1.5", "i", "\t", "\n"),
            line("1.5", "i", "a", " \n"),
            line("1.5", "i", "a", ",\"x\":1}\n"),
            line("1.5", "i", "a", "x"),
        ] {
            assert_eq!(check(&l), None, "{:?}", String::from_utf8_lossy(&l));
        }
        // Surrogate escapes, paired or not, and raw non-ASCII input: the
        // strict path's decoding, done here.
        let r = check(&line("1.5", "i", "\\ud83d\\ude00", "\n")).expect("taken");
        assert_eq!(r.3, vec![0x1F600]);
        let r = check(&line("1.5", "i", "\\ud800", "\n")).expect("taken");
        assert_eq!(r.3, vec![0xD800]);
        let r = check(&line("1.5", "i", "\u{e9}", "\n")).expect("taken");
        assert_eq!(r.3, vec![0xE9]);
        // Sixteen code points after an early escape are read into a small
        // array, seventeen the long way: both taken.
        let r = check(&line("1.5", "i", &"\\r".repeat(16), "\n")).expect("taken");
        assert_eq!(r.3, vec![0x0D; 16]);
        let r = check(&line("1.5", "i", &"\\r".repeat(17), "\n")).expect("taken");
        assert_eq!(r.3, vec![0x0D; 17]);
        assert!(check(&line("1.5", "i", "aaaaaaa", "\n")).is_some());
        // Eight plain bytes or more: decoded here the strict path's way,
        // escapes and raw non-ASCII input included; a non-ASCII output is
        // left to it (it decides between bytes and code points).
        let r = check(&line("1.5", "i", "aaaaaaaa", "\n")).expect("taken");
        assert_eq!(r.3, vec![u32::from(b'a'); 8]);
        let r = check(&line("1.5", "i", "ls -la /tmp\\n\\u00e9", "\n")).expect("taken");
        assert_eq!(r.3.last(), Some(&0xE9));
        let r = check(&line("1.5", "i", "paste me \\ud83d\\ude00 \u{e9}", "\n")).expect("taken");
        assert_eq!(r.3[r.3.len() - 3..], [0x1F600, 0x20, 0xE9]);
        assert_eq!(check(&line("1.5", "o", "total 8\\r\\n\u{e9}", "\n")), None);
        assert_eq!(check(&line("1.5", "o", "total 8\\r\\n\t", "\n")), None);
        let r = check(&line("1.5", "o", "total 8\\r\\n\\u001b[0m", "\n")).expect("taken");
        assert_eq!(r.3.len(), 13);
        assert_eq!(
            check(&line("1.5", "o", "total 8\\r\\n\\u001b[0m", " \n")),
            None
        );
        assert_eq!(check(&line("1.5", "o", "total 8\\r\\n\\u12", "\n")), None);
        // A long ASCII output is held as bytes, as the strict path holds it.
        let l = line("1.5", "o", "total 80 KiB\\r\\n", "\n");
        let mut shard = l.clone();
        shard.extend_from_slice(NEXT.as_bytes());
        let mut buf = EventBuf::new();
        keystroke_into(&shard, 8 + SID.len(), None, &mut buf).expect("taken");
        assert!(buf.held_as_bytes(0));
        // Longer than the open chunk's room (a first chunk is 16 KiB):
        // left to the strict path, nothing written.
        let long = "x".repeat((64 << 10) + LONG_TEXT_ROOM);
        let l = line("1.5", "o", &long, "\n");
        let mut buf = EventBuf::new();
        assert_eq!(keystroke_into(&l, 8 + SID.len(), None, &mut buf), None);
        assert_eq!((buf.len(), buf.text_len()), (0, 0));
        assert!(by_strict(&l, SID.len()).is_some());
        // A line cut anywhere is refused, never read past.
        let full = line("68.760501", "i", "\\u007f", "");
        for cut in 0..full.len() {
            assert_eq!(check(&full[..cut]), None, "cut {cut}");
        }
        // Fourteen digits of `t` are taken (7 + 7), exactly.
        let r = check(&line("1234567.7654321", "i", "a", "\n")).expect("taken");
        assert_eq!(f64::from_bits(r.1), 1234567.7654321);
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,3}",
            "[ -~]{8,12}",
            Just("\\".to_string()),
            Just("\"".to_string()),
            "\\\\[\"\\\\/bfnrtux]",
            "\\\\u[0-9a-fA-F]{4}",
            "\\\\u[dD][89abAB][0-9a-f]{2}",
            Just("\u{e9}".to_string()),
            Just("\u{1}".to_string()),
            Just("\u{7f}".to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Whatever the keystroke path takes, the strict path takes with
        /// the same event and end.
        #[test]
        fn agrees_with_the_strict_path(
            t in prop_oneof!["[0-9]{1,10}\\.[0-9]{0,10}", "-?[0-9]{1,3}(\\.[0-9]{1,3})?([eE][-+]?[0-9])?", "[0-9.eE+-]{1,6}"],
            ch in "[io r]",
            d in proptest::collection::vec(piece(), 0..8),
            tail in prop_oneof![Just(String::new()), Just("\n".to_string()), Just("\r\n".to_string()), Just("\r".to_string()), "[ -~\n]{0,3}"],
        ) {
            let l = line(&t, &ch, &d.concat(), &tail);
            let short_t = t.split_once('.').is_some_and(|(a, b)| {
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
                digits(a) && digits(b) && (a == "0" || !a.starts_with('0')) && a.len() <= 7 && b.len() <= 7
            });
            let plain = short_t && (ch == "i" || ch == "o") && d.len() <= 2
                && d.iter().all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
                && matches!(tail.as_str(), "\n" | "\r" | "\r\n");
            let got = check(&l);
            if plain {
                prop_assert!(got.is_some(), "refused a plain line {:?}", String::from_utf8_lossy(&l));
            }
        }
    }
}
