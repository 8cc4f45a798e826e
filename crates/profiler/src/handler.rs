//! One session: validate → already profiled? → locate → extract → store →
//! announce.
//!
//! Both triggers (bus events and poll rows) build a [`SessionRef`] and call
//! [`Handler::handle`], which holds the session against the other trigger
//! while it runs. The result carries the stored observations (with their
//! stored ids and the attacker uuid); when `run` has set an announcer they
//! are published on the bus after the commit.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use decnet_engine::{extract_session_at, ExtractParams, Observation, Profile};

use crate::announce::Announcer;
use crate::config::AttackerMode;
use crate::inflight::InFlight;
use crate::shards::{valid_decky, valid_service, valid_sid, ArtifactsRoot, ShardCache, ShardPath};
use crate::store::{AnyStore, SessionWrite, Store, StoreError, StoreOutcome};

/// What a trigger knows about an ended session (contracts.md §3.3 fields).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRef {
    pub sid: String,
    pub decky: String,
    pub service: String,
    pub attacker_ip: String,
    /// A path proposed by the payload; used only if it resolves inside the
    /// artifacts root, otherwise we resolve (decky, service, sid) ourselves.
    pub shard_path: Option<PathBuf>,
}

/// Why a session produced nothing and will not be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    MissingField,
    InvalidSid,
    InvalidDecky,
    InvalidService,
    NoAttackerAddress,
    AlreadyProfiled,
    NoEvents,
    EngineRaised,
    NoObservations,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::MissingField => "missing sid, decky, service or attacker_ip",
            SkipReason::InvalidSid => "invalid sid",
            SkipReason::InvalidDecky => "invalid decky name",
            SkipReason::InvalidService => "invalid service name",
            SkipReason::NoAttackerAddress => "attacker address unknown",
            SkipReason::AlreadyProfiled => "already profiled",
            SkipReason::NoEvents => "no events for this sid in the shard",
            SkipReason::EngineRaised => "engine refused the session",
            SkipReason::NoObservations => "no observations",
        }
    }
}

/// Why a session is kept for a later retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferReason {
    /// `attackers = "wait"` and DECNET has not created the row yet.
    NoAttacker,
    /// No shard under the root holds the sid (yet, or not readable).
    ShardMissing,
}

impl DeferReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeferReason::NoAttacker => "attacker row does not exist yet",
            DeferReason::ShardMissing => "no readable shard holds the sid",
        }
    }
}

/// A committed session: what a publisher announces.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    pub attacker_uuid: String,
    pub evidence_ref: String,
    /// Each observation with `id` set to the id stored in the DB.
    pub observations: Vec<Observation>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stored(StoredSession),
    Skipped(SkipReason),
    Deferred(DeferReason),
}

/// A failure that must not advance a cursor: the session is retried.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("extraction task failed")]
    Join,
}

pub struct Handler {
    store: Arc<AnyStore>,
    root: ArtifactsRoot,
    cache: Arc<ShardCache>,
    profile: Profile,
    source: String,
    attackers: AttackerMode,
    /// Set by `run` when the bus is enabled: publishes after each commit.
    announcer: OnceLock<Arc<Announcer>>,
    /// The bus and poll triggers can hold the same session at once.
    inflight: InFlight,
}

enum Located {
    Missing,
    NoEvents,
    Raised,
    Extracted(Vec<Observation>),
}

impl Handler {
    pub fn new(
        store: Arc<AnyStore>,
        root: ArtifactsRoot,
        cache: Arc<ShardCache>,
        profile: Profile,
        source: String,
        attackers: AttackerMode,
    ) -> Handler {
        Handler {
            store,
            root,
            cache,
            profile,
            source,
            attackers,
            announcer: OnceLock::new(),
            inflight: InFlight::new(),
        }
    }

    /// Announces every stored session from now on (first call wins).
    pub fn set_announcer(&self, announcer: Arc<Announcer>) {
        let _ = self.announcer.set(announcer);
    }

    pub fn store(&self) -> &Arc<AnyStore> {
        &self.store
    }

    pub fn cache(&self) -> &Arc<ShardCache> {
        &self.cache
    }

    pub fn root(&self) -> &ArtifactsRoot {
        &self.root
    }

