//! The behave-shell 0.1.4 primitive registry (`../shared/spec/registry.json`,
//! 82 primitives) as static data, and the value check its `Observation`
//! subclass applies (`ValueTypeSpec.validate_value`).
//!
//! The reference builds observations with the registry-agnostic core
//! envelope (engine.md §9 item 11), so nothing there checks values; we do,
//! so an invalid value is an error instead of an emitted observation. Every
//! value the reference emits is valid, so this changes no output.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use crate::context::Fnv;

/// Value shape of a primitive (`ValueKind`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A string from a closed set.
    Categorical(&'static [&'static str]),
    /// A number (not a bool) with optional inclusive bounds.
    Numeric {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// A non-empty string.
    Hash,
    /// Any string.
    FreeString,
    Bool,
    /// A list whose elements have the given bare kind.
    Array(ElementKind),
}

/// Element kind of an array primitive: a bare kind with no allowed set and
/// no bounds (behave-shell builds `ValueTypeSpec(kind=array_of)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementKind {
    Categorical,
    Numeric,
    Hash,
    FreeString,
    Bool,
}

impl Kind {
    /// The registry's spelling (`"categorical"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Categorical(_) => "categorical",
            Kind::Numeric { .. } => "numeric",
            Kind::Hash => "hash",
            Kind::FreeString => "free_string",
            Kind::Bool => "bool",
            Kind::Array(_) => "array",
        }
    }
}

impl ElementKind {
    pub fn name(self) -> &'static str {
        match self {
            ElementKind::Categorical => "categorical",
            ElementKind::Numeric => "numeric",
            ElementKind::Hash => "hash",
            ElementKind::FreeString => "free_string",
            ElementKind::Bool => "bool",
        }
    }
}

/// One registry entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
}

/// A value to check, in the shapes `ObservationValue` allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Array(&'a [Value<'a>]),
}

/// Why a value is not valid for a primitive (fixed reasons, no content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("unknown primitive")]
    UnknownPrimitive,
    #[error("value has the wrong type for the primitive")]
    WrongType,
    #[error("value not in the primitive's allowed set")]
    NotAllowed,
    #[error("value below the primitive's minimum")]
    BelowMin,
    #[error("value above the primitive's maximum")]
    AboveMax,
    #[error("hash value is empty")]
    EmptyHash,
}

/// Registry entry of `primitive`.
///
/// Every observation is validated on the way out, so this is one hash
/// probe (FNV-1a over the name, the context's token hasher; built once)
/// rather than a scan of all 82.
pub fn lookup(primitive: &str) -> Option<&'static Spec> {
    type ByName = HashMap<&'static str, &'static Spec, BuildHasherDefault<Fnv>>;
    static BY_NAME: LazyLock<ByName> =
        LazyLock::new(|| REGISTRY.iter().map(|s| (s.name, s)).collect());
    BY_NAME.get(primitive).copied()
}

/// The registry's `&'static str` for a primitive name.
pub fn primitive_name(primitive: &str) -> Option<&'static str> {
    lookup(primitive).map(|s| s.name)
}

/// `ValueTypeSpec.validate_value` for `primitive`.
pub fn validate(primitive: &str, value: &Value<'_>) -> Result<&'static Spec, RegistryError> {
    let spec = lookup(primitive).ok_or(RegistryError::UnknownPrimitive)?;
    check(spec.kind, value)?;
    Ok(spec)
}

/// `ValueTypeSpec.validate_value` against an entry already looked up.
pub fn check_spec(spec: &Spec, value: &Value<'_>) -> Result<(), RegistryError> {
    check(spec.kind, value)
}

/// Shortcut for string values (every primitive the engine emits).
pub fn validate_str(primitive: &str, value: &str) -> Result<&'static Spec, RegistryError> {
    validate(primitive, &Value::Str(value))
}

