//! A strict scanner with the semantics of CPython 3.11's `json.loads`
//! (C scanner, `strict=True`) applied to one shard line.
//!
//! It validates the whole document but only keeps what the engine reads:
//! the last value of each top-level key `sid`, `hdr`, `t`, `ch`, `d`
//! (duplicate keys: last wins) and `hdr.timestamp`. Values are kept as byte
//! ranges and converted on demand, so lines whose fields are not needed are
//! never decoded.
//!
//! Python specifics mirrored (engine.md §1.3): `NaN` / `Infinity` /
//! `-Infinity` literals; raw control characters (< 0x20) inside strings are
//! an error, 0x7F is not; any byte ≥ 0x80 inside a string is accepted (it
//! decodes to a code point or, via `surrogateescape`, to a lone surrogate);
//! `\uXXXX` high+low pairs combine, unpaired surrogate escapes stay lone code
//! points; only ` `, `\t`, `\n`, `\r` count as whitespace around tokens;
//! an integer literal of more than 4,300 digits raises `ValueError` in
//! Python 3.11 (`int` max-str-digits), so the line is unparseable.
//!
//! Nesting: the scanner is iterative (no recursion, no stack overflow on a
//! 100,000-deep array). CPython raises `RecursionError` from about 995
//! levels (default recursion limit), which the reference does not catch;
//! here a document nested deeper than [`MAX_DEPTH`] is refused as a line
//! ([`JsonError::TooDeep`]), a documented deviation from "the reference
//! crashes".

/// Deepest container nesting accepted (see module docs).
pub const MAX_DEPTH: usize = 990;

/// CPython 3.11 `sys.get_int_max_str_digits()` default.
pub const MAX_INT_DIGITS: usize = 4300;

/// Why a line is not a JSON document Python would accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Syntax error (Python `JSONDecodeError` / `ValueError`).
    Syntax,
    /// Nested deeper than [`MAX_DEPTH`] (Python `RecursionError`).
    TooDeep,
}

/// A scalar or container value, by position in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    /// String content between the quotes; `simple` = ASCII without escapes.
    Str {
        start: usize,
        end: usize,
        simple: bool,
    },
    /// Number literal; `float` = has a fraction or exponent.
    Num {
        start: usize,
        end: usize,
        float: bool,
    },
    NaN,
    PosInf,
    NegInf,
    True,
    False,
    Null,
    Object,
    Array,
}

/// What the scanner found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// A top-level object, with the fields the engine reads.
    Object(Fields),
    /// Valid JSON that is not an object.
    NotObject,
}

/// Last value of each interesting top-level key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fields {
    pub sid: Option<Val>,
    /// `Some(..)` when the key `hdr` is present (any value); the inner value
    /// is `hdr.timestamp` when `hdr` is an object holding that key.
    pub hdr: Option<Option<Val>>,
    pub t: Option<Val>,
    pub ch: Option<Val>,
    pub d: Option<Val>,
    /// The key `trunc` is present (the recorder's cap sentinel).
    pub trunc: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Sid,
    Hdr,
    T,
    Ch,
    D,
    Trunc,
    Timestamp,
    Other,
}

/// Parses one line (terminator excluded or included: it is whitespace).
pub fn parse_doc(line: &[u8]) -> Result<Doc, JsonError> {
    let mut p = Scanner { b: line, i: 0 };
    p.ws();
    let doc = if p.peek() == Some(b'{') {
        p.i += 1;
        Doc::Object(p.top_object()?)
    } else {
        let mut stack = Vec::new();
        p.value(0, &mut stack)?;
        Doc::NotObject
    };
    p.ws();
    if p.i != line.len() {
        return Err(JsonError::Syntax);
    }
    Ok(doc)
}

/// The recorder's usual event line, recognised by [`fast_event`]: byte
/// ranges into the line (`sid` is plain ASCII without escapes, non-empty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FastEvent {
    pub sid_start: usize,
    pub sid_end: usize,
    /// The `t` number literal.
    pub t_start: usize,
    pub t_end: usize,
    pub t_float: bool,
    /// `float(t)` when the scan could convert it exactly on the way (the
    /// literal is one [`number_value`]'s short-decimal path takes: then the
    /// same f64); `None`: convert the literal with [`number_value`].
    pub t_value: Option<f64>,
    /// `ch` is `"i"` (else `"o"`).
    pub input: bool,
    /// `d` was decoded onto the byte sink (an all-ASCII output text), not
    /// onto the code points.
    pub ascii: bool,
}

/// Where a fast scan decodes `d`: onto `bytes` for an output whose text is
/// all ASCII (see [`crate::event::TextRef`]), else onto `wide`.
pub struct Sink<'o> {
    pub wide: &'o mut Vec<u32>,
    pub bytes: &'o mut Vec<u8>,
}

