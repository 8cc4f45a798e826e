//! `decnet-profiler extract`: shard files in, observation JSON lines out.
//!
//! Per file: a streaming pass indexes each sid's event lines, then sessions
//! are extracted one at a time in sid order and their observations printed
//! sorted by (sid, primitive), one JSON object per line with the fields
//! `sid, primitive, value, confidence, window_start_ts, window_end_ts,
//! evidence_ref, source, id, ts, v`.
//!
//! stderr gets one line per refused line (`file:line: line skipped:
//! reason`) and per session that yields nothing because the reference
//! raises on it (`file: session <sid>: skipped: reason`) — sids, line
//! numbers and fixed reasons only, never content. Resize events and `trunc`
//! sentinels are normal recorder lines and are not reported.
//!
//! Output decisions where JSON cannot say what Python printed: NaN and
//! ±infinite floats (a session whose `t` is NaN or ±Infinity) are written
//! as `NaN` / `Infinity` / `-Infinity`, as Python's `json.dumps` writes
//! them; a sid holding a lone surrogate (raw invalid UTF-8 or a `\uDxxx`
//! escape) is written with `\udxxx` escapes, which Python's `json` reads
//! back to the same sid. Other floats use the shortest round-trip form.
//!
//! Exit status: 0, or 2 when a file cannot be read (the other files are
//! still processed).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use decnet_engine::features::circadian::session_epoch_from_header;
use decnet_engine::reader::SessionEntry;
use decnet_engine::{extract_session_at, ExtractParams, Observation, Profile, Text};

use crate::shard_file::{index_file, read_session};

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Engine profile: `behave-0.1.4` (default; registry-faithful, see
    /// docs/DEVIATIONS.md) or `decnet-1.2` (bit-exact with the reference).
    #[arg(long, default_value = "behave-0.1.4")]
    pub profile: String,
    /// Decky name used in evidence_ref.
    #[arg(long, default_value = "local")]
    pub decky: String,
    /// Service name used in evidence_ref.
    #[arg(long, default_value = "ssh")]
    pub service: String,
    /// Shard files (JSONL written by sessrec).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let profile: Profile = args.profile.parse().context("--profile")?;
    let source = format!("decnet-profiler/{}", profile.name());
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut status = ExitCode::SUCCESS;
    for path in &args.shards {
        let job = Job {
            path,
            decky: &args.decky,
            service: &args.service,
            profile,
            source: &source,
        };
        if let Err(e) = job.run(&mut out) {
            match e {
                JobError::Read(e) => {
                    eprintln!("extract: {}: cannot read: {e}", path.display());
                    status = ExitCode::from(2);
                }
                JobError::Write(e) => {
                    return Err(e).context("writing observations to stdout");
                }
            }
        }
    }
    out.flush().context("writing observations to stdout")?;
    Ok(status)
}

enum JobError {
    Read(io::Error),
    Write(io::Error),
}

struct Job<'a> {
    path: &'a Path,
    decky: &'a str,
    service: &'a str,
    profile: Profile,
    source: &'a str,
}

