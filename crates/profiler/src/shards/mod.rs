//! Safe shard access under the artifacts root (contracts.md §4.3/§4.4).
//!
//! Names are validated before they touch a path; a shard is used only if
//! its canonical path is `{root}/{decky}/{service}/transcripts/sessions-
//! YYYY-MM-DD.jsonl` inside the canonical root (a symlinked directory or
//! shard file pointing elsewhere is refused); a `shard_path` from a payload
//! is accepted only if it resolves to exactly such a file.

pub mod index;
pub mod watch;

use std::path::{Path, PathBuf};

pub use index::{SessionRead, ShardCache};

/// Why a shard could not be used. Fixed reasons: no content, no paths
/// beyond those we built from validated names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("invalid decky name")]
    BadDecky,
    #[error("invalid service name")]
    BadService,
    #[error("invalid sid")]
    BadSid,
    #[error("artifacts root is not accessible")]
    Root,
    #[error("transcripts directory missing or outside the artifacts root")]
    Dir,
    #[error("shard path rejected (outside the root, symlink escape or bad name)")]
    Escape,
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`
pub fn valid_decky(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// `^(ssh|telnet)$`
pub fn valid_service(s: &str) -> bool {
    s == "ssh" || s == "telnet"
}

/// 36 lowercase hex-and-hyphen characters (the daemon's rule; `extract`
/// accepts any non-empty sid).
pub fn valid_sid(s: &str) -> bool {
    s.len() == 36
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c) || c == b'-')
}

/// `^sessions-[0-9]{4}-[0-9]{2}-[0-9]{2}\.jsonl$`; returns the date part.
pub fn shard_date(name: &str) -> Option<&str> {
    let date = name.strip_prefix("sessions-")?.strip_suffix(".jsonl")?;
    let b = date.as_bytes();
    let ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    ok.then_some(date)
}

/// The artifacts root, canonicalised once per lookup (it may be created
/// after start).
#[derive(Debug, Clone)]
pub struct ArtifactsRoot {
    configured: PathBuf,
}

/// A shard proven to lie inside the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShardPath {
    /// Canonical path of the file.
    pub path: PathBuf,
    pub decky: String,
    pub service: String,
    /// `sessions-YYYY-MM-DD.jsonl`
    pub name: String,
}

impl ShardPath {
    /// `shard:{decky}/{service}/{name}#{sid}` (contracts.md §6.1).
    pub fn evidence_ref(&self, sid: &str) -> String {
        format!("shard:{}/{}/{}#{sid}", self.decky, self.service, self.name)
    }
}

impl ArtifactsRoot {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ArtifactsRoot {
            configured: root.into(),
        }
    }

    pub fn configured(&self) -> &Path {
        &self.configured
    }

    fn canonical_root(&self) -> Result<PathBuf, PathError> {
        std::fs::canonicalize(&self.configured).map_err(|_| PathError::Root)
    }

    /// The canonical transcripts directory of (decky, service), strictly
    /// inside the root.
    pub fn transcripts_dir(&self, decky: &str, service: &str) -> Result<PathBuf, PathError> {
        if !valid_decky(decky) {
            return Err(PathError::BadDecky);
        }
        if !valid_service(service) {
            return Err(PathError::BadService);
        }
        let root = self.canonical_root()?;
        let dir = std::fs::canonicalize(root.join(decky).join(service).join("transcripts"))
            .map_err(|_| PathError::Dir)?;
        if dir == root || !dir.starts_with(&root) {
            return Err(PathError::Dir);
        }
        Ok(dir)
    }

    /// Checks one named shard: valid name, regular file, and its canonical
    /// path is exactly `dir/name` (a symlinked shard is refused).
    pub fn shard(&self, decky: &str, service: &str, name: &str) -> Result<ShardPath, PathError> {
        let dir = self.transcripts_dir(decky, service)?;
        if shard_date(name).is_none() {
            return Err(PathError::Escape);
        }
        let expect = dir.join(name);
        let real = std::fs::canonicalize(&expect).map_err(|_| PathError::Escape)?;
        if real != expect || !real.is_file() {
            return Err(PathError::Escape);
        }
        Ok(ShardPath {
            path: real,
            decky: decky.to_string(),
            service: service.to_string(),
            name: name.to_string(),
        })
    }

    /// A `shard_path` from a payload: accepted only if it resolves to a
    /// shard of exactly this (decky, service) inside the root.
    pub fn accept_payload_path(
        &self,
        decky: &str,
        service: &str,
        given: &Path,
    ) -> Result<ShardPath, PathError> {
        let name = given
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or(PathError::Escape)?;
        let shard = self.shard(decky, service, name)?;
        let real = std::fs::canonicalize(given).map_err(|_| PathError::Escape)?;
        if real != shard.path {
            return Err(PathError::Escape);
        }
        Ok(shard)
    }

    /// Every valid shard of (decky, service), newest first. Symlinked
    /// shards are left out.
    pub fn list_shards(&self, decky: &str, service: &str) -> Result<Vec<ShardPath>, PathError> {
        let dir = self.transcripts_dir(decky, service)?;
        let rd = std::fs::read_dir(&dir).map_err(|_| PathError::Dir)?;
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| shard_date(n).is_some())
            .collect();
        names.sort_unstable_by(|a, b| b.cmp(a));
        Ok(names
            .into_iter()
            .filter_map(|n| self.shard(decky, service, &n).ok())
            .collect())
    }

    /// Every (decky, service) pair with a transcripts directory.
    pub fn deckies(&self) -> Result<Vec<(String, String)>, PathError> {
        let root = self.canonical_root()?;
        let mut out = Vec::new();
        let rd = std::fs::read_dir(&root).map_err(|_| PathError::Root)?;
        let mut deckies: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| valid_decky(n))
            .collect();
        deckies.sort();
        for d in deckies {
            for s in ["ssh", "telnet"] {
                if self.transcripts_dir(&d, s).is_ok() {
                    out.push((d.clone(), s.to_string()));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(valid_decky("decky-01"));
        assert!(!valid_decky("-x"));
        assert!(!valid_decky("../etc"));
        assert!(!valid_decky("Decky"));
        assert!(!valid_decky(&"a".repeat(64)));
        assert!(valid_service("telnet") && !valid_service("sessrec"));
        assert!(valid_sid("11111111-2222-4333-8444-555555555555"));
        assert!(!valid_sid("11111111-2222-4333-8444-55555555555A"));
        assert_eq!(shard_date("sessions-2026-05-02.jsonl"), Some("2026-05-02"));
        assert_eq!(shard_date("sessions-2026-05-02-new.jsonl"), None);
        assert_eq!(shard_date("sessions-2026-٠5-02.jsonl"), None);
    }
}
