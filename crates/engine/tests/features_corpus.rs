//! Parity with the reference engine on the shared corpus: every shard under
//! `../shared/corpus/{vectors,calibration}` is read with the crate's shard
//! reader, extracted, and compared with `reference/NAME.jsonl` (same
//! `(sid, primitive)` set, equal value strings, bit-equal confidence and
//! window floats) and `reference/NAME.err` (those sessions yield nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use decnet_engine::reader::{group_sessions, SessionStatus};
use decnet_engine::{extract_session_at, ExtractParams, Profile, DEFAULT_SOURCE};

type Key = (String, String);
type Row = (String, u64, u64, u64);

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn sid_string(sid: &[u32]) -> String {
    sid.iter()
        .map(|&c| char::from_u32(c).unwrap_or('\u{FFFD}'))
        .collect()
}

/// Python `json.dumps` float → f64 (bits), exactly (`str::parse` rounds correctly).
fn py_float(lit: &str) -> u64 {
    let v = match lit {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        s => s
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad float literal {s}")),
    };
    v.to_bits()
}

/// Extracts the numeric literal after `"key": ` and blanks it for serde.
fn take_number(line: &mut String, key: &str) -> u64 {
    let pat = format!("\"{key}\": ");
    let start = line.find(&pat).unwrap_or_else(|| panic!("no {key}")) + pat.len();
    let len = line[start..].find([',', '}']).unwrap_or(line.len() - start);
    let bits = py_float(line[start..start + len].trim());
    line.replace_range(start..start + len, "0");
    bits
}

fn load_reference(path: &Path) -> BTreeMap<Key, Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut line = line.to_string();
        let c = take_number(&mut line, "confidence");
        let ws = take_number(&mut line, "window_start_ts");
        let we = take_number(&mut line, "window_end_ts");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}"));
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("no {k}"))
                .to_string()
        };
        out.insert((s("sid"), s("primitive")), (s("value"), c, ws, we));
    }
    out
}

fn load_errors(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}"));
            v["sid"]
                .as_str()
                .unwrap_or_else(|| panic!("no sid"))
                .to_string()
        })
        .collect()
}

/// Runs one shard; returns (observations, sessions that yielded an error).
fn run_shard(shard: &Path) -> (BTreeMap<Key, Row>, BTreeSet<String>) {
    let bytes = std::fs::read(shard).unwrap_or_else(|e| panic!("{}: {e}", shard.display()));
    let base = shard
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let mut obs = BTreeMap::new();
    let mut errs = BTreeSet::new();
    for s in group_sessions(&bytes) {
        let sid = sid_string(&s.sid);
        if s.status != SessionStatus::Ok {
            errs.insert(sid);
            continue;
        }
        let evidence = format!("shard:test/ssh/{base}#{sid}");
        let params = ExtractParams {
            sid: &sid,
            evidence_ref: Some(&evidence),
            source: DEFAULT_SOURCE,
            profile: Profile::Decnet12,
            now_ts: 0.0,
        };
        match extract_session_at(&s.events, &params, None) {
            Ok(list) => {
                for o in list {
                    assert_eq!(&*o.evidence_ref, evidence);
                    let row = (
                        o.value.to_string(),
                        o.confidence.to_bits(),
                        o.window_start_ts.to_bits(),
                        o.window_end_ts.to_bits(),
                    );
                    obs.insert((sid.clone(), o.primitive.to_string()), row);
                }
            }
            Err(_) => {
                errs.insert(sid);
            }
        }
    }
    (obs, errs)
}

fn check(rel: &str) {
    let dir = corpus_dir();
    let shard = dir.join(rel);
    if !shard.exists() {
        eprintln!("skipping {rel}: corpus not present");
        return;
    }
    let name = shard
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let refdir = shard
        .parent()
        .map(|p| p.join("reference"))
        .unwrap_or_default();
    let want = load_reference(&refdir.join(format!("{name}.jsonl")));
    let want_err = load_errors(&refdir.join(format!("{name}.err")));
    let (got, got_err) = run_shard(&shard);
    let mut diffs = Vec::new();
    for k in want.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
        if want.get(k) != got.get(k) {
            diffs.push(format!(
                "{k:?}: want {:?} got {:?}",
                want.get(k),
                got.get(k)
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{rel}: {} of {} observations differ:\n{}",
        diffs.len(),
        want.len(),
        diffs.join("\n")
    );
    assert_eq!(want_err, got_err, "{rel}: failing sessions differ");
    eprintln!(
        "{rel}: {} observations, {} failing sessions: identical",
        want.len(),
        want_err.len()
    );
}

#[test]
fn edge_cases_match_reference() {
    check("vectors/edge-cases.jsonl");
}

#[test]
fn random_seed1_matches_reference() {
    check("vectors/random-seed1.jsonl");
}

#[test]
fn calibration_matches_reference() {
    for name in [
        "sessions-2026-05-02",
        "sessions-2026-05-02-new",
        "sessions-2026-05-02-with-llm",
        "sessions-2026-05-02-with-claude",
        "sessions-2026-05-02-closed-loop",
    ] {
        check(&format!("calibration/{name}.jsonl"));
    }
}

/// `decnet-1.2` reads the reader's buffer in place (no vector of event
/// views): the same observations, or the same error, as the slice path, on
/// every corpus session.
#[test]
fn buffer_path_equals_slice_path() {
    let dir = corpus_dir();
    let mut shards: Vec<PathBuf> = ["vectors", "calibration", "hostile"]
        .iter()
        .filter_map(|d| std::fs::read_dir(dir.join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    shards.sort();
    assert!(shards.len() >= 7, "corpus shards missing: {shards:?}");
    let mut sessions = 0;
    for shard in &shards {
        let bytes = std::fs::read(shard).unwrap_or_else(|e| panic!("{}: {e}", shard.display()));
        for s in group_sessions(&bytes) {
            let sid = sid_string(&s.sid);
            let params = ExtractParams {
                sid: &sid,
                evidence_ref: None,
                source: DEFAULT_SOURCE,
                profile: Profile::Decnet12,
                now_ts: 0.0,
            };
            let strip = |r: Result<Vec<decnet_engine::Observation>, decnet_engine::EngineError>| {
                r.map(|list| {
                    list.into_iter()
                        .map(|o| {
                            (
                                o.primitive.to_string(),
                                o.value.to_string(),
                                o.confidence.to_bits(),
                                o.window_start_ts.to_bits(),
                                o.window_end_ts.to_bits(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .map_err(|e| e.to_string())
            };
            let by_buffer = strip(extract_session_at(&s.events, &params, None));
            let by_slice = strip(decnet_engine::extract_refs_at(
                &decnet_engine::SessionEvents::event_refs(&s.events),
                &params,
                None,
            ));
            assert_eq!(by_buffer, by_slice, "{} {sid}", shard.display());
            sessions += 1;
        }
    }
    assert!(sessions > 200, "{sessions} sessions");
}
