//! DECNET's own Python client as the other end of the bus: a publisher of
//! `attacker.session.ended` and a subscriber recording what we announce.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::env::py_script;
use crate::wait;

/// Publishes `events` (`{"topic","type","payload"}` objects) with DECNET's
/// client, `delay_ms` apart. Returns each event's send time (epoch seconds).
pub fn publish(
    python: &Path,
    socket: &Path,
    events: &[Value],
    delay_ms: u64,
) -> Result<Vec<f64>, String> {
    let mut child = Command::new(python)
        .arg(py_script("bus_publish.py"))
        .arg(socket)
        .arg("--delay-ms")
        .arg(delay_ms.to_string())
        .env("DECNET_CONFIG", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning the publisher: {e}"))?;
    {
        let mut stdin = child.stdin.take().ok_or("publisher has no stdin")?;
        for ev in events {
            writeln!(stdin, "{ev}").map_err(|e| format!("feeding the publisher: {e}"))?;
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for the publisher: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "publisher failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut sent = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(t) = v.get("sent_at").and_then(Value::as_f64) {
                sent.push(t);
            }
        }
    }
    if sent.len() != events.len() {
        return Err(format!("publisher sent {} of {}", sent.len(), events.len()));
    }
    Ok(sent)
}

/// A Python subscriber writing every matching event to a JSON-lines file.
/// It reconnects by itself when the bus restarts.
pub struct Subscriber {
    child: Child,
    out: PathBuf,
    ready: mpsc::Receiver<()>,
}

impl Subscriber {
    /// Starts it and waits until it has subscribed.
    pub fn start(
        python: &Path,
        socket: &Path,
        pattern: &str,
        out: PathBuf,
    ) -> Result<Self, String> {
        File::create(&out).map_err(|e| e.to_string())?;
        let mut child = Command::new(python)
            .arg(py_script("bus_subscribe.py"))
            .arg(socket)
            .arg(pattern)
            .arg(&out)
            .env("DECNET_CONFIG", "/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawning the subscriber: {e}"))?;
        let stdout = child.stdout.take().ok_or("subscriber has no stdout")?;
        let (tx, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) if l.trim() == "READY" => {
                        if tx.send(()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        let sub = Subscriber { child, out, ready };
        sub.wait_ready(Duration::from_secs(15))?;
        Ok(sub)
    }

    /// Waits for the next READY (first subscription or a resubscription).
    pub fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        self.ready
            .recv_timeout(timeout)
            .map_err(|_| "subscriber never became ready".to_string())
    }

    /// Every event received so far.
    pub fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until at least `n` events arrived, then a quiet `settle` with
    /// no more; returns them all.
    pub fn wait_for(&self, n: usize, timeout: Duration, settle: Duration) -> Vec<Value> {
        let _ = wait::until(timeout, Duration::from_millis(50), || {
            (self.events().len() >= n).then_some(())
        });
        let mut last = self.events().len();
        loop {
            std::thread::sleep(settle);
            let now = self.events().len();
            if now == last {
                return self.events();
            }
            last = now;
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
