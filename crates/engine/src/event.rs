//! The engine's input: one session's events, in recorder order.

/// Text as Python sees it after `surrogateescape` decoding: a sequence of
/// Unicode code points that may contain lone surrogates (U+D800..=U+DFFF).
/// A Rust `String` cannot hold those, and the reference counts lengths in
/// code points, so events carry `u32` code points (engine.md §1.4).
pub type Text = Vec<u32>;

/// Which PTY direction an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `'i'`: bytes the operator sent (keystrokes, pastes).
    Input,
    /// `'o'`: bytes the shell/PTY printed.
    Output,
}

/// One recorder event: `t` is seconds since session start (monotonic,
/// relative), never sorted or clipped by the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub t: f64,
    pub kind: EventKind,
    pub data: Text,
}

impl Event {
    /// Convenience for tests and callers holding valid UTF-8.
    pub fn new(t: f64, kind: EventKind, data: &str) -> Self {
        Event {
            t,
            kind,
            data: data.chars().map(u32::from).collect(),
        }
    }
}

/// A borrowed event: what the engine reads. Built from an [`Event`] or an
/// [`EventBuf`] without copying text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRef<'a> {
    pub t: f64,
    pub kind: EventKind,
    pub data: TextRef<'a>,
}

/// A borrowed event text: code points, held either as `u32`s or, for an
/// output text that is all ASCII (the reader's usual case), as its bytes.
/// Output texts are two thirds of a shard and are only ever searched
/// through their narrow form (`context::Narrow`), so the reader keeps them
/// as bytes: widening them to `u32` and narrowing them back cost ≈ 5 % of
/// the pipeline (docs/BENCHMARKS.md, ninth pass). Only this crate builds the byte form, and only for
/// outputs: an input's text is always `u32`s ([`wide`](Self::wide)).
#[derive(Clone, Copy)]
pub struct TextRef<'a>(Repr<'a>);

#[derive(Clone, Copy)]
enum Repr<'a> {
    Wide(&'a [u32]),
    /// Every byte < 0x80: byte `k` is code point `k`.
    Ascii(&'a [u8]),
}

impl<'a> TextRef<'a> {
    pub(crate) fn ascii(b: &'a [u8]) -> Self {
        debug_assert!(b.is_ascii());
        TextRef(Repr::Ascii(b))
    }

    /// Length in code points.
    #[inline]
    pub fn len(&self) -> usize {
        match self.0 {
            Repr::Wide(s) => s.len(),
            Repr::Ascii(b) => b.len(),
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code points as `u32`s, when held so (always for an input).
    #[inline]
    pub fn wide(&self) -> Option<&'a [u32]> {
        match self.0 {
            Repr::Wide(s) => Some(s),
            Repr::Ascii(_) => None,
        }
    }

    /// Appends the code points to `out`.
    #[inline]
    pub fn widen_onto(&self, out: &mut Vec<u32>) {
        match self.0 {
            Repr::Wide(s) => out.extend_from_slice(s),
            Repr::Ascii(b) => out.extend(b.iter().map(|&c| u32::from(c))),
        }
    }

    /// Appends the narrow form (`context::narrow_onto`): a byte text is its
    /// own narrow form.
    #[inline]
    pub(crate) fn narrow_onto(&self, out: &mut Vec<u8>) {
        match self.0 {
            Repr::Wide(s) => crate::context::narrow_onto(s, out),
            Repr::Ascii(b) => out.extend_from_slice(b),
        }
    }

    pub fn to_vec(&self) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.len());
        self.widen_onto(&mut v);
        v
    }

    fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        let (w, a): (&'a [u32], &'a [u8]) = match self.0 {
            Repr::Wide(s) => (s, &[]),
            Repr::Ascii(b) => (&[], b),
        };
        w.iter().copied().chain(a.iter().map(|&c| u32::from(c)))
    }
}

impl<'a> From<&'a [u32]> for TextRef<'a> {
    fn from(s: &'a [u32]) -> Self {
        TextRef(Repr::Wide(s))
    }
}

impl<'a> From<&'a Vec<u32>> for TextRef<'a> {
    fn from(s: &'a Vec<u32>) -> Self {
        TextRef(Repr::Wide(s))
    }
}

