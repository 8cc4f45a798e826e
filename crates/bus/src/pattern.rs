//! Topic patterns and topic validation.
//!
//! Matching follows `decnet/bus/base.py:171-192` token for token, odd cases
//! included (contracts §1.5): `a.>` matches `a.` (an empty trailing token
//! still counts), tokens after `>` are ignored, `*` needs a non-empty token.
//! The server uses the same function, so a local subscription sees exactly
//! what the server decided to send.

use crate::codec::{Frame, Verb, MAX_HEADER_BYTES};

/// NATS-style match of `topic` against `pattern`, exactly as the reference.
pub fn matches(pattern: &str, topic: &str) -> bool {
    let mut topic_tokens = topic.split('.');
    for p in pattern.split('.') {
        if p == ">" {
            // Matches iff the topic has a token at this position.
            return topic_tokens.next().is_some();
        }
        let Some(t) = topic_tokens.next() else {
            return false;
        };
        if p == "*" {
            if t.is_empty() {
                return false;
            }
            continue;
        }
        if p != t {
            return false;
        }
    }
    // Same number of tokens consumed; equal counts iff the topic is exhausted.
    topic_tokens.next().is_none()
}

/// Why a topic or pattern was refused before reaching the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// Empty string (the server closes the connection on an empty topic or
    /// pattern).
    #[error("topic or pattern is empty")]
    Empty,
    /// A `.`-separated segment of a publish topic is empty.
    #[error("topic segment {index} is empty")]
    EmptySegment {
        /// Zero-based segment index.
        index: usize,
    },
    /// A publish topic segment contains `*` or `>`: DECNET's topic builders
    /// refuse them (topics.py:639-653) and they would match literally.
    #[error("topic segment {index} contains a wildcard")]
    Wildcard {
        /// Zero-based segment index.
        index: usize,
    },
    /// Whitespace, control or non-ASCII character: the header line is ASCII
    /// and split on spaces.
    #[error(
        "topic or pattern contains whitespace, a control or a non-ASCII character at byte {at}"
    )]
    BadCharacter {
        /// Byte offset of the first offending character.
        at: usize,
    },
    /// The header line would not fit in 4096 bytes.
    #[error("topic or pattern of {len} bytes is too long")]
    TooLong {
        /// Length in bytes.
        len: usize,
    },
}

/// Longest topic or pattern that fits a header line with the longest verb.
const MAX_ARG_BYTES: usize = MAX_HEADER_BYTES - "UNSUB".len() - 2;

fn check_chars(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > MAX_ARG_BYTES {
        return Err(TopicError::TooLong { len: s.len() });
    }
    if let Some(at) = s.bytes().position(|b| !b.is_ascii_graphic()) {
        return Err(TopicError::BadCharacter { at });
    }
    Ok(())
}

/// A topic we may publish on: ASCII graphic characters only, no empty
/// segment, no wildcard inside a segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic(String);

impl Topic {
    /// Validates `topic`.
    pub fn new(topic: &str) -> Result<Topic, TopicError> {
        check_chars(topic)?;
        for (index, seg) in topic.split('.').enumerate() {
            if seg.is_empty() {
                return Err(TopicError::EmptySegment { index });
            }
            if seg.contains(['*', '>']) {
                return Err(TopicError::Wildcard { index });
            }
        }
        Ok(Topic(topic.to_owned()))
    }

    /// The topic text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pattern we may subscribe to. Only what the wire needs is checked
/// (non-empty, ASCII graphic, fits the header): the server accepts any
/// pattern and matching gives every string a meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern(String);

impl Pattern {
    /// Validates `pattern`.
    pub fn new(pattern: &str) -> Result<Pattern, TopicError> {
        check_chars(pattern)?;
        Ok(Pattern(pattern.to_owned()))
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `topic` matches this pattern.
    pub fn matches(&self, topic: &str) -> bool {
        matches(&self.0, topic)
    }

    pub(crate) fn sub_frame(&self) -> Option<Frame> {
        Frame::empty(Verb::Sub, &self.0).ok()
    }

    pub(crate) fn unsub_frame(&self) -> Option<Frame> {
        Frame::empty(Verb::Unsub, &self.0).ok()
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verified table of contracts §1.5 plus the documented basics.
    #[test]
    fn reference_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("attacker.>", "attacker", false),
            ("a.>", "a.", true),
            ("a.*", "a.", false),
            ("a.>.c", "a.x", true),
            (">", "", true),
            ("a.*.>", "a.b", false),
            ("a..b", "a..b", true),
            ("attacker.session.ended", "attacker.session.ended", true),
            ("attacker.session.ended", "attacker.session", false),
            ("attacker.session", "attacker.session.ended", false),
            (
                "attacker.observation.>",
                "attacker.observation.motor.input_modality",
                true,
            ),
            ("attacker.observation.>", "attacker.observation", false),
            ("system.*.health", "system.bus.health", true),
            ("system.*.health", "system..health", false),
            ("system.*.health", "system.bus.x.health", false),
            ("*", "a", true),
            ("*", "", false),
            ("*", "a.b", false),
            (">", "a.b.c", true),
            ("", "", true),
            ("", "a", false),
            ("a", "A", false),
            ("a.*.c", "a.b.c", true),
            ("a.*.>", "a.b.c.d", true),
            ("a.b*", "a.bx", false),
            ("a.b*", "a.b*", true),
            ("a.>", "a.>", true),
            ("a.*", "a.*", true),
            ("a.>.c", "a", false),
        ];
        for &(p, t, want) in cases {
            assert_eq!(matches(p, t), want, "pattern {p:?} topic {t:?}");
        }
    }

    #[test]
    fn publish_topics_are_validated() {
        assert!(Topic::new("attacker.observation.motor.input_modality").is_ok());
        assert_eq!(Topic::new(""), Err(TopicError::Empty));
        assert_eq!(
            Topic::new("a..b"),
            Err(TopicError::EmptySegment { index: 1 })
        );
        assert_eq!(Topic::new(".a"), Err(TopicError::EmptySegment { index: 0 }));
        assert_eq!(Topic::new("a."), Err(TopicError::EmptySegment { index: 1 }));
        assert_eq!(Topic::new("a.*"), Err(TopicError::Wildcard { index: 1 }));
        assert_eq!(Topic::new("a.b>"), Err(TopicError::Wildcard { index: 1 }));
        assert_eq!(Topic::new("a b"), Err(TopicError::BadCharacter { at: 1 }));
        assert_eq!(Topic::new("a\tb"), Err(TopicError::BadCharacter { at: 1 }));
        assert_eq!(Topic::new("a\nb"), Err(TopicError::BadCharacter { at: 1 }));
        assert_eq!(Topic::new("é"), Err(TopicError::BadCharacter { at: 0 }));
        let long = "a".repeat(5000);
        assert_eq!(Topic::new(&long), Err(TopicError::TooLong { len: 5000 }));
        let max = "a".repeat(MAX_ARG_BYTES);
        assert!(Topic::new(&max).is_ok());
        assert!(Frame::empty(Verb::Unsub, &max).is_ok());
    }

    #[test]
    fn patterns_are_validated_for_the_wire_only() {
        assert!(Pattern::new("a..b").is_ok());
        assert!(Pattern::new(">").is_ok());
        assert_eq!(Pattern::new(""), Err(TopicError::Empty));
        assert_eq!(Pattern::new("a b"), Err(TopicError::BadCharacter { at: 1 }));
        assert!(Pattern::new("system.*.health")
            .unwrap_or_else(|e| panic!("{e}"))
            .matches("system.bus.health"));
    }
}
