//! The systemd notification protocol (`sd_notify(3)`), spoken directly.
//!
//! systemd passes `$NOTIFY_SOCKET` to a `Type=notify` service: a datagram
//! socket, named by a path or, with a leading `@`, by an abstract name. Each
//! message is one datagram of newline-separated `KEY=value` assignments. We
//! send `READY=1` once the daemon can do its job, `WATCHDOG=1` while the work
//! loop makes progress, `STOPPING=1` when the drain starts, and `STATUS=…`
//! lines for `systemctl status`. Outside systemd the variable is unset and
//! every call is a no-op, so the same binary runs from a shell.
//!
//! No dependency on libsystemd: the protocol is a few bytes over a standard
//! `UnixDatagram`, which also lets the tests receive the messages on a socket
//! of their own.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET_ENV: &str = "NOTIFY_SOCKET";
/// Set by systemd when `WatchdogSec=` is configured: the period in µs.
pub const WATCHDOG_USEC_ENV: &str = "WATCHDOG_USEC";
/// Set with `WATCHDOG_USEC`: the pid the watchdog is meant for.
pub const WATCHDOG_PID_ENV: &str = "WATCHDOG_PID";

/// Why a notification could not be sent. Callers log it and carry on: a
/// missed notification must never stop the daemon (systemd acts on the
/// absence itself, by timeout).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// `$NOTIFY_SOCKET` is set but is neither an absolute path nor `@name`.
    #[error("NOTIFY_SOCKET is not an absolute path or an @abstract name")]
    BadAddress,
    /// Creating the socket or sending the datagram failed.
    #[error("sd_notify send failed: {0}")]
    Io(#[from] io::Error),
}

/// A handle on the notification socket; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// A notifier that sends nothing (no systemd, or notifications off).
    pub fn disabled() -> Self {
        Notifier { target: None }
    }

    /// From `$NOTIFY_SOCKET`; disabled when it is unset or empty.
    pub fn from_env() -> Result<Self, NotifyError> {
        match std::env::var_os(NOTIFY_SOCKET_ENV) {
            Some(v) if !v.is_empty() => Self::for_address(&v.to_string_lossy()),
            _ => Ok(Self::disabled()),
        }
    }

    /// For an explicit `$NOTIFY_SOCKET` value: `/path` or `@abstract`.
    pub fn for_address(address: &str) -> Result<Self, NotifyError> {
        let addr = parse_address(address)?;
        let socket = UnixDatagram::unbound()?;
        Ok(Notifier {
            target: Some((socket, addr)),
        })
    }

    /// Whether anything is listening for our notifications.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// `READY=1`: start-up is complete.
    pub fn ready(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)))
    }

    /// `WATCHDOG=1`: the work loop is alive.
    pub fn watchdog(&self) -> Result<(), NotifyError> {
        self.send("WATCHDOG=1")
    }

    /// `STOPPING=1`: the drain has begun.
    pub fn stopping(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&format!("STOPPING=1\nSTATUS={}", one_line(status)))
    }

    /// `STATUS=…`: a one-line state shown by `systemctl status`.
    pub fn status(&self, status: &str) -> Result<(), NotifyError> {
        self.send(&format!("STATUS={}", one_line(status)))
    }

    /// Sends one raw message (newline-separated assignments).
    pub fn send(&self, message: &str) -> Result<(), NotifyError> {
        if let Some((socket, addr)) = &self.target {
            socket.send_to_addr(message.as_bytes(), addr)?;
        }
        Ok(())
    }
}

/// Parses a `$NOTIFY_SOCKET` value: an absolute path, or `@name` for an
/// abstract socket (the `@` stands for the leading NUL byte).
fn parse_address(address: &str) -> Result<SocketAddr, NotifyError> {
    if let Some(name) = address.strip_prefix('@') {
        abstract_address(name.as_bytes())
    } else if address.starts_with('/') {
        Ok(SocketAddr::from_pathname(address)?)
    } else {
        Err(NotifyError::BadAddress)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_address(name: &[u8]) -> Result<SocketAddr, NotifyError> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    Ok(SocketAddr::from_abstract_name(name)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_address(_name: &[u8]) -> Result<SocketAddr, NotifyError> {
    Err(NotifyError::BadAddress)
}

/// A status must stay one assignment: newlines would start new keys.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The watchdog period systemd asks for, if it asks us: `$WATCHDOG_USEC`,
/// honoured only when `$WATCHDOG_PID` is unset or names this process.
pub fn watchdog_period_from_env() -> Option<Duration> {
    let usec = std::env::var(WATCHDOG_USEC_ENV).ok()?;
    let pid = std::env::var(WATCHDOG_PID_ENV).ok();
    watchdog_period(&usec, pid.as_deref(), std::process::id())
}

/// Pure form of [`watchdog_period_from_env`], for tests.
pub fn watchdog_period(usec: &str, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    if let Some(pid) = pid {
        if pid.trim().parse::<u32>().ok()? != own_pid {
            return None;
        }
    }
    let usec: u64 = usec.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    Some(Duration::from_micros(usec))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn receiver() -> (tempfile::TempDir, UnixDatagram, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        (dir, sock, path.to_string_lossy().into_owned())
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn sends_each_message_as_one_datagram_to_a_path_socket() {
        let (_dir, sock, path) = receiver();
        let n = Notifier::for_address(&path).unwrap();
        assert!(n.is_enabled());
        n.ready("bus up; db up").unwrap();
        n.watchdog().unwrap();
        n.status("line1\nline2").unwrap();
        n.stopping("draining").unwrap();
        assert_eq!(recv(&sock), "READY=1\nSTATUS=bus up; db up");
        assert_eq!(recv(&sock), "WATCHDOG=1");
        assert_eq!(recv(&sock), "STATUS=line1 line2");
        assert_eq!(recv(&sock), "STOPPING=1\nSTATUS=draining");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reaches_an_abstract_socket_named_with_at() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("decnet-profiler-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let n = Notifier::for_address(&format!("@{name}")).unwrap();
        n.watchdog().unwrap();
        assert_eq!(recv(&sock), "WATCHDOG=1");
    }

    #[test]
    fn disabled_notifier_is_a_no_op() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        assert!(n.ready("x").is_ok());
    }

    #[test]
    fn rejects_relative_addresses() {
        assert!(matches!(
            Notifier::for_address("relative/path"),
            Err(NotifyError::BadAddress)
        ));
    }

    #[test]
    fn a_vanished_listener_is_an_error_not_a_panic() {
        let (dir, sock, path) = receiver();
        drop(sock);
        drop(dir);
        let n = Notifier::for_address(&path).unwrap();
        assert!(matches!(n.watchdog(), Err(NotifyError::Io(_))));
    }

    #[test]
    fn watchdog_period_respects_pid_and_zero() {
        assert_eq!(
            watchdog_period("30000000", None, 7),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            watchdog_period("30000000", Some("7"), 7),
            Some(Duration::from_secs(30))
        );
        assert_eq!(watchdog_period("30000000", Some("8"), 7), None);
        assert_eq!(watchdog_period("0", None, 7), None);
        assert_eq!(watchdog_period("abc", None, 7), None);
    }
}
