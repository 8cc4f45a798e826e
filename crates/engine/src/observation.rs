//! The observation envelope (behave-core 0.1.1 `Observation`, v1). The only
//! way to build one is [`Observation::new`], which validates it against the
//! registry and the envelope rules, so an invalid value is an error returned
//! to the caller and never emitted.

use std::borrow::Cow;

use serde::Serialize;

use crate::error::EngineError;
use crate::registry::{self, RegistryError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Registry path, e.g. `motor.input_modality`.
    pub primitive: &'static str,
    /// Mostly one of the registry's static labels (no allocation); hashes,
    /// locales and JSON arrays are owned.
    pub value: Cow<'static, str>,
    pub confidence: f64,
    pub window_start_ts: f64,
    pub window_end_ts: f64,
    /// Shared by a session's observations (one allocation per session).
    pub source: std::sync::Arc<str>,
    /// A pointer, never content: `shard:{decky}/{service}/{file}#{sid}`.
    pub evidence_ref: std::sync::Arc<str>,
    pub identity_ref: Option<String>,
    /// Random UUIDv4, 32 lowercase hex characters (or, once stored, the
    /// id the database holds for the row).
    pub id: ObservationId,
    /// Wall-clock epoch seconds at construction (injected).
    pub ts: f64,
    pub v: u8,
}

/// Everything an observation needs besides its primitive, value and
/// confidence: built once per session, its strings shared by reference.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub window_start_ts: f64,
    pub window_end_ts: f64,
    pub source: std::sync::Arc<str>,
    pub evidence_ref: std::sync::Arc<str>,
    pub ts: f64,
}

/// An observation's id. A fresh one is a random UUIDv4 as 32 lowercase hex
/// characters, held inline: an observation is built per primitive per
/// session, and a heap string per id was a fifth of the pipeline's
/// allocations. An id read back from the database (a row that was already
/// stored, perhaps by another writer) may be any string, so it is kept as
/// one.
#[derive(Clone)]
pub struct ObservationId(IdRepr);

#[derive(Clone)]
enum IdRepr {
    /// Lowercase hex digits only (ASCII), so always a valid `str`.
    Hex([u8; uuid::fmt::Simple::LENGTH]),
    Other(Box<str>),
}

impl ObservationId {
    /// A random UUIDv4 (the reference's `uuid4().hex`).
    pub fn new_v4() -> ObservationId {
        let mut buf = [0u8; uuid::fmt::Simple::LENGTH];
        uuid::Uuid::new_v4().simple().encode_lower(&mut buf);
        ObservationId(IdRepr::Hex(buf))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // `encode_lower` wrote hex digits only; the fallback is never
            // taken but keeps this total without `unsafe`.
            IdRepr::Hex(b) => std::str::from_utf8(b).unwrap_or_default(),
            IdRepr::Other(s) => s,
        }
    }
}

impl std::ops::Deref for ObservationId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ObservationId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for ObservationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for ObservationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for ObservationId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<String> for ObservationId {
    fn from(s: String) -> ObservationId {
        ObservationId(IdRepr::Other(s.into_boxed_str()))
    }
}

impl From<&str> for ObservationId {
    fn from(s: &str) -> ObservationId {
        ObservationId(IdRepr::Other(s.into()))
    }
}

impl From<ObservationId> for String {
    fn from(id: ObservationId) -> String {
        id.as_str().to_owned()
    }
}

/// Equal by text, whichever form holds it.
impl PartialEq for ObservationId {
    fn eq(&self, o: &ObservationId) -> bool {
        self.as_str() == o.as_str()
    }
}

impl Eq for ObservationId {}

impl std::hash::Hash for ObservationId {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl PartialEq<str> for ObservationId {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == o
    }
}

impl PartialEq<&str> for ObservationId {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == *o
    }
}

impl PartialEq<String> for ObservationId {
    fn eq(&self, o: &String) -> bool {
        self.as_str() == o.as_str()
    }
}