fn check(kind: Kind, value: &Value<'_>) -> Result<(), RegistryError> {
    match (kind, value) {
        (Kind::Categorical(allowed), Value::Str(s)) => {
            if allowed.contains(s) {
                Ok(())
            } else {
                Err(RegistryError::NotAllowed)
            }
        }
        (Kind::Numeric { min, max }, Value::Num(x)) => {
            // Python compares `value < min`: NaN passes, as there.
            if min.is_some_and(|m| *x < m) {
                Err(RegistryError::BelowMin)
            } else if max.is_some_and(|m| *x > m) {
                Err(RegistryError::AboveMax)
            } else {
                Ok(())
            }
        }
        (Kind::Hash, Value::Str(s)) => {
            if s.is_empty() {
                Err(RegistryError::EmptyHash)
            } else {
                Ok(())
            }
        }
        (Kind::FreeString, Value::Str(_)) | (Kind::Bool, Value::Bool(_)) => Ok(()),
        (Kind::Array(el), Value::Array(items)) => {
            items.iter().try_for_each(|v| check_element(el, v))
        }
        _ => Err(RegistryError::WrongType),
    }
}

fn check_element(el: ElementKind, value: &Value<'_>) -> Result<(), RegistryError> {
    match (el, value) {
        (ElementKind::Categorical | ElementKind::FreeString, Value::Str(_))
        | (ElementKind::Numeric, Value::Num(_))
        | (ElementKind::Bool, Value::Bool(_)) => Ok(()),
        (ElementKind::Hash, Value::Str(s)) if !s.is_empty() => Ok(()),
        (ElementKind::Hash, Value::Str(_)) => Err(RegistryError::EmptyHash),
        _ => Err(RegistryError::WrongType),
    }
}

