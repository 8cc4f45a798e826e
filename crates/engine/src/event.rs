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
