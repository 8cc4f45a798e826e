//! One shard line → what the reference does with it (engine.md §1.3, §10).

use super::json::{
    decode_string, fast_event, fast_event_strict, number_value, parse_doc, Doc, FastEvent, Fields,
    JsonError, Sink, Val,
};
use crate::event::{Event, EventBuf, EventKind, Text};

/// Why a line yields no event. Fixed reasons only: never line content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Empty after trimming whitespace.
    Blank,
    /// Not a document Python's `json.loads` accepts.
    BadJson,
    /// Nested deeper than [`super::json::MAX_DEPTH`] (Python raises
    /// `RecursionError`; here the line is refused).
    TooDeep,
    /// Valid JSON that is not an object.
    NotObject,
    /// No `sid`, or `sid` is not a non-empty string.
    NoSid,
    /// No `t` or no `ch` key.
    NoTimeOrChannel,
    /// The recorder's `trunc` sentinel (an object with a `trunc` key and no
    /// `t`/`ch`): expected, nothing follows it for that sid.
    TruncSentinel,
    /// A resize event (`ch` is `"r"`): expected, not an engine event.
    Resize,
    /// `t` is not a number or boolean.
    BadTime,
    /// `ch` is not `"i"` or `"o"` (e.g. a resize event).
    BadChannel,
    /// `d` is present but not a string.
    BadData,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Blank => "blank line",
            SkipReason::BadJson => "not valid JSON",
            SkipReason::TooDeep => "JSON nested too deep",
            SkipReason::NotObject => "JSON value is not an object",
            SkipReason::NoSid => "no non-empty string sid",
            SkipReason::NoTimeOrChannel => "no t or no ch field",
            SkipReason::TruncSentinel => "truncation sentinel",
            SkipReason::Resize => "resize event",
            SkipReason::BadTime => "t is not a number or boolean",
            SkipReason::BadChannel => "ch is not \"i\" or \"o\"",
            SkipReason::BadData => "d is not a string",
        }
    }

    /// Lines the recorder legitimately writes (resize events, `trunc`
    /// sentinels): skipped like the reference does, but not "refused", so
    /// callers need not report them.
    pub fn is_expected(self) -> bool {
        matches!(self, SkipReason::TruncSentinel | SkipReason::Resize)
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line's outcome with the sid (for lines that have one) left in the
/// caller's buffer; the event text is not decoded (cheap indexing pass).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineKind {
    Skip(SkipReason),
    /// A header (any object with a `hdr` key); `timestamp` is
    /// `hdr.timestamp` when it is a number Python converts to a float.
    Header {
        timestamp: Option<f64>,
    },
    /// An `i`/`o` event.
    Event,
    /// `t` is an integer too large for a float: the reference raises
    /// `OverflowError` and the whole session of this sid yields nothing.
    Raises,
}

/// A line's full outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum LineOutcome {
    Skip(SkipReason),
    Header { sid: Text, timestamp: Option<f64> },
    Event { sid: Text, event: Event },
    Raises { sid: Text },
}

/// Classifies `line` (terminator excluded) and writes its sid into
/// `sid` (cleared first) when it has a non-empty string sid.
pub fn scan_line(line: &[u8], sid: &mut Text) -> LineKind {
    sid.clear();
    if let Some(f) = fast_event(line, None) {
        // Only integer literals of more than 308 digits can make float()
        // raise: those go the full way.
        if f.t_float || f.t_end - f.t_start <= 308 {
            sid.extend(line[f.sid_start..f.sid_end].iter().map(|&b| u32::from(b)));
            return LineKind::Event;
        }
        sid.clear();
    }
    match classify(line, sid, false) {
        Ok((kind, _)) => kind,
        Err(r) => LineKind::Skip(r),
    }
}

/// Classifies and fully decodes one line.
pub fn parse_line(line: &[u8]) -> LineOutcome {
    let mut sid = Text::new();
    match classify(line, &mut sid, true) {
        Err(r) => LineOutcome::Skip(r),
        Ok((LineKind::Skip(r), _)) => LineOutcome::Skip(r),
        Ok((LineKind::Header { timestamp }, _)) => LineOutcome::Header { sid, timestamp },
        Ok((LineKind::Raises, _)) => LineOutcome::Raises { sid },
        Ok((LineKind::Event, f)) => match event_from(line, &f) {
            Some(event) => LineOutcome::Event { sid, event },
            None => LineOutcome::Skip(SkipReason::BadTime),
        },
    }
}