/// All 82 primitives, in `registry.json` order.
pub static REGISTRY: &[Spec] = &[
    Spec {
        name: "motor.keystroke_cadence",
        kind: Kind::Categorical(&["steady", "bursty", "hunt_and_peck", "machine"]),
    },
    Spec {
        name: "motor.motor_stability",
        kind: Kind::Categorical(&["steady", "variable", "tremor"]),
    },
    Spec {
        name: "motor.error_correction",
        kind: Kind::Categorical(&["immediate", "deferred", "absent", "route_around"]),
    },
    Spec {
        name: "motor.command_chunking",
        kind: Kind::Categorical(&["fluent", "fragmented", "single_command"]),
    },
    Spec {
        name: "motor.paste_burst_rate",
        kind: Kind::Categorical(&["none", "occasional", "habitual"]),
    },
    Spec {
        name: "motor.input_modality",
        kind: Kind::Categorical(&["typed", "pasted", "mixed"]),
    },
    Spec {
        name: "motor.digraph_simhash",
        kind: Kind::Hash,
    },
    Spec {
        name: "motor.shell_mastery.tab_completion",
        kind: Kind::Categorical(&["none", "occasional", "habitual"]),
    },
    Spec {
        name: "motor.shell_mastery.shortcut_usage",
        kind: Kind::Categorical(&["none", "moderate", "heavy"]),
    },
    Spec {
        name: "motor.shell_mastery.pipe_chaining_depth",
        kind: Kind::Categorical(&["shallow", "moderate", "deep"]),
    },
    Spec {
        name: "cognitive.cognitive_load",
        kind: Kind::Categorical(&["low", "medium", "high"]),
    },
    Spec {
        name: "cognitive.exploration_style",
        kind: Kind::Categorical(&["methodical", "chaotic", "targeted"]),
    },
    Spec {
        name: "cognitive.planning_depth",
        kind: Kind::Categorical(&["deep", "shallow", "reactive"]),
    },
    Spec {
        name: "cognitive.tool_vocabulary",
        kind: Kind::Categorical(&["narrow", "moderate", "broad"]),
    },
    Spec {
        name: "cognitive.inter_command_latency_class",
        kind: Kind::Categorical(&[
            "instant",
            "typing_speed",
            "deliberate",
            "llm_lightweight",
            "llm_heavyweight",
            "long",
        ]),
    },
    Spec {
        name: "cognitive.inter_command_consistency",
        kind: Kind::Categorical(&["metronomic", "variable", "bimodal"]),
    },
    Spec {
        name: "cognitive.command_branch_diversity",
        kind: Kind::Categorical(&["linear_playbook", "adaptive_branching", "unknown"]),
    },
    Spec {
        name: "cognitive.feedback_loop_engagement",
        kind: Kind::Categorical(&["closed_loop", "fire_and_forget", "unknown"]),
    },
    Spec {
        name: "cognitive.error_resilience.retry_tactic",
        kind: Kind::Categorical(&["rerun", "modify", "switch", "abort"]),
    },
    Spec {
        name: "cognitive.error_resilience.frustration_typing",
        kind: Kind::Categorical(&["low", "moderate", "high"]),
    },
    Spec {
        name: "cognitive.error_resilience.fallback_to_man",
        kind: Kind::Categorical(&["absent", "present"]),
    },
    Spec {
        name: "temporal.session_timing",
        kind: Kind::Categorical(&["diurnal", "nocturnal", "irregular"]),
    },
    Spec {
        name: "temporal.session_duration",
        kind: Kind::Categorical(&["short", "medium", "long", "marathon"]),
    },
    Spec {
        name: "temporal.escalation_pattern",
        kind: Kind::Categorical(&["sustained", "erratic", "bursty"]),
    },
    Spec {
        name: "temporal.persistence",
        kind: Kind::Categorical(&["hit_and_run", "return_visitor", "resident"]),
    },
    Spec {
        name: "temporal.lifecycle_markers.landing_ritual",
        kind: Kind::Categorical(&["present", "absent"]),
    },
    Spec {
        name: "temporal.lifecycle_markers.exit_behavior",
        kind: Kind::Categorical(&["graceful", "abrupt", "cleanup"]),
    },
    Spec {
        name: "temporal.lifecycle_markers.idle_periodicity",
        kind: Kind::Categorical(&["random", "periodic"]),
    },
    Spec {
        name: "temporal.circadian.hour_histogram",
        kind: Kind::Array(ElementKind::Numeric),
    },
    Spec {
        name: "temporal.circadian.dow_histogram",
        kind: Kind::Array(ElementKind::Numeric),
    },
    Spec {
        name: "temporal.circadian.hour_dow_histogram",
        kind: Kind::Array(ElementKind::Numeric),
    },
    Spec {
        name: "temporal.circadian.quiet_span_utc",
        kind: Kind::Array(ElementKind::Numeric),
    },
    Spec {
        name: "operational.opsec_discipline",
        kind: Kind::Categorical(&["careful", "careless", "learning"]),
    },
    Spec {
        name: "operational.cleanup_behavior",
        kind: Kind::Categorical(&["thorough", "partial", "none"]),
    },
    Spec {
        name: "operational.objective",
        kind: Kind::Categorical(&["recon", "exfil", "persistence", "lateral", "destructive"]),
    },
    Spec {
        name: "operational.multi_actor_indicators",
        kind: Kind::Categorical(&["solo", "handoff_detected", "team_coordinated"]),
    },
    Spec {
        name: "environmental.keyboard_layout",
        kind: Kind::Categorical(&["qwerty", "azerty", "qwertz", "other"]),
    },
    Spec {
        name: "environmental.locale",
        kind: Kind::FreeString,
    },
    Spec {
        name: "environmental.numpad_usage",
        kind: Kind::Categorical(&["detected", "not_detected"]),
    },
    Spec {
        name: "environmental.terminal_multiplexer",
        kind: Kind::Categorical(&["none", "tmux", "screen"]),
    },
    Spec {
        name: "environmental.editing_mode",
        kind: Kind::Categorical(&["emacs", "vi", "unknown"]),
    },
    Spec {
        name: "environmental.shell_type",
        kind: Kind::Categorical(&["bash", "zsh", "fish", "cmd.exe", "powershell"]),
    },
    Spec {
        name: "cultural.meal_break_gaps",
        kind: Kind::Categorical(&[
            "none_detected",
            "morning",
            "midday",
            "evening",
            "late_night",
        ]),
    },
    Spec {
        name: "cultural.periodic_micro_pauses",
        kind: Kind::Categorical(&["none_detected", "regular_intervals_detected"]),
    },
    Spec {
        name: "cultural.dst_behavior",
        kind: Kind::Categorical(&["shifts_with_dst", "anchored_to_utc", "unknown"]),
    },
    Spec {
        name: "cultural.weekend_cadence",
        kind: Kind::Categorical(&["fri_sat", "sat_sun", "no_weekend", "irregular"]),
    },
    Spec {
        name: "cultural.holiday_gaps",
        kind: Kind::Categorical(&["none_detected", "specific_dates_detected"]),
    },
    Spec {
        name: "emotional_valence.valence",
        kind: Kind::Categorical(&["positive", "neutral", "negative"]),
    },
    Spec {
        name: "emotional_valence.arousal",
        kind: Kind::Categorical(&["low_calm", "medium_engaged", "high_agitated"]),
    },
    Spec {
        name: "emotional_valence.stress_response",
        kind: Kind::Categorical(&["none", "eustress_positive", "distress_negative"]),
    },
    Spec {
        name: "emotional_valence.frustration_venting",
        kind: Kind::Categorical(&["none", "detected"]),
    },
    Spec {
        name: "toolchain.tls.ja3_client",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.tls.ja3s_server",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.tls.ja4_client",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.tls.ja4s_server",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.tls.jarm_server",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.tls.tls_cert_simhash",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.transport.tcp_stack",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.transport.h2_akamai_fingerprint",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.transport.quic_client",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.ssh.hassh_client",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.ssh.hassh_server",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.ssh.ssh_client_banner",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.ssh.kex_algorithm_order",
        kind: Kind::Array(ElementKind::FreeString),
    },
    Spec {
        name: "toolchain.http.user_agent_tool_class",
        kind: Kind::Categorical(&[
            "nmap_nse",
            "sqlmap",
            "nuclei",
            "masscan",
            "curl",
            "metasploit",
            "ffuf",
            "gobuster",
            "feroxbuster",
            "nikto",
            "wpscan",
            "evilwinrm",
            "impacket",
            "unknown",
        ]),
    },
    Spec {
        name: "toolchain.http.header_order_fingerprint",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.http.body_oddities",
        kind: Kind::Array(ElementKind::FreeString),
    },
    Spec {
        name: "toolchain.c2.beacon_family",
        kind: Kind::Categorical(&[
            "cobalt_strike",
            "sliver",
            "havoc",
            "mythic",
            "merlin",
            "brc4",
            "nighthawk",
            "unknown",
        ]),
    },
    Spec {
        name: "toolchain.c2.beacon_interval_ms",
        kind: Kind::Numeric {
            min: Some(0.0),
            max: None,
        },
    },
    Spec {
        name: "toolchain.c2.beacon_jitter_cv",
        kind: Kind::Numeric {
            min: Some(0.0),
            max: None,
        },
    },
    Spec {
        name: "toolchain.c2.sleep_skew",
        kind: Kind::Categorical(&["none", "gaussian", "uniform", "walk"]),
    },
    Spec {
        name: "toolchain.c2.c2_callback_endpoint",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.c2.attack_software_id",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.protocol_abuse.dns_exfil_tool",
        kind: Kind::Categorical(&["iodine", "dnscat2", "custom_high_entropy", "none"]),
    },
    Spec {
        name: "toolchain.protocol_abuse.smb_dialect",
        kind: Kind::Categorical(&[
            "SMB1", "SMB2.0.2", "SMB2.1", "SMB3.0", "SMB3.0.2", "SMB3.1.1",
        ]),
    },
    Spec {
        name: "toolchain.protocol_abuse.kerberos_etype_offer",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.protocol_abuse.ldap_bind_pattern",
        kind: Kind::Categorical(&[
            "simple",
            "sasl_gssapi",
            "ntlm",
            "ntlmssp_v1",
            "responder_like",
        ]),
    },
    Spec {
        name: "toolchain.protocol_abuse.responder_signature",
        kind: Kind::FreeString,
    },
    Spec {
        name: "toolchain.protocol_abuse.mitm6_signature",
        kind: Kind::Bool,
    },
    Spec {
        name: "toolchain.payload.payload_simhash",
        kind: Kind::Hash,
    },
    Spec {
        name: "toolchain.payload.payload_entropy_class",
        kind: Kind::Categorical(&["low", "medium", "high", "packed"]),
    },
    Spec {
        name: "toolchain.payload.loader_family",
        kind: Kind::Categorical(&["donut", "sgn", "pe2sh", "nimcrypt", "unknown"]),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The static table equals `../shared/spec/registry.json` exactly:
    /// same primitives, kinds, allowed lists (in order), bounds.
    #[test]
    fn table_equals_registry_json() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/spec/registry.json"
        );
        let text = std::fs::read_to_string(path).expect("registry.json readable");
        let json: serde_json::Value = serde_json::from_str(&text).expect("registry.json parses");
        assert_eq!(json["count"], serde_json::json!(82));
        let prims = json["primitives"].as_object().expect("primitives object");
        assert_eq!(prims.len(), REGISTRY.len());
        let mut names: Vec<&str> = REGISTRY.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "duplicate primitive in table");
        for spec in REGISTRY {
            let name = spec.name;
            let entry = prims.get(name).expect("primitive in registry.json");
            let mut want = serde_json::Map::new();
            want.insert("kind".into(), spec.kind.name().into());
            match spec.kind {
                Kind::Categorical(allowed) => {
                    want.insert("allowed".into(), allowed.to_vec().into());
                }
                Kind::Numeric { min, max } => {
                    if let Some(m) = min {
                        want.insert("min".into(), m.into());
                    }
                    if let Some(m) = max {
                        want.insert("max".into(), m.into());
                    }
                }
                Kind::Array(el) => {
                    want.insert("array_of".into(), el.name().into());
                }
                Kind::Hash | Kind::FreeString | Kind::Bool => {}
            }
            assert_eq!(entry, &serde_json::Value::Object(want), "{name}");
        }
    }

    #[test]
    fn lookup_finds_every_entry_and_nothing_else() {
        for spec in REGISTRY {
            assert_eq!(lookup(spec.name), Some(spec));
            // A name held elsewhere, not the table's own `&'static str`.
            let owned = String::from(spec.name);
            assert_eq!(primitive_name(owned.as_str()), Some(spec.name));
        }
        for name in [
            "",
            "motor",
            "motor.input_modality ",
            "zzz",
            "MOTOR.INPUT_MODALITY",
        ] {
            assert_eq!(lookup(name), None, "{name:?}");
        }
    }

    #[test]
    fn validates_like_behave_shell() {
        assert!(validate_str("motor.input_modality", "typed").is_ok());
        assert_eq!(
            validate_str("motor.input_modality", "sloppy"),
            Err(RegistryError::NotAllowed)
        );
        assert_eq!(
            validate_str("motor.nope", "x"),
            Err(RegistryError::UnknownPrimitive)
        );
        assert_eq!(
            validate_str("motor.digraph_simhash", ""),
            Err(RegistryError::EmptyHash)
        );
        assert!(validate_str("motor.digraph_simhash", "0123abcd").is_ok());
        assert!(validate_str("environmental.locale", "").is_ok());
        assert_eq!(
            validate("toolchain.c2.beacon_jitter_cv", &Value::Num(-0.5)),
            Err(RegistryError::BelowMin)
        );
        assert!(validate("toolchain.c2.beacon_jitter_cv", &Value::Num(0.0)).is_ok());
        assert_eq!(
            validate("toolchain.c2.beacon_jitter_cv", &Value::Bool(true)),
            Err(RegistryError::WrongType)
        );
        assert!(validate(
            "toolchain.protocol_abuse.mitm6_signature",
            &Value::Bool(false)
        )
        .is_ok());
        let arr = [Value::Num(1.0), Value::Num(2.0)];
        assert!(validate("temporal.circadian.hour_histogram", &Value::Array(&arr)).is_ok());
        let bad = [Value::Str("x")];
        assert_eq!(
            validate("temporal.circadian.hour_histogram", &Value::Array(&bad)),
            Err(RegistryError::WrongType)
        );
        assert_eq!(
            primitive_name("motor.input_modality"),
            Some("motor.input_modality")
        );
    }
}