/// Fast path for the one line shape the recorder writes for events:
/// `{"sid":"…","t":NUM,"ch":"i"|"o","d":"…"}` (those keys in that order,
/// JSON whitespace allowed between tokens, `{` first and `}` last).
/// Returns `None` on anything else (the caller then takes the full
/// scanner, which decides exactly as before); when it returns `Some`, the
/// full scanner would have found the same fields and no others, so the
/// line is an event with this sid, `t` and `ch`.
///
/// `data`: when given, the decoded `d` is appended to it (on `None` it may
/// hold part of `d`: the caller truncates it back); when `None`, `d` is
/// only validated (index pass).
#[inline]
pub fn fast_event(line: &[u8], data: Option<Sink<'_>>) -> Option<FastEvent> {
    scan_event::<false>(line, 0, None, data).map(|(f, _)| f)
}

/// [`fast_event`] on a whole buffer, for one-pass grouping without a
/// separate line split: the line starting at `start` when it is exactly the
/// recorder's shape with no whitespace between tokens, and its `}` is
/// followed by a line terminator or the end of `buf`. Positions are into
/// `buf`; also returns where the line's content ends (after `}`). No byte
/// of an accepted line is `\n` or `\r` (strings refuse control characters,
/// the fixed tokens hold none), so this is the line a line splitter would
/// have handed [`fast_event`], and its answer is the same. `None` on
/// anything else: the caller then splits the line off and reads it the
/// general way. `d` is decoded onto `data` (truncate back on `None`).
///
/// `known_sid`: the sid's length when the caller has checked that the
/// bytes after `{"sid":"` equal a sid [`fast_event`] accepted before and
/// are followed by `"`; they are then not scanned again.
#[inline]
pub fn fast_event_strict(
    buf: &[u8],
    start: usize,
    known_sid: Option<usize>,
    data: Sink<'_>,
) -> Option<(FastEvent, usize)> {
    scan_event::<true>(buf, start, known_sid, Some(data))
}

/// The one scanner behind [`fast_event`] (`STRICT = false`: `b` is one
/// line, whitespace allowed between tokens) and [`fast_event_strict`]
/// (`STRICT = true`: the exact shape only, the line ending at a terminator
/// or the end of `b`). Each fixed run is first matched as the recorder
/// writes it (no whitespace: one compare); on a mismatch nothing was
/// consumed, and the whitespace-tolerant sequence decides, except in
/// strict mode where whitespace may be a line break, so the line is refused.
#[inline(always)]
fn scan_event<const STRICT: bool>(
    b: &[u8],
    start: usize,
    known_sid: Option<usize>,
    data: Option<Sink<'_>>,
) -> Option<(FastEvent, usize)> {
    let mut p = Scanner { b, i: start };
    p.exact_or::<STRICT>(b"{\"sid\":\"", |p| {
        p.lit(b"{\"sid\"")?;
        p.colon()?;
        p.lit(b"\"")
    })?;
    let (sid_start, sid_end) = match known_sid {
        Some(n) => {
            let s = p.i;
            if n == 0 || b.get(s + n) != Some(&b'"') {
                return None;
            }
            p.i = s + n + 1;
            (s, s + n)
        }
        None => match p.string() {
            Ok(Val::Str {
                start,
                end,
                simple: true,
            }) if end > start => (start, end),
            _ => return None,
        },
    };
    p.exact_or::<STRICT>(b",\"t\":", |p| p.comma_key(b"\"t\""))?;
    // NaN / Infinity / booleans go the slow way.
    if !matches!(p.peek(), Some(b'-' | b'0'..=b'9')) || p.b.get(p.i + 1) == Some(&b'I') {
        return None;
    }
    let (t_start, t_end, t_float, t_value) = p.time_number()?;
    p.exact_or::<STRICT>(b",\"ch\":", |p| p.comma_key(b"\"ch\""))?;
    let input = match p.b.get(p.i..p.i + 3)? {
        b"\"i\"" => true,
        b"\"o\"" => false,
        _ => return None,
    };
    p.i += 3;
    p.exact_or::<STRICT>(b",\"d\":\"", |p| {
        p.comma_key(b"\"d\"")?;
        p.lit(b"\"")
    })?;
    let mut ascii = false;
    match data {
        Some(Sink { wide, bytes }) if !input => {
            let (at, n) = (p.i, bytes.len());
            if p.string_decoded(bytes).is_some() {
                ascii = true;
            } else {
                // Not all ASCII (or no room, or no string at all): the
                // code point decoder reads it again and decides.
                bytes.truncate(n);
                p.i = at;
                p.string_decoded(wide)?;
            }
        }
        Some(Sink { wide, .. }) => {
            p.string_decoded(wide)?;
        }
        None => {
            p.string().ok()?;
        }
    }
    let end = if STRICT {
        if p.peek() != Some(b'}') || !matches!(b.get(p.i + 1), None | Some(b'\n' | b'\r')) {
            return None;
        }
        p.i + 1
    } else {
        if p.i + 1 != b.len() || b.get(p.i) != Some(&b'}') {
            p.ws();
            p.lit(b"}")?;
            p.ws();
            if p.i != b.len() {
                return None;
            }
        }
        b.len()
    };
    Some((
        FastEvent {
            sid_start,
            sid_end,
            t_start,
            t_end,
            t_float,
            t_value,
            input,
            ascii,
        },
        end,
    ))
}

