//! environmental.* primitives (engine.md §5.26–5.30).

use super::{emit, Emitted};
use crate::context::{strip_ansi_copy, strip_ansi_pair, PromptClass, SessionContext};
use crate::honest::honest;
use crate::profile::Profile;
use crate::stats::StatsError;
use crate::text::{is_ascii_letter, is_py_digit};
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

/// §5.26: modal prompt class, ties to the first-appearing class
/// (`behave-0.1.4`: D-PROMPT in the parser, D-CONF rule 1 on prompts).
pub(crate) fn shell_type(ctx: &SessionContext<'_>, p: Profile) -> R {
    let out = shell_type_ref(ctx)?;
    match (p, out) {
        (Profile::Behave014, Some((v, c))) => {
            Ok(Some((v, honest(c, ctx.prompt_classes.len(), false))))
        }
        (_, out) => Ok(out),
    }
}

fn shell_type_ref(ctx: &SessionContext<'_>) -> R {
    let prompts = &ctx.prompt_classes;
    if prompts.is_empty() {
        return Ok(None);
    }
    let mut counts: Vec<(PromptClass, usize)> = Vec::new();
    for &p in prompts {
        match counts.iter_mut().find(|(c, _)| *c == p) {
            Some(e) => e.1 += 1,
            None => counts.push((p, 1)),
        }
    }
    let mut best = counts[0];
    for &c in &counts[1..] {
        if c.1 > best.1 {
            best = c;
        }
    }
    emit(
        best.0.label(),
        if prompts.len() < SHELL_TYPE_MIN_PROMPTS {
            0.40
        } else {
            0.75
        },
    )
}

const TMUX_MARKERS: [&[u8]; 3] = [b"\x1bPtmux;", b"\x1b[?1004", b"\x1b]2;tmux"];
const SCREEN_MARKERS: [&[u8]; 2] = [b"\x1bP=", b"\x1b]83;"];

/// §5.27: markers searched per raw output event. `behave-0.1.4`: skipped
/// without output (D-EMPTY); focus reporting is not tmux and split markers
/// count (D-MUX, searched once in the context).
pub(crate) fn terminal_multiplexer(ctx: &SessionContext<'_>, p: Profile) -> R {
    if ctx.n_cmd() == 0 {
        return Ok(None);
    }
    if let (Profile::Behave014, Some(b)) = (p, &ctx.behave) {
        if ctx.outputs.is_empty() {
            return Ok(None);
        }
        return match b.mux {
            Some(m) => emit(m, 0.85),
            None => emit("none", 0.55),
        };
    }
    // Every marker starts with ESC: look for markers only at ESCs.
    let (mut tmux, mut screen) = (false, false);
    // On the narrow copy (the markers are ASCII, context::Narrow), one
    // search over all outputs; a marker counts only inside one event.
    let all = ctx.out_narrow.all();
    let mut k = 0;
    for i in memchr::memchr_iter(0x1B, all) {
        // Every marker goes on with `P`, `]` or `[?`: most ESCs (colours,
        // cursor moves) are ruled out by the next bytes alone.
        let candidate = match all.get(i + 1) {
            Some(b'P' | b']') => true,
            Some(b'[') => all.get(i + 2) == Some(&b'?'),
            _ => false,
        };
        if !candidate {
            continue;
        }
        let event = ctx.out_narrow.text_at(i, &mut k);
        let d = &all[i..event.end];
        tmux |= TMUX_MARKERS.iter().any(|m| d.starts_with(m));
        screen |= SCREEN_MARKERS.iter().any(|m| d.starts_with(m));
        if tmux {
            break;
        }
    }
    if tmux {
        emit("tmux", 0.85)
    } else if screen {
        emit("screen", 0.85)
    } else {
        emit("none", 0.55)
    }
}

