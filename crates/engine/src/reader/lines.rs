//! Universal-newline line splitting (engine.md §1.3).
//!
//! The handler reads shards in text mode, so `\n`, `\r\n` and a lone `\r`
//! all end a line, and an unterminated last line is still a line. `\r` and
//! `\n` never occur inside a valid UTF-8 multi-byte sequence, so splitting
//! the raw bytes is the same as splitting the decoded text.
//!
//! [`LineSplitter`] works on a growing buffer: it only hands out complete
//! lines unless told the data is final, and a `\r` at the very end of the
//! buffer is held back until the next byte shows whether it is `\r\n`
//! (a live shard's unterminated tail is never read).

/// One line inside a buffer: `start..end` is its content (no terminator),
/// `next` is where the following line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLine {
    pub start: usize,
    pub end: usize,
    pub next: usize,
}

/// Iterator over the lines of `buf` starting at `pos`.
#[derive(Debug, Clone)]
pub struct LineSplitter<'a> {
    buf: &'a [u8],
    pos: usize,
    at_eof: bool,
}

impl<'a> LineSplitter<'a> {
    /// `at_eof`: the buffer ends the data, so an unterminated tail (or a
    /// trailing lone `\r`) is a complete last line.
    pub fn new(buf: &'a [u8], at_eof: bool) -> Self {
        LineSplitter {
            buf,
            pos: 0,
            at_eof,
        }
    }

    /// Offset of the first byte not yet handed out as part of a line.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl Iterator for LineSplitter<'_> {
    type Item = RawLine;

    fn next(&mut self) -> Option<RawLine> {
        let buf = self.buf;
        let start = self.pos;
        if start >= buf.len() {
            return None;
        }
        let rest = &buf[start..];
        match memchr::memchr2(b'\n', b'\r', rest) {
            Some(k) => {
                let end = start + k;
                let next = if buf[end] == b'\n' {
                    end + 1
                } else if end + 1 < buf.len() {
                    if buf[end + 1] == b'\n' {
                        end + 2
                    } else {
                        end + 1
                    }
                } else if self.at_eof {
                    end + 1
                } else {
                    // `\r` at the end of a live buffer: wait for the next byte.
                    return None;
                };
                self.pos = next;
                Some(RawLine { start, end, next })
            }
            None if self.at_eof => {
                self.pos = buf.len();
                Some(RawLine {
                    start,
                    end: buf.len(),
                    next: buf.len(),
                })
            }
            None => None,
        }
    }
}

/// Content slices of every line of a complete buffer.
pub fn split_lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    LineSplitter::new(buf, true).map(move |l| &buf[l.start..l.end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(b: &[u8]) -> Vec<&[u8]> {
        split_lines(b).collect()
    }

    #[test]
    fn universal_newlines() {
        assert_eq!(lines(b"a\nb\r\nc\rd"), vec![&b"a"[..], b"b", b"c", b"d"]);
        assert_eq!(lines(b"a\n\nb\n"), vec![&b"a"[..], b"", b"b"]);
        assert_eq!(lines(b"a\r\r\nb"), vec![&b"a"[..], b"", b"b"]);
        assert_eq!(lines(b""), Vec::<&[u8]>::new());
        assert_eq!(lines(b"\r"), vec![&b""[..]]);
    }

    #[test]
    fn live_buffer_holds_back_incomplete_tail() {
        let mut s = LineSplitter::new(b"a\nbc", false);
        assert_eq!(s.next().map(|l| (l.start, l.end)), Some((0, 1)));
        assert_eq!(s.next(), None);
        assert_eq!(s.consumed(), 2);
        let mut s = LineSplitter::new(b"a\r", false);
        assert_eq!(s.next(), None);
        assert_eq!(s.consumed(), 0);
        let mut s = LineSplitter::new(b"a\r\n", false);
        assert_eq!(s.next().map(|l| l.next), Some(3));
    }
}