/// A string body from `b[i..]` (just past its opening quote) decoded onto
/// `out` exactly as [`fast_event_strict`] decodes `d`, for a caller that
/// has matched the line up to `d` itself; returns the index just past the
/// closing quote. `None`: refused (what `out` holds past its old length is
/// then garbage, to be truncated).
#[inline]
pub(super) fn string_body_into<S: TextSink>(b: &[u8], i: usize, out: &mut S) -> Option<usize> {
    let mut p = Scanner { b, i };
    p.string_decoded(out)?;
    Some(p.i)
}

/// What [`Scanner::string_decoded`] decodes a string body onto: code
/// points, or the bytes of an all-ASCII text (which refuse any code point
/// >= 0x80, see [`crate::event::TextRef`]).
pub(super) trait TextSink {
    /// Whether code points >= 0x80 can be held.
    const NON_ASCII: bool;
    fn filled(&self) -> usize;
    /// The capacity the text must stay within.
    fn room(&self) -> usize;
    /// A run of plain ASCII bytes.
    fn extend_plain(&mut self, run: &[u8]);
    /// The first `n` of sixteen bytes, the first `n` plain ASCII (room
    /// for all sixteen is there).
    fn extend_plain_cut(&mut self, bytes: &[u8; 16], n: usize);
    fn push_ascii(&mut self, c: u8);
    /// `None` when the sink cannot hold `c`.
    fn push(&mut self, c: u32) -> Option<()>;
    /// The raw rest of the string, from its first byte >= 0x80, decoded as
    /// [`decode_string`] does (only called when [`NON_ASCII`](Self::NON_ASCII)).
    fn decode_rest(&mut self, raw: &[u8]);
}

impl TextSink for Vec<u32> {
    const NON_ASCII: bool = true;
    #[inline(always)]
    fn filled(&self) -> usize {
        self.len()
    }
    #[inline(always)]
    fn room(&self) -> usize {
        self.capacity()
    }
    #[inline(always)]
    fn extend_plain(&mut self, run: &[u8]) {
        self.extend(run.iter().map(|&c| u32::from(c)));
    }
    #[inline(always)]
    fn extend_plain_cut(&mut self, bytes: &[u8; 16], n: usize) {
        self.extend_plain(&bytes[..n]);
    }
    #[inline(always)]
    fn push_ascii(&mut self, c: u8) {
        Vec::push(self, u32::from(c));
    }
    #[inline(always)]
    fn push(&mut self, c: u32) -> Option<()> {
        Vec::push(self, c);
        Some(())
    }
    fn decode_rest(&mut self, raw: &[u8]) {
        decode_string(raw, self);
    }
}