/// Classifies and decodes one line in a single pass: the sid goes to `sid`
/// (as [`scan_line`]), the event (for [`LineKind::Event`] only) is returned.
/// An owned form of [`read_line_into`], which the readers use.
pub fn read_line(line: &[u8], sid: &mut Text) -> (LineKind, Option<Event>) {
    let mut buf = EventBuf::new();
    let kind = read_line_into(line, sid, &mut buf);
    (kind, buf.to_events().pop())
}

/// Classifies and decodes one line as [`read_line`], the event's text
/// decoded straight onto the end of `buf`.
pub fn read_line_into(line: &[u8], sid: &mut Text, buf: &mut EventBuf) -> LineKind {
    sid.clear();
    if let Some((f, _)) = fast_event_into(line, buf) {
        sid.extend(line[f.sid_start..f.sid_end].iter().map(|&b| u32::from(b)));
        return LineKind::Event;
    }
    match classify(line, sid, true) {
        Err(r) => LineKind::Skip(r),
        Ok((LineKind::Event, f)) => match event_from(line, &f) {
            Some(e) => {
                buf.push_event(&e);
                LineKind::Event
            }
            // Unreachable: classify(full) checked t, ch and d already.
            None => LineKind::Skip(SkipReason::BadTime),
        },
        Ok((kind, _)) => kind,
    }
}

/// The fast path of [`read_line_into`]: a recorder event line decoded onto
/// the end of `buf` (its sid in the returned ranges); `None` leaves `buf`
/// as it was.
#[inline]
pub(crate) fn fast_event_into(line: &[u8], buf: &mut EventBuf) -> Option<(FastEvent, f64)> {
    // A text never has more code points than its line has bytes.
    fast_decode_into(line, line.len(), buf, |sink| {
        fast_event(line, Some(sink)).map(|f| (f, line.len()))
    })
    .map(|(f, t, _)| (f, t))
}

/// Room ensured for an event's text before [`fast_event_strict_into`]
/// decodes it (its line's length is not known yet). A text that does not
/// fit the open chunk's room is refused by the decoder and decoded again
/// with room for its whole line (growing the chunk instead would copy all
/// the text already in it).
const STRICT_TEXT_ROOM: usize = 512;

/// [`fast_event_strict`] onto the end of `buf`: the event of the line at
/// `shard[start..]` and where that line's content ends; `None` leaves `buf`
/// as it was.
#[inline]
pub(crate) fn fast_event_strict_into(
    shard: &[u8],
    start: usize,
    known_sid: Option<usize>,
    buf: &mut EventBuf,
) -> Option<(FastEvent, usize)> {
    let room = buf.open_room(STRICT_TEXT_ROOM);
    let first = fast_decode_into(shard, STRICT_TEXT_ROOM, buf, |sink| {
        fast_event_strict(shard, start, known_sid, sink)
    });
    if let Some((f, _, end)) = first {
        return Some((f, end));
    }
    // Refused, perhaps only for room: a string holds no raw line break,
    // so the bytes up to the next one bound its decoded length.
    let tail = shard.get(start..).unwrap_or(&[]);
    let line = memchr::memchr2(b'\n', b'\r', tail).unwrap_or(tail.len());
    if line <= room {
        return None;
    }
    fast_decode_into(shard, line, buf, |sink| {
        fast_event_strict(shard, start, known_sid, sink)
    })
    .map(|(f, _, end)| (f, end))
}

