//! Frame codec for DECNET's bus (`decnet/bus/protocol.py`, contracts §1.2).
//!
//! One frame on the wire is
//!
//! ```text
//! <VERB>[ <args>]\n | u32 big-endian body length | body bytes
//! ```
//!
//! The header line is ASCII, at most [`MAX_HEADER_BYTES`] including the LF; a
//! run of trailing CRs is tolerated. The body is at most [`MAX_BODY_BYTES`] and
//! is either empty or a JSON object. The decoder never asks for more bytes than
//! the frame it is reading needs, and a frame is at most [`MAX_FRAME_BYTES`], so
//! a peer cannot make us buffer more than one maximal frame.
//!
//! Errors are split by [`CodecError::loses_framing`]: after a framing error the
//! byte stream can no longer be trusted and the connection must be closed (the
//! reference closes on every decode error too); the other errors concern one
//! frame only (a body that is not a JSON object, a frame refused before it was
//! written).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde_json::{Map, Value};
use tokio_util::codec::{Decoder, Encoder};

/// Longest header line, LF included (protocol.py:42).
pub const MAX_HEADER_BYTES: usize = 4096;
/// Longest body (protocol.py:43).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest frame on the wire: header, length prefix and body.
pub const MAX_FRAME_BYTES: usize = MAX_HEADER_BYTES + 4 + MAX_BODY_BYTES;

/// The six verbs of the protocol; case-sensitive on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// Client greeting carrying the client name; no reply.
    Hello,
    /// Client publishes on the topic in args.
    Pub,
    /// Client subscribes to the pattern in args; no ack.
    Sub,
    /// Client drops the pattern in args.
    Unsub,
    /// Server delivers an event on the topic in args.
    Evt,
    /// Graceful close, either direction.
    Bye,
}

impl Verb {
    /// Every verb, for tests and generators.
    pub const ALL: [Verb; 6] = [
        Verb::Hello,
        Verb::Pub,
        Verb::Sub,
        Verb::Unsub,
        Verb::Evt,
        Verb::Bye,
    ];

    /// The verb as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Hello => "HELLO",
            Verb::Pub => "PUB",
            Verb::Sub => "SUB",
            Verb::Unsub => "UNSUB",
            Verb::Evt => "EVT",
            Verb::Bye => "BYE",
        }
    }

    fn from_wire(bytes: &[u8]) -> Option<Verb> {
        Some(match bytes {
            b"HELLO" => Verb::Hello,
            b"PUB" => Verb::Pub,
            b"SUB" => Verb::Sub,
            b"UNSUB" => Verb::Unsub,
            b"EVT" => Verb::Evt,
            b"BYE" => Verb::Bye,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong reading or writing a frame.
///
/// Messages carry sizes and fixed reasons only, never bytes from the peer.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The socket failed.
    #[error("bus socket I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// No LF within the first 4096 bytes of a frame.
    #[error("incoming header line exceeds {MAX_HEADER_BYTES} bytes")]
    HeaderTooLong,
    /// A header byte is not ASCII.
    #[error("incoming header line is not ASCII")]
    NonAsciiHeader,
    /// The header line is empty once trailing CR/LF are stripped.
    #[error("incoming header line is empty")]
    EmptyHeader,
    /// The verb is not one of the six.
    #[error("incoming frame has an unknown verb ({len} bytes)")]
    UnknownVerb {
        /// Length of the verb token, the only thing we report about it.
        len: usize,
    },
    /// The length prefix announces more than 1 MiB.
    #[error("incoming body length {len} exceeds {MAX_BODY_BYTES} bytes")]
    BodyTooLong {
        /// Announced length.
        len: u32,
    },
    /// The stream ended inside a frame.
    #[error("bus stream ended mid-frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the partial frame that were received.
        buffered: usize,
    },
    /// A body is neither empty nor valid JSON.
    #[error("frame body is not valid JSON")]
    BodyNotJson,
    /// A body is valid JSON but not an object.
    #[error("frame body is JSON but not an object")]
    BodyNotObject,
    /// Outgoing args would break the header line.
    #[error("outgoing args contain CR or LF")]
    ArgsContainNewline,
    /// Outgoing args are not ASCII (the header must be).
    #[error("outgoing args are not ASCII")]
    ArgsNotAscii,
    /// Outgoing header would exceed 4096 bytes.
    #[error("outgoing header of {len} bytes exceeds {MAX_HEADER_BYTES} bytes")]
    OutgoingHeaderTooLong {
        /// Header length the frame would have had, LF included.
        len: usize,
    },
    /// Outgoing body would exceed 1 MiB.
    #[error("outgoing body of {len} bytes exceeds {MAX_BODY_BYTES} bytes")]
    OutgoingBodyTooLong {
        /// Body length the frame would have had.
        len: usize,
    },
}

impl CodecError {
    /// True when the byte stream can no longer be trusted and the connection
    /// must be closed. False for errors about one frame's body or about a
    /// frame we refused to write (nothing reached the wire).
    pub fn loses_framing(&self) -> bool {
        match self {
            CodecError::Io(_)
            | CodecError::HeaderTooLong
            | CodecError::NonAsciiHeader
            | CodecError::EmptyHeader
            | CodecError::UnknownVerb { .. }
            | CodecError::BodyTooLong { .. }
            | CodecError::Truncated { .. } => true,
            CodecError::BodyNotJson
            | CodecError::BodyNotObject
            | CodecError::ArgsContainNewline
            | CodecError::ArgsNotAscii
            | CodecError::OutgoingHeaderTooLong { .. }
            | CodecError::OutgoingBodyTooLong { .. } => false,
        }
    }
}

/// Python's `str.isspace()` restricted to ASCII: what `str.strip()` removes.
pub(crate) fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

/// `str.strip()` over ASCII text.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_py_space(c as u8))
}

