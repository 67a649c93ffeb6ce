//! The per-peer BGP session state machine (RFC 4271 §8).
//!
//! Pure, no I/O: [`Session::handle`] takes the time and an [`Event`] and returns the
//! [`Action`]s for the session task and the speaker to carry out. Timers are actions
//! (`Arm`/`Disarm`) and events (`TimerFired`), so tests need no runtime and no clock.
//!
//! ```text
//!            Start                TcpConnected            OPEN ok           KEEPALIVE
//!   Idle ───────────> Connect ─────────────────> OpenSent ────────> OpenConfirm ─────> Established
//!    ^   (passive:     │  ^ TcpFailed              │                    │                  │
//!    │    Active)      v  │                        │ error / hold       │ error / hold     │ error / hold
//!    └──────────────  Active <─────────────────────┴────────────────────┴──────────────────┘
//!         ConnectRetry                 (every error: NOTIFICATION if owed, Down, back to Idle)
//! ```

mod collision;
mod negotiate;
mod session;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

pub use collision::{resolve_collision, ConnDirection};
pub use negotiate::{check_open, negotiate, our_open, peer_asn};
pub use session::Session;

use crate::wire::{Family, Message, NotificationMsg, WireError};

/// Session states (RFC 4271 §8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// Timers the FSM arms and disarms. The session task owns the clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// RFC 4271 §10 ConnectRetryTimer, with jittered exponential backoff.
    ConnectRetry,
    /// RFC 4271 §10 HoldTimer.
    Hold,
    /// RFC 4271 §10 KeepaliveTimer.
    Keepalive,
    /// RFC 9687 SendHoldTimer: output has made no progress for too long.
    SendHold,
}

/// Inputs (RFC 4271 §8.1 event numbers in brackets).
// A message moves once per UPDATE (a batch), so its size is not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// [1, 3] ManualStart / AutomaticStart (passive peers: [4, 5]).
    Start,
    /// [2, 8] ManualStop / AutomaticStop; the NOTIFICATION to send (usually a Cease), if any.
    Stop(Option<NotificationMsg>),
    /// [16, 17] Tcp_CR_Acked / TcpConnectionConfirmed: a transport connection is up.
    TcpConnected,
    /// [18] TcpConnectionFails (refused, unreachable, reset, closed by the peer).
    TcpFailed(String),
    /// [19–28] a decoded message arrived.
    Recv(Message),
    /// [21, 22, 28] a message could not be decoded: the NOTIFICATION is in the error.
    RecvError(WireError),
    /// [9, 10, 11] and RFC 9687: a timer expired.
    TimerFired(Timer),
    /// The session writer flushed output (restarts the RFC 9687 send hold timer).
    SendProgress,
}

/// Outputs for the session task (`Connect`, `Send`, `CloseTcp`, timers) and the speaker.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a transport connection to the peer.
    Connect,
    Send(Message),
    /// Close the transport connection (after the queued messages).
    CloseTcp,
    Arm(Timer, Duration),
    Disarm(Timer),
    /// The session reached Established with these negotiated parameters.
    Established(Negotiated),
    /// The session left OpenConfirm/Established (or failed to get there): why, in one sentence.
    Down(DownReason),
    StateChanged {
        from: State,
        to: State,
    },
}

/// Why a session is not up. `Display` is the one sentence operators see.
#[derive(Debug, Clone, PartialEq)]
pub enum DownReason {
    /// Stopped by configuration or operator.
    Stopped,
    /// The transport failed: refused, unreachable, timed out, reset…
    Transport(String),
    /// The peer sent a NOTIFICATION.
    NotificationReceived(NotificationMsg),
    /// We sent a NOTIFICATION (bad OPEN, bad message, hold timer…).
    NotificationSent(NotificationMsg, String),
    /// An unexpected message or event for the state (RFC 4271 §6.6).
    FsmError(String),
}