impl Job<'_> {
    fn run(&self, out: &mut impl Write) -> Result<(), JobError> {
        let name = self.path.display().to_string();
        let mut file = File::open(self.path).map_err(JobError::Read)?;
        let index = index_file(&mut file, |s| {
            if !s.reason.is_expected() {
                eprintln!("extract: {name}:{}: line skipped: {}", s.line_no, s.reason);
            }
        })
        .map_err(JobError::Read)?;
        let base = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut sessions: Vec<&SessionEntry> =
            index.sessions().iter().filter(|e| e.has_body).collect();
        sessions.sort_unstable_by(|a, b| a.sid.cmp(&b.sid));
        let mut buf = Vec::new();
        let mut line = Vec::with_capacity(512);
        for entry in sessions {
            let sid_str = lossy(&entry.sid);
            if let Some(line_no) = entry.raises_at {
                eprintln!(
                    "extract: {name}: session {}: skipped: line {line_no}: t is an integer too large for a float (reference raises)",
                    sid_display(&entry.sid)
                );
                continue;
            }
            let events = read_session(&file, entry, &mut buf).map_err(JobError::Read)?;
            let mut evidence: Text = format!("shard:{}/{}/{}#", self.decky, self.service, base)
                .chars()
                .map(u32::from)
                .collect();
            evidence.extend_from_slice(&entry.sid);
            let evidence_str = lossy(&evidence);
            let now_ts = now();
            let params = ExtractParams {
                sid: &sid_str,
                evidence_ref: Some(&evidence_str),
                source: self.source,
                profile: self.profile,
                now_ts,
            };
            // The epoch: the sid's first header's integer `timestamp`.
            let epoch = session_epoch_from_header(entry.header_timestamp, now_ts);
            let mut obs = match extract_session_at(&events, &params, epoch) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!(
                        "extract: {name}: session {}: skipped: {e}",
                        sid_display(&entry.sid)
                    );
                    continue;
                }
            };
            obs.sort_by(|a, b| a.primitive.cmp(b.primitive));
            for o in &obs {
                line.clear();
                write_observation(&mut line, &entry.sid, &evidence, o);
                out.write_all(&line).map_err(JobError::Write)?;
            }
        }
        Ok(())
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Code points → `String`, lone surrogates as U+FFFD (for the engine's
/// `&str` parameters; the printed sid keeps them, see module docs).
fn lossy(t: &[u32]) -> String {
    t.iter()
        .map(|&c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// A sid for stderr: JSON-quoted with escapes, so control characters in a
/// hostile sid cannot forge log lines.
fn sid_display(t: &[u32]) -> String {
    let mut v = Vec::new();
    write_text(&mut v, t, true);
    String::from_utf8_lossy(&v).into_owned()
}

/// One observation as a JSON line.
pub fn write_observation(out: &mut Vec<u8>, sid: &[u32], evidence: &[u32], o: &Observation) {
    out.extend_from_slice(b"{\"sid\":");
    write_text(out, sid, false);
    out.extend_from_slice(b",\"primitive\":");
    write_str(out, o.primitive);
    out.extend_from_slice(b",\"value\":");
    if o.value_is_json() {
        out.extend_from_slice(o.value.as_bytes());
    } else {
        write_str(out, &o.value);
    }
    out.extend_from_slice(b",\"confidence\":");
    write_f64(out, o.confidence);
    out.extend_from_slice(b",\"window_start_ts\":");
    write_f64(out, o.window_start_ts);
    out.extend_from_slice(b",\"window_end_ts\":");
    write_f64(out, o.window_end_ts);
    out.extend_from_slice(b",\"evidence_ref\":");
    write_text(out, evidence, false);
    out.extend_from_slice(b",\"source\":");
    write_str(out, &o.source);
    out.extend_from_slice(b",\"id\":");
    write_str(out, &o.id);
    out.extend_from_slice(b",\"ts\":");
    write_f64(out, o.ts);
    out.extend_from_slice(b",\"v\":");
    out.extend_from_slice(o.v.to_string().as_bytes());
    out.extend_from_slice(b"}\n");
}

/// Shortest round-trip float (serde_json/ryu); Python's tokens for NaN/±inf.
fn write_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if x.is_infinite() {
        out.extend_from_slice(if x > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        // Writing a finite f64 into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &x);
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let t: Vec<u32> = s.chars().map(u32::from).collect();
    write_text(out, &t, false);
}

/// A JSON string from code points: control characters, `"`, `\` escaped;
/// lone surrogates as `\udxxx`; with `ascii`, every non-ASCII too.
fn write_text(out: &mut Vec<u8>, t: &[u32], ascii: bool) {
    out.push(b'"');
    for &c in t {
        match c {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5C => out.extend_from_slice(b"\\\\"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0D => out.extend_from_slice(b"\\r"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x00..=0x1F | 0x7F => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            0x20..=0x7E => out.push(c as u8),
            _ => match char::from_u32(c) {
                Some(ch) if !ascii => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
                Some(ch) => {
                    let mut u = [0u16; 2];
                    for unit in ch.encode_utf16(&mut u) {
                        out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
                    }
                }
                None => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            },
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escaping() {
        let mut v = Vec::new();
        write_text(
            &mut v,
            &[0x61, 0x22, 0x0A, 0x01, 0xE9, 0xDCE9, 0x1F600],
            false,
        );
        assert_eq!(String::from_utf8_lossy(&v), "\"a\\\"\\n\\u0001é\\udce9😀\"");
        let mut v = Vec::new();
        write_text(&mut v, &[0xE9, 0x1F600], true);
        assert_eq!(String::from_utf8_lossy(&v), "\"\\u00e9\\ud83d\\ude00\"");
    }

    #[test]
    fn floats_round_trip_and_python_tokens() {
        let f = |x: f64| {
            let mut v = Vec::new();
            write_f64(&mut v, x);
            String::from_utf8(v).unwrap_or_default()
        };
        assert_eq!(f(0.8500000000000001), "0.8500000000000001");
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(5.074715), "5.074715");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::NEG_INFINITY), "-Infinity");
    }
}