/// One frame. Args are stored stripped, the way the reference reader sees
/// them, so a frame survives an encode/decode round trip unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    verb: Verb,
    args: String,
    body: Bytes,
}

impl Frame {
    /// A frame with an empty body (HELLO, SUB, UNSUB, BYE).
    pub fn empty(verb: Verb, args: &str) -> Result<Frame, CodecError> {
        Frame::checked(verb, args, Bytes::new())
    }

    /// A frame whose body is given as raw bytes; refused unless the body is
    /// empty or a JSON object, like everything the reference writes.
    pub fn new(verb: Verb, args: &str, body: Bytes) -> Result<Frame, CodecError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(CodecError::OutgoingBodyTooLong { len: body.len() });
        }
        if !body.is_empty() {
            parse_object(&body)?;
        }
        Frame::checked(verb, args, body)
    }

    /// A frame whose body is a serialized JSON object the caller built.
    /// Only the size is checked: the crate builds these bodies itself.
    pub(crate) fn with_object_body(
        verb: Verb,
        args: &str,
        body: Bytes,
    ) -> Result<Frame, CodecError> {
        Frame::checked(verb, args, body)
    }

    fn checked(verb: Verb, args: &str, body: Bytes) -> Result<Frame, CodecError> {
        if args.bytes().any(|b| b == b'\n' || b == b'\r') {
            return Err(CodecError::ArgsContainNewline);
        }
        if !args.is_ascii() {
            return Err(CodecError::ArgsNotAscii);
        }
        let args = py_strip(args);
        let header_len = header_len(verb, args);
        if header_len > MAX_HEADER_BYTES {
            return Err(CodecError::OutgoingHeaderTooLong { len: header_len });
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(CodecError::OutgoingBodyTooLong { len: body.len() });
        }
        Ok(Frame {
            verb,
            args: args.to_owned(),
            body,
        })
    }

    /// The verb.
    pub fn verb(&self) -> Verb {
        self.verb
    }

    /// The args: topic, pattern or client name; empty for BYE.
    pub fn args(&self) -> &str {
        &self.args
    }

    /// The raw body bytes (empty or, when we built it, a JSON object).
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body as a JSON object; an empty body is an empty object
    /// (`protocol.decode_body`). Errors here do not lose framing.
    pub fn json_body(&self) -> Result<Map<String, Value>, CodecError> {
        if self.body.is_empty() {
            return Ok(Map::new());
        }
        parse_object(&self.body)
    }

    /// Bytes this frame occupies on the wire.
    pub fn encoded_len(&self) -> usize {
        header_len(self.verb, &self.args) + 4 + self.body.len()
    }
}

