//! The `decnet-profiler` binary, run as a process the way systemd runs it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::env::workspace_root;
use crate::wait;

/// `$DECNET_PROFILER_BIN`, else the newest of
/// `{$CARGO_TARGET_DIR,<repo>/target}/{debug,release}/decnet-profiler`.
/// (`CARGO_BIN_EXE_*` exists only inside the binary's own package; build
/// it first: `cargo build -p decnet-profiler`.)
pub fn profiler_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DECNET_PROFILER_BIN").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let mut dirs = Vec::new();
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(t));
    }
    dirs.push(workspace_root().join("target"));
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for d in dirs {
        for profile in ["debug", "release"] {
            let p = d.join(profile).join("decnet-profiler");
            if let Ok(m) = std::fs::metadata(&p) {
                let t = m.modified().unwrap_or(std::time::UNIX_EPOCH);
                let newer = match &best {
                    Some((bt, _)) => t > *bt,
                    None => true,
                };
                if newer {
                    best = Some((t, p));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// A running daemon; its stderr goes to a file.
pub struct Daemon {
    child: Option<Child>,
    log: PathBuf,
    status: Option<ExitStatus>,
}

impl Daemon {
    /// `bin run --config <config>` with a clean environment plus `env`.
    pub fn run(
        bin: &Path,
        config: &Path,
        env: &[(&str, String)],
        log: PathBuf,
    ) -> Result<Self, String> {
        let mut cmd = Command::new(bin);
        cmd.arg("run").arg("--config").arg(config);
        Self::spawn(cmd, env, log)
    }

    /// Spawns any command line (e.g. the binary under `unshare`) with a
    /// clean environment (PATH only) plus `env`, stderr and stdout to `log`.
    pub fn spawn(mut cmd: Command, env: &[(&str, String)], log: PathBuf) -> Result<Self, String> {
        let file = File::create(&log).map_err(|e| e.to_string())?;
        let file2 = file.try_clone().map_err(|e| e.to_string())?;
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DECNET_CONFIG", "/nonexistent");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2)
            .spawn()
            .map_err(|e| format!("spawning the daemon: {e}"))?;
        Ok(Daemon {
            child: Some(child),
            log,
            status: None,
        })
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything the daemon wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Path of the log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Waits for the daemon to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(s) = self.status {
            return Some(s);
        }
        let child = self.child.as_mut()?;
        let s = wait::until(timeout, Duration::from_millis(20), || {
            child.try_wait().ok().flatten()
        })?;
        self.status = Some(s);
        Some(s)
    }

    /// SIGTERM, then waits up to `timeout` (SIGKILL after that).
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let s = self.wait_exit(timeout);
        if s.is_none() {
            self.kill();
        }
        s
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            if let Ok(s) = c.wait() {
                self.status = Some(s);
            }
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.status.is_none() {
            self.kill();
        }
    }
}
