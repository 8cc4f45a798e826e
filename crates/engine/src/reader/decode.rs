//! `surrogateescape` decoding (engine.md §1.4).
//!
//! The production handler opens shards with `encoding="utf-8",
//! errors="surrogateescape"`: every byte that is not part of a valid UTF-8
//! sequence becomes the lone surrogate `U+DC80 + (byte − 0x80)`. Validity is
//! Rust's `from_utf8` (no overlongs, no encoded surrogates, ≤ U+10FFFF); both
//! decoders resume after the maximal invalid subpart, so the mapping is the
//! same byte for byte.

/// Appends the code points of `bytes` (decoded with `surrogateescape`) to `out`.
pub fn decode_surrogateescape(mut bytes: &[u8], out: &mut Vec<u32>) {
    out.reserve(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                push_str(s, out);
                return;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                // The prefix is valid UTF-8 by construction; decode it without
                // re-validating through a second fallible call.
                if let Ok(s) = std::str::from_utf8(&bytes[..valid]) {
                    push_str(s, out);
                }
                let bad = e.error_len().unwrap_or(bytes.len() - valid);
                for &b in &bytes[valid..valid + bad] {
                    out.push(escape_byte(b));
                }
                bytes = &bytes[valid + bad..];
            }
        }
    }
}

/// The lone surrogate standing for an undecodable byte (always ≥ 0x80).
#[inline]
pub fn escape_byte(b: u8) -> u32 {
    0xDC00 + u32::from(b)
}

#[inline]
fn push_str(s: &str, out: &mut Vec<u32>) {
    if s.is_ascii() {
        out.extend(s.bytes().map(u32::from));
    } else {
        out.extend(s.chars().map(u32::from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Vec<u32> {
        let mut v = Vec::new();
        decode_surrogateescape(b, &mut v);
        v
    }

    #[test]
    fn ascii_and_valid_utf8() {
        assert_eq!(dec(b"ab"), vec![0x61, 0x62]);
        assert_eq!(dec("é😀".as_bytes()), vec![0xE9, 0x1F600]);
    }

    #[test]
    fn invalid_bytes_become_lone_surrogates() {
        // Latin-1 é, a cut multi-byte sequence, an overlong, an encoded surrogate.
        assert_eq!(dec(b"\xe9A"), vec![0xDCE9, 0x41]);
        assert_eq!(dec(b"\xe2\x82"), vec![0xDCE2, 0xDC82]);
        assert_eq!(dec(b"\xc0\xaf"), vec![0xDCC0, 0xDCAF]);
        assert_eq!(dec(b"\xed\xa0\x80"), vec![0xDCED, 0xDCA0, 0xDC80]);
        // Maximal subpart: F0 90 80 then 'A' → three escapes, then A.
        assert_eq!(dec(b"\xf0\x90\x80A"), vec![0xDCF0, 0xDC90, 0xDC80, 0x41]);
        assert_eq!(
            dec(b"\xf4\x90\x80\x80"),
            vec![0xDCF4, 0xDC90, 0xDC80, 0xDC80]
        );
    }
}
