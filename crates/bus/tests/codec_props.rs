//! Property tests of the frame codec: round trips through arbitrary split
//! points, and arbitrary bytes never panic nor make the decoder wait on more
//! than one maximal frame.

use bytes::{Bytes, BytesMut};
use decnet_bus::{BusCodec, CodecError, Frame, Verb, MAX_FRAME_BYTES};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn verb() -> impl Strategy<Value = Verb> {
    prop::sample::select(Verb::ALL.to_vec())
}

fn body() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        Just(Bytes::new()),
        prop::collection::btree_map("[a-z]{1,8}", any::<String>(), 0..6).prop_map(|m| {
            Bytes::from(serde_json::to_vec(&m).unwrap_or_else(|_| b"{}".to_vec()))
        }),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    (verb(), "([!-~]([ -~]{0,60}[!-~])?)?", body())
        .prop_filter_map("valid frame", |(v, a, b)| Frame::new(v, &a, b).ok())
}

/// Feeds `wire` to a decoder in the given chunk sizes, the way FramedRead
/// does: more bytes only when the decoder returned `None`.
fn feed(wire: &[u8], cuts: &[usize]) -> (Vec<Frame>, Option<CodecError>) {
    let mut codec = BusCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut cuts = cuts.iter().copied().cycle();
    loop {
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => out.push(f),
                Ok(None) => {
                    // Waiting for more bytes is only allowed while they could
                    // still belong to one frame.
                    assert!(
                        buf.len() < MAX_FRAME_BYTES,
                        "decoder waits with {} bytes",
                        buf.len()
                    );
                    break;
                }
                Err(e) => return (out, Some(e)),
            }
        }
        if pos >= wire.len() {
            return match codec.decode_eof(&mut buf) {
                Ok(Some(f)) => {
                    out.push(f);
                    (out, None)
                }
                Ok(None) => (out, None),
                Err(e) => (out, Some(e)),
            };
        }
        let n = cuts.next().unwrap_or(1).max(1).min(wire.len() - pos);
        buf.extend_from_slice(&wire[pos..pos + n]);
        pos += n;
    }
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut codec = BusCodec::new();
    let mut buf = BytesMut::new();
    for f in frames {
        let r = codec.encode(f, &mut buf);
        assert!(r.is_ok(), "valid frame refused: {r:?}");
    }
    buf.to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_at_any_split(frames in prop::collection::vec(frame(), 0..8),
                               cuts in prop::collection::vec(1usize..64, 1..16)) {
        let wire = encode_all(&frames);
        let (got, err) = feed(&wire, &cuts);
        prop_assert!(err.is_none(), "error: {:?}", err);
        prop_assert_eq!(got, frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048),
                                   cuts in prop::collection::vec(1usize..300, 1..8)) {
        let (_frames, err) = feed(&bytes, &cuts);
        if let Some(e) = err {
            // Every decode-side error closes the connection.
            prop_assert!(e.loses_framing());
        }
    }

    #[test]
    fn plausible_garbage_never_panics(prefix in prop::sample::select(vec!["PUB ", "EVT ", "SUB ", "BYE", "HELLO ", "X "]),
                                      mid in prop::collection::vec(any::<u8>(), 0..64),
                                      len in any::<u32>(),
                                      tail in prop::collection::vec(any::<u8>(), 0..256),
                                      cuts in prop::collection::vec(1usize..40, 1..8)) {
        let mut wire = prefix.as_bytes().to_vec();
        wire.extend_from_slice(&mid);
        wire.push(b'\n');
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&tail);
        let _ = feed(&wire, &cuts);
    }

    #[test]
    fn corrupted_valid_stream_never_panics(frames in prop::collection::vec(frame(), 1..4),
                                           flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
                                           cuts in prop::collection::vec(1usize..64, 1..8)) {
        let mut wire = encode_all(&frames);
        for (at, byte) in flips {
            let i = at % wire.len();
            wire[i] = byte;
        }
        let _ = feed(&wire, &cuts);
    }
}
