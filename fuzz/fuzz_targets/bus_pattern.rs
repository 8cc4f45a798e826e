//! Pattern matching and topic validation over arbitrary strings: never
//! panic, and a valid publish topic always matches itself and `>`.
#![no_main]

use decnet_bus::{matches, Pattern, Topic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (pattern, topic) = text.split_once('\u{0}').unwrap_or((text, text));
    let _ = matches(pattern, topic);
    let _ = Pattern::new(pattern);
    if let Ok(t) = Topic::new(topic) {
        assert!(matches(t.as_str(), t.as_str()));
        assert!(matches(">", t.as_str()));
    }
});
