//! The observation envelope (behave-core 0.1.1 `Observation`, v1). The only
//! way to build one is [`Observation::new`], which validates it against the
//! registry and the envelope rules, so an invalid value is an error returned
//! to the caller and never emitted.

use serde::Serialize;

use crate::error::EngineError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Registry path, e.g. `motor.input_modality`.
    pub primitive: &'static str,
    pub value: String,
    pub confidence: f64,
    pub window_start_ts: f64,
    pub window_end_ts: f64,
    pub source: String,
    /// A pointer, never content: `shard:{decky}/{service}/{file}#{sid}`.
    pub evidence_ref: String,
    pub identity_ref: Option<String>,
    /// Random UUIDv4, 32 lowercase hex characters.
    pub id: String,
    /// Wall-clock epoch seconds at construction (injected).
    pub ts: f64,
    pub v: u8,
}

/// Everything an observation needs besides its primitive, value and confidence.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub window_start_ts: f64,
    pub window_end_ts: f64,
    pub source: &'a str,
    pub evidence_ref: &'a str,
    pub ts: f64,
}

impl Observation {
    /// Builds and validates one observation (registry kind and allowed
    /// values, confidence in [0, 1], window order, non-empty source).
    pub fn new(
        primitive: &str,
        value: String,
        confidence: f64,
        env: &Envelope<'_>,
    ) -> Result<Observation, EngineError> {
        let _ = (primitive, value, confidence, env);
        todo!("implemented by the registry/observation work")
    }
}
