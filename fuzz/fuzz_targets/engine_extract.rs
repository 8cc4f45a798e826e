//! The engine's `extract_session` on arbitrary event sequences, for every
//! profile.
//!
//! Events are built from structured input so the fuzzer reaches the
//! interesting parts quickly: times that are NaN, ±Infinity, negative,
//! huge, subnormal or out of order; text mixing shell tokens, control keys,
//! ANSI/bracketed-paste sequences, prompts, lone surrogates (what
//! `surrogateescape` makes of non-UTF-8 bytes) and arbitrary code points.
//!
//! Properties, besides "never panics": an `Ok` result holds registry-valid
//! observations (confidence in [0, 1], window end not before start, one per
//! primitive at most, the evidence_ref given), and extraction is
//! deterministic (same values and confidences twice).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use decnet_engine::{extract_session, Event, EventKind, ExtractParams, Profile};
use libfuzzer_sys::fuzz_target;

const TOKENS: &[&str] = &[
    "ls -la",
    "cd /tmp",
    "cat /etc/passwd",
    "wget http://x/y.sh",
    "curl -s ",
    "chmod +x ",
    "uname -a",
    "whoami",
    "id",
    "sudo su",
    "Password: ",
    "exit",
    "history -c",
    "unset HISTFILE",
    "export HISTFILE=/dev/null",
    "ps aux | grep x",
    "for i in 1 2; do echo $i; done",
    "tmux",
    "root@host:~# ",
    "$ ",
    "\r\n",
    "\n",
    "\r",
    "\t",
    " ",
    "\x1b[A",
    "\x1b[B",
    "\x1b[C",
    "\x1b[D",
    "\x1b[200~",
    "\x1b[201~",
    "\x1b]0;title\x07",
    "\x1b[01;34m",
    "\x1b[0m",
    "\x7f",
    "\x08",
    "\x03",
    "\x04",
    "\x15",
    "\x17",
    "\x12",
    "\x01",
    "\x05",
    "\x0c",
    "#",
    "'",
    "\"",
    ";",
    "&&",
    "||",
    "|",
    ">",
    "~",
    "..",
    "-",
    "--help",
    "fuck",
    "é",
    "日本",
    "🙂",
];

#[derive(Debug)]
enum Piece {
    Token(usize),
    Ascii(u8),
    Surrogate(u16),
    CodePoint(u32),
}

impl<'a> Arbitrary<'a> for Piece {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=9)? {
            0..=4 => Piece::Token(u.choose_index(TOKENS.len())?),
            5..=7 => Piece::Ascii(u.int_in_range(0x20..=0x7e)?),
            8 => Piece::Surrogate(u.int_in_range(0xDC80..=0xDCFF)?),
            _ => Piece::CodePoint(u.int_in_range(0..=0x10FFFF)?),
        })
    }
}

#[derive(Debug)]
enum Time {
    /// A step forward from the previous event, in milliseconds.
    Step(u16),
    /// A step back.
    Back(u16),
    Raw(f64),
    NaN,
    Inf,
    NegInf,
    Huge,
    Tiny,
}

impl<'a> Arbitrary<'a> for Time {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=31)? {
            0..=23 => Time::Step(u.arbitrary()?),
            24..=25 => Time::Back(u.arbitrary()?),
            26 => Time::Raw(u.arbitrary()?),
            27 => Time::NaN,
            28 => Time::Inf,
            29 => Time::NegInf,
            30 => Time::Huge,
            _ => Time::Tiny,
        })
    }
}

#[derive(Debug, Arbitrary)]
struct Ev {
    t: Time,
    input: bool,
    pieces: Vec<Piece>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    events: Vec<Ev>,
    now_ts: f64,
}

fn build(input: &Input) -> Vec<Event> {
    let mut t = 0.0f64;
    input
        .events
        .iter()
        .map(|e| {
            t = match e.t {
                Time::Step(ms) => t + f64::from(ms) / 1000.0,
                Time::Back(ms) => t - f64::from(ms) / 1000.0,
                Time::Raw(x) => x,
                Time::NaN => f64::NAN,
                Time::Inf => f64::INFINITY,
                Time::NegInf => f64::NEG_INFINITY,
                Time::Huge => 1.0e308,
                Time::Tiny => 5.0e-324,
            };
            let mut data = Vec::new();
            for p in &e.pieces {
                match *p {
                    Piece::Token(i) => data.extend(TOKENS[i].chars().map(u32::from)),
                    Piece::Ascii(b) => data.push(u32::from(b)),
                    Piece::Surrogate(s) => data.push(u32::from(s)),
                    Piece::CodePoint(c) => data.push(c),
                }
            }
            Event {
                t,
                kind: if e.input {
                    EventKind::Input
                } else {
                    EventKind::Output
                },
                data,
            }
        })
        .collect()
}

const EVIDENCE: &str =
    "shard:decky-01/ssh/sessions-2026-05-02.jsonl#11111111-2222-4333-8444-555555555555";

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(bytes)) else {
        return;
    };
    let events = build(&input);
    for &profile in Profile::ALL {
        let params = ExtractParams {
            sid: "11111111-2222-4333-8444-555555555555",
            evidence_ref: Some(EVIDENCE),
            source: decnet_engine::DEFAULT_SOURCE,
            profile,
            now_ts: input.now_ts,
        };
        let first = extract_session(&events, &params);
        let again = extract_session(&events, &params);
        match (&first, &again) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.len(), b.len(), "non-deterministic observation count");
                let mut seen = std::collections::HashSet::new();
                for (x, y) in a.iter().zip(b) {
                    assert_eq!(x.primitive, y.primitive);
                    assert_eq!(x.value, y.value, "non-deterministic value");
                    assert_eq!(x.confidence.to_bits(), y.confidence.to_bits());
                    assert!(
                        (0.0..=1.0).contains(&x.confidence),
                        "confidence out of range"
                    );
                    assert!(
                        !(x.window_end_ts < x.window_start_ts),
                        "window end before start"
                    );
                    assert_eq!(&*x.evidence_ref, EVIDENCE);
                    assert!(seen.insert(x.primitive), "primitive emitted twice");
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "non-deterministic error"),
            _ => panic!("extract is not deterministic (Ok vs Err)"),
        }
    }
});
