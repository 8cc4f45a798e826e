//! `decnet-profiler replay [DIR]`: the smoke harness (seed runbook
//! 000_a9d819d0c7e14584). Replays each class's shard through the
//! production poll trigger and handler against a temporary SQLite DB, one
//! attacker per session, and prints one summary line per class.
//!
//! The handler only accepts `{root}/{decky}/{service}/transcripts/
//! sessions-YYYY-MM-DD.jsonl`, so each class's shard is staged under that
//! name in a temporary artifacts root (one decky per class) and a matching
//! `session_recorded` row is inserted into `logs` per session.
//!
//! Exit codes: 0 full pass; 1 a class regressed (a session yields no
//! observation, or fewer distinct primitives than the reference counts
//! recorded beside the shards); 2 argument/IO errors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::{AttackerMode, AttackersConfig, Backend, DbSettings, PollConfig, SchemaMode};
use crate::handler::Handler;
use crate::shards::{shard_date, valid_sid, ArtifactsRoot, ShardCache};
use crate::store::{AnyStore, NewLog, Store};
use crate::trigger::poll::Poller;

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Directory of class shards (*.jsonl; classes from manifest.json if
    /// present). Default: the bundled samples.
    pub dir: Option<PathBuf>,
    /// Engine profile.
    #[arg(long)]
    pub profile: Option<String>,
}

/// The bundled samples, embedded so `replay` works from any install.
const BUNDLED: &[(&str, &[u8])] = &[
    (
        "manifest.json",
        include_bytes!("../../samples/calibration/manifest.json"),
    ),
    (
        "reference-counts.json",
        include_bytes!("../../samples/calibration/reference-counts.json"),
    ),
    (
        "sessions-2026-05-02.jsonl",
        include_bytes!("../../samples/calibration/sessions-2026-05-02.jsonl"),
    ),
    (
        "sessions-2026-05-02-with-llm.jsonl",
        include_bytes!("../../samples/calibration/sessions-2026-05-02-with-llm.jsonl"),
    ),
    (
        "sessions-2026-05-02-new.jsonl",
        include_bytes!("../../samples/calibration/sessions-2026-05-02-new.jsonl"),
    ),
    (
        "sessions-2026-05-02-with-claude.jsonl",
        include_bytes!("../../samples/calibration/sessions-2026-05-02-with-claude.jsonl"),
    ),
    (
        "sessions-2026-05-02-closed-loop.jsonl",
        include_bytes!("../../samples/calibration/sessions-2026-05-02-closed-loop.jsonl"),
    ),
];

/// The runbook's class order; other classes follow alphabetically.
const CLASS_ORDER: &[&str] = &["HUMAN", "YOU-sim", "LW-sim", "CLAUDE-FF", "CLAUDE-CL"];

#[derive(Debug)]
struct Class {
    name: String,
    files: Vec<PathBuf>,
    /// Reference distinct primitive count, if recorded.
    reference: Option<usize>,
}

#[derive(Debug, serde::Deserialize)]
struct Manifest {
    shards: BTreeMap<String, ManifestShard>,
}

#[derive(Debug, serde::Deserialize)]
struct ManifestShard {
    class: String,
}

#[derive(Debug, serde::Deserialize)]
struct RefCount {
    distinct_primitives: usize,
}

fn slug(class: &str) -> String {
    let s: String = class
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("replay-{}", s.trim_matches('-'))
}

/// Classes of `dir` and their reference counts.
fn discover(dir: &Path) -> anyhow::Result<Vec<Class>> {
    let mut by_class: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let manifest = dir.join("manifest.json");
    if manifest.is_file() {
        let m: Manifest = serde_json::from_slice(&std::fs::read(&manifest)?)
            .context("manifest.json is not a shard manifest")?;
        for (name, s) in m.shards {
            let p = dir.join(&name);
            if p.is_file() {
                by_class.entry(s.class).or_default().push(p);
            }
        }
    } else {
        for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let p = e?.path();
            if p.extension().and_then(|x| x.to_str()) == Some("jsonl") && p.is_file() {
                let stem = p
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("shard")
                    .to_string();
                by_class.entry(stem).or_default().push(p);
            }
        }
    }
    let counts: BTreeMap<String, RefCount> = match std::fs::read(dir.join("reference-counts.json"))
    {
        Ok(b) => serde_json::from_slice(&b).context("reference-counts.json is malformed")?,
        Err(_) => BTreeMap::new(),
    };
    let mut classes: Vec<Class> = by_class
        .into_iter()
        .map(|(name, files)| {
            let reference = reference_for(dir, &files, &counts);
            Class {
                name,
                files,
                reference,
            }
        })
        .collect();
    classes.sort_by_key(|c| {
        (
            CLASS_ORDER
                .iter()
                .position(|k| *k == c.name)
                .unwrap_or(usize::MAX),
            c.name.clone(),
        )
    });
    Ok(classes)
}