impl PartialEq<ObservationId> for String {
    fn eq(&self, o: &ObservationId) -> bool {
        self.as_str() == o.as_str()
    }
}

impl Observation {
    /// Builds and validates one observation (registry kind and allowed
    /// values, confidence in [0, 1], window order, non-empty source).
    ///
    /// Window check as behave-core's `Window`: only `end < start` is an
    /// error, so NaN or infinite bounds (a session whose `t` is NaN or
    /// ±Infinity) are accepted, as the reference accepts them. Confidence
    /// NaN is rejected (pydantic's `ge`/`le` fail on NaN).
    pub fn new(
        primitive: &str,
        value: impl Into<Cow<'static, str>>,
        confidence: f64,
        env: &Envelope,
    ) -> Result<Observation, EngineError> {
        let spec = registry::lookup(primitive).ok_or_else(|| EngineError::InvalidObservation {
            primitive: primitive.to_string(),
            reason: registry_reason(RegistryError::UnknownPrimitive),
        })?;
        Self::of_spec(spec, value.into(), confidence, env)
    }

    /// [`new`](Self::new) with the primitive's registry entry already
    /// found: the extraction loop looks each primitive's up once, not once
    /// per observation (a probe by name was 1 % of the pipeline).
    pub(crate) fn of_spec(
        spec: &'static registry::Spec,
        value: Cow<'static, str>,
        confidence: f64,
        env: &Envelope,
    ) -> Result<Observation, EngineError> {
        let invalid = |reason: &'static str| EngineError::InvalidObservation {
            primitive: spec.name.to_string(),
            reason,
        };
        registry::check_spec(spec, &registry::Value::Str(&value))
            .map_err(|e| invalid(registry_reason(e)))?;
        if !(0.0..=1.0).contains(&confidence) {
            return Err(invalid("confidence outside [0, 1]"));
        }
        if env.window_end_ts < env.window_start_ts {
            return Err(invalid("window end before window start"));
        }
        if env.source.is_empty() {
            return Err(EngineError::EmptySource);
        }
        Ok(Observation {
            primitive: spec.name,
            value,
            confidence,
            window_start_ts: env.window_start_ts,
            window_end_ts: env.window_end_ts,
            source: env.source.clone(),
            evidence_ref: env.evidence_ref.clone(),
            identity_ref: None,
            id: ObservationId::new_v4(),
            ts: env.ts,
            v: 1,
        })
    }
}

impl Observation {
    /// Builds an observation whose registry kind is an array of numbers
    /// (the `temporal.circadian.*` primitives of profile `behave-0.1.4`).
    /// The value is kept as its JSON text (`[0.0,0.25,…]`; integers without
    /// a fraction when `integers`), validated element by element.
    pub fn new_numbers(
        primitive: &str,
        values: &[f64],
        integers: bool,
        confidence: f64,
        env: &Envelope,
    ) -> Result<Observation, EngineError> {
        let invalid = |reason: &'static str| EngineError::InvalidObservation {
            primitive: primitive.to_string(),
            reason,
        };
        let items: Vec<registry::Value<'_>> =
            values.iter().map(|&v| registry::Value::Num(v)).collect();
        registry::validate(primitive, &registry::Value::Array(&items))
            .map_err(|e| invalid(registry_reason(e)))?;
        let mut text = String::from("[");
        for (i, &v) in values.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            if !v.is_finite() {
                return Err(invalid("array element is not finite"));
            }
            if integers {
                text.push_str(&format!("{}", v as i64));
            } else {
                text.push_str(&serde_json::to_string(&v).map_err(|_| invalid("array element"))?);
            }
        }
        text.push(']');
        let mut o = Observation::new("environmental.locale", String::new(), confidence, env)
            .map_err(|_| invalid("envelope"))?;
        o.primitive =
            registry::primitive_name(primitive).ok_or_else(|| invalid("unknown primitive"))?;
        o.value = text.into();
        Ok(o)
    }

    /// True when `value` holds JSON text (array primitives), false when it
    /// is a plain string to be quoted.
    pub fn value_is_json(&self) -> bool {
        matches!(
            registry::lookup(self.primitive).map(|s| &s.kind),
            Some(registry::Kind::Array(_))
        )
    }

    /// The value as a JSON token: arrays verbatim, strings quoted.
    pub fn value_json(&self) -> String {
        if self.value_is_json() {
            self.value.to_string()
        } else {
            serde_json::Value::String(self.value.to_string()).to_string()
        }
    }
}