/// Equal when the code points are, however each side holds them.
impl PartialEq for TextRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (Repr::Wide(a), Repr::Wide(b)) => a == b,
            (Repr::Ascii(a), Repr::Ascii(b)) => a == b,
            _ => self.len() == other.len() && self.iter().eq(other.iter()),
        }
    }
}

/// Code points, never text: the same debug form whichever way it is held.
impl std::fmt::Debug for TextRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Event {
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            t: self.t,
            kind: self.kind,
            data: TextRef::from(&self.data),
        }
    }
}

/// One session's events with their texts in a few large chunks: the reader
/// decodes each event's text straight onto the open chunk, so a session
/// costs a few allocations instead of one per event (malloc/free were
/// ~13 % of the pipeline). Chunks are never grown past their capacity (a
/// full chunk is followed by a larger new one, and an event never straddles
/// two), so the text already decoded is never copied again: reallocating
/// one growing buffer was ~8 % of the pipeline. The events themselves are
/// kept the same way, in segments that are never regrown. Texts held as
/// `u32`s and all-ASCII output texts held as bytes (see [`TextRef`]) have
/// chunks of their own.
#[derive(Debug, Clone, Default)]
pub struct EventBuf {
    events: Segments,
    wide: Chunks<u32>,
    bytes: Chunks<u8>,
}

/// Text chunks of one element type.
#[derive(Debug, Clone, Default)]
struct Chunks<T> {
    /// Full chunks, in order; an event's `chunk` indexes them, and the
    /// index `closed.len()` means `open`.
    closed: Vec<Vec<T>>,
    /// The chunk texts are decoded onto.
    open: Vec<T>,
}

impl<T: Copy> Chunks<T> {
    /// The open chunk with room for `bound` more elements.
    #[inline]
    fn room_for(&mut self, bound: usize) -> &mut Vec<T> {
        if self.open.capacity() - self.open.len() < bound {
            self.open_new(bound);
        }
        &mut self.open
    }

    /// Closes the open chunk (when it holds text) and opens one with room
    /// for at least `bound`, twice the last one's up to [`MAX_CHUNK`].
    #[cold]
    fn open_new(&mut self, bound: usize) {
        let next = match self.open.capacity() {
            0 => FIRST_CHUNK_BYTES / std::mem::size_of::<T>().max(1),
            c => (c * 2).min(MAX_CHUNK),
        };
        let fresh = Vec::with_capacity(next.max(bound));
        if self.open.is_empty() {
            self.open = fresh;
        } else {
            self.closed.push(std::mem::replace(&mut self.open, fresh));
        }
    }

    fn clear(&mut self) {
        self.closed.clear();
        self.open.clear();
    }