/// Distinct primitives the reference engine gives on the class's shards:
/// `reference-counts.json` (keyed by shard file name), else the reference
/// outputs in `reference/<shard>` (one JSON object per observation).
fn reference_for(
    dir: &Path,
    files: &[PathBuf],
    counts: &BTreeMap<String, RefCount>,
) -> Option<usize> {
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .collect();
    if names.iter().all(|n| counts.contains_key(n)) && !names.is_empty() {
        return names
            .iter()
            .filter_map(|n| counts.get(n))
            .map(|c| c.distinct_primitives)
            .max();
    }
    let mut prims = BTreeSet::new();
    for n in &names {
        let text = std::fs::read_to_string(dir.join("reference").join(n)).ok()?;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            prims.insert(v.get("primitive")?.as_str()?.to_string());
        }
    }
    Some(prims.len())
}

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    match run_inner(args) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("smoke: ERROR — {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn run_inner(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let profile: decnet_engine::Profile = match &args.profile {
        Some(p) => p.parse()?,
        None => decnet_engine::Profile::default(),
    };
    let work = tempfile::tempdir().context("creating a temporary directory")?;
    let dir = match &args.dir {
        Some(d) => {
            anyhow::ensure!(d.is_dir(), "{} is not a directory", d.display());
            d.clone()
        }
        None => {
            let d = work.path().join("samples");
            std::fs::create_dir_all(&d)?;
            for (name, bytes) in BUNDLED {
                std::fs::write(d.join(name), bytes)?;
            }
            d
        }
    };
    let classes = discover(&dir)?;
    anyhow::ensure!(
        !classes.is_empty(),
        "no shards (*.jsonl) in {}",
        dir.display()
    );
    let root = work.path().join("artifacts");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(replay(
        &classes,
        &root,
        &work.path().join("replay.db"),
        profile,
    ))
}

async fn replay(
    classes: &[Class],
    root: &Path,
    db: &Path,
    profile: decnet_engine::Profile,
) -> anyhow::Result<ExitCode> {
    let settings = DbSettings {
        backend: Backend::Sqlite,
        url: format!("sqlite://{}?mode=rwc", db.display()),
        schema: SchemaMode::Own,
        max_connections: 2,
        busy_timeout_ms: 30_000,
    };
    let store = AnyStore::connect(&settings).await?;
    store.prepare(SchemaMode::Own, AttackerMode::Create).await?;
    let store = Arc::new(store);
    let artifacts = ArtifactsRoot::new(root);
    let cache = Arc::new(ShardCache::new());
    let mut sessions_per_class = Vec::new();
    for (ci, class) in classes.iter().enumerate() {
        let decky = slug(&class.name);
        let tdir = root.join(&decky).join("ssh").join("transcripts");
        std::fs::create_dir_all(&tdir)?;
        let mut sids = Vec::new();
        for (fi, f) in class.files.iter().enumerate() {
            let fname = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Keep the source's date when its name starts with one.
            let date = fname
                .get(..19)
                .map(|p| format!("{p}.jsonl"))
                .and_then(|n| shard_date(&n).map(str::to_string))
                .unwrap_or_else(|| "1970-01-01".into());
            // Several shards of one class cannot share a day file: shift.
            let name = if fi == 0 {
                format!("sessions-{date}.jsonl")
            } else {
                format!("sessions-1970-01-{:02}.jsonl", (fi % 28) + 1)
            };
            std::fs::copy(f, tdir.join(&name))
                .with_context(|| format!("copying {}", f.display()))?;
            let shard = artifacts
                .shard(&decky, "ssh", &name)
                .map_err(|e| anyhow::anyhow!("staging {}: {e}", f.display()))?;
            for sid in cache.sessions(&shard)? {
                if valid_sid(&sid) && !sids.contains(&sid) {
                    sids.push(sid);
                }
            }
        }
        for (si, sid) in sids.iter().enumerate() {
            let ip = format!("10.{}.{}.{}", ci + 1, si / 250, si % 250 + 1);
            let fields = serde_json::json!({
                "sid": sid, "service": "ssh", "src_ip": ip, "duration_s": "0.000",
                "bytes": "0", "truncated": "false",
            })
            .to_string();
            store
                .insert_log(&NewLog {
                    timestamp: "2026-05-02 00:00:00",
                    decky: &decky,
                    service: "sessrec",
                    event_type: "session_recorded",
                    attacker_ip: &ip,
                    fields: &fields,
                })
                .await?;
        }
        sessions_per_class.push(sids);
    }
    let handler = Arc::new(Handler::new(
        store.clone(),
        artifacts,
        cache,
        profile,
        decnet_engine::DEFAULT_SOURCE.to_string(),
        AttackerMode::Create,
    ));
    let defaults = crate::config::Config::default();
    let poller = Poller::new(
        handler,
        PollConfig {
            batch: 500,
            ..defaults.poll
        },
        AttackersConfig {
            ..defaults.attackers
        },
    );
    let cancel = CancellationToken::new();
    loop {
        let r = poller.tick(&cancel).await?;
        if r.rows == 0 {
            break;
        }
    }
    let mut failures = Vec::new();
    for (class, sids) in classes.iter().zip(&sessions_per_class) {
        let decky = slug(&class.name);
        let rows = store
            .observations_with_prefix(&format!("shard:{decky}/ssh/"))
            .await?;
        let distinct: BTreeSet<&str> = rows.iter().map(|r| r.primitive.as_str()).collect();
        let with_obs: BTreeSet<&str> = rows
            .iter()
            .filter_map(|r| r.evidence_ref.rsplit_once('#').map(|(_, s)| s))
            .collect();
        println!(
            "{:<13}sessions={} observations={} distinct_primitives={}",
            format!("[{}]", class.name),
            sids.len(),
            rows.len(),
            distinct.len()
        );
        let silent = sids
            .iter()
            .filter(|s| !with_obs.contains(s.as_str()))
            .count();
        if sids.is_empty() {
            failures.push(format!("{}: no sessions", class.name));
        }
        if silent > 0 {
            failures.push(format!(
                "{}: {silent} session(s) yielded no observation",
                class.name
            ));
        }
        if let Some(r) = class.reference {
            if distinct.len() < r {
                failures.push(format!(
                    "{}: {} distinct primitives, reference engine gives {r}",
                    class.name,
                    distinct.len()
                ));
            }
        }
    }
    if failures.is_empty() {
        println!("smoke: OK — all classes emit observations end-to-end");
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            println!("smoke: FAIL — {f}");
        }
        Ok(ExitCode::from(1))
    }
}
