//! `system.<worker>.control`: DECNET's dashboard asks a worker to stop.
//!
//! The dashboard publishes `{"action":"stop","requested_by":"<user>","ts":…}`
//! (contracts.md §2). Like DECNET's workers we honour `stop` and ignore every
//! other action, including the reserved `start`. A falsy payload counts as
//! `{}`. Unlike the Python listener, a payload that is not an object is
//! logged and ignored instead of killing the listener for good.

use serde_json::Value;

/// The EVT `type` DECNET gives control events.
pub const CONTROL_TYPE: &str = "control";
/// The one action we act on.
pub const ACTION_STOP: &str = "stop";
/// `requested_by` is a dashboard user name; cap what reaches a log line.
const MAX_REQUESTER_CHARS: usize = 64;

/// The control topic for a worker name.
pub fn control_topic(worker: &str) -> String {
    format!("system.{worker}.control")
}

/// What a control event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlAction {
    /// Drain and exit 0.
    Stop {
        /// Who asked (sanitised, capped), when the event says.
        requested_by: Option<String>,
    },
    /// Any other action, or none: ignored.
    Ignore {
        /// The action, when it was a string (sanitised, capped).
        action: Option<String>,
    },
}

/// A control payload we cannot read; logged, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// A truthy payload that is not a JSON object.
    #[error("control payload is a {0}, not an object")]
    NotAnObject(&'static str),
}

/// Interprets a control event's payload with DECNET's rules.
pub fn parse_control(payload: &Value) -> Result<ControlAction, ControlError> {
    let object = match payload {
        Value::Object(map) => map,
        other if is_falsy(other) => return Ok(ControlAction::Ignore { action: None }),
        other => return Err(ControlError::NotAnObject(kind(other))),
    };
    match object.get("action") {
        Some(Value::String(action)) if action == ACTION_STOP => Ok(ControlAction::Stop {
            requested_by: object
                .get("requested_by")
                .and_then(Value::as_str)
                .map(sanitise),
        }),
        Some(Value::String(action)) => Ok(ControlAction::Ignore {
            action: Some(sanitise(action)),
        }),
        _ => Ok(ControlAction::Ignore { action: None }),
    }
}

/// Python truthiness for JSON values (`payload or {}`).
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Keeps a log field to printable characters and a bounded length.
fn sanitise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_REQUESTER_CHARS)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stop_is_honoured_with_its_requester() {
        assert_eq!(
            parse_control(&json!({"action":"stop","requested_by":"admin","ts":1.5})),
            Ok(ControlAction::Stop {
                requested_by: Some("admin".into())
            })
        );
        assert_eq!(
            parse_control(&json!({"action":"stop"})),
            Ok(ControlAction::Stop { requested_by: None })
        );
    }

    #[test]
    fn other_actions_are_ignored() {
        assert_eq!(
            parse_control(&json!({"action":"start"})),
            Ok(ControlAction::Ignore {
                action: Some("start".into())
            })
        );
        assert_eq!(
            parse_control(&json!({"action":"STOP"})),
            Ok(ControlAction::Ignore {
                action: Some("STOP".into())
            })
        );
        assert_eq!(
            parse_control(&json!({"action": 1})),
            Ok(ControlAction::Ignore { action: None })
        );
        assert_eq!(
            parse_control(&json!({"requested_by":"x"})),
            Ok(ControlAction::Ignore { action: None })
        );
    }

    #[test]
    fn falsy_payloads_count_as_empty_objects() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert_eq!(
                parse_control(&v),
                Ok(ControlAction::Ignore { action: None }),
                "{v}"
            );
        }
    }

    #[test]
    fn truthy_non_objects_are_errors_not_panics() {
        assert_eq!(
            parse_control(&json!("stop")),
            Err(ControlError::NotAnObject("string"))
        );
        assert_eq!(
            parse_control(&json!([{"action":"stop"}])),
            Err(ControlError::NotAnObject("array"))
        );
        assert_eq!(
            parse_control(&json!(3)),
            Err(ControlError::NotAnObject("number"))
        );
        assert_eq!(
            parse_control(&json!(true)),
            Err(ControlError::NotAnObject("boolean"))
        );
    }

    #[test]
    fn requester_is_sanitised_and_capped() {
        let long = "a\nb".to_string() + &"x".repeat(200);
        match parse_control(&json!({"action":"stop","requested_by": long})).unwrap() {
            ControlAction::Stop {
                requested_by: Some(r),
            } => {
                assert!(r.starts_with("abx"));
                assert_eq!(r.chars().count(), MAX_REQUESTER_CHARS);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn topic_shape() {
        assert_eq!(control_topic("profiler-rs"), "system.profiler-rs.control");
    }
}
