//! Where log lines go: the journal with structured fields, or plain stderr.
//!
//! Under systemd, stderr is connected to the journal and `$JOURNAL_STREAM`
//! holds that stream's `device:inode`. When it matches our stderr we log
//! through journald's native protocol instead, so every field becomes a
//! journal field and `journalctl -u decnet-profiler SID=<sid>` tells one
//! session's story. The field prefix is turned off: tracing-journald would
//! otherwise write `F_SID`. Anywhere else (a terminal, a pipe, CI) the lines
//! are human-readable text on stderr.
//!
//! Field names (see [`fields`]) are lowercase in the code and arrive
//! upper-cased in the journal. Only identifiers, counts and fixed reasons are
//! ever logged: never keystrokes, command or output text, or passwords.

use std::io;
use std::os::unix::fs::MetadataExt;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The structured fields a session's log lines carry, as written in
/// `tracing` macros; journald shows them upper-cased (`SID`, `DECKY`, …).
pub mod fields {
    /// The session id (uuid).
    pub const SID: &str = "sid";
    /// The decky the session was recorded on.
    pub const DECKY: &str = "decky";
    /// `ssh` or `telnet`.
    pub const SERVICE: &str = "service";
    /// `shard:{decky}/{service}/{shard}#{sid}`: the idempotency key.
    pub const EVIDENCE_REF: &str = "evidence_ref";
    /// What happened to the session: stored, skipped, deferred, refused, …
    pub const OUTCOME: &str = "outcome";
    /// How long the handling took.
    pub const DURATION_MS: &str = "duration_ms";
    /// All of them, in the order above.
    pub const ALL: [&str; 6] = [SID, DECKY, SERVICE, EVIDENCE_REF, OUTCOME, DURATION_MS];
}

/// `$JOURNAL_STREAM`, set by systemd when stdout/stderr go to the journal.
pub const JOURNAL_STREAM_ENV: &str = "JOURNAL_STREAM";
/// The identifier journald files our lines under (`journalctl -t`).
pub const SYSLOG_IDENTIFIER: &str = "decnet-profiler";

/// Which sink was chosen; returned so `run` can say it once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSink {
    /// journald's native protocol, structured fields.
    Journald,
    /// Text on stderr.
    Stderr,
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The level / filter directive does not parse.
    #[error("invalid log filter `{directive}`: {reason}")]
    Filter { directive: String, reason: String },
    /// A global subscriber was already installed.
    #[error("logging already initialised")]
    AlreadySet,
}

/// Installs the global subscriber. `directive` is a tracing filter such as
/// `info` or `decnet_profiler=debug`; `$RUST_LOG`, when set, wins.
pub fn init(directive: &str) -> Result<LogSink, LoggingError> {
    let filter = build_filter(directive)?;
    if stderr_is_journal() {
        match tracing_journald::layer() {
            Ok(journald) => {
                let layer = journald
                    .with_field_prefix(None)
                    .with_syslog_identifier(SYSLOG_IDENTIFIER.to_owned());
                tracing_subscriber::registry()
                    .with(layer.with_filter(filter))
                    .try_init()
                    .map_err(|_| LoggingError::AlreadySet)?;
                return Ok(LogSink::Journald);
            }
            Err(err) => {
                // Journal socket unusable: fall back to stderr, which the
                // journal still captures (without structured fields).
                init_stderr(build_filter(directive)?)?;
                tracing::warn!(error = %err, "journald socket unusable; logging to stderr");
                return Ok(LogSink::Stderr);
            }
        }
    }
    init_stderr(filter)?;
    Ok(LogSink::Stderr)
}

fn init_stderr(filter: EnvFilter) -> Result<(), LoggingError> {
    use std::io::IsTerminal;
    // Colour only on a terminal: files and the journal get plain text.
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_target(false);
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .try_init()
        .map_err(|_| LoggingError::AlreadySet)
}

fn build_filter(directive: &str) -> Result<EnvFilter, LoggingError> {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let directive = from_env.as_deref().unwrap_or(directive);
    EnvFilter::try_new(directive).map_err(|e| LoggingError::Filter {
        directive: directive.to_owned(),
        reason: e.to_string(),
    })
}

/// Whether our stderr is the stream named by `$JOURNAL_STREAM`.
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os(JOURNAL_STREAM_ENV) else {
        return false;
    };
    let Some((dev, ino)) = stderr_identity() else {
        return false;
    };
    journal_stream_matches(&value.to_string_lossy(), dev, ino)
}

