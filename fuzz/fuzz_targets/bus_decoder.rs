//! The bus frame decoder over arbitrary bytes fed in arbitrary chunks:
//! never panics, never waits on more than one maximal frame, and every
//! decoded frame survives a re-encode/decode round trip.
#![no_main]

use bytes::BytesMut;
use decnet_bus::{BusCodec, Event, Frame, MAX_FRAME_BYTES};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::{Decoder, Encoder};

fn check_frame(frame: &Frame) {
    if let Ok(body) = frame.json_body() {
        let _ = Event::from_wire(frame.args(), body);
    }
    let mut wire = BytesMut::new();
    if BusCodec::new().encode(frame, &mut wire).is_ok() {
        match BusCodec::new().decode_eof(&mut wire) {
            Ok(Some(again)) => assert_eq!(&again, frame, "re-encoded frame decodes differently"),
            other => panic!("re-encoded frame does not decode: {other:?}"),
        }
        assert!(wire.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    // First byte picks the chunk size, like a socket delivering pieces.
    let Some((&chunk, data)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut codec = BusCodec::new();
    let mut buf = BytesMut::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => check_frame(&frame),
                Ok(None) => {
                    assert!(buf.len() < MAX_FRAME_BYTES, "decoder waits with {} bytes", buf.len());
                    break;
                }
                Err(e) => {
                    assert!(e.loses_framing(), "decode error that keeps framing: {e}");
                    return;
                }
            }
        }
    }
    match codec.decode_eof(&mut buf) {
        Ok(Some(frame)) => check_frame(&frame),
        Ok(None) => assert!(buf.is_empty()),
        Err(e) => assert!(e.loses_framing()),
    }
});