impl TextSink for Vec<u8> {
    const NON_ASCII: bool = false;
    #[inline(always)]
    fn filled(&self) -> usize {
        self.len()
    }
    #[inline(always)]
    fn room(&self) -> usize {
        self.capacity()
    }
    #[inline(always)]
    fn extend_plain(&mut self, run: &[u8]) {
        self.extend_from_slice(run);
    }
    #[inline(always)]
    fn extend_plain_cut(&mut self, bytes: &[u8; 16], n: usize) {
        let len = self.len();
        self.extend_from_slice(bytes);
        self.truncate(len + n);
    }
    #[inline(always)]
    fn push_ascii(&mut self, c: u8) {
        Vec::push(self, c);
    }
    #[inline(always)]
    fn push(&mut self, c: u32) -> Option<()> {
        let c = u8::try_from(c).ok().filter(u8::is_ascii)?;
        Vec::push(self, c);
        Some(())
    }
    fn decode_rest(&mut self, _: &[u8]) {}
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    #[inline]
    fn expect(&mut self, c: u8) -> Result<(), JsonError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    /// Exactly `lit` at `i` (fast path).
    #[inline(always)]
    fn lit(&mut self, lit: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + lit.len()) == Some(lit) {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    /// Whitespace, `:`, whitespace (fast path).
    #[inline(always)]
    fn colon(&mut self) -> Option<()> {
        self.ws();
        self.lit(b":")?;
        self.ws();
        Some(())
    }

    /// Whitespace, `,`, whitespace (fast path).
    #[inline(always)]
    fn comma(&mut self) -> Option<()> {
        self.ws();
        self.lit(b",")?;
        self.ws();
        Some(())
    }

    /// `,` `key` `:` with whitespace around each (fast path).
    #[inline(always)]
    fn comma_key(&mut self, key: &[u8]) -> Option<()> {
        self.comma()?;
        self.lit(key)?;
        self.colon()
    }

    /// A fixed run of [`scan_event`]: `exact` as the recorder writes it
    /// (one compare; nothing is consumed on a mismatch), else `tolerant`,
    /// the same tokens with whitespace between them; in `STRICT` mode a
    /// mismatch refuses the line (the whitespace may be a line break).
    #[inline(always)]
    fn exact_or<const STRICT: bool>(
        &mut self,
        exact: &[u8],
        tolerant: impl FnOnce(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if self.lit(exact).is_some() {
            return Some(());
        }
        if STRICT {
            return None;
        }
        tolerant(self)
    }

    /// Fast path: a string body after the opening quote, validated as
    /// [`string`](Self::string) does and decoded as [`decode_string`] does,
    /// in one pass, onto `out` ([`TextSink`]): code points, or the bytes of
    /// an all-ASCII text. `None` where `string` would fail, and onto bytes
    /// also at the first code point >= 0x80, raw or escaped (the caller
    /// truncates and decodes the text again onto code points). Onto code
    /// points, on the first raw byte >= 0x80 the rest is scanned and decoded
    /// the general way.
    ///
    /// Also `None` when the text would outgrow `out`'s capacity: growing
    /// it would copy the whole text chunk (see [`crate::EventBuf`]), so
    /// the caller decodes the line again with room for all of it
    /// (`line::fast_event_strict_into`). A string decodes to at most as
    /// many code points as it has bytes, so with room for the line's bytes
    /// this never happens.
    #[inline(always)]
    fn string_decoded<S: TextSink>(&mut self, out: &mut S) -> Option<()> {
        let b = self.b;
        let mut i = self.i;
        let limit = out.room();
        loop {
            // Plain ASCII run: find its end 8 bytes at a time (the lowest
            // flagged byte of the SWAR masks is exact), then copy it in
            // one go.
            let run = i;
            while let Some(chunk) = b.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let x = u64::from_le_bytes(w);
                let m = special_bytes(x) | (x & HIGH);
                if m != 0 {
                    i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            if i > run {
                if out.filled() + (i - run) >= limit {
                    return None;
                }
                // A short run (the usual one between escapes) as a fixed
                // 16-byte copy cut back to its length, when the buffer and
                // the room allow: a `memcpy` call per run was 2 % of the
                // pipeline's time.
                match b.get(run..run + 16) {
                    Some(w) if i - run <= 16 && out.filled() + 16 < limit => {
                        out.extend_plain_cut(w.try_into().ok()?, i - run)
                    }
                    _ => out.extend_plain(b.get(run..i)?),
                }
            }
            // From here on at most one code point is pushed per turn, and
            // the guard above left room for one.
            if out.filled() >= limit {
                return None;
            }
            let c = *b.get(i)?;
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Some(());
                }
                b'\\' => {
                    let e = *b.get(i + 1)?;
                    // A table, not a `match`: escapes alternate (`\r`, `\n`,
                    // `\u`) and a jump table mispredicts on them.
                    let simple = match SIMPLE_ESCAPE[usize::from(e)] {
                        0 if e == b'u' => {
                            let c1 = hex4(b.get(i + 2..i + 6))?;
                            i += 6;
                            if (0xD800..=0xDBFF).contains(&c1)
                                && b.get(i) == Some(&b'\\')
                                && b.get(i + 1) == Some(&b'u')
                            {
                                // The scanner requires 4 hex digits after any
                                // `\u`; decode_string pairs only a low surrogate.
                                let c2 = hex4(b.get(i + 2..i + 6))?;
                                if (0xDC00..=0xDFFF).contains(&c2) {
                                    out.push(0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00))?;
                                    i += 6;
                                    continue;
                                }
                            }
                            out.push(c1)?;
                            continue;
                        }
                        0 => return None,
                        v => v,
                    };
                    out.push_ascii(simple);
                    i += 2;
                }
                0..=0x1F => return None,
                0x80.. => {
                    // Rare: raw non-ASCII (never onto bytes). Validate the
                    // rest with the scanner, decode it the general way (a
                    // run boundary before a byte >= 0x80 that follows ASCII
                    // or an escape does not change surrogateescape decoding).
                    if !S::NON_ASCII {
                        return None;
                    }
                    self.i = i;
                    let Ok(Val::Str { start, end, .. }) = self.string() else {
                        return None;
                    };
                    if out.filled() + (end - start) > limit {
                        return None;
                    }
                    out.decode_rest(&b[start..end]);
                    return Some(());
                }
                _ => {
                    out.push_ascii(c);
                    i += 1;
                }
            }
        }
    }

