//! DECNET's real bus server (`decnet==1.0.0`, contracts.md Appendix A) as a
//! child process on a socket in a temporary directory.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::env::py_script;
use crate::wait;

/// A running (or stopped) Python bus server.
pub struct PyBus {
    python: PathBuf,
    dir: tempfile::TempDir,
    socket: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl PyBus {
    /// Starts the server and waits for its socket.
    pub fn start(python: &Path) -> Result<Self, String> {
        let mut bus = Self::unstarted(python)?;
        bus.spawn()?;
        Ok(bus)
    }

    /// Picks the socket path without starting the server (a daemon can be
    /// started before its bus); [`PyBus::restart`] starts it.
    pub fn unstarted(python: &Path) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("e2e-bus")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let socket = dir.path().join("bus.sock");
        let bus = PyBus {
            python: python.to_path_buf(),
            dir,
            socket,
            child: None,
            starts: 0,
        };
        Ok(bus)
    }

    fn spawn(&mut self) -> Result<(), String> {
        self.starts += 1;
        let log = File::create(self.dir.path().join(format!("bus-{}.log", self.starts)))
            .map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&self.python)
            .arg(py_script("bus_server.py"))
            .arg(&self.socket)
            .arg("2")
            .env("DECNET_CONFIG", "/nonexistent")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("spawning the bus: {e}"))?;
        self.child = Some(child);
        let socket = self.socket.clone();
        wait::until(Duration::from_secs(15), Duration::from_millis(20), || {
            std::os::unix::net::UnixStream::connect(&socket).ok()
        })
        .ok_or_else(|| format!("bus socket never accepted connections: {}", self.log()))?;
        Ok(())
    }

    /// The socket path (`DECNET_BUS_SOCKET`).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A scratch directory that lives as long as the bus.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// SIGKILL, as a crash would: the socket file stays behind.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM: DECNET's clean shutdown (socket unlinked).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let done = wait::until(Duration::from_secs(10), Duration::from_millis(20), || {
                c.try_wait().ok().flatten()
            });
            if done.is_none() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// Starts the server again on the same socket path.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    /// The server's output so far (all runs).
    pub fn log(&self) -> String {
        let mut out = String::new();
        for i in 1..=self.starts {
            if let Ok(s) = std::fs::read_to_string(self.dir.path().join(format!("bus-{i}.log"))) {
                out.push_str(&s);
            }
        }
        out
    }
}

impl Drop for PyBus {
    fn drop(&mut self) {
        self.kill();
    }
}