    fn slice(&self, chunk: usize, start: usize, end: usize) -> &[T] {
        self.closed
            .get(chunk)
            .unwrap_or(&self.open)
            .get(start..end)
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Packed {
    t: f64,
    kind: EventKind,
    /// Text in the byte chunks (an all-ASCII output), else the `u32` ones.
    ascii: bool,
    chunk: usize,
    start: usize,
    end: usize,
}

/// Packed events in segments: a full segment is followed by one twice its
/// size (so `len` events take O(log len) segments), and no event is ever
/// moved once pushed. Growing one vector by doubling copied every event
/// again (~1.7 % of the pipeline).
#[derive(Debug, Clone, Default)]
struct Segments {
    full: Vec<Vec<Packed>>,
    open: Vec<Packed>,
    len: usize,
}

/// Room of the first segment when no size is given.
const FIRST_SEGMENT: usize = 64;

impl Segments {
    fn with_capacity(n: usize) -> Self {
        Segments {
            full: Vec::new(),
            open: Vec::with_capacity(n),
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, p: Packed) {
        if self.open.len() == self.open.capacity() {
            self.grow();
        }
        self.open.push(p);
        self.len += 1;
    }

    #[cold]
    fn grow(&mut self) {
        let next = Vec::with_capacity((self.open.capacity() * 2).max(FIRST_SEGMENT));
        if self.open.is_empty() {
            self.open = next;
        } else {
            self.full.push(std::mem::replace(&mut self.open, next));
        }
    }

    fn clear(&mut self) {
        self.full.clear();
        self.open.clear();
        self.len = 0;
    }

    fn get(&self, mut i: usize) -> Option<&Packed> {
        for s in &self.full {
            match s.get(i) {
                Some(p) => return Some(p),
                None => i -= s.len(),
            }
        }
        self.open.get(i)
    }

    /// The segments, in order: full ones, then the open one.
    fn slices(&self) -> impl Iterator<Item = &[Packed]> + '_ {
        self.full
            .iter()
            .map(Vec::as_slice)
            .chain(std::iter::once(self.open.as_slice()))
    }

    fn iter(&self) -> impl ExactSizeIterator<Item = &Packed> + '_ {
        Counted {
            inner: self.slices().flatten(),
            left: self.len,
        }
    }
}

/// An iterator of known length (`Flatten` does not know its own).
struct Counted<I> {
    inner: I,
    left: usize,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let x = self.inner.next()?;
        self.left = self.left.saturating_sub(1);
        Some(x)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}

/// Size of a session's first chunk, in bytes, whatever its element type:
/// an interactive session's outputs take tens of kilobytes, and each
/// doubling from a smaller first chunk was a malloc that searched the free
/// lists of the sessions extracted before (16 KiB instead of 1 Ki elements:
/// −2 % instructions, docs/BENCHMARKS.md, twelfth pass).
const FIRST_CHUNK_BYTES: usize = 16 << 10;
/// The largest a later chunk grows to by doubling, in elements (an event
/// longer than that gets a chunk of its own size).
const MAX_CHUNK: usize = 1 << 18;

impl EventBuf {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `events` events holding `text` code points in all.
    pub fn with_capacity(events: usize, text: usize) -> Self {
        EventBuf {
            events: Segments::with_capacity(events),
            wide: Chunks {
                closed: Vec::new(),
                open: Vec::with_capacity(text),
            },
            bytes: Chunks::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.events.len
    }

    pub fn is_empty(&self) -> bool {
        self.events.len == 0
    }

    pub fn push(&mut self, t: f64, kind: EventKind, data: &[u32]) {
        let out = self.text_for(data.len());
        let start = out.len();
        out.extend_from_slice(data);
        self.commit(t, kind, start);
    }

    pub fn push_event(&mut self, e: &Event) {
        self.push(e.t, e.kind, &e.data);
    }

    /// Appends every event of `other`, in order.
    pub fn append(&mut self, other: &EventBuf) {
        for e in other.iter() {
            let out = self.text_for(e.data.len());
            let start = out.len();
            e.data.widen_onto(out);
            self.commit(e.t, e.kind, start);
        }
    }

    /// Empties the buffer, keeping the open chunks (the largest) for reuse.
    pub fn clear(&mut self) {
        self.events.clear();
        self.wide.clear();
        self.bytes.clear();
    }

    /// The open `u32` chunk, with room for at least `bound` more code
    /// points (opening a new chunk when it has not), for decoding an
    /// event's text onto its end; then [`commit`](Self::commit) with the
    /// length it had before (or truncate back to it when the line turns
    /// out not to be an event). Writing more than `bound` is still
    /// correct, only slower.
    #[inline]
    pub(crate) fn text_for(&mut self, bound: usize) -> &mut Vec<u32> {
        self.wide.room_for(bound)
    }

    /// The open byte chunk with room for `bound` more bytes, for an
    /// all-ASCII output text (then [`commit_ascii_output`](Self::commit_ascii_output)).
    #[inline]
    pub(crate) fn bytes_for(&mut self, bound: usize) -> &mut Vec<u8> {
        self.bytes.room_for(bound)
    }

    /// Both open chunks, each with room for `bound` more elements: an
    /// output text is decoded onto the byte one while it stays ASCII, and
    /// onto the `u32` one otherwise.
    #[inline]
    pub(crate) fn texts_for(&mut self, bound: usize) -> (&mut Vec<u32>, &mut Vec<u8>) {
        self.wide.room_for(bound);
        self.bytes.room_for(bound);
        (&mut self.wide.open, &mut self.bytes.open)
    }

    /// The room [`text_for`](Self::text_for)`(bound)` leaves in the open
    /// chunk (at least `bound`); [`texts_for`](Self::texts_for) leaves at
    /// least as much in both.
    #[inline]
    pub(crate) fn open_room(&mut self, bound: usize) -> usize {
        let w = self.wide.room_for(bound);
        let w = w.capacity() - w.len();
        let b = self.bytes.room_for(bound);
        w.min(b.capacity() - b.len())
    }

    /// Records an event whose text is `open u32 chunk[start..]`.
    #[inline]
    pub(crate) fn commit(&mut self, t: f64, kind: EventKind, start: usize) {
        let end = self.wide.open.len();
        self.events.push(Packed {
            t,
            kind,
            ascii: false,
            chunk: self.wide.closed.len(),
            start: start.min(end),
            end,
        });
    }

    /// Records an output event whose text is `open byte chunk[start..]`,
    /// all ASCII (the decoder wrote nothing else there).
    #[inline]
    pub(crate) fn commit_ascii_output(&mut self, t: f64, start: usize) {
        let end = self.bytes.open.len();
        self.events.push(Packed {
            t,
            kind: EventKind::Output,
            ascii: true,
            chunk: self.bytes.closed.len(),
            start: start.min(end),
            end,
        });
    }

    /// Each event's view, in order, segment by segment (no flattened
    /// iterator: a plain loop per segment).
    #[inline]
    pub(crate) fn for_each_ref<'s>(&'s self, mut f: impl FnMut(EventRef<'s>)) {
        for seg in self.events.slices() {
            for p in seg {
                f(self.view(p));
            }
        }
    }

    /// How many events are inputs.
    pub(crate) fn input_count(&self) -> usize {
        self.events
            .slices()
            .map(|seg| seg.iter().filter(|p| p.kind == EventKind::Input).count())
            .sum()
    }

    pub fn get(&self, i: usize) -> Option<EventRef<'_>> {
        self.events.get(i).map(|p| self.view(p))
    }

