//! BEHAVE-SHELL extraction engine.
//!
//! Asciinema-style events of one session in, registry-valid observations out.
//! The crate is pure: no I/O, no async, no clock reads (the wall-clock `ts`
//! of an observation is an argument). Behaviour is specified by
//! `../shared/spec/engine.md`; profile [`Profile::Decnet12`] reproduces the
//! reference Python engine (DECNET 1.2, `decnet==1.0.0` on PyPI) bit for bit.

pub mod bimodality;
pub mod context;
pub mod error;
pub mod event;
pub mod extract;
pub mod features;
pub mod honest;
pub mod input_units;
pub mod lexicon;
pub mod line_editing;
pub mod noecho;
pub mod observation;
pub mod profile;
mod ragged;
pub mod reader;
pub mod registry;
pub mod stats;
pub mod text;
pub mod thresholds;

/// xorshift64 (13, 7, 17): deterministic test inputs without a dependency.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

pub use error::EngineError;
pub use event::{Event, EventBuf, EventKind, EventRef, SessionEvents, Text, TextRef};
pub use extract::{
    extract_refs_at, extract_session, extract_session_at, ExtractParams, DEFAULT_SOURCE,
};
pub use observation::{Observation, ObservationId};
pub use profile::Profile;