/// What the session negotiated (RFC 4271 §4.2, RFC 5492 and the capability RFCs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub peer_as: u32,
    pub peer_id: Ipv4Addr,
    /// Hold time in seconds (the smaller of both), 0 = no keepalives.
    pub hold_time: u16,
    pub keepalive: u16,
    /// RFC 6793: both sides support 4-octet AS numbers.
    pub as4: bool,
    /// RFC 4760: families both sides announced (IPv4 unicast when neither uses MP).
    pub families: Vec<Family>,
    /// RFC 7911: families for which we receive / send path identifiers.
    pub add_path_rx: Vec<Family>,
    pub add_path_tx: Vec<Family>,
    /// RFC 2918 / RFC 7313.
    pub route_refresh: bool,
    pub enhanced_route_refresh: bool,
    /// RFC 8654.
    pub ext_msg: bool,
    /// RFC 8950: families whose NLRI may carry an IPv6 next hop.
    pub ext_next_hop: Vec<Family>,
    /// RFC 4724: the peer's graceful-restart capability, if it sent one.
    pub peer_gr: Option<PeerGr>,
    /// RFC 9494 §3: the peer's long-lived graceful-restart capability (families, F bits,
    /// long-lived stale times), if it sent one together with the GR capability (§4.1).
    pub peer_llgr: Option<Vec<crate::wire::capability::LlgrFamily>>,
}

/// The peer's graceful-restart announcement (RFC 4724 §3, RFC 8538 N-bit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerGr {
    pub restarting: bool,
    pub notification: bool,
    pub restart_time: u16,
    /// Families with the Forwarding State bit set.
    pub preserved: Vec<Family>,
}

/// How we want the session to look; built from the peer's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCfg {
    pub local_as: u32,
    pub local_id: Ipv4Addr,
    pub remote_as: RemoteAs,
    pub passive: bool,
    /// Proposed hold time (0 or ≥ 3) and keepalive.
    pub hold_time: u16,
    pub keepalive: Option<u16>,
    /// First connect-retry interval; doubles on each failure up to `connect_retry_max`.
    pub connect_retry: Duration,
    pub connect_retry_max: Duration,
    /// Capabilities we announce in our OPEN.
    pub capabilities: Vec<crate::wire::Capability>,
    /// Seed of the jitter generator (e.g. a hash of the peer address).
    pub jitter_seed: u64,
}

/// Which peer AS the OPEN must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteAs {
    Exact(u32),
    /// Same as ours (iBGP).
    Internal,
    /// Anything but ours (eBGP).
    External,
}

// ===== impl DownReason =====

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::Stopped => f.write_str("stopped by configuration or operator"),
            DownReason::Transport(why) => write!(f, "connection failed: {why}"),
            DownReason::NotificationReceived(n) => write!(f, "peer sent NOTIFICATION {n}"),
            DownReason::NotificationSent(n, why) => {
                // The numbers, then the decoded names (and data), as for a received one.
                write!(f, "{why} (sent NOTIFICATION {}/{}: {n})", n.code, n.subcode)
            }
            DownReason::FsmError(why) => write!(f, "{why}"),
        }
    }
}

impl Negotiated {
    /// A plain session's outcome: 4-octet AS numbers and route refresh for `families`, hold
    /// time 90 s, nothing else (no ADD-PATH, GR, extended messages or next hops). For
    /// tests, benches and scripted peers: set other fields with `..Negotiated::plain(..)`.
    pub fn plain(peer_as: u32, peer_id: Ipv4Addr, families: Vec<Family>) -> Negotiated {
        Negotiated {
            peer_as,
            peer_id,
            hold_time: 90,
            keepalive: 30,
            as4: true,
            families,
            add_path_rx: vec![],
            add_path_tx: vec![],
            route_refresh: true,
            enhanced_route_refresh: false,
            ext_msg: false,
            ext_next_hop: vec![],
            peer_gr: None,
            peer_llgr: None,
        }
    }

    /// The codec context for decoding what the peer sends.
    pub fn decode_ctx(&self) -> crate::wire::Ctx {
        crate::wire::Ctx {
            as4: self.as4,
            add_path: self.add_path_rx.clone(),
            ext_msg: self.ext_msg,
        }
    }

    /// The codec context for encoding what we send.
    pub fn encode_ctx(&self) -> crate::wire::Ctx {
        crate::wire::Ctx {
            as4: self.as4,
            add_path: self.add_path_tx.clone(),
            ext_msg: self.ext_msg,
        }
    }
}