    /// Validates the payload fields (contracts.md §3.3, §4.4).
    pub fn validate(s: &SessionRef) -> Result<(), SkipReason> {
        if s.sid.is_empty()
            || s.decky.is_empty()
            || s.service.is_empty()
            || s.attacker_ip.is_empty()
        {
            return Err(SkipReason::MissingField);
        }
        if !valid_sid(&s.sid) {
            return Err(SkipReason::InvalidSid);
        }
        if !valid_decky(&s.decky) {
            return Err(SkipReason::InvalidDecky);
        }
        if !valid_service(&s.service) {
            return Err(SkipReason::InvalidService);
        }
        if s.attacker_ip == "-" || s.attacker_ip.eq_ignore_ascii_case("unknown") {
            return Err(SkipReason::NoAttackerAddress);
        }
        Ok(())
    }

    /// Profiles one session, then announces it if it was stored (after the
    /// commit). Logs one line per outcome with the journal fields SID,
    /// DECKY, SERVICE, OUTCOME, DURATION_MS (+ EVIDENCE_REF once known) and
    /// a fixed reason; never content. A second call for a session already
    /// in hand waits for the first, then finds it profiled.
    pub async fn handle(&self, s: &SessionRef) -> Result<Outcome, HandlerError> {
        let started = Instant::now();
        let _in_hand = self
            .inflight
            .acquire(format!("{}/{}/{}", s.decky, s.service, s.sid))
            .await;
        let out = self.handle_inner(s).await;
        crate::health::watchdog::beat_current();
        let out = out?;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &out {
            Outcome::Stored(st) => {
                tracing::info!(
                    sid = %s.sid, decky = %s.decky, service = %s.service,
                    evidence_ref = %st.evidence_ref, outcome = "stored",
                    observations = st.observations.len(), duration_ms, "session stored"
                );
                if let Some(a) = self.announcer.get() {
                    a.announce(st);
                }
            }
            Outcome::Skipped(SkipReason::AlreadyProfiled) => tracing::debug!(
                sid = %s.sid, decky = %s.decky, service = %s.service,
                outcome = "skipped", duration_ms,
                reason = SkipReason::AlreadyProfiled.as_str(), "session skipped"
            ),
            Outcome::Skipped(r) => {
                // Invalid names are not echoed: they may be anything.
                let ok = Handler::validate(s).is_ok();
                // Payloads that fail validation are "refused"; sessions that
                // hold nothing to profile are "skipped".
                let outcome = if ok { "skipped" } else { "refused" };
                tracing::warn!(
                    sid = %if valid_sid(&s.sid) { s.sid.as_str() } else { "<invalid>" },
                    decky = %if ok || valid_decky(&s.decky) { s.decky.as_str() } else { "<invalid>" },
                    service = %if ok || valid_service(&s.service) { s.service.as_str() } else { "<invalid>" },
                    outcome, duration_ms, reason = r.as_str(), "session skipped"
                )
            }
            Outcome::Deferred(r) => tracing::warn!(
                sid = %s.sid, decky = %s.decky, service = %s.service,
                outcome = "deferred", duration_ms,
                reason = r.as_str(), "session deferred"
            ),
        }
        Ok(out)
    }

