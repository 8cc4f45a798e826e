//! Where the prerequisites come from, and what a missing one means.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `CI=true` (or `1`): a missing prerequisite fails instead of skipping.
pub fn is_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// `Some(v)` passes through; `None` panics in CI, else prints a skip line.
pub fn require<T>(v: Option<T>, what: &str) -> Option<T> {
    if v.is_none() {
        if is_ci() {
            panic!("prerequisite missing in CI: {what}");
        }
        eprintln!("SKIP: {what}");
    }
    v
}

/// The repository root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// `../shared` beside the repository, or `$DECNET_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("DECNET_SHARED_DIR") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("..").join("shared"),
    }
}

/// `tests/py/<name>`.
pub fn py_script(name: &str) -> PathBuf {
    workspace_root().join("tests").join("py").join(name)
}

/// The python that runs DECNET's bus (`$DECNET_BUS_PYTHON`), if it imports
/// `decnet.bus.unix_server` and `orjson`.
pub fn bus_python() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var_os("DECNET_BUS_PYTHON").filter(|v| !v.is_empty())?);
    let ok = Command::new(&p)
        .args([
            "-c",
            "import orjson, decnet.bus.unix_server, decnet.bus.unix_client",
        ])
        .env("DECNET_CONFIG", "/nonexistent")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("DECNET_BUS_PYTHON={} cannot import decnet.bus", p.display());
        return None;
    }
    Some(p)
}
