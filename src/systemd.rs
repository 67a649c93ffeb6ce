//! systemd service notifications (the sd_notify(3) protocol), without libsystemd.
//!
//! Under `Type=notify` systemd passes `NOTIFY_SOCKET`: a unix datagram socket, a path or
//! an abstract name written with a leading `@`. Each notification is one datagram of
//! newline-separated `KEY=VALUE` lines. wren sends:
//!
//! - `READY=1` once the initial sync after the start is done (the peers that came up
//!   sent End-of-RIB, or the bounded waits ran out), with a `STATUS=` line;
//! - `STATUS=…` from time to time (peers established, paths, kernel routes);
//! - `WATCHDOG=1` every half `WATCHDOG_USEC`, only after the owner loop answered a status
//!   request: a stuck loop stops the pings and systemd restarts the service;
//! - `STOPPING=1` when it begins to stop.
//!
//! Without `NOTIFY_SOCKET` every call does nothing.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::time::Duration;

/// Where notifications go, and the watchdog period systemd asked for.
#[derive(Debug, Default)]
pub struct Notifier {
    target: Option<Target>,
    watchdog: Option<Duration>,
}

#[derive(Debug)]
enum Target {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

// ===== impl Notifier =====

impl Notifier {
    /// From `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (the watchdog is ours
    /// only when `WATCHDOG_PID` is unset or our PID).
    pub fn from_env() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET").ok();
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        let ours = pid.is_none_or(|p| p.trim() == std::process::id().to_string());
        let watchdog = usec
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|u| *u > 0 && ours)
            .map(Duration::from_micros);
        Notifier::new(socket.as_deref(), watchdog)
    }

    /// `socket` as in `NOTIFY_SOCKET` (`@name` is abstract); `watchdog`: WATCHDOG_USEC.
    pub fn new(socket: Option<&str>, watchdog: Option<Duration>) -> Notifier {
        let target = match socket {
            Some(s) if s.starts_with('@') => Some(Target::Abstract(s.as_bytes()[1..].to_vec())),
            Some(s) if s.starts_with('/') => Some(Target::Path(PathBuf::from(s))),
            _ => None,
        };
        Notifier { target, watchdog }
    }

    /// systemd listens (we run under `Type=notify`).
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often to send `WATCHDOG=1`: half of WATCHDOG_USEC (sd_watchdog_enabled(3)).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.filter(|_| self.enabled()).map(|w| w / 2)
    }

    /// Send one notification (`KEY=VALUE` lines). Ok(false): nobody listens.
    pub fn notify(&self, state: &str) -> io::Result<bool> {
        let Some(t) = &self.target else {
            return Ok(false);
        };
        let sock = UnixDatagram::unbound()?;
        let n = match t {
            Target::Path(p) => sock.send_to(state.as_bytes(), p)?,
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = SocketAddr::from_abstract_name(name)?;
                sock.send_to_addr(state.as_bytes(), &addr)?
            }
        };
        if n != state.len() {
            return Err(io::Error::other("short write to NOTIFY_SOCKET"));
        }
        Ok(true)
    }

    /// [`Notifier::notify`], logging a failure instead of returning it.
    pub fn send(&self, state: &str) {
        if let Err(e) = self.notify(state) {
            tracing::warn!("systemd notification failed: {e}");
        }
    }

    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }

    pub fn watchdog(&self, status: &str) {
        self.send(&format!("WATCHDOG=1\nSTATUS={}", one_line(status)));
    }

    pub fn stopping(&self, status: &str) {
        self.send(&format!("STOPPING=1\nSTATUS={}", one_line(status)));
    }
}

// ===== helper functions =====

/// A STATUS value must not contain a newline (it would start another assignment).
fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn recv(sock: &UnixDatagram) -> String {
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn notifies_a_path_socket() {
        let dir = std::env::temp_dir().join(format!("wren-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(path.to_str(), Some(Duration::from_secs(30)));
        assert!(n.enabled());
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(15)));
        n.ready("running:\n2 peers");
        assert_eq!(recv(&sock), "READY=1\nSTATUS=running: 2 peers");
        n.watchdog("ok");
        assert_eq!(recv(&sock), "WATCHDOG=1\nSTATUS=ok");
        n.stopping("bye");
        assert_eq!(recv(&sock), "STOPPING=1\nSTATUS=bye");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn notifies_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("wren-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::new(Some(&format!("@{name}")), None);
        assert!(n.notify("STATUS=x").unwrap());
        assert_eq!(recv(&sock), "STATUS=x");
        assert_eq!(n.watchdog_interval(), None, "no WATCHDOG_USEC");
    }

    #[test]
    fn without_a_socket_nothing_is_sent() {
        let n = Notifier::new(None, Some(Duration::from_secs(30)));
        assert!(!n.enabled());
        assert!(!n.notify("READY=1").unwrap());
        assert_eq!(n.watchdog_interval(), None);
        let n = Notifier::new(Some("relative/path"), None);
        assert!(!n.enabled(), "only absolute paths and @names");
    }

    #[test]
    fn a_missing_socket_is_an_error() {
        let n = Notifier::new(Some("/nonexistent/wren/notify.sock"), None);
        assert!(n.notify("READY=1").is_err());
    }
}