    async fn handle_inner(&self, s: &SessionRef) -> Result<Outcome, HandlerError> {
        if let Err(r) = Handler::validate(s) {
            return Ok(Outcome::Skipped(r));
        }
        // Find the shard first (the shard index, not the session's
        // lines), then the exact already-profiled check: one point lookup
        // on the unique key, before the session's events are read.
        let shard = {
            let root = self.root.clone();
            let cache = self.cache.clone();
            let s = s.clone();
            tokio::task::spawn_blocking(move || locate(&root, &cache, &s))
                .await
                .map_err(|_| HandlerError::Join)?
        };
        let Some(shard) = shard else {
            // No shard holds the sid (not written yet, or rotated away after
            // profiling): the (rare, table-size-bound) any-shard check
            // tells the two apart.
            if self
                .store
                .is_profiled_in_any_shard(&s.decky, &s.service, &s.sid)
                .await?
            {
                return Ok(Outcome::Skipped(SkipReason::AlreadyProfiled));
            }
            return Ok(Outcome::Deferred(DeferReason::ShardMissing));
        };
        let evidence_ref = shard.evidence_ref(&s.sid);
        if self.store.is_profiled(&evidence_ref).await? {
            return Ok(Outcome::Skipped(SkipReason::AlreadyProfiled));
        }
        let located = {
            let cache = self.cache.clone();
            let sid = s.sid.clone();
            let profile = self.profile;
            let source = self.source.clone();
            let evidence_ref = evidence_ref.clone();
            tokio::task::spawn_blocking(move || {
                extract(&cache, shard, &sid, &evidence_ref, profile, &source)
            })
            .await
            .map_err(|_| HandlerError::Join)?
        };
        let observations = match located {
            Located::Missing => return Ok(Outcome::Deferred(DeferReason::ShardMissing)),
            Located::NoEvents => return Ok(Outcome::Skipped(SkipReason::NoEvents)),
            Located::Raised => return Ok(Outcome::Skipped(SkipReason::EngineRaised)),
            Located::Extracted(o) if o.is_empty() => {
                return Ok(Outcome::Skipped(SkipReason::NoObservations))
            }
            Located::Extracted(o) => o,
        };
        let write = SessionWrite {
            attacker_ip: &s.attacker_ip,
            attackers: self.attackers,
            evidence_ref: &evidence_ref,
            observations: &observations,
            fail_after: None,
        };
        let mut attempt = 0;
        let outcome = loop {
            match self.store.store_session(&write).await {
                Ok(o) => break o,
                Err(e) if e.is_retryable() && attempt < 4 => {
                    attempt += 1;
                    tracing::debug!(sid = %s.sid, attempt, "transaction conflict; retrying");
                    tokio::time::sleep(Duration::from_millis(50 * (1 << attempt))).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        match outcome {
            StoreOutcome::NoAttacker => Ok(Outcome::Deferred(DeferReason::NoAttacker)),
            StoreOutcome::Stored { attacker_uuid, ids } => {
                let observations = observations
                    .into_iter()
                    .zip(ids)
                    .map(|(mut o, id)| {
                        // Usually the id just written (kept inline); the
                        // original one when the row already existed.
                        if o.id != id {
                            o.id = id.into();
                        }
                        o
                    })
                    .collect();
                Ok(Outcome::Stored(StoredSession {
                    attacker_uuid,
                    evidence_ref,
                    observations,
                }))
            }
        }
    }
}

fn now_ts() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Blocking part 1: find the shard (payload path only if it resolves
/// inside the root and its index holds the sid).
fn locate(root: &ArtifactsRoot, cache: &ShardCache, s: &SessionRef) -> Option<ShardPath> {
    if let Some(p) = &s.shard_path {
        match root.accept_payload_path(&s.decky, &s.service, p) {
            Ok(sp) if matches!(cache.contains(&sp, &s.sid), Ok(true)) => return Some(sp),
            Ok(_) => tracing::warn!(
                sid = %s.sid, decky = %s.decky, service = %s.service,
                reason = "payload shard_path does not hold the sid; resolving ourselves",
                "shard_path ignored"
            ),
            Err(e) => tracing::warn!(
                sid = %s.sid, decky = %s.decky, service = %s.service,
                reason = %e, "shard_path refused; resolving ourselves"
            ),
        }
    }
    match cache.find(root, &s.decky, &s.service, &s.sid) {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(sid = %s.sid, reason = %e, "shard lookup failed");
            None
        }
    }
}

/// Blocking part 2: read the sid's lines through the index, extract.
fn extract(
    cache: &ShardCache,
    shard: ShardPath,
    sid: &str,
    evidence_ref: &str,
    profile: Profile,
    source: &str,
) -> Located {
    let read = match cache.read_session(&shard, sid) {
        Ok(r) => r,
        Err(_) => return Located::Missing,
    };
    if read.raises {
        return Located::Raised;
    }
    if read.events.is_empty() {
        return Located::NoEvents;
    }
    let params = ExtractParams {
        sid,
        evidence_ref: Some(evidence_ref),
        source,
        profile,
        now_ts: now_ts(),
    };
    // Session epoch for epoch windows and circadian primitives (profile
    // behave-0.1.4; the CLI does the same): an integer header timestamp.
    let epoch = decnet_engine::features::circadian::session_epoch_from_header(
        read.header_timestamp,
        params.now_ts,
    );
    match extract_session_at(&read.events, &params, epoch) {
        Ok(obs) => Located::Extracted(obs),
        Err(_) => Located::Raised,
    }
}
