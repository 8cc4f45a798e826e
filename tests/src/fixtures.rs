//! The calibration corpus laid out as DECNET lays out shards, and the
//! trigger payloads that point at its sessions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::env::shared_dir;

/// Day every calibration shard is dated.
pub const SHARD_DAY: &str = "2026-05-02";

/// One recorded session of the corpus.
#[derive(Debug, Clone)]
pub struct Session {
    pub sid: String,
    pub decky: String,
    pub service: String,
    pub attacker_ip: String,
    /// Absolute path under the artifacts root.
    pub shard_path: PathBuf,
    /// Observations the reference engine emits for it (decnet-1.2 profile).
    pub reference_count: usize,
}

impl Session {
    /// `shard:{decky}/{service}/{basename}#{sid}` (contracts.md §6.1).
    pub fn evidence_ref(&self) -> String {
        let base = self
            .shard_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!(
            "shard:{}/{}/{}#{}",
            self.decky, self.service, base, self.sid
        )
    }

    /// The `attacker.session.ended` event as DECNET's collector publishes it
    /// (contracts.md §3.1), ready for `py::publish`.
    pub fn session_ended(&self) -> Value {
        json!({
            "topic": "attacker.session.ended",
            "type": "session.ended",
            "payload": {
                "session_id": self.sid,
                "attacker_uuid": null,
                "attacker_ip": self.attacker_ip,
                "decky_id": self.decky,
                "service": self.service,
                "ended_at": format!("{SHARD_DAY}T12:34:56"),
                "duration_s": 42.125,
                "commands": [],
                "shard_path": self.shard_path.to_string_lossy(),
            }
        })
    }

    /// The collector's `session_recorded` row for the poll path (§4.5, §5.4).
    pub fn log_row(&self) -> crate::db::LogRow {
        let fields = json!({
            "sid": self.sid,
            "service": self.service,
            "src_ip": self.attacker_ip,
            "duration_s": "42.125",
            "bytes": "1234",
            "truncated": "false",
        });
        crate::db::LogRow {
            timestamp: format!("{SHARD_DAY} 12:34:56"),
            decky: self.decky.clone(),
            service: "sessrec".into(),
            event_type: "session_recorded".into(),
            attacker_ip: self.attacker_ip.clone(),
            fields: fields.to_string(),
        }
    }
}

/// An artifacts root holding the five calibration shards, one decky each.
pub struct Corpus {
    root: tempfile::TempDir,
    pub sessions: Vec<Session>,
}

impl Corpus {
    /// `DECNET_ARTIFACTS_ROOT` for the daemon.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Total observations the reference emits for all sessions.
    pub fn reference_total(&self) -> usize {
        self.sessions.iter().map(|s| s.reference_count).sum()
    }

    /// Session by evidence_ref.
    pub fn by_evidence_ref(&self) -> BTreeMap<String, &Session> {
        self.sessions
            .iter()
            .map(|s| (s.evidence_ref(), s))
            .collect()
    }
}

/// Calibration shard file stem → decky it is filed under.
const SHARDS: [(&str, &str); 5] = [
    ("sessions-2026-05-02", "decky-human"),
    ("sessions-2026-05-02-with-llm", "decky-llm"),
    ("sessions-2026-05-02-new", "decky-lw"),
    ("sessions-2026-05-02-with-claude", "decky-claude"),
    ("sessions-2026-05-02-closed-loop", "decky-closed"),
];

/// Copies the calibration corpus to
/// `<root>/<decky>/ssh/transcripts/sessions-2026-05-02.jsonl`; `None` when
/// the shared corpus is not there.
pub fn calibration() -> Option<Corpus> {
    calibration_times(1)
}

/// The calibration corpus filed under `copies` deckies per shard
/// (`decky-human`, `decky-human-2`, …): the same sids on different deckies
/// are different sessions (different evidence_ref), which gives a larger
/// load with known reference counts.
pub fn calibration_times(copies: usize) -> Option<Corpus> {
    let src = shared_dir().join("corpus").join("calibration");
    if !src.is_dir() {
        eprintln!("calibration corpus not found at {}", src.display());
        return None;
    }
    let root = tempfile::Builder::new()
        .prefix("e2e-artifacts")
        .tempdir()
        .ok()?;
    let mut sessions = Vec::new();
    for copy in 0..copies.max(1) {
        for (i, (stem, decky)) in SHARDS.iter().enumerate() {
            let decky = if copy == 0 {
                (*decky).to_string()
            } else {
                format!("{decky}-{}", copy + 1)
            };
            let text = std::fs::read_to_string(src.join(format!("{stem}.jsonl"))).ok()?;
            let dir = root.path().join(&decky).join("ssh").join("transcripts");
            std::fs::create_dir_all(&dir).ok()?;
            let shard = dir.join(format!("sessions-{SHARD_DAY}.jsonl"));
            std::fs::write(&shard, &text).ok()?;
            let counts = reference_counts(&src.join("reference").join(format!("{stem}.jsonl")));
            for (j, sid) in header_sids(&text).into_iter().enumerate() {
                let n = copy * 15 + i * 3 + j;
                sessions.push(Session {
                    reference_count: counts.get(&sid).copied().unwrap_or(0),
                    sid,
                    decky: decky.clone(),
                    service: "ssh".into(),
                    attacker_ip: format!("198.51.{}.{}", n / 200, 10 + n % 200),
                    shard_path: shard.clone(),
                });
            }
        }
    }
    Some(Corpus { root, sessions })
}

/// Sids of the header lines, in file order.
fn header_sids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("hdr").is_some())
        .filter_map(|v| v.get("sid").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Reference observations per sid.
fn reference_counts(path: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(sid) = v.get("sid").and_then(Value::as_str) {
                *counts.entry(sid.to_owned()).or_insert(0) += 1;
            }
        }
    }
    counts
}
