//! Public entry point: one session's events → observations.

use crate::context::SessionContext;
use crate::error::EngineError;
use crate::event::Event;
use crate::features::FEATURES;
use crate::observation::{Envelope, Observation};
use crate::profile::Profile;

/// The reference's default `source` (engine.md §3.11).
pub const DEFAULT_SOURCE: &str = "decnet/profiler/behave_shell/extract.py";

#[derive(Debug, Clone)]
pub struct ExtractParams<'a> {
    pub sid: &'a str,
    /// `None` or empty → `session:<sid>` (reference behaviour).
    pub evidence_ref: Option<&'a str>,
    pub source: &'a str,
    pub profile: Profile,
    /// Wall-clock epoch seconds stamped as every observation's `ts`.
    pub now_ts: f64,
}

/// Extracts every primitive in FEATURES order (engine.md §5). An error means
/// the whole session yields nothing (as the reference, which raises).
pub fn extract_session(
    events: &[Event],
    params: &ExtractParams<'_>,
) -> Result<Vec<Observation>, EngineError> {
    // As the reference: the context is built first (a non-UTF-8 first token
    // fails before anything else), and an empty `source` only fails when an
    // observation is constructed (so a session emitting nothing is `Ok`).
    let ctx = SessionContext::build(events)?;
    let default_ref;
    let evidence_ref = match params.evidence_ref {
        Some(r) if !r.is_empty() => r,
        _ => {
            default_ref = format!("session:{}", params.sid);
            default_ref.as_str()
        }
    };
    let env = Envelope {
        window_start_ts: ctx.t_start,
        window_end_ts: ctx.t_end,
        source: params.source,
        evidence_ref,
        ts: params.now_ts,
    };
    let mut out = Vec::with_capacity(FEATURES.len());
    for (primitive, f) in FEATURES {
        // A raise inside a primitive (non-finite statistics) fails the
        // whole session, as in the reference.
        let emitted =
            f(&ctx, params.profile).map_err(|_| EngineError::StatisticsRaised { primitive })?;
        if let Some((value, confidence)) = emitted {
            if params.source.is_empty() {
                return Err(EngineError::EmptySource);
            }
            out.push(Observation::new(primitive, value, confidence, &env)?);
        }
    }
    Ok(out)
}
