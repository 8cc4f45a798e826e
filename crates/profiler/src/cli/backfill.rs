//! `decnet-profiler backfill [--since DATE]`: walks the artifacts root and
//! profiles every session not stored yet. Idempotent and resumable (the
//! already-profiled check skips what is done). Shards carry no attacker
//! address, so the attacker comes from the session's `session_recorded`
//! row in `logs`; sessions without one are counted and listed, not stored.
//! Given-up deferred sessions are retried this way and leave the deferred
//! set once stored.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::common::{build_handler, init_tracing, GlobalArgs};
use crate::handler::{Outcome, SessionRef, SkipReason};
use crate::shards::shard_date;
use crate::store::Store;
use crate::trigger::deferred::DeferredSet;
use crate::trigger::poll::session_from_row;

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// Only shards dated on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
}

#[derive(Debug, Default)]
struct Summary {
    shards: usize,
    sessions: usize,
    stored: usize,
    already: usize,
    skipped: usize,
    deferred: usize,
    failed: usize,
    no_log: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: &BackfillArgs) -> anyhow::Result<ExitCode> {
    if let Some(d) = &args.since {
        if shard_date(&format!("sessions-{d}.jsonl")).is_none() {
            eprintln!("backfill: --since must be YYYY-MM-DD");
            return Ok(ExitCode::from(2));
        }
    }
    let cfg = global.load()?;
    init_tracing(&cfg.log.level);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let handler = build_handler(&cfg).await?;
        let store = handler.store().clone();
        // sid → attacker address, from the collector's rows.
        let mut ips: HashMap<String, String> = HashMap::new();
        let mut after = 0;
        loop {
            let rows = store.session_logs_after(after, 1000).await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            for r in &rows {
                if let Some(s) = session_from_row(r) {
                    ips.entry(s.sid).or_insert(s.attacker_ip);
                }
            }
        }
        // Plan: every (shard, sid), indexing shards as we go.
        let root = handler.root().clone();
        let cache = handler.cache().clone();
        let since = args.since.clone();
        let plan = tokio::task::spawn_blocking(move || -> anyhow::Result<(usize, Vec<(crate::shards::ShardPath, String)>)> {
            let mut plan = Vec::new();
            let mut shards = 0;
            for (decky, service) in root.deckies().map_err(|e| anyhow::anyhow!("artifacts root: {e}"))? {
                for shard in root.list_shards(&decky, &service).unwrap_or_default() {
                    let date = shard_date(&shard.name).unwrap_or("");
                    if since.as_deref().is_some_and(|s| date < s) {
                        continue;
                    }
                    shards += 1;
                    match cache.sessions(&shard) {
                        Ok(sids) => plan.extend(sids.into_iter().map(|s| (shard.clone(), s))),
                        Err(e) => tracing::warn!(decky = %shard.decky, service = %shard.service,
                            shard = %shard.name, error = %e, "shard unreadable; skipped"),
                    }
                }
            }
            Ok((shards, plan))
        })
        .await??;
        let (shards, plan) = plan;
        let mut sum = Summary { shards, sessions: plan.len(), ..Summary::default() };
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(plan.len() as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} sessions  {per_sec}  eta {eta}",
            ) {
                b.set_style(style);
            }
            b
        });
        let mut deferred = DeferredSet::load(store.as_ref(), &cfg.attackers.deferred_key).await?;
        let mut last_log = Instant::now();
        for (i, (shard, sid)) in plan.iter().enumerate() {
            if let Some(b) = &bar {
                b.set_position(i as u64);
            } else if last_log.elapsed() >= Duration::from_secs(10) {
                tracing::info!(done = i, total = plan.len(), stored = sum.stored, "backfill progress");
                last_log = Instant::now();
            }
            let Some(ip) = ips.get(sid) else {
                sum.no_log.push(sid.clone());
                continue;
            };
            let s = SessionRef {
                sid: sid.clone(),
                decky: shard.decky.clone(),
                service: shard.service.clone(),
                attacker_ip: ip.clone(),
                shard_path: Some(shard.path.clone()),
            };
            match handler.handle(&s).await {
                Ok(Outcome::Stored(_)) => {
                    sum.stored += 1;
                    deferred.remove(sid);
                }
                Ok(Outcome::Skipped(SkipReason::AlreadyProfiled)) => {
                    sum.already += 1;
                    deferred.remove(sid);
                }
                Ok(Outcome::Skipped(_)) => sum.skipped += 1,
                Ok(Outcome::Deferred(_)) => sum.deferred += 1,
                Err(e) => {
                    sum.failed += 1;
                    tracing::error!(sid = %sid, decky = %shard.decky, service = %shard.service,
                        error = %e, "session failed");
                }
            }
        }
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        deferred.save(store.as_ref(), &cfg.attackers.deferred_key).await?;
        println!(
            "backfill: shards={} sessions={} stored={} already_profiled={} skipped={} deferred={} no_log_row={} failed={}",
            sum.shards, sum.sessions, sum.stored, sum.already, sum.skipped, sum.deferred,
            sum.no_log.len(), sum.failed
        );
        for sid in sum.no_log.iter().take(100) {
            println!("backfill: no session_recorded row: {sid}");
        }
        if sum.no_log.len() > 100 {
            println!("backfill: … and {} more without a session_recorded row", sum.no_log.len() - 100);
        }
        Ok(if sum.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}
