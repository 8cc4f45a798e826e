//! The 38 primitives, in the reference's FEATURES order (engine.md §5).
//!
//! Each primitive is one small function `fn(&SessionContext, Profile) ->
//! Result<Emitted, StatsError>`; a later profile changes one by branching
//! on the profile inside it. `Ok(None)` = skip, `Err` = the reference
//! raises (the whole session yields nothing).

pub mod circadian;
mod cognitive;
pub mod editing_mode;
mod emotional;
mod environmental;
mod motor;
mod operational;
mod temporal;

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::context::SessionContext;
use crate::profile::Profile;
use crate::registry::{self, Spec};
use crate::stats::StatsError;

/// One primitive's output: value and exact confidence, or skip.
/// Values are the registry's static labels but for a few primitives
/// (hashes, locales): borrowed, they cost no allocation per observation.
pub(crate) type Emitted = Option<(Cow<'static, str>, f64)>;

/// A primitive function.
pub(crate) type Primitive = fn(&SessionContext<'_>, Profile) -> Result<Emitted, StatsError>;

/// `(registry path, function)` in FEATURES order.
pub(crate) const FEATURES: [(&str, Primitive); 38] = [
    ("motor.input_modality", motor::input_modality),
    ("motor.paste_burst_rate", motor::paste_burst_rate),
    ("motor.keystroke_cadence", motor::keystroke_cadence),
    ("motor.digraph_simhash", motor::digraph_simhash),
    ("motor.motor_stability", motor::motor_stability),
    ("motor.error_correction", motor::error_correction),
    ("motor.command_chunking", motor::command_chunking),
    ("motor.shell_mastery.tab_completion", motor::tab_completion),
    ("motor.shell_mastery.shortcut_usage", motor::shortcut_usage),
    (
        "motor.shell_mastery.pipe_chaining_depth",
        motor::pipe_chaining_depth,
    ),
    (
        "cognitive.inter_command_latency_class",
        cognitive::inter_command_latency_class,
    ),
    (
        "cognitive.command_branch_diversity",
        cognitive::command_branch_diversity,
    ),
    (
        "cognitive.feedback_loop_engagement",
        cognitive::feedback_loop_engagement,
    ),
    (
        "cognitive.inter_command_consistency",
        cognitive::inter_command_consistency,
    ),
    ("cognitive.cognitive_load", cognitive::cognitive_load),
    ("cognitive.exploration_style", cognitive::exploration_style),
    ("cognitive.planning_depth", cognitive::planning_depth),
    ("cognitive.tool_vocabulary", cognitive::tool_vocabulary),
    (
        "cognitive.error_resilience.retry_tactic",
        cognitive::retry_tactic,
    ),
    (
        "cognitive.error_resilience.frustration_typing",
        cognitive::frustration_typing,
    ),
    (
        "cognitive.error_resilience.fallback_to_man",
        cognitive::fallback_to_man,
    ),
    ("temporal.session_duration", temporal::session_duration),
    ("temporal.escalation_pattern", temporal::escalation_pattern),
    (
        "temporal.lifecycle_markers.landing_ritual",
        temporal::landing_ritual,
    ),
    (
        "temporal.lifecycle_markers.exit_behavior",
        temporal::exit_behavior,
    ),
    ("environmental.shell_type", environmental::shell_type),
    (
        "environmental.terminal_multiplexer",
        environmental::terminal_multiplexer,
    ),
    ("environmental.locale", environmental::locale),
    (
        "environmental.keyboard_layout",
        environmental::keyboard_layout,
    ),
    ("environmental.numpad_usage", environmental::numpad_usage),
    ("operational.objective", operational::objective),
    (
        "operational.opsec_discipline",
        operational::opsec_discipline,
    ),
    (
        "operational.cleanup_behavior",
        operational::cleanup_behavior,
    ),
    (
        "operational.multi_actor_indicators",
        operational::multi_actor_indicators,
    ),
    ("emotional_valence.valence", emotional::valence),
    ("emotional_valence.arousal", emotional::arousal),
    (
        "emotional_valence.stress_response",
        emotional::stress_response,
    ),
    (
        "emotional_valence.frustration_venting",
        emotional::frustration_venting,
    ),
];

/// Each [`FEATURES`] entry's registry entry, looked up once (`None` would
/// be a name missing from the registry: a test holds that there is none).
pub(crate) fn feature_specs() -> &'static [Option<&'static Spec>; 38] {
    static SPECS: LazyLock<[Option<&'static Spec>; 38]> =
        LazyLock::new(|| FEATURES.map(|(name, _)| registry::lookup(name)));
    &SPECS
}

/// `Ok(Some((value, confidence)))` shorthand.
pub(crate) fn emit(value: &'static str, confidence: f64) -> Result<Emitted, StatsError> {
    Ok(Some((Cow::Borrowed(value), confidence)))
}

/// Low-sample confidence rule shared by many cognitive primitives.
pub(crate) fn by_commands(n_cmd: usize, low: f64, full: f64) -> f64 {
    if n_cmd < crate::thresholds::MIN_COMMANDS_FOR_FULL_CONFIDENCE {
        low
    } else {
        full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_has_its_registry_entry() {
        for ((name, _), spec) in FEATURES.iter().zip(feature_specs()) {
            assert_eq!(spec.map(|s| s.name), Some(*name));
        }
    }
}