// The ESC filter in `terminal_multiplexer` lets through every marker.
const _: () = {
    let mut i = 0;
    while i < TMUX_MARKERS.len() + SCREEN_MARKERS.len() {
        let m = if i < TMUX_MARKERS.len() {
            TMUX_MARKERS[i]
        } else {
            SCREEN_MARKERS[i - TMUX_MARKERS.len()]
        };
        assert!(m.len() >= 3 && m[0] == 0x1B);
        assert!(m[1] == b'P' || m[1] == b']' || (m[1] == b'[' && m[2] == b'?'));
        i += 1;
    }
};

fn is_alnum_ascii(c: u32) -> bool {
    c < 0x80 && (c as u8).is_ascii_alphanumeric()
}

/// One match of the locale regex at `i`: `(priority, value range)`. On
/// code points, or on the bytes of an all-ASCII text (the same text).
fn locale_match_at<T: Copy + Into<u32>>(s: &[T], i: usize) -> Option<(u8, usize, usize)> {
    const KEYS: [(&[u8], u8); 3] = [(b"LC_ALL=", 3), (b"LANG=", 2), (b"LC_CTYPE=", 1)];
    let at = |j: usize| s[j].into();
    let (key, prio) = KEYS.iter().find(|(k, _)| {
        s.len() >= i + k.len()
            && s[i..i + k.len()]
                .iter()
                .zip(k.iter())
                .all(|(&a, &b)| a.into() == u32::from(b))
    })?;
    let v = i + key.len();
    let letters = |from: usize, max: usize| {
        s[from..]
            .iter()
            .take(max)
            .take_while(|&&c| is_ascii_letter(c.into()))
            .count()
    };
    let l = letters(v, 3);
    if l >= 2 {
        let mut j = v + l;
        if j < s.len() && at(j) == u32::from(b'_') {
            let r = letters(j + 1, 3);
            if r >= 2 {
                j += 1 + r;
            }
        }
        if j < s.len() && at(j) == u32::from(b'.') {
            let r = s[j + 1..]
                .iter()
                .map(|&c| c.into())
                .take_while(|&c| is_alnum_ascii(c) || c == u32::from(b'-'))
                .count();
            if r >= 1 {
                j += 1 + r;
            }
        }
        if j < s.len() && at(j) == u32::from(b'@') {
            let r = s[j + 1..]
                .iter()
                .take_while(|&&c| is_alnum_ascii(c.into()))
                .count();
            if r >= 1 {
                j += 1 + r;
            }
        }
        return Some((*prio, v, j));
    }
    if v < s.len() && at(v) == u32::from(b'C') {
        return Some((*prio, v, v + 1));
    }
    // `POSIX` can only be reached when the letters alternative failed,
    // which it never does for `POSIX`; kept for fidelity.
    None
}

/// POSIX locale value → BCP-47 (`_to_bcp47`); the regex guarantees ASCII.
fn to_bcp47<T: Copy + Into<u32>>(v: &[T]) -> Option<String> {
    let as_str: String = v.iter().filter_map(|&c| char::from_u32(c.into())).collect();
    if as_str == "C" || as_str == "POSIX" {
        return Some("und".to_string());
    }
    let base = as_str
        .split('.')
        .next()
        .unwrap_or("")
        .split('@')
        .next()
        .unwrap_or("");
    let parts: Vec<&str> = base.split('_').collect();
    let lang = parts[0];
    if lang.is_empty() || !lang.chars().all(|c| c.is_ascii_alphabetic()) || lang.chars().count() < 2
    {
        return None;
    }
    let lang = lang.to_ascii_lowercase();
    if parts.len() == 1 {
        return Some(lang);
    }
    let region = parts[1];
    if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(format!("{lang}-{}", region.to_ascii_uppercase()))
}

/// True when `p` starts its output line (only whitespace before it).
fn at_line_start<T: Copy + Into<u32>>(s: &[T], p: usize) -> bool {
    s[..p]
        .iter()
        .rev()
        .map(|&c| c.into())
        .take_while(|&c| c != 0x0A && c != 0x0D)
        .all(crate::text::is_py_space)
}

