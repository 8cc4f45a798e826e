//! Where the bus socket lives, resolved like DECNET
//! (`decnet/bus/factory.py:54-67`, contracts §1.1).

use std::path::{Path, PathBuf};

/// Environment variable naming the socket explicitly.
pub const SOCKET_ENV: &str = "DECNET_BUS_SOCKET";
/// Runtime directory systemd creates for the bus (`RuntimeDirectory=decnet`).
pub const RUNTIME_DIR: &str = "/run/decnet";

/// `$DECNET_BUS_SOCKET` if non-empty, else `/run/decnet/bus.sock` when
/// `/run/decnet` is a directory writable by this process, else
/// `~/.decnet/bus.sock`.
///
/// Same pitfall as DECNET: a client running as another user than the bus
/// falls back to the home path and never connects; the binary's connect error
/// names the path so an operator sees it.
pub fn resolve() -> PathBuf {
    resolve_with(
        std::env::var_os(SOCKET_ENV).map(PathBuf::from),
        Path::new(RUNTIME_DIR),
        home(),
    )
}

fn home() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h),
        #[allow(deprecated)]
        None => std::env::home_dir().unwrap_or_else(|| PathBuf::from("~")),
    }
}

fn writable_dir(dir: &Path) -> bool {
    dir.is_dir() && rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok()
}

pub(crate) fn resolve_with(
    explicit: Option<PathBuf>,
    runtime_dir: &Path,
    home: PathBuf,
) -> PathBuf {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return p;
    }
    if writable_dir(runtime_dir) {
        return runtime_dir.join("bus.sock");
    }
    home.join(".decnet").join("bus.sock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_wins_unless_empty() {
        let home = PathBuf::from("/home/x");
        let missing = Path::new("/nonexistent/decnet");
        assert_eq!(
            resolve_with(Some("/tmp/b.sock".into()), missing, home.clone()),
            PathBuf::from("/tmp/b.sock")
        );
        assert_eq!(
            resolve_with(Some("".into()), missing, home.clone()),
            PathBuf::from("/home/x/.decnet/bus.sock")
        );
        assert_eq!(
            resolve_with(None, missing, home),
            PathBuf::from("/home/x/.decnet/bus.sock")
        );
    }

    #[test]
    fn writable_runtime_dir_is_used() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(
            resolve_with(None, dir.path(), PathBuf::from("/home/x")),
            dir.path().join("bus.sock")
        );
        // A file is not a directory.
        let file = dir.path().join("f");
        std::fs::write(&file, b"")?;
        assert_eq!(
            resolve_with(None, &file, PathBuf::from("/home/x")),
            PathBuf::from("/home/x/.decnet/bus.sock")
        );
        Ok(())
    }
}