/// `device:inode` of file descriptor 2, if it is open.
fn stderr_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    let fd = io::stderr().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Parses `$JOURNAL_STREAM` (`<dev>:<inode>`, decimal) and compares it with
/// a file's identity. Any malformed value means "not the journal".
pub fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    matches!((d.parse::<u64>(), i.parse::<u64>()), (Ok(d), Ok(i)) if d == dev && i == ino)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing::Subscriber;
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;

    #[test]
    fn journal_stream_must_match_dev_and_inode() {
        assert!(journal_stream_matches("64769:1234", 64769, 1234));
        assert!(journal_stream_matches(" 1:2\n", 1, 2));
        assert!(!journal_stream_matches("64769:1235", 64769, 1234));
        assert!(!journal_stream_matches("64768:1234", 64769, 1234));
        assert!(!journal_stream_matches("", 1, 2));
        assert!(!journal_stream_matches("1-2", 1, 2));
        assert!(!journal_stream_matches("a:b", 1, 2));
    }

    #[test]
    fn a_file_is_recognised_by_its_identity() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let m = f.as_file().metadata().unwrap();
        let value = format!("{}:{}", m.dev(), m.ino());
        assert!(journal_stream_matches(&value, m.dev(), m.ino()));
        let other = tempfile::NamedTempFile::new().unwrap();
        let o = other.as_file().metadata().unwrap();
        assert!(!journal_stream_matches(&value, o.dev(), o.ino()));
    }

    /// Captures field names and values the way tracing-journald sees them:
    /// span fields first, then the event's.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

    struct Fields(BTreeMap<String, String>);
    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }
    struct SpanFields(BTreeMap<String, String>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: Context<'_, S>,
        ) {
            let mut f = Fields(BTreeMap::new());
            attrs.record(&mut f);
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(SpanFields(f.0));
            }
        }
        fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
            let mut all = BTreeMap::new();
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope.from_root() {
                    if let Some(f) = span.extensions().get::<SpanFields>() {
                        all.extend(f.0.clone());
                    }
                }
            }
            let mut f = Fields(BTreeMap::new());
            event.record(&mut f);
            all.extend(f.0);
            self.0.lock().unwrap().push(all);
        }
    }

    /// journald's name mangling (tracing-journald `sanitize_name`), so the
    /// test states what `journalctl` will show.
    fn journald_name(name: &str) -> String {
        name.bytes()
            .map(|c| if c == b'.' { b'_' } else { c })
            .skip_while(|&c| c == b'_')
            .filter(|&c| c == b'_' || c.is_ascii_alphanumeric())
            .map(|c| char::from(c.to_ascii_uppercase()))
            .collect()
    }

    #[test]
    fn session_fields_arrive_under_their_journal_names() {
        let cap = Capture::default();
        let subscriber = tracing_subscriber::registry().with(cap.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "session",
                sid = "11111111-2222-4333-8444-555555555555",
                decky = "decky-01",
                service = "ssh"
            );
            let _g = span.enter();
            tracing::info!(
                evidence_ref = "shard:decky-01/ssh/sessions-2026-05-08.jsonl#11111111-2222-4333-8444-555555555555",
                outcome = "stored",
                duration_ms = 12u64,
                "session profiled"
            );
        });
        let events = cap.0.lock().unwrap();
        assert_eq!(events.len(), 1);
        let journal: BTreeMap<String, String> = events[0]
            .iter()
            .map(|(k, v)| (journald_name(k), v.clone()))
            .collect();
        for want in [
            "SID",
            "DECKY",
            "SERVICE",
            "EVIDENCE_REF",
            "OUTCOME",
            "DURATION_MS",
        ] {
            assert!(journal.contains_key(want), "missing {want}: {journal:?}");
        }
        assert_eq!(journal["SID"], "11111111-2222-4333-8444-555555555555");
        assert_eq!(journal["OUTCOME"], "stored");
        assert_eq!(journal["DURATION_MS"], "12");
        assert_eq!(
            fields::ALL.map(journald_name),
            [
                "SID",
                "DECKY",
                "SERVICE",
                "EVIDENCE_REF",
                "OUTCOME",
                "DURATION_MS"
            ]
        );
    }
}
