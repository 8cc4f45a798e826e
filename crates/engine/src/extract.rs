//! Public entry point: one session's events → observations.

use crate::error::EngineError;
use crate::event::Event;
use crate::observation::Observation;
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
    let _ = (events, params);
    todo!("implemented by the features work")
}