    fn view(&self, p: &Packed) -> EventRef<'_> {
        let data = if p.ascii {
            TextRef::ascii(self.bytes.slice(p.chunk, p.start, p.end))
        } else {
            TextRef::from(self.wide.slice(p.chunk, p.start, p.end))
        };
        EventRef {
            t: p.t,
            kind: p.kind,
            data,
        }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = EventRef<'_>> + '_ {
        self.events.iter().map(|p| self.view(p))
    }

    /// Owned copies (tests, callers that keep events).
    pub fn to_events(&self) -> Vec<Event> {
        self.iter()
            .map(|e| Event {
                t: e.t,
                kind: e.kind,
                data: e.data.to_vec(),
            })
            .collect()
    }

    /// Total code points held.
    pub fn text_len(&self) -> usize {
        self.events.iter().map(|p| p.end - p.start).sum()
    }

    /// Is event `i`'s text held as bytes? (Tests of the reader's paths.)
    #[cfg(test)]
    pub(crate) fn held_as_bytes(&self, i: usize) -> bool {
        self.events.get(i).is_some_and(|p| p.ascii)
    }
}

/// Equal when they hold the same events (`t` compared as `f64`), however
/// their text is chunked.
impl PartialEq for EventBuf {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// What [`crate::extract_session`] takes: one session's events, owned
/// ([`Event`]s) or packed ([`EventBuf`], as the reader produces them).
pub trait SessionEvents {
    fn event_refs(&self) -> Vec<EventRef<'_>>;

    /// The reader's buffer itself, when that is what these events are: the
    /// engine then reads it in place (see [`crate::extract_session_at`]).
    #[doc(hidden)]
    fn as_event_buf(&self) -> Option<&EventBuf> {
        None
    }
}

impl SessionEvents for [Event] {
    fn event_refs(&self) -> Vec<EventRef<'_>> {
        self.iter().map(Event::as_ref).collect()
    }
}

impl SessionEvents for Vec<Event> {
    fn event_refs(&self) -> Vec<EventRef<'_>> {
        self.as_slice().event_refs()
    }
}