/// The full value word at `a` is `C` or `POSIX` (optionally `.codeset`).
fn is_c_or_posix<T: Copy + Into<u32>>(s: &[T], a: usize) -> bool {
    let word: String = s[a..]
        .iter()
        .map(|&c| c.into())
        .take_while(|&c| is_alnum_ascii(c) || c == u32::from(b'_') || c == u32::from(b'@'))
        .filter_map(char::from_u32)
        .collect();
    word == "C" || word == "POSIX"
}

/// Exact pre-filter for [`locale`]: every match starts with a kept `L`
/// followed by a kept `A` or `C` (`LANG=`, `LC_ALL=`, `LC_CTYPE=`) and holds
/// a `=`. ANSI stripping removes whole raw spans that each start with ESC,
/// so in the raw output (events concatenated) such an `L` is followed
/// either by that `A`/`C` or by an ESC, and a `=` occurs somewhere. Without
/// both, the stripped text has no match.
fn locale_candidate(ctx: &SessionContext<'_>) -> bool {
    // On the narrow copy of the outputs' concatenation (every byte tested
    // is ASCII, context::Narrow): an `L` ending one event is followed by
    // the next non-empty event's first byte, as in the concatenation.
    let all = ctx.out_narrow.all();
    let next_ok = |x: u8| x == b'A' || x == b'C' || x == 0x1B;
    memchr::memchr(b'=', all).is_some()
        && memchr::memchr_iter(b'L', all).any(|p| all.get(p + 1).is_some_and(|&x| next_ok(x)))
}

/// §5.28; `behave-0.1.4`: C/POSIX give no locale, matches only at the start
/// of an output line (not `XLANG=`, not the echo of a typed command),
/// D-CONF rule 1 on the number of valid assignments (D-LOCALE).
pub(crate) fn locale(ctx: &SessionContext<'_>, p: Profile) -> R {
    let behave = p == Profile::Behave014;
    if ctx.n_cmd() == 0 {
        return Ok(None);
    }
    let total: usize = ctx.outputs.iter().map(|e| e.data.len()).sum();
    if total == 0 {
        return Ok(None);
    }
    if !locale_candidate(ctx) {
        return Ok(None);
    }
    // The outputs' concatenation, ANSI-stripped: when it is all ASCII its
    // narrow bytes are the text (no code point copy of the whole output).
    let all = ctx.out_narrow.all();
    let (hits, value) = if all.is_ascii() {
        let mut text = Vec::with_capacity(total);
        strip_ansi_copy(all, &mut text);
        scan_locale(&text, &text, behave)
    } else {
        let mut raw = Vec::with_capacity(total);
        for e in &ctx.outputs {
            e.data.widen_onto(&mut raw);
        }
        let mut narrow = all.to_vec();
        strip_ansi_pair(&mut raw, &mut narrow);
        scan_locale(&raw, &narrow, behave)
    };
    match value {
        Some(v) if behave => Ok(Some((v.into(), honest(0.80, hits, false)))),
        Some(v) => Ok(Some((v.into(), 0.80))),
        None => Ok(None),
    }
}

/// The locale scan of [`locale`] over the stripped output `text` (code
/// points, or the bytes of an all-ASCII text) and its narrow form:
/// (valid assignments, the best value).
fn scan_locale<T: Copy + Into<u32>>(
    text: &[T],
    narrow: &[u8],
    behave: bool,
) -> (usize, Option<String>) {
    let mut hits = 0usize;
    let mut best = 0u8;
    let mut value: Option<String> = None;
    let mut i = 0;
    while i < text.len() {
        // Candidate starts are 'L' only.
        let Some(p) = narrow
            .get(i..)
            .and_then(|r| memchr::memchr(b'L', r))
            .map(|k| i + k)
        else {
            break;
        };
        match locale_match_at(text, p) {
            Some((_, a, b)) if behave && (!at_line_start(text, p) || is_c_or_posix(text, a)) => {
                i = b.max(p + 1);
            }
            Some((prio, a, b)) => {
                // The value, converted once, and only when it counts (as an
                // assignment in `behave-0.1.4`, or as a better match).
                let v = (behave || prio > best)
                    .then(|| to_bcp47(&text[a..b]))
                    .flatten()
                    .filter(|v| v.chars().count() >= LOCALE_MIN_VALUE_LENGTH);
                if behave && v.is_some() {
                    hits += 1;
                }
                if let Some(v) = v.filter(|_| prio > best) {
                    best = prio;
                    value = Some(v);
                }
                i = b.max(p + 1);
            }
            None => i = p + 1,
        }
    }
    (hits, value)
}