fn header_len(verb: Verb, args: &str) -> usize {
    let sep = usize::from(!args.is_empty());
    verb.as_str().len() + sep + args.len() + 1
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, CodecError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CodecError::BodyNotObject),
        Err(_) => Err(CodecError::BodyNotJson),
    }
}

/// Header of the frame being decoded, kept so a large body arriving in
/// pieces does not make us re-validate the header each time.
#[derive(Debug, Clone)]
struct PendingHeader {
    verb: Verb,
    args: String,
    /// Header bytes, LF included.
    len: usize,
}

/// `tokio_util` codec for bus frames. Stateful only while a frame is half
/// received.
#[derive(Debug, Default)]
pub struct BusCodec {
    pending: Option<PendingHeader>,
}

impl BusCodec {
    /// A fresh codec.
    pub fn new() -> BusCodec {
        BusCodec::default()
    }

    fn parse_header(src: &BytesMut) -> Result<Option<PendingHeader>, CodecError> {
        let window = &src[..src.len().min(MAX_HEADER_BYTES)];
        let Some(lf) = window.iter().position(|&b| b == b'\n') else {
            if src.len() >= MAX_HEADER_BYTES {
                return Err(CodecError::HeaderTooLong);
            }
            return Ok(None);
        };
        let mut line = &src[..lf];
        while let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if !line.is_ascii() {
            return Err(CodecError::NonAsciiHeader);
        }
        if line.is_empty() {
            return Err(CodecError::EmptyHeader);
        }
        let (verb, args) = match line.iter().position(|&b| b == b' ') {
            Some(sp) => (&line[..sp], &line[sp + 1..]),
            None => (line, &line[line.len()..]),
        };
        let verb = Verb::from_wire(verb).ok_or(CodecError::UnknownVerb { len: verb.len() })?;
        // ASCII was checked above, so this cannot fail; map it anyway rather
        // than panic on input bytes.
        let args = std::str::from_utf8(args).map_err(|_| CodecError::NonAsciiHeader)?;
        Ok(Some(PendingHeader {
            verb,
            args: py_strip(args).to_owned(),
            len: lf + 1,
        }))
    }
}

impl Decoder for BusCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        let header = match &self.pending {
            Some(h) => h.clone(),
            None => match BusCodec::parse_header(src)? {
                Some(h) => {
                    self.pending = Some(h.clone());
                    h
                }
                None => {
                    // Ask for at most the rest of a maximal header plus the
                    // length prefix.
                    src.reserve((MAX_HEADER_BYTES + 4).saturating_sub(src.len()));
                    return Ok(None);
                }
            },
        };
        let len_at = header.len;
        if src.len() < len_at + 4 {
            src.reserve(len_at + 4 - src.len());
            return Ok(None);
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&src[len_at..len_at + 4]);
        let body_len = u32::from_be_bytes(len_bytes);
        if body_len as usize > MAX_BODY_BYTES {
            self.pending = None;
            return Err(CodecError::BodyTooLong { len: body_len });
        }
        let total = len_at + 4 + body_len as usize;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        self.pending = None;
        src.advance(len_at + 4);
        let body = src.split_to(body_len as usize).freeze();
        Ok(Some(Frame {
            verb: header.verb,
            args: header.args,
            body,
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => Err(CodecError::Truncated {
                buffered: src.len(),
            }),
        }
    }
}

impl Encoder<&Frame> for BusCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        // A Frame is validated when built; re-check the limits so a bug can
        // never put an oversize frame on the wire.
        let header_len = header_len(frame.verb, &frame.args);
        if header_len > MAX_HEADER_BYTES {
            return Err(CodecError::OutgoingHeaderTooLong { len: header_len });
        }
        let body_len = u32::try_from(frame.body.len())
            .ok()
            .filter(|&n| n as usize <= MAX_BODY_BYTES)
            .ok_or(CodecError::OutgoingBodyTooLong {
                len: frame.body.len(),
            })?;
        dst.reserve(frame.encoded_len());
        dst.put_slice(frame.verb.as_str().as_bytes());
        if !frame.args.is_empty() {
            dst.put_u8(b' ');
            dst.put_slice(frame.args.as_bytes());
        }
        dst.put_u8(b'\n');
        dst.put_u32(body_len);
        dst.put_slice(&frame.body);
        Ok(())
    }
}