fn registry_reason(e: RegistryError) -> &'static str {
    match e {
        RegistryError::UnknownPrimitive => "unknown primitive",
        RegistryError::WrongType => "value has the wrong type",
        RegistryError::NotAllowed => "value not in the allowed set",
        RegistryError::BelowMin => "value below minimum",
        RegistryError::AboveMax => "value above maximum",
        RegistryError::EmptyHash => "empty hash value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(start: f64, end: f64, source: &str) -> Envelope {
        Envelope {
            window_start_ts: start,
            window_end_ts: end,
            source: source.into(),
            evidence_ref: "session:s".into(),
            ts: 1.5,
        }
    }

    #[test]
    fn builds_valid_observation() {
        let o = Observation::new("motor.input_modality", "typed", 0.75, &env(1.0, 2.0, "src"))
            .expect("valid");
        assert_eq!(o.primitive, "motor.input_modality");
        assert_eq!(o.id.len(), 32);
        assert!(o
            .id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(o.id.as_bytes()[12], b'4');
        assert_eq!(
            serde_json::to_string(&o.id).ok(),
            Some(format!("\"{}\"", o.id))
        );
        assert_eq!(format!("{:?}", o.id), format!("{:?}", o.id.as_str()));
        let read_back = ObservationId::from(String::from("0123-not-hex"));
        assert_eq!(read_back, "0123-not-hex");
        assert_eq!(String::from(read_back.clone()), "0123-not-hex");
        assert_ne!(read_back, o.id);
        assert_eq!(ObservationId::from(o.id.to_string()), o.id.as_str());
        assert_eq!(ObservationId::from(o.id.as_str()), o.id);
        assert_eq!((o.v, o.ts, o.identity_ref.clone()), (1, 1.5, None));
    }

    #[test]
    fn rejects_invalid_values_and_envelopes() {
        let e = env(0.0, 0.0, "src");
        assert!(Observation::new("motor.input_modality", "x", 0.5, &e).is_err());
        assert!(Observation::new("no.such", "typed", 0.5, &e).is_err());
        for c in [f64::NAN, -0.01, 1.01, f64::INFINITY] {
            assert!(Observation::new("motor.input_modality", "typed", c, &e).is_err());
        }
        assert!(Observation::new("motor.input_modality", "typed", 0.0, &e).is_ok());
        assert!(Observation::new("motor.input_modality", "typed", 1.0, &e).is_ok());
        assert!(
            Observation::new("motor.input_modality", "typed", 0.5, &env(2.0, 1.0, "s")).is_err()
        );
        assert_eq!(
            Observation::new("motor.input_modality", "typed", 0.5, &env(0.0, 0.0, "")),
            Err(EngineError::EmptySource)
        );
    }

    #[test]
    fn nan_and_infinite_windows_pass_like_behave_core() {
        for (s, e) in [
            (f64::NAN, f64::NAN),
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
            (f64::NEG_INFINITY, 0.0),
        ] {
            assert!(
                Observation::new("motor.input_modality", "typed", 0.5, &env(s, e, "x")).is_ok()
            );
        }
        assert!(Observation::new(
            "motor.input_modality",
            "typed",
            0.5,
            &env(f64::INFINITY, f64::NEG_INFINITY, "x")
        )
        .is_err());
    }
}