/// §5.29
pub(crate) fn keyboard_layout(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let letters = ctx.typed_letter_count;
    if letters < LAYOUT_MIN_TYPED_LETTERS {
        return Ok(None);
    }
    let tb: u64 = ctx.bigrams.iter().map(|b| b.1).sum();
    let eng = if tb == 0 {
        0.0
    } else {
        let hits: u64 = ctx
            .bigrams
            .iter()
            .filter(|(k, _)| {
                LAYOUT_TOP_ENG_BIGRAMS.iter().any(|b| {
                    let b = b.as_bytes();
                    u16::from(b[0] - b'a') * 26 + u16::from(b[1] - b'a') == *k
                })
            })
            .map(|b| b.1)
            .sum();
        hits as f64 / tb as f64
    };
    let rate = |c: u8| ctx.unigrams[(c - b'a') as usize] as f64 / letters as f64;
    let (q, z, y) = (rate(b'q'), rate(b'z'), rate(b'y'));
    let value = if q > LAYOUT_AZERTY_Q_MIN && eng < LAYOUT_AZERTY_ENG_MAX {
        "azerty"
    } else if z > LAYOUT_QWERTZ_Z_MIN && y < LAYOUT_QWERTZ_Y_MAX {
        "qwertz"
    } else if eng >= LAYOUT_QWERTY_ENG_MIN {
        "qwerty"
    } else {
        "other"
    };
    emit(
        value,
        if letters < LAYOUT_FULL_CONFIDENCE_LETTERS {
            0.40
        } else {
            0.55
        },
    )
}