impl SessionEvents for EventBuf {
    fn as_event_buf(&self) -> Option<&EventBuf> {
        Some(self)
    }

    /// Segment by segment: each `extend` is over a slice of known length
    /// (collecting the flattened iterator took 0.7 % more instructions).
    fn event_refs(&self) -> Vec<EventRef<'_>> {
        let mut v = Vec::with_capacity(self.len());
        for seg in self.events.slices() {
            v.extend(seg.iter().map(|p| self.view(p)));
        }
        v
    }
}

impl From<&[Event]> for EventBuf {
    fn from(events: &[Event]) -> Self {
        let text = events.iter().map(|e| e.data.len()).sum();
        let mut b = EventBuf::with_capacity(events.len(), text);
        for e in events {
            b.push_event(e);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_keeps_each_events_text_and_order() {
        let evs = vec![
            Event::new(0.5, EventKind::Output, "$ "),
            Event::new(1.0, EventKind::Input, ""),
            Event::new(1.25, EventKind::Input, "ls\r"),
        ];
        let b = EventBuf::from(&evs[..]);
        assert_eq!(b.len(), 3);
        assert_eq!(b.text_len(), 5);
        assert_eq!(b.to_events(), evs);
        let second = b.get(1).map(|e| (e.t, e.kind, e.data.len()));
        assert_eq!(second, Some((1.0, EventKind::Input, 0)));
        assert_eq!(
            b.get(2).map(|e| e.data.to_vec()),
            Some(vec![0x6C, 0x73, 0x0D])
        );
        assert_eq!(b.get(3), None);
        let mut c = EventBuf::from(&evs[..1]);
        c.append(&b);
        assert_eq!(c.len(), 4);
        assert_eq!(
            c.get(3).map(|e| e.data.to_vec()),
            Some(vec![0x6C, 0x73, 0x0D])
        );
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.text_len(), 0);
    }

    #[test]
    fn events_past_a_segment_stay_in_order() {
        for first in [0usize, 1, 3, 128] {
            let mut b = EventBuf::with_capacity(first, 0);
            for i in 0..1000u32 {
                b.push(f64::from(i), EventKind::Input, &[i]);
                assert_eq!(b.len(), i as usize + 1);
            }
            assert!(b.events.full.len() > 2, "{first}");
            for i in 0..1000u32 {
                let e = b.get(i as usize).expect("event");
                assert_eq!((e.t, e.data.to_vec()), (f64::from(i), vec![i]));
            }
            assert_eq!(b.get(1000), None);
            let it = b.iter();
            assert_eq!(it.len(), 1000);
            let ts: Vec<f64> = it.map(|e| e.t).collect();
            assert_eq!(ts, (0..1000).map(f64::from).collect::<Vec<_>>());
            b.clear();
            assert!(b.is_empty() && b.get(0).is_none() && b.iter().len() == 0);
        }
    }

    #[test]
    fn texts_past_a_chunk_stay_whole_and_in_order() {
        // Texts of growing lengths, some longer than any chunk: every event
        // must read back exactly, whichever chunk it landed in.
        let evs: Vec<Event> = (0..400u32)
            .map(|i| Event {
                t: f64::from(i),
                kind: if i % 2 == 0 {
                    EventKind::Input
                } else {
                    EventKind::Output
                },
                data: (0..(i * 37) % 3001 + if i == 7 { MAX_CHUNK + 5 } else { 0 } as u32)
                    .map(|k| k ^ i)
                    .collect(),
            })
            .collect();
        let mut b = EventBuf::new();
        for e in &evs {
            b.push_event(e);
        }
        assert!(b.wide.closed.len() > 1);
        assert_eq!(b.to_events(), evs);
        assert_eq!(
            b.text_len(),
            evs.iter().map(|e| e.data.len()).sum::<usize>()
        );
        assert_eq!(b, EventBuf::from(&evs[..]));
        b.clear();
        assert!(b.is_empty() && b.wide.closed.is_empty());
        b.push_event(&evs[3]);
        assert_eq!(b.to_events(), vec![evs[3].clone()]);
    }
}
