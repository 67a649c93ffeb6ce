//! A BIRD 1.6-compatible control socket, so that calico-node (`calicoctl node status`,
//! the `-bird-ready`/`-bird-live` probes, the CalicoNodeStatus reporter) and `birdcl`
//! work against wren unchanged.
//!
//! ```text
//!  client                                   wren ([`server`] → speaker → [`format`])
//!                                        <──  0001 BIRD v0.1.0+wren ready.
//!    show protocols                      ──>
//!                                        <──  2002-name     proto    table    state  since       info
//!                                        <──  1002-kernel1  Kernel   master   up     20:10:56
//!                                        <──   Mesh_10_0_0_2 BGP      master   up     20:10:57    Established
//!                                        <──  0000
//!    show status | show protocols [all] [NAME|"PATTERN"] | show route [count] [protocol NAME]
//!    (anything else)                     <──  9001 syntax error
//! ```
//!
//! Framing (BIRD's `cli_printf`): a reply line is a 4-digit code, then `-` when more
//! lines follow or a space on the last one, then the text. A later line with the same
//! code as the previous continuation starts with a single space instead of the code.
//! Commands are one line each; several run in order on one connection.
//!
//! A socket whose file name contains `bird6` is the IPv6 view (peers with IPv6
//! addresses, IPv6 routes), any other the IPv4 view, like BIRD's two processes. The
//! non-BGP protocols Calico's config has (`kernel1`, `device1`, `direct1`, `static1`)
//! are shown too: `kernel1` stands for wren's FIB, `static1` for `[[originate]]`.
//!
//! The formatting ([`format`], [`command`], [`info`]) is pure; [`server`] is the
//! adapter that asks the speaker, and [`client`] is `birdcl`.

pub mod client;
pub mod command;
pub mod format;
pub mod info;
pub mod server;

use std::net::IpAddr;
use std::path::Path;

use super::{PeerRow, RouteRow, StatusRow};

pub use command::Command;

/// The version in the greeting and `show status`. Calico's status reporter takes the
/// version from a line starting `BIRD v`, so it must begin with `v`.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"), "+wren");

/// Default sockets: calico-node's, then BIRD's own (every Calico client falls back to it).
pub const SOCKET_V4: &str = "/var/run/calico/bird.ctl";
pub const SOCKET_V6: &str = "/var/run/calico/bird6.ctl";

/// Which address family a socket shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    V4,
    V6,
}

/// Wall-clock facts for formatting times: BIRD prints local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Seconds since the Unix epoch.
    pub now_unix: i64,
    /// Local time minus UTC, in seconds.
    pub utc_offset: i64,
}

/// What the speaker said, as one command needs it (unused parts may stay empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub status: StatusRow,
    pub peers: Vec<PeerRow>,
    pub routes: Vec<RouteRow>,
}

// ===== impl View =====

impl View {
    /// The view of a socket path: IPv6 when its file name contains `bird6`.
    pub fn for_socket(path: &Path) -> View {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        match name {
            Some(n) if n.contains("bird6") => View::V6,
            _ => View::V4,
        }
    }

    /// Whether an address belongs to this view.
    pub fn holds(self, addr: IpAddr) -> bool {
        match self {
            View::V4 => addr.is_ipv4(),
            View::V6 => addr.is_ipv6(),
        }
    }

    /// Whether a peer (by its address text) belongs to this view.
    pub fn holds_peer(self, p: &PeerRow) -> bool {
        p.address.parse::<IpAddr>().is_ok_and(|a| self.holds(a))
    }

    /// Whether a route (by its prefix text) belongs to this view.
    pub fn holds_route(self, r: &RouteRow) -> bool {
        let v6 = r.prefix.contains(':');
        match self {
            View::V4 => !v6,
            View::V6 => v6,
        }
    }

    /// The default socket of this view.
    pub fn default_socket(self) -> &'static str {
        match self {
            View::V4 => SOCKET_V4,
            View::V6 => SOCKET_V6,
        }
    }
}

// ===== impl Clock =====

impl Clock {
    /// The current time, with the local offset from the C library (honours `TZ`).
    pub fn now() -> Clock {
        let now_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Clock {
            now_unix,
            utc_offset: local_offset(now_unix),
        }
    }
}

// ===== helper functions =====

/// Local time minus UTC at `t`, from `localtime_r` (0 if it fails).
fn local_offset(t: i64) -> i64 {
    let tt = t as libc::time_t;
    // SAFETY: `localtime_r` writes only into the `tm` we own; both pointers are valid for
    // the call, and `tm` is plain data for which all-zero bytes are a valid value.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&tt, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

#[cfg(test)]
mod tests;