    /// Body of the top-level object (after `{`).
    fn top_object(&mut self) -> Result<Fields, JsonError> {
        let mut f = Fields::default();
        let mut stack = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(f);
        }
        loop {
            let key = self.key()?;
            let v = if key == Key::Hdr && self.peek() == Some(b'{') {
                self.i += 1;
                f.hdr = Some(self.hdr_object(&mut stack)?);
                None
            } else {
                Some(self.value(1, &mut stack)?)
            };
            if let Some(v) = v {
                match key {
                    Key::Sid => f.sid = Some(v),
                    Key::Hdr => f.hdr = Some(None),
                    Key::T => f.t = Some(v),
                    Key::Ch => f.ch = Some(v),
                    Key::D => f.d = Some(v),
                    Key::Trunc => f.trunc = true,
                    Key::Timestamp | Key::Other => {}
                }
            }
            self.ws();
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(f);
                }
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// Body of a top-level `hdr` object (after `{`): keeps `timestamp`.
    fn hdr_object(&mut self, stack: &mut Vec<bool>) -> Result<Option<Val>, JsonError> {
        let mut ts = None;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(ts);
        }
        loop {
            let key = self.key()?;
            let v = self.value(2, stack)?;
            if key == Key::Timestamp {
                ts = Some(v);
            }
            self.ws();
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(ts);
                }
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    /// `"key"` `:` and the whitespace after it; returns which key it is.
    #[inline(always)]
    fn key(&mut self) -> Result<Key, JsonError> {
        self.expect(b'"')?;
        let Val::Str { start, end, simple } = self.string()? else {
            return Err(JsonError::Syntax);
        };
        let raw = &self.b[start..end];
        let key = if simple {
            match raw {
                b"sid" => Key::Sid,
                b"hdr" => Key::Hdr,
                b"t" => Key::T,
                b"ch" => Key::Ch,
                b"d" => Key::D,
                b"trunc" => Key::Trunc,
                b"timestamp" => Key::Timestamp,
                _ => Key::Other,
            }
        } else {
            // Escaped keys (`"\u0073id"`) equal their decoded text in Python.
            let mut cps = Vec::new();
            decode_string(raw, &mut cps);
            let names: [(&[u8], Key); 7] = [
                (b"sid", Key::Sid),
                (b"hdr", Key::Hdr),
                (b"t", Key::T),
                (b"ch", Key::Ch),
                (b"d", Key::D),
                (b"trunc", Key::Trunc),
                (b"timestamp", Key::Timestamp),
            ];
            names
                .iter()
                .find(|(n, _)| {
                    n.len() == cps.len() && n.iter().zip(&cps).all(|(&a, &c)| u32::from(a) == c)
                })
                .map_or(Key::Other, |&(_, k)| k)
        };
        self.ws();
        self.expect(b':')?;
        self.ws();
        Ok(key)
    }