/// §5.30
pub(crate) fn numpad_usage(ctx: &SessionContext<'_>, _p: Profile) -> R {
    if ctx.n_cmd() == 0 {
        return Ok(None);
    }
    let mut typed = 0usize;
    let mut digits: Vec<f64> = Vec::with_capacity(ctx.inputs.len());
    for e in &ctx.inputs {
        if e.data.len() >= PASTE_MIN_CHARS_PER_EVENT {
            continue;
        }
        typed += e.data.len();
        if e.data.len() == 1 && is_py_digit(e.data[0]) {
            digits.push(e.t);
        }
    }
    if typed < NUMPAD_MIN_TYPED_CHARS {
        return Ok(None);
    }
    let detected = digits
        .windows(NUMPAD_RUN_MIN)
        .any(|w| w.windows(2).all(|p| p[1] - p[0] <= NUMPAD_FAST_IAT_S));
    emit(if detected { "detected" } else { "not_detected" }, 0.50)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::cps;

    fn conv(s: &str) -> Option<String> {
        let t = cps(s);
        let (_, a, b) = locale_match_at(&t, 0)?;
        to_bcp47(&t[a..b])
    }

    #[test]
    fn locale_examples() {
        assert_eq!(conv("LANG=en_US.UTF-8").as_deref(), Some("en-US"));
        assert_eq!(conv("LANG=de_DE@euro").as_deref(), Some("de-DE"));
        assert_eq!(conv("LC_ALL=C.UTF-8").as_deref(), Some("und"));
        assert_eq!(conv("LANG=POSIX").as_deref(), Some("pos"));
        assert_eq!(conv("LANG=english").as_deref(), Some("eng"));
        assert_eq!(conv("LANG=x"), None);
        assert_eq!(conv("LANG=en_U.x").as_deref(), Some("en"));
    }

    /// A session of one command whose outputs are `outs`, some held as
    /// bytes as the reader holds all-ASCII outputs: the searches on the
    /// outputs' narrow concatenation (locale pre-filter, multiplexer
    /// markers) read them as the reference does (locale over their
    /// concatenation, markers inside one event).
    fn with_outputs(outs: &[&str], f: impl Fn(&SessionContext<'_>)) {
        use crate::event::{EventKind, EventRef, TextRef};
        let wide: Vec<Vec<u32>> = outs.iter().map(|s| cps(s)).collect();
        let cmd = cps("ls\r");
        let mut evs = vec![EventRef {
            t: 1.0,
            kind: EventKind::Input,
            data: TextRef::from(&cmd),
        }];
        for (k, (s, w)) in outs.iter().zip(&wide).enumerate() {
            let data = if k % 2 == 0 && s.is_ascii() {
                TextRef::ascii(s.as_bytes())
            } else {
                TextRef::from(w)
            };
            evs.push(EventRef {
                t: 2.0 + k as f64,
                kind: EventKind::Output,
                data,
            });
        }
        let ctx = SessionContext::build(&evs, Profile::Decnet12, "s").expect("context");
        assert_eq!(ctx.n_cmd(), 1);
        f(&ctx);
    }

    /// The locale scan reads an all-ASCII text's bytes as it reads its
    /// code points (the ASCII path of `locale`), for both profiles.
    #[test]
    fn locale_scan_on_bytes_equals_on_code_points() {
        let pieces = [
            "LANG=",
            "LC_ALL=",
            "LC_CTYPE=",
            "en_US",
            ".UTF-8",
            "@euro",
            "C",
            "POSIX",
            "de",
            "\n",
            "\r",
            " ",
            "\t",
            "x",
            "L",
            "=",
            "_",
            "XLANG=fr_FR",
            "ja_JP.eucJP",
        ];
        let mut next = crate::xorshift(0x10CA);
        for _ in 0..5000 {
            let n = (next() % 10) as usize;
            let text: String = (0..n)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            let bytes = text.as_bytes();
            let cp = cps(&text);
            for behave in [false, true] {
                assert_eq!(
                    scan_locale(bytes, bytes, behave),
                    scan_locale(&cp, bytes, behave),
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn locale_prefilter_reads_the_concatenation() {
        for (outs, want) in [
            (&["LANG=en_US.UTF-8\n"][..], true),
            (&["x L", "ANG=en_US.UTF-8"][..], true),
            (&["L", "", "C_ALL=fr_FR.UTF-8"][..], true),
            (&["L", "\u{1b}[0mANG=de_DE.UTF-8"][..], true),
            (&["é L", "ANG", "=x"][..], true),
            (&["LANG en_US"][..], false),
            (&["L", "é", "ANG=x"][..], false),
            (&["x=1 ", "L"][..], false),
        ] {
            with_outputs(outs, |ctx| {
                assert_eq!(locale_candidate(ctx), want, "{outs:?}")
            });
        }
    }

    #[test]
    fn multiplexer_markers_count_inside_one_event() {
        let tmux = std::str::from_utf8(TMUX_MARKERS[0]).expect("ASCII marker");
        let (a, b) = tmux.split_at(2);
        for (outs, want) in [
            (vec![format!("x{tmux}y")], "tmux"),
            (vec!["é".to_string(), format!("{tmux}")], "tmux"),
            (vec![a.to_string(), b.to_string()], "none"),
            (vec!["plain".to_string()], "none"),
        ] {
            let outs: Vec<&str> = outs.iter().map(String::as_str).collect();
            with_outputs(&outs, |ctx| {
                let got = terminal_multiplexer(ctx, Profile::Decnet12).expect("mux");
                assert_eq!(
                    got.map(|(v, _)| v.into_owned()),
                    Some(want.to_string()),
                    "{outs:?}"
                );
            });
        }
    }
}
