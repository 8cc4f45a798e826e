//! Why a session (or a line) yields nothing. Messages never carry session
//! content: only field names, primitive paths and fixed reasons.

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The reference hashes first tokens with strict UTF-8 and raises on a
    /// lone surrogate; in `decnet-1.2` the whole session yields nothing.
    #[error("first token of a command is not valid UTF-8 (reference raises; session skipped)")]
    FirstTokenNotUtf8,
    /// An observation failed registry or envelope validation.
    #[error("invalid observation for {primitive}: {reason}")]
    InvalidObservation {
        primitive: String,
        reason: &'static str,
    },
    /// `source` must be non-empty (envelope rule).
    #[error("observation source is empty")]
    EmptySource,
    /// A `math`/`statistics` call of the reference raises inside a
    /// primitive (fsum overflow, stdev over a non-finite value, ceil/int of
    /// a non-finite value); the whole session yields nothing.
    #[error("statistics raised in {primitive} (reference raises; session skipped)")]
    StatisticsRaised { primitive: &'static str },
}