    /// String body after the opening quote; leaves `i` after the closing quote.
    #[inline(always)]
    fn string(&mut self) -> Result<Val, JsonError> {
        let start = self.i;
        let b = self.b;
        let mut simple = true;
        let mut i = self.i;
        loop {
            // Fast path: skip 8 plain bytes at a time (no quote, backslash,
            // control character; non-ASCII only clears `simple`).
            while let Some(chunk) = b.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                let w = u64::from_le_bytes(w);
                let s = special_bytes(w);
                if s != 0 {
                    // The lowest flagged byte is exact: skip the plain
                    // bytes before it (noting any non-ASCII among them).
                    let k = s.trailing_zeros();
                    if w & HIGH & ((1u64 << k) - 1) != 0 {
                        simple = false;
                    }
                    i += (k / 8) as usize;
                    break;
                }
                if w & HIGH != 0 {
                    simple = false;
                }
                i += 8;
            }
            let Some(&c) = b.get(i) else {
                return Err(JsonError::Syntax);
            };
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Ok(Val::Str {
                        start,
                        end: i,
                        simple,
                    });
                }
                b'\\' => {
                    simple = false;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = b.get(i + 2..i + 6).ok_or(JsonError::Syntax)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(JsonError::Syntax);
                            }
                            i += 6;
                        }
                        _ => return Err(JsonError::Syntax),
                    }
                }
                0..=0x1F => return Err(JsonError::Syntax),
                0x80.. => {
                    simple = false;
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// Fast path for `t`: [`number`](Self::number)'s literal (same bounds,
    /// same `float` flag, `None` where it fails) and, in the same pass, its
    /// [`short_decimal`] value: a literal without sign or exponent of at
    /// most 17 bytes accumulates its digits into `w`; `w < 2^53` with at
    /// most 15 fraction digits gives `w / 10^k`, exactly as `short_decimal`
    /// computes it. Signed or exponent literals take `number` (value `None`).
    #[inline(always)]
    fn time_number(&mut self) -> Option<(usize, usize, bool, Option<f64>)> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let mut w: u64 = 0;
        match b.get(i) {
            Some(b'1'..=b'9') => i = digit_run(b, i, &mut w),
            Some(b'0') => i += 1,
            _ => return self.number_only(),
        }
        let int_digits = i - start;
        let mut k = 0;
        let mut float = false;
        if b.get(i) == Some(&b'.') && matches!(b.get(i + 1), Some(b'0'..=b'9')) {
            i += 1;
            let frac_start = i;
            i = digit_run(b, i, &mut w);
            k = i - frac_start;
            float = true;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            return self.number_only();
        }
        if !float && int_digits > MAX_INT_DIGITS {
            return None;
        }
        self.i = i;
        // At most 17 bytes: at most 17 digits, `w` did not wrap.
        let value = (i - start <= 17 && w < 1 << 53 && k <= 15).then(|| w as f64 / POW10[k]);
        Some((start, i, float, value))
    }

    /// [`number`](Self::number) from the current position, without a value.
    #[inline(never)]
    fn number_only(&mut self) -> Option<(usize, usize, bool, Option<f64>)> {
        match self.number() {
            Ok(Val::Num { start, end, float }) => Some((start, end, float, None)),
            _ => None,
        }
    }

    /// Number literal starting at `i` (CPython `_match_number_unicode`).
    #[inline(always)]
    fn number(&mut self) -> Result<Val, JsonError> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = b.get(i) {
                    i += 1;
                }
            }
            Some(b'0') => i += 1,
            _ => return Err(JsonError::Syntax),
        }
        let int_digits = i - int_start;
        let mut float = false;
        if b.get(i) == Some(&b'.') && matches!(b.get(i + 1), Some(b'0'..=b'9')) {
            i += 2;
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            float = true;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            let mut j = i + 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let digits_start = j;
            while let Some(b'0'..=b'9') = b.get(j) {
                j += 1;
            }
            if j > digits_start {
                i = j;
                float = true;
            }
        }
        if !float && int_digits > MAX_INT_DIGITS {
            return Err(JsonError::Syntax);
        }
        self.i = i;
        Ok(Val::Num {
            start,
            end: i,
            float,
        })
    }

    #[inline]
    fn literal(&mut self, lit: &[u8], v: Val) -> Result<Val, JsonError> {
        if self.b.get(self.i..self.i + lit.len()) == Some(lit) {
            self.i += lit.len();
            Ok(v)
        } else {
            Err(JsonError::Syntax)
        }
    }

    /// One scalar at `i` (not a container).
    #[inline(always)]
    fn scalar(&mut self) -> Result<Val, JsonError> {
        match self.peek() {
            Some(b'"') => {
                self.i += 1;
                self.string()
            }
            Some(b'n') => self.literal(b"null", Val::Null),
            Some(b't') => self.literal(b"true", Val::True),
            Some(b'f') => self.literal(b"false", Val::False),
            Some(b'N') => self.literal(b"NaN", Val::NaN),
            Some(b'I') => self.literal(b"Infinity", Val::PosInf),
            Some(b'-') if self.b.get(self.i + 1) == Some(&b'I') => {
                self.literal(b"-Infinity", Val::NegInf)
            }
            _ => self.number(),
        }
    }

    /// Any value at `i`, `depth` containers deep.
    #[inline(always)]
    fn value(&mut self, depth: usize, stack: &mut Vec<bool>) -> Result<Val, JsonError> {
        match self.peek() {
            Some(b'{' | b'[') => self.container(depth, stack),
            _ => self.scalar(),
        }
    }

    /// A container at `i`, walked iteratively with `stack` (true = object,
    /// false = array): no recursion, whatever the nesting.
    #[inline(never)]
    fn container(&mut self, depth: usize, stack: &mut Vec<bool>) -> Result<Val, JsonError> {
        let first = if self.peek() == Some(b'{') {
            Val::Object
        } else {
            Val::Array
        };
        stack.clear();
        // Expecting a value at `i`.
        'value: loop {
            match self.peek() {
                Some(b'{') => {
                    if depth + stack.len() >= MAX_DEPTH {
                        return Err(JsonError::TooDeep);
                    }
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        stack.push(true);
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    if depth + stack.len() >= MAX_DEPTH {
                        return Err(JsonError::TooDeep);
                    }
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        stack.push(false);
                        continue 'value;
                    }
                }
                _ => {
                    self.scalar()?;
                }
            }
            // After a complete value: close containers or move to the next item.
            loop {
                let Some(&is_obj) = stack.last() else {
                    return Ok(first);
                };
                self.ws();
                match (self.peek(), is_obj) {
                    (Some(b','), true) => {
                        self.i += 1;
                        self.ws();
                        self.key()?;
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        self.i += 1;
                        self.ws();
                        continue 'value;
                    }
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        self.i += 1;
                        stack.pop();
                    }
                    _ => return Err(JsonError::Syntax),
                }
            }
        }
    }
}

pub(super) const LOW: u64 = 0x0101_0101_0101_0101;
pub(super) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The end of the run of ASCII digits at `b[i..]`, folding them into `w`
/// as `w = w * 10 + digit` per digit (wrapping, as the digit-by-digit
/// loop would: both are the same value mod 2^64). Eight bytes at a time
/// (SWAR): the lowest non-digit byte of a word is found exactly (every
/// byte below it is a digit, so no borrow or carry reaches it), and the
/// digits before it are combined by three multiplies.
#[inline(always)]
fn digit_run(b: &[u8], mut i: usize, w: &mut u64) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        let x = u64::from_le_bytes(a);
        let non_digit = non_digit_bytes(x);
        let n = if non_digit == 0 {
            8
        } else {
            (non_digit.trailing_zeros() / 8) as usize
        };
        if n > 0 {
            // The n digits' values in the top n bytes, zeros (leading
            // zero digits) below them.
            let d = (x.wrapping_sub(LOW * 0x30)) << (8 * (8 - n) as u32);
            *w = w.wrapping_mul(POW10_U64[n]).wrapping_add(eight_digits(d));
            i += n;
        }
        if n < 8 {
            return i;
        }
    }
    while let Some(&c @ b'0'..=b'9') = b.get(i) {
        *w = w.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        i += 1;
    }
    i
}