/// Runs a fast-path `decode` onto `buf`'s open chunks (with `room`
/// elements ensured in each) and commits the event, with `float(t)` read
/// from `bytes` (the buffer `decode`'s positions point into); on any
/// refusal the text written so far is dropped and `buf` is as it was.
#[inline(always)]
fn fast_decode_into(
    bytes: &[u8],
    room: usize,
    buf: &mut EventBuf,
    decode: impl FnOnce(Sink<'_>) -> Option<(FastEvent, usize)>,
) -> Option<(FastEvent, f64, usize)> {
    let (wide, narrow) = buf.texts_for(room);
    let (start, nstart) = (wide.len(), narrow.len());
    let sink = Sink {
        wide,
        bytes: narrow,
    };
    if let Some((f, end)) = decode(sink) {
        if let Some(t) = fast_time(bytes, &f) {
            if f.ascii {
                buf.commit_ascii_output(t, nstart);
            } else {
                buf.commit(t, fast_kind(&f), start);
            }
            return Some((f, t, end));
        }
    }
    let (wide, narrow) = buf.texts_for(0);
    wide.truncate(start);
    narrow.truncate(nstart);
    None
}

/// Decodes the event of a line already classified as [`LineKind::Event`]
/// onto the end of `buf`; `false` (and `buf` unchanged) when it is none.
pub fn parse_event_into(line: &[u8], buf: &mut EventBuf) -> bool {
    if fast_event_into(line, buf).is_some() {
        return true;
    }
    match parse_event_slow(line) {
        Some(e) => {
            buf.push_event(&e);
            true
        }
        None => false,
    }
}

#[inline]
fn fast_kind(f: &FastEvent) -> EventKind {
    if f.input {
        EventKind::Input
    } else {
        EventKind::Output
    }
}

/// `float(t)` of a fast-path line, `None` when it raises (then the full
/// path reports it).
#[inline]
fn fast_time(line: &[u8], f: &FastEvent) -> Option<f64> {
    match f.t_value {
        Some(t) => Some(t),
        None => number_value(&line[f.t_start..f.t_end], f.t_float),
    }
}

/// Decodes the event of a line already classified as [`LineKind::Event`]
/// (an owned form of [`parse_event_into`]).
pub fn parse_event(line: &[u8]) -> Option<Event> {
    let mut buf = EventBuf::new();
    parse_event_into(line, &mut buf);
    buf.to_events().pop()
}

/// [`parse_event`] without the fast path (kept for equivalence tests).
pub fn parse_event_slow(line: &[u8]) -> Option<Event> {
    match parse_doc(line) {
        Ok(Doc::Object(f)) => event_from(line, &f),
        _ => None,
    }
}

fn event_from(line: &[u8], f: &Fields) -> Option<Event> {
    let t = time_value(line, f.t?)?.ok()?;
    let kind = channel(line, f.ch?)?;
    let data = match f.d {
        None => Text::new(),
        Some(Val::Str { start, end, simple }) => decode_str(&line[start..end], simple),
        Some(_) => return None,
    };
    Some(Event { t, kind, data })
}

/// `full`: convert `t` (else only decide whether `float(t)` would raise).
fn classify(line: &[u8], sid: &mut Text, full: bool) -> Result<(LineKind, Fields), SkipReason> {
    if is_blank(line) {
        return Err(SkipReason::Blank);
    }
    let f = match parse_doc(line) {
        Ok(Doc::Object(f)) => f,
        Ok(Doc::NotObject) => return Err(SkipReason::NotObject),
        Err(JsonError::Syntax) => return Err(SkipReason::BadJson),
        Err(JsonError::TooDeep) => return Err(SkipReason::TooDeep),
    };
    match f.sid {
        Some(Val::Str { start, end, simple }) if end > start => {
            decode_into(&line[start..end], simple, sid);
        }
        _ => return Err(SkipReason::NoSid),
    }
    if let Some(ts) = f.hdr {
        // Only a JSON integer literal is an epoch (issue 3 item 3); the
        // reference reads no header field, so no profile's parity depends
        // on this.
        let timestamp = ts
            .filter(|v| matches!(v, Val::Num { float: false, .. }))
            .and_then(|v| time_value(line, v))
            .and_then(Result::ok);
        return Ok((LineKind::Header { timestamp }, f));
    }
    let (Some(t), Some(ch)) = (f.t, f.ch) else {
        return Err(if f.trunc {
            SkipReason::TruncSentinel
        } else {
            SkipReason::NoTimeOrChannel
        });
    };
    let t = if full {
        time_value(line, t)
    } else {
        time_fits(line, t)
    }
    .ok_or(SkipReason::BadTime)?;
    channel(line, ch).ok_or_else(|| {
        if is_resize(line, ch) {
            SkipReason::Resize
        } else {
            SkipReason::BadChannel
        }
    })?;
    if !matches!(f.d, None | Some(Val::Str { .. })) {
        return Err(SkipReason::BadData);
    }
    match t {
        Ok(_) => Ok((LineKind::Event, f)),
        Err(()) => Ok((LineKind::Raises, f)),
    }
}

/// Python `str.strip()` leaves nothing. A line that is not blank but starts
/// or ends with non-JSON whitespace fails to parse anyway, so only this
/// all-whitespace test is needed (the trimmed text of a line that parses is
/// the parsed document).
fn is_blank(line: &[u8]) -> bool {
    let ascii_space = |b: &u8| matches!(b, b' ' | b'\t' | 0x0B | 0x0C | 0x1C..=0x1F);
    match line.iter().position(|b| !ascii_space(b)) {
        None => true,
        // Any other ASCII byte is not whitespace: not blank (the usual case).
        Some(k) if line[k] < 0x80 => false,
        // Rare path: non-ASCII whitespace (U+0085, U+00A0, U+2000.. etc.).
        Some(_) => {
            let mut cps = Vec::new();
            super::decode::decode_surrogateescape(line, &mut cps);
            cps.iter().all(|&c| is_py_space(c))
        }
    }
}

/// Python's `str.isspace()` set.
pub fn is_py_space(c: u32) -> bool {
    matches!(
        c,
        0x09..=0x0D
            | 0x1C..=0x20
            | 0x85
            | 0xA0
            | 0x1680
            | 0x2000..=0x200A
            | 0x2028
            | 0x2029
            | 0x202F
            | 0x205F
            | 0x3000
    )
}

/// `t` as Python's `float(t)`: `Some(Ok(x))`, `Some(Err(()))` when float()
/// raises, `None` when `t` is not a number or bool.
fn time_value(line: &[u8], v: Val) -> Option<Result<f64, ()>> {
    Some(match v {
        Val::Num { start, end, float } => number_value(&line[start..end], float).ok_or(()),
        Val::NaN => Ok(f64::NAN),
        Val::PosInf => Ok(f64::INFINITY),
        Val::NegInf => Ok(f64::NEG_INFINITY),
        Val::True => Ok(1.0),
        Val::False => Ok(0.0),
        _ => return None,
    })
}

/// Like [`time_value`] without converting: only integer literals longer
/// than 308 digits can overflow a float, so only those are parsed.
fn time_fits(line: &[u8], v: Val) -> Option<Result<f64, ()>> {
    match v {
        Val::Num {
            start,
            end,
            float: false,
        } if end - start > 308 => time_value(line, v),
        Val::Num { .. } | Val::NaN | Val::PosInf | Val::NegInf | Val::True | Val::False => {
            Some(Ok(0.0))
        }
        _ => None,
    }
}

fn channel(line: &[u8], v: Val) -> Option<EventKind> {
    let Val::Str { start, end, simple } = v else {
        return None;
    };
    let raw = &line[start..end];
    let one = if simple {
        match raw {
            [c] => u32::from(*c),
            _ => return None,
        }
    } else {
        let mut cps = Vec::new();
        decode_string(raw, &mut cps);
        match cps[..] {
            [c] => c,
            _ => return None,
        }
    };
    match one {
        0x69 => Some(EventKind::Input),
        0x6F => Some(EventKind::Output),
        _ => None,
    }
}

fn is_resize(line: &[u8], v: Val) -> bool {
    matches!(v, Val::Str { start, end, .. } if &line[start..end] == b"r")
}

fn decode_str(raw: &[u8], simple: bool) -> Text {
    let mut out = Text::with_capacity(raw.len());
    decode_into(raw, simple, &mut out);
    out
}

#[inline]
fn decode_into(raw: &[u8], simple: bool, out: &mut Text) {
    if simple {
        out.extend(raw.iter().map(|&b| u32::from(b)));
    } else {
        decode_string(raw, out);
    }
}
