//! The daemon's payload validation and shard location over hostile input.
//!
//! Three modes, chosen by the first byte:
//! * raw bytes as a poll row's `fields` JSON (and as the decky / service /
//!   attacker columns) through `session_from_row` and `Handler::validate`;
//! * raw bytes as an `attacker.session.ended` body: parsed as JSON the way
//!   the bus client hands it over, then `trigger::bus::session_from_payload`,
//!   `Handler::validate`, `ArtifactsRoot::shard` and, for a `shard_path`,
//!   `accept_payload_path` (wrong JSON types, absurd lengths, traversal);
//! * a structured session.ended payload whose decky, service, sid and
//!   `shard_path` are built from path pieces (`..`, `.`, `/`, symlinks out
//!   of the root, the real shard name, arbitrary strings) through
//!   `Handler::validate`, `ArtifactsRoot::accept_payload_path` and
//!   `ArtifactsRoot::shard`.
//!
//! Property, besides "never panics": whatever the input, a shard the root
//! hands out is a regular file (not a symlink) whose canonical path lies
//! strictly inside the canonical root, under `{decky}/{service}/transcripts`
//! with a valid decky and service and a `sessions-YYYY-MM-DD.jsonl` name.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use decnet_profiler::handler::{Handler, SessionRef};
use decnet_profiler::shards::{shard_date, valid_decky, valid_service, ArtifactsRoot, ShardPath};
use decnet_profiler::store::LogRow;
use decnet_profiler::trigger::bus::session_from_payload;
use decnet_profiler::trigger::poll::session_from_row;
use libfuzzer_sys::fuzz_target;

const SHARD: &str = "sessions-2026-05-02.jsonl";

struct Fixture {
    base: PathBuf,
    root: ArtifactsRoot,
    canon_root: PathBuf,
}

/// root/decky-a/ssh/transcripts/<SHARD> (real), root/decky-evil: a shard
/// symlinked to outside/, root/decky-evil2/ssh/transcripts: a directory
/// symlinked to outside/, root/decky-b/ssh/transcripts/<SHARD> a symlink to
/// decky-a's shard (inside, but still a symlink).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("fuzz-payload-{}", std::process::id()));
        let root = base.join("root");
        let outside = base.join("outside");
        let mk = |p: &Path| std::fs::create_dir_all(p).expect("fixture dir");
        mk(&root.join("decky-a/ssh/transcripts"));
        mk(&root.join("decky-evil/ssh/transcripts"));
        mk(&root.join("decky-evil2/ssh"));
        mk(&root.join("decky-b/ssh/transcripts"));
        mk(&outside.join("transcripts"));
        std::fs::write(root.join("decky-a/ssh/transcripts").join(SHARD), b"{}\n").expect("shard");
        std::fs::write(outside.join(SHARD), b"{}\n").expect("outside");
        std::fs::write(outside.join("transcripts").join(SHARD), b"{}\n").expect("outside");
        let link = |t: &Path, l: &Path| {
            let _ = std::fs::remove_file(l);
            std::os::unix::fs::symlink(t, l).expect("symlink");
        };
        link(
            &outside.join(SHARD),
            &root.join("decky-evil/ssh/transcripts").join(SHARD),
        );
        link(
            &outside.join("transcripts"),
            &root.join("decky-evil2/ssh/transcripts"),
        );
        link(
            &root.join("decky-a/ssh/transcripts").join(SHARD),
            &root.join("decky-b/ssh/transcripts").join(SHARD),
        );
        let canon_root = std::fs::canonicalize(&root).expect("root");
        Fixture {
            base,
            root: ArtifactsRoot::new(root),
            canon_root,
        }
    })
}

fn check(f: &Fixture, decky: &str, service: &str, got: &ShardPath) {
    assert!(valid_decky(&got.decky) && valid_service(&got.service));
    assert_eq!(got.decky, decky);
    assert_eq!(got.service, service);
    assert!(shard_date(&got.name).is_some());
    assert!(got.path.starts_with(&f.canon_root) && got.path != f.canon_root);
    let meta = std::fs::symlink_metadata(&got.path).expect("accepted shard exists");
    assert!(meta.file_type().is_file(), "accepted a symlink or non-file");
    assert_eq!(
        got.path,
        f.canon_root
            .join(decky)
            .join(service)
            .join("transcripts")
            .join(&got.name),
        "accepted shard not at its canonical place"
    );
    assert!(!got.path.starts_with(f.base.join("outside")));
    // Only decky-a holds a real shard.
    assert_eq!(decky, "decky-a", "accepted a shard outside decky-a");
}