/// High bit set in each byte of `x` below `0`, above `9`, or >= 0x80; the
/// lowest set bit is exact (a borrow or carry only reaches higher bytes).
#[inline(always)]
pub(super) fn non_digit_bytes(x: u64) -> u64 {
    (x.wrapping_sub(LOW * 0x30) | x.wrapping_add(LOW * 0x46) | x) & HIGH
}

/// The value of eight digit values (0..=9), the first in the lowest byte
/// and most significant.
#[inline(always)]
pub(super) fn eight_digits(d: u64) -> u64 {
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    (((d & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32)))
        .wrapping_add(((d >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

pub(super) static POW10_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Nonzero iff some byte of `w` is `"`, `\\` or below 0x20 (SWAR; bytes
/// ≥ 0x80 are excluded from the "below" test).
#[inline]
pub(super) fn special_bytes(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    let quote = has_zero(w ^ (LOW * u64::from(b'"')));
    let backslash = has_zero(w ^ (LOW * u64::from(b'\\')));
    let control = w.wrapping_sub(LOW * 0x20) & !w & HIGH;
    quote | backslash | control
}

/// Decodes a string body (between the quotes, already validated by the
/// scanner) into code points: escapes resolved, surrogate pairs combined,
/// unpaired surrogate escapes kept, raw invalid UTF-8 bytes mapped by
/// `surrogateescape`.
pub fn decode_string(raw: &[u8], out: &mut Vec<u32>) {
    let mut i = 0;
    while i < raw.len() {
        let run_end = memchr::memchr(b'\\', &raw[i..]).map_or(raw.len(), |k| i + k);
        if run_end > i {
            super::decode::decode_surrogateescape(&raw[i..run_end], out);
            i = run_end;
            continue;
        }
        // An escape at `i`.
        let Some(&e) = raw.get(i + 1) else {
            return;
        };
        let simple = match e {
            b'"' => Some(0x22),
            b'\\' => Some(0x5C),
            b'/' => Some(0x2F),
            b'b' => Some(0x08),
            b'f' => Some(0x0C),
            b'n' => Some(0x0A),
            b'r' => Some(0x0D),
            b't' => Some(0x09),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        let Some(c) = hex4(raw.get(i + 2..i + 6)) else {
            return;
        };
        i += 6;
        if (0xD800..=0xDBFF).contains(&c)
            && raw.get(i) == Some(&b'\\')
            && raw.get(i + 1) == Some(&b'u')
        {
            if let Some(c2) = hex4(raw.get(i + 2..i + 6)) {
                if (0xDC00..=0xDFFF).contains(&c2) {
                    out.push(0x10000 + ((c - 0xD800) << 10) + (c2 - 0xDC00));
                    i += 6;
                    continue;
                }
            }
        }
        out.push(c);
    }
}

#[inline]
pub(super) fn hex4(h: Option<&[u8]>) -> Option<u32> {
    let h = h?;
    // ESC (`\u001b`), the commonest `\u` escape of terminal output (one in
    // seven escapes of a day-shard), by one compare instead of the parse.
    if h == b"001b" {
        return Some(0x1B);
    }
    let mut v = 0u32;
    let mut bad = 0u8;
    for &c in h {
        let d = HEX_DIGIT[usize::from(c)];
        bad |= d;
        v = (v << 4) | u32::from(d & 0x0F);
    }
    (bad & 0x80 == 0).then_some(v)
}

/// Value of a hex digit byte, `0x80` for any other byte.
static HEX_DIGIT: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            d @ b'0'..=b'9' => d - b'0',
            d @ b'a'..=b'f' => d - b'a' + 10,
            d @ b'A'..=b'F' => d - b'A' + 10,
            _ => 0x80,
        };
        c += 1;
    }
    t
};

/// What a one-character JSON escape (`\"`, `\n`, …) decodes to, by the
/// byte after the backslash; 0 for `u` and for bytes that are no escape.
pub(super) static SIMPLE_ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = 0x22;
    t[b'\\' as usize] = 0x5C;
    t[b'/' as usize] = 0x2F;
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0C;
    t[b'n' as usize] = 0x0A;
    t[b'r' as usize] = 0x0D;
    t[b't' as usize] = 0x09;
    t
};

/// The f64 Python's `float(x)` gives for a number literal, or `None` when
/// it raises (`OverflowError`: an integer too large for a float). Integer
/// `-0` is the int 0, so it converts to `+0.0`; `1e400` is `inf`.
pub fn number_value(lit: &[u8], float: bool) -> Option<f64> {
    if let Some(v) = short_decimal(lit) {
        return Some(v);
    }
    let s = std::str::from_utf8(lit).ok()?;
    let v: f64 = s.parse().ok()?;
    if float {
        Some(v)
    } else if v.is_infinite() {
        None
    } else if v == 0.0 {
        Some(0.0)
    } else {
        Some(v)
    }
}

/// `10^k` for [`short_decimal`] and the `t` fast path (all exact in f64).
pub(super) const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Exact fast conversion of a short non-negative decimal literal (`123`,
/// `83.310191`: no sign, no exponent), else `None`. Taken only when the
/// digits form an integer `w < 2^53` and there are at most 15 fraction
/// digits: `w` and `10^k` are then exact in f64, so one IEEE division is
/// correctly rounded, the same f64 as `str::parse` (Clinger's fast path).
#[inline]
fn short_decimal(lit: &[u8]) -> Option<f64> {
    if lit.is_empty() || lit.len() > 17 {
        return None;
    }
    let mut w: u64 = 0;
    let mut digits = 0usize;
    let mut frac: Option<usize> = None;
    for &c in lit {
        match c {
            b'0'..=b'9' => {
                w = w * 10 + u64::from(c - b'0');
                digits += 1;
                if let Some(f) = frac.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
    }
    // At most 17 bytes: `w < 10^17` did not overflow.
    let k = frac.unwrap_or(0);
    if digits == 0 || w >= 1 << 53 || k > 15 {
        return None;
    }
    // `w < 2^53`: the cast is exact.
    Some(w as f64 / POW10[k])
}

#[cfg(test)]
mod short_decimal_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20000))]
        #[test]
        fn equals_std_parse(int in prop_oneof![0u64..1_000_000, 0u64..100_000_000_000_000_000], frac_digits in 0usize..18) {
            let s = int.to_string();
            let lit = if frac_digits > 0 && frac_digits < s.len() {
                format!("{}.{}", &s[..s.len() - frac_digits], &s[s.len() - frac_digits..])
            } else if frac_digits > 0 {
                format!("0.{}{}", "0".repeat(frac_digits - s.len()), s)
            } else {
                s
            };
            let want: f64 = lit.parse().unwrap_or(f64::NAN);
            if let Some(got) = short_decimal(lit.as_bytes()) {
                prop_assert_eq!(got.to_bits(), want.to_bits(), "{}", lit);
            }
        }
    }

    #[test]
    fn edge_literals() {
        for lit in [
            "0",
            "0.0",
            "1",
            "83.310191",
            "0.054340",
            "999999999999999",
            "0.000000000000001",
            "123456789.012345",
            "1234567890123456",
            "9007199254740991",
        ] {
            let want: f64 = lit.parse().unwrap_or(f64::NAN);
            assert_eq!(
                short_decimal(lit.as_bytes()).map(f64::to_bits),
                Some(want.to_bits()),
                "{lit}"
            );
        }
        for lit in [
            "",
            ".",
            "1.2.3",
            "-1",
            "1e5",
            "12345678901234567",
            "9007199254740993",
            "0.1234567890123456",
        ] {
            assert_eq!(short_decimal(lit.as_bytes()), None, "{lit}");
        }
    }
}

