//! Stand-ins for what systemd gives a service: the `$NOTIFY_SOCKET` datagram
//! socket, and the journal's native socket with `$JOURNAL_STREAM`.
//!
//! tracing-journald always sends to `/run/systemd/journal/socket`. To catch
//! those datagrams without a journald (and without touching the host), the
//! daemon runs in a private mount namespace (`unshare -m`) where a tmpfs
//! covers `/run/systemd` and our temporary directory is bind-mounted on
//! `/run/systemd/journal`; the socket we bound there receives its lines.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Collects every datagram sent to a socket in a temporary directory.
pub struct DatagramSink {
    dir: tempfile::TempDir,
    path: PathBuf,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl DatagramSink {
    /// Binds `<tmp>/<name>` and starts collecting.
    pub fn bind(name: &str) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("e2e-sock")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let path = dir.path().join(name);
        let sock = UnixDatagram::bind(&path).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&got);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match sock.recv(&mut buf) {
                    Ok(n) => match sink.lock() {
                        Ok(mut g) => g.push(buf[..n].to_vec()),
                        Err(_) => return,
                    },
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        // Stop once the sink is gone (only our clone left).
                        if Arc::strong_count(&sink) == 1 {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        Ok(DatagramSink { dir, path, got })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Datagrams received so far.
    pub fn datagrams(&self) -> Vec<Vec<u8>> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Datagrams as text (sd_notify messages are ASCII).
    pub fn messages(&self) -> Vec<String> {
        self.datagrams()
            .into_iter()
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .collect()
    }
}

/// Parses one journal native-protocol datagram: `KEY=value\n` lines, or
/// `KEY\n<u64 LE length><bytes>\n` for values that may hold newlines.
pub fn parse_journal_entry(mut d: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    while !d.is_empty() {
        let Some(nl) = d.iter().position(|&b| b == b'\n') else {
            break;
        };
        let head = &d[..nl];
        if let Some(eq) = head.iter().position(|&b| b == b'=') {
            out.insert(
                String::from_utf8_lossy(&head[..eq]).into_owned(),
                head[eq + 1..].to_vec(),
            );
            d = &d[nl + 1..];
        } else {
            let name = String::from_utf8_lossy(head).into_owned();
            let rest = &d[nl + 1..];
            if rest.len() < 8 {
                break;
            }
            let mut len_bytes = [0u8; 8];
            len_bytes.copy_from_slice(&rest[..8]);
            let len = usize::try_from(u64::from_le_bytes(len_bytes)).unwrap_or(usize::MAX);
            if rest.len() < 8 + len {
                break;
            }
            out.insert(name, rest[8..8 + len].to_vec());
            d = rest.get(8 + len + 1..).unwrap_or(&[]);
        }
    }
    out
}

/// Whether this process may build a private mount namespace (root + unshare).
pub fn can_fake_journal() -> bool {
    Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A command that runs `program args…` with `journal_dir` mounted on
/// `/run/systemd/journal` in a private mount namespace.
pub fn with_private_journal(journal_dir: &Path, program: &Path, args: &[&str]) -> Command {
    let script = "set -e; \
        mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; }; \
        mkdir -p /run/systemd/journal; \
        mount --bind \"$0\" /run/systemd/journal; \
        exec \"$@\"";
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", script])
        .arg(journal_dir)
        .arg(program)
        .args(args);
    cmd
}

/// `$JOURNAL_STREAM` for a file that will be the child's stderr.
pub fn journal_stream_for(file: &Path) -> Option<String> {
    let m = std::fs::metadata(file).ok()?;
    Some(format!("{}:{}", m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::parse_journal_entry;

    #[test]
    fn parses_both_field_encodings() {
        let mut d = b"PRIORITY=5\nMESSAGE\n".to_vec();
        d.extend_from_slice(&5u64.to_le_bytes());
        d.extend_from_slice(b"a\nb c\n");
        d.extend_from_slice(b"SID=x\n");
        let e = parse_journal_entry(&d);
        assert_eq!(e["PRIORITY"], b"5");
        assert_eq!(e["MESSAGE"], b"a\nb c");
        assert_eq!(e["SID"], b"x");
    }
}
