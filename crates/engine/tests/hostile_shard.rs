//! The hostile shard (`../shared/corpus/hostile`) goes through the reader
//! without a panic, and its lines get the outcomes its manifest asks for.

use std::path::PathBuf;

use decnet_engine::reader::{group_sessions, parse_line, split_lines, LineOutcome, SessionStatus};

fn corpus(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(rel)
}

fn read(rel: &str) -> Option<Vec<u8>> {
    let p = corpus(rel);
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("skipping: {} unreadable: {e}", p.display());
            None
        }
    }
}

fn sid_str(sid: &[u32]) -> String {
    sid.iter().filter_map(|&c| char::from_u32(c)).collect()
}

#[test]
fn hostile_shard_parses_without_panic() {
    let Some(bytes) = read("hostile/sessions-2026-05-02-hostile.jsonl") else {
        return;
    };
    let sessions = group_sessions(&bytes);
    assert!(sessions.len() > 10);
    assert!(sessions.iter().all(|s| s.status == SessionStatus::Ok));
    let lines: Vec<&[u8]> = split_lines(&bytes).collect();
    // 15,446 terminated lines plus the unterminated last one.
    assert_eq!(lines.len(), 15_447);
    assert!(matches!(
        parse_line(lines[15_446]),
        LineOutcome::Event { .. }
    ));
}

#[test]
fn hostile_manifest_expectations() {
    let (Some(bytes), Some(manifest)) = (
        read("hostile/sessions-2026-05-02-hostile.jsonl"),
        read("hostile/hostile-manifest.json"),
    ) else {
        return;
    };
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).expect("manifest parses");
    let lines: Vec<LineOutcome> = split_lines(&bytes).map(parse_line).collect();
    let sessions = group_sessions(&bytes);
    let cases = manifest["cases"].as_array().expect("cases");
    for case in cases {
        let name = case["case"].as_str().unwrap_or_default();
        let expect = case["expect"].as_str().unwrap_or_default();
        let first = case["first_line"].as_u64().unwrap_or(0) as usize;
        let last = case["last_line"].as_u64().unwrap_or(0) as usize;
        let sids: Vec<&str> = case["sids"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
            .unwrap_or_default();
        match expect {
            // Sessions that must come out with events.
            "valid" | "truncated" => {
                for sid in &sids {
                    let s = sessions
                        .iter()
                        .find(|s| sid_str(&s.sid) == *sid)
                        .unwrap_or_else(|| panic!("{name}: session {sid} missing"));
                    assert!(!s.events.is_empty(), "{name}: {sid} has no events");
                    assert_eq!(s.status, SessionStatus::Ok);
                }
            }
            // Ranges also hold the session's header and good lines; each
            // must contain refused lines.
            "skip_line" => {
                let refused = lines[first - 1..last]
                    .iter()
                    .filter(|o| matches!(o, LineOutcome::Skip(_)))
                    .count();
                assert!(refused > 0, "{name}: no refused line in {first}..={last}");
            }
            _ => {}
        }
    }
    // The torn, non-object, deep and malformed lines are refused.
    for n in [2113, 2122, 5526, 5527, 5866, 5867, 5868, 9390, 9397, 10384] {
        assert!(matches!(lines[n - 1], LineOutcome::Skip(_)), "line {n}");
    }
}

/// Line-outcome dump in the format of the Python oracle script used to
/// check the reader by hand (set `DECNET_READER_DUMP=<shard>` and
/// `DECNET_READER_DUMP_OUT=<file>`); a no-op otherwise.
#[test]
fn dump_outcomes_for_oracle_comparison() {
    let (Ok(input), Ok(output)) = (
        std::env::var("DECNET_READER_DUMP"),
        std::env::var("DECNET_READER_DUMP_OUT"),
    ) else {
        return;
    };
    let bytes = std::fs::read(input).expect("dump input readable");
    let mut out = String::new();
    for line in split_lines(&bytes) {
        let s = match parse_line(line) {
            LineOutcome::Skip(_) => "skip".to_string(),
            LineOutcome::Header { sid, .. } => format!("hdr {}", hex(&wtf8(&sid))),
            LineOutcome::Raises { sid } => format!("raise {}", hex(&wtf8(&sid))),
            LineOutcome::Event { sid, event } => {
                use md5::Digest;
                let d = md5::Md5::digest(wtf8(&event.data));
                format!(
                    "ev {} {:016x} {} {}",
                    hex(&wtf8(&sid)),
                    event.t.to_bits(),
                    match event.kind {
                        decnet_engine::EventKind::Input => "i",
                        decnet_engine::EventKind::Output => "o",
                    },
                    hex(&d)
                )
            }
        };
        out.push_str(&s);
        out.push('\n');
    }
    std::fs::write(output, out).expect("dump output writable");
}

/// Python's `encode('utf-8', 'surrogatepass')`.
fn wtf8(t: &[u32]) -> Vec<u8> {
    let mut v = Vec::new();
    for &c in t {
        match c {
            0..=0x7F => v.push(c as u8),
            0x80..=0x7FF => v.extend([0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]),
            0x800..=0xFFFF => v.extend([
                0xE0 | (c >> 12) as u8,
                0x80 | ((c >> 6) & 0x3F) as u8,
                0x80 | (c & 0x3F) as u8,
            ]),
            _ => v.extend([
                0xF0 | (c >> 18) as u8,
                0x80 | ((c >> 12) & 0x3F) as u8,
                0x80 | ((c >> 6) & 0x3F) as u8,
                0x80 | (c & 0x3F) as u8,
            ]),
        }
    }
    v
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