impl Encoder<Frame> for BusCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&frame, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>, CodecError> {
        let mut codec = BusCodec::new();
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(f) = codec.decode_eof(&mut buf)? {
            out.push(f);
        }
        Ok(out)
    }

    fn one(bytes: &[u8]) -> Result<Frame, CodecError> {
        let mut frames = decode_all(bytes)?;
        assert_eq!(frames.len(), 1, "expected exactly one frame");
        Ok(frames.remove(0))
    }

    fn encode(frame: &Frame) -> Vec<u8> {
        let mut buf = BytesMut::new();
        let r = BusCodec::new().encode(frame, &mut buf);
        assert!(r.is_ok(), "encode failed: {r:?}");
        buf.to_vec()
    }

    fn frame(verb: Verb, args: &str, body: &[u8]) -> Frame {
        match Frame::new(verb, args, Bytes::copy_from_slice(body)) {
            Ok(f) => f,
            Err(e) => panic!("frame refused: {e}"),
        }
    }

    #[test]
    fn encodes_like_the_reference() {
        assert_eq!(encode(&frame(Verb::Bye, "", b"")), b"BYE\n\0\0\0\0");
        assert_eq!(
            encode(&frame(Verb::Sub, "attacker.session.ended", b"")),
            b"SUB attacker.session.ended\n\0\0\0\0"
        );
        let body = br#"{"type":"session.ended","payload":{}}"#;
        let mut want = b"PUB attacker.session.ended\n".to_vec();
        want.extend_from_slice(&(body.len() as u32).to_be_bytes());
        want.extend_from_slice(body);
        assert_eq!(
            encode(&frame(Verb::Pub, "attacker.session.ended", body)),
            want
        );
        // Writer right-trims like `f"{verb} {args}".rstrip()`.
        assert_eq!(
            encode(&frame(Verb::Hello, "name \t", b"")),
            b"HELLO name\n\0\0\0\0"
        );
    }

    #[test]
    fn decodes_every_verb_and_strips_args() -> Result<(), CodecError> {
        for verb in Verb::ALL {
            let mut wire = format!("{verb}  x.y \n").into_bytes();
            wire.extend_from_slice(&[0, 0, 0, 0]);
            let f = one(&wire)?;
            assert_eq!(f.verb(), verb);
            assert_eq!(f.args(), "x.y");
            assert!(f.body().is_empty());
        }
        Ok(())
    }

    #[test]
    fn crs_before_lf_are_tolerated() -> Result<(), CodecError> {
        let f = one(b"EVT a.b\r\r\n\0\0\0\x02{}")?;
        assert_eq!(f.verb(), Verb::Evt);
        assert_eq!(f.args(), "a.b");
        assert_eq!(f.json_body()?, Map::new());
        let f = one(b"BYE\r\n\0\0\0\0")?;
        assert_eq!((f.verb(), f.args()), (Verb::Bye, ""));
        Ok(())
    }

    #[test]
    fn python_whitespace_is_stripped_from_args() -> Result<(), CodecError> {
        let f = one(b"SUB \x1c\x0ba.b\x0c\x1f\t\n\0\0\0\0")?;
        assert_eq!(f.args(), "a.b");
        // A CR inside args survives (only the trailing run is stripped).
        let f = one(b"SUB a\rb\n\0\0\0\0")?;
        assert_eq!(f.args(), "a\rb");
        Ok(())
    }

    #[test]
    fn verb_is_split_at_the_first_space_only() -> Result<(), CodecError> {
        let f = one(b"PUB a b  c\n\0\0\0\0")?;
        assert_eq!(f.args(), "a b  c");
        // A tab does not split: "PUB\ta" is an unknown verb.
        assert!(matches!(
            one(b"PUB\ta\n\0\0\0\0"),
            Err(CodecError::UnknownVerb { len: 5 })
        ));
        Ok(())
    }

    #[test]
    fn unknown_and_lowercase_verbs_are_refused() {
        assert!(matches!(
            one(b"pub a\n\0\0\0\0"),
            Err(CodecError::UnknownVerb { len: 3 })
        ));
        assert!(matches!(
            one(b"PING\n\0\0\0\0"),
            Err(CodecError::UnknownVerb { len: 4 })
        ));
        assert!(matches!(
            one(b" PUB a\n\0\0\0\0"),
            Err(CodecError::UnknownVerb { len: 0 })
        ));
    }

    #[test]
    fn empty_header_is_refused() {
        assert!(matches!(one(b"\n\0\0\0\0"), Err(CodecError::EmptyHeader)));
        assert!(matches!(
            one(b"\r\r\n\0\0\0\0"),
            Err(CodecError::EmptyHeader)
        ));
    }

    #[test]
    fn non_ascii_header_is_refused() {
        assert!(matches!(
            one(b"PUB \xc3\xa9\n\0\0\0\0"),
            Err(CodecError::NonAsciiHeader)
        ));
        assert!(matches!(
            one(b"PUB a\x80\n\0\0\0\0"),
            Err(CodecError::NonAsciiHeader)
        ));
    }

    #[test]
    fn header_limit_is_4096_bytes_including_lf() -> Result<(), CodecError> {
        let args = "a".repeat(MAX_HEADER_BYTES - 5);
        let mut wire = format!("SUB {args}\n").into_bytes();
        assert_eq!(wire.len(), MAX_HEADER_BYTES);
        wire.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(one(&wire)?.args().len(), MAX_HEADER_BYTES - 5);

        let mut wire = format!("SUB a{args}\n").into_bytes();
        wire.extend_from_slice(&[0, 0, 0, 0]);
        assert!(matches!(one(&wire), Err(CodecError::HeaderTooLong)));
        // Detected as soon as 4096 bytes without LF are buffered.
        let mut codec = BusCodec::new();
        let mut buf = BytesMut::from(&vec![b'A'; MAX_HEADER_BYTES - 1][..]);
        assert!(matches!(codec.decode(&mut buf), Ok(None)));
        buf.put_u8(b'A');
        assert!(matches!(
            codec.decode(&mut buf),
            Err(CodecError::HeaderTooLong)
        ));
        Ok(())
    }

    #[test]
    fn body_limit_is_one_mib() -> Result<(), CodecError> {
        let body = format!("{{\"k\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES - 8));
        assert_eq!(body.len(), MAX_BODY_BYTES);
        let mut wire = b"EVT t\n".to_vec();
        wire.extend_from_slice(&(MAX_BODY_BYTES as u32).to_be_bytes());
        wire.extend_from_slice(body.as_bytes());
        assert_eq!(one(&wire)?.body().len(), MAX_BODY_BYTES);

        // Refused from the length prefix alone, before any body byte arrives.
        let mut codec = BusCodec::new();
        let mut buf = BytesMut::from(&b"EVT t\n"[..]);
        buf.put_u32(MAX_BODY_BYTES as u32 + 1);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(CodecError::BodyTooLong { len }) if len as usize == MAX_BODY_BYTES + 1
        ));
        let mut buf = BytesMut::from(&b"EVT t\n\xff\xff\xff\xff"[..]);
        assert!(matches!(
            BusCodec::new().decode(&mut buf),
            Err(CodecError::BodyTooLong { len: u32::MAX })
        ));
        Ok(())
    }

    #[test]
    fn eof_mid_frame_is_truncated_and_eof_between_frames_is_clean() -> Result<(), CodecError> {
        assert!(decode_all(b"")?.is_empty());
        assert_eq!(decode_all(b"BYE\n\0\0\0\0")?.len(), 1);
        for partial in [&b"BY"[..], b"BYE\n", b"BYE\n\0\0", b"EVT t\n\0\0\0\x05{}"] {
            assert!(
                matches!(decode_all(partial), Err(CodecError::Truncated { buffered }) if buffered == partial.len()),
                "{partial:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn several_frames_in_one_buffer() -> Result<(), CodecError> {
        let frames = decode_all(b"SUB a\n\0\0\0\0EVT a\n\0\0\0\x02{}BYE\n\0\0\0\0")?;
        let verbs: Vec<Verb> = frames.iter().map(Frame::verb).collect();
        assert_eq!(verbs, [Verb::Sub, Verb::Evt, Verb::Bye]);
        Ok(())
    }

    #[test]
    fn body_errors_do_not_lose_framing() -> Result<(), CodecError> {
        let f = one(b"EVT t\n\0\0\0\x03[1]")?;
        assert!(matches!(f.json_body(), Err(CodecError::BodyNotObject)));
        let f = one(b"EVT t\n\0\0\0\x03{x]")?;
        let e = f.json_body().err();
        assert!(matches!(e, Some(CodecError::BodyNotJson)));
        assert!(!e.is_some_and(|e| e.loses_framing()));
        let f = one(b"EVT t\n\0\0\0\x07{\"a\":1}")?;
        assert_eq!(f.json_body()?.get("a"), Some(&Value::from(1)));
        Ok(())
    }

    #[test]
    fn framing_classification() {
        assert!(CodecError::HeaderTooLong.loses_framing());
        assert!(CodecError::NonAsciiHeader.loses_framing());
        assert!(CodecError::EmptyHeader.loses_framing());
        assert!(CodecError::UnknownVerb { len: 1 }.loses_framing());
        assert!(CodecError::BodyTooLong { len: 0 }.loses_framing());
        assert!(CodecError::Truncated { buffered: 1 }.loses_framing());
        assert!(CodecError::Io(std::io::Error::other("x")).loses_framing());
        assert!(!CodecError::BodyNotObject.loses_framing());
        assert!(!CodecError::ArgsContainNewline.loses_framing());
        assert!(!CodecError::OutgoingBodyTooLong { len: 0 }.loses_framing());
        assert!(!CodecError::OutgoingHeaderTooLong { len: 0 }.loses_framing());
    }

    #[test]
    fn outgoing_frames_are_refused_before_the_wire() {
        assert!(matches!(
            Frame::empty(Verb::Sub, "a\nb"),
            Err(CodecError::ArgsContainNewline)
        ));
        assert!(matches!(
            Frame::empty(Verb::Sub, "a\rb"),
            Err(CodecError::ArgsContainNewline)
        ));
        assert!(matches!(
            Frame::empty(Verb::Sub, "é"),
            Err(CodecError::ArgsNotAscii)
        ));
        let long = "a".repeat(MAX_HEADER_BYTES);
        assert!(matches!(
            Frame::empty(Verb::Sub, &long),
            Err(CodecError::OutgoingHeaderTooLong { len }) if len == MAX_HEADER_BYTES + 5
        ));
        let big = Bytes::from(vec![b' '; MAX_BODY_BYTES + 1]);
        assert!(matches!(
            Frame::new(Verb::Pub, "t", big),
            Err(CodecError::OutgoingBodyTooLong { len }) if len == MAX_BODY_BYTES + 1
        ));
        assert!(matches!(
            Frame::new(Verb::Pub, "t", Bytes::from_static(b"[1]")),
            Err(CodecError::BodyNotObject)
        ));
        assert!(matches!(
            Frame::new(Verb::Pub, "t", Bytes::from_static(b"{")),
            Err(CodecError::BodyNotJson)
        ));
    }

    #[test]
    fn large_body_in_pieces_reserves_only_what_the_frame_needs() -> Result<(), CodecError> {
        let body = format!("{{\"k\":\"{}\"}}", "x".repeat(100_000));
        let mut wire = b"EVT t\n".to_vec();
        wire.extend_from_slice(&(body.len() as u32).to_be_bytes());
        wire.extend_from_slice(body.as_bytes());
        let mut codec = BusCodec::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in wire.chunks(7_001) {
            buf.extend_from_slice(chunk);
            if let Some(f) = codec.decode(&mut buf)? {
                got = Some(f);
            }
            assert!(buf.capacity() <= MAX_FRAME_BYTES * 2);
        }
        assert_eq!(got.map(|f| f.body().len()), Some(body.len()));
        assert!(buf.is_empty());
        Ok(())
    }
}