#[derive(Debug)]
enum Piece {
    DotDot,
    Dot,
    Slash,
    Name(usize),
    Text(String),
    RootAbs,
    BaseAbs,
}

const NAMES: &[&str] = &[
    "decky-a",
    "decky-b",
    "decky-evil",
    "decky-evil2",
    "ssh",
    "telnet",
    "transcripts",
    SHARD,
    "outside",
    "root",
    "sessions-2026-05-03.jsonl",
    "sessions-2026-05-02.jsonl.bak",
    "etc",
    "passwd",
    "DECKY-A",
    "decky-a\0",
    "",
];

impl<'a> Arbitrary<'a> for Piece {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=9)? {
            0 | 1 => Piece::DotDot,
            2 => Piece::Dot,
            3 => Piece::Slash,
            4..=6 => Piece::Name(u.choose_index(NAMES.len())?),
            7 => Piece::Text(u.arbitrary()?),
            8 => Piece::RootAbs,
            _ => Piece::BaseAbs,
        })
    }
}

#[derive(Debug, Arbitrary)]
struct Payload {
    decky: Vec<Piece>,
    service: Vec<Piece>,
    sid: Vec<Piece>,
    shard_path: Option<Vec<Piece>>,
}

fn join(f: &Fixture, pieces: &[Piece], sep: bool) -> String {
    let mut s = String::new();
    for (i, p) in pieces.iter().enumerate() {
        if sep && i > 0 && !matches!(p, Piece::Slash) {
            s.push('/');
        }
        match p {
            Piece::DotDot => s.push_str(".."),
            Piece::Dot => s.push('.'),
            Piece::Slash => s.push('/'),
            Piece::Name(k) => s.push_str(NAMES[*k]),
            Piece::Text(t) => s.push_str(t),
            Piece::RootAbs => s.push_str(&f.root.configured().display().to_string()),
            Piece::BaseAbs => s.push_str(&f.base.display().to_string()),
        }
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        // Poll row: `fields` is the raw bytes; the columns are slices of it.
        let text = String::from_utf8_lossy(rest).into_owned();
        let cut = text
            .char_indices()
            .nth(usize::from(mode >> 1) % 40)
            .map_or(text.len(), |(i, _)| i);
        let row = LogRow {
            id: 1,
            decky: text[..cut].to_owned(),
            service: "sessrec".into(),
            attacker_ip: "203.0.113.7".into(),
            fields: text.clone(),
        };
        if let Some(s) = session_from_row(&row) {
            if Handler::validate(&s).is_ok() {
                if let Ok(got) = f.root.shard(&s.decky, &s.service, SHARD) {
                    check(f, &s.decky, &s.service, &got);
                }
            }
        }
        return;
    }
    if mode & 2 == 0 {
        bus_payload(f, rest);
        return;
    }
    let Ok(p) = Payload::arbitrary_take_rest(Unstructured::new(rest)) else {
        return;
    };
    let s = SessionRef {
        sid: join(f, &p.sid, false),
        decky: join(f, &p.decky, false),
        service: join(f, &p.service, false),
        attacker_ip: "203.0.113.7".into(),
        shard_path: p
            .shard_path
            .as_ref()
            .map(|sp| PathBuf::from(join(f, sp, true))),
    };
    // The root must refuse bad names on its own, validated or not.
    if let Ok(got) = f.root.shard(&s.decky, &s.service, SHARD) {
        check(f, &s.decky, &s.service, &got);
    }
    if let Some(sp) = &s.shard_path {
        if let Ok(got) = f.root.accept_payload_path(&s.decky, &s.service, sp) {
            check(f, &s.decky, &s.service, &got);
        }
    }
    if let Ok(list) = f.root.list_shards(&s.decky, &s.service) {
        for got in &list {
            check(f, &s.decky, &s.service, got);
        }
    }
    let _ = Handler::validate(&s);
});

/// A session.ended body straight off the wire.
fn bus_payload(f: &Fixture, body: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let Ok(s) = session_from_payload(&value) else {
        assert!(!value.is_object(), "an object payload was refused");
        return;
    };
    if Handler::validate(&s).is_err() {
        return;
    }
    if let Ok(got) = f.root.shard(&s.decky, &s.service, SHARD) {
        check(f, &s.decky, &s.service, &got);
    }
    if let Some(sp) = &s.shard_path {
        if let Ok(got) = f.root.accept_payload_path(&s.decky, &s.service, sp) {
            check(f, &s.decky, &s.service, &got);
        }
    }
}