#[cfg(test)]
mod digit_run_tests {
    use super::*;
    use proptest::prelude::*;

    /// The digit-by-digit loop `digit_run` replaces.
    fn naive(b: &[u8], mut i: usize) -> (usize, u64) {
        let mut w = 0u64;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            w = w.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            i += 1;
        }
        (i, w)
    }

    fn check(b: &[u8], i: usize, seed: u64) -> Result<(), TestCaseError> {
        let (end, w) = naive(b, i);
        let mut got = seed;
        let got_end = digit_run(b, i, &mut got);
        let mut want = seed;
        for &c in &b[i..end] {
            want = want.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        }
        prop_assert_eq!(got_end, end);
        prop_assert_eq!(got, want);
        if seed == 0 {
            prop_assert_eq!(got, w);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20000))]
        /// Digit runs of every length (wrapping past 19 digits) followed
        /// by any byte, digits' neighbours (`/`, `:`) and bytes >= 0x80
        /// included, from any start and any running value.
        #[test]
        fn equals_the_digit_loop(
            digits in proptest::collection::vec(b'0'..=b'9', 0..40),
            tail in proptest::collection::vec(any::<u8>(), 0..12),
            near in prop_oneof![Just(b'/'), Just(b':'), Just(0x80u8), Just(0xB9u8), Just(0xBAu8), Just(0xFFu8), Just(b'.')],
            lead in 0usize..3,
            seed in any::<u64>(),
        ) {
            let mut b: Vec<u8> = vec![b'x'; lead];
            b.extend_from_slice(&digits);
            b.push(near);
            b.extend_from_slice(&tail);
            check(&b, lead, seed)?;
            check(&b, lead, 0)?;
            // The same run with nothing after it.
            check(&b[..lead + digits.len()], lead, seed)?;
        }
    }
}
