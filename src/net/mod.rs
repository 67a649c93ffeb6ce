//! Sockets: the BGP listener, outgoing connections, and one task per session.
//!
//! ```text
//!  listen() ──Inbound{stream}──> speaker ──SessionCmd::Incoming──> session task
//!          └──────────── (started peers, by address: Direct) ────────^
//!  spawn_session(): connect (source address, TCP-MD5, TTL / GTSM), frame, decode,
//!                run the fsm::Session with its timers (keepalives never wait on the speaker),
//!                write the framed bytes the speaker sends.
//!        ──PeerEvent (State, Up, Update, RouteRefresh, Down)──> speaker
//! ```
//!
//! The session task owns its socket and its [`crate::fsm::Session`]; the speaker owns
//! everything else and learns of session changes through [`PeerEvent`]s. One session's
//! events arrive in order (`Up`, then its `Update`s, then `Down`). The task never waits
//! for the speaker; only reading from the peer slows down when the speaker's channel is
//! full (and the hold timer then waits too: the peer is not to blame).
//!
//! Files: `session.rs` (the task), `collision.rs` (incoming connections, RFC 4271 §6.8),
//! `conn.rs` (connect, TCP-MD5, TTL / GTSM, reasons), `frame.rs` (reader and writer),
//! `listener.rs`.

mod collision;
pub mod conn;
mod frame;
mod listener;
#[cfg(test)]
mod netns_tests;
#[cfg(test)]
mod script_tests;
mod session;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::sync::mpsc;

pub use listener::{listen, listen_direct, Direct, ListenerHandle};
pub use session::spawn_session;

use crate::fsm::{DownReason, Negotiated, State};
use crate::rib::PeerId;
use crate::wire::{Finding, NotificationMsg, RouteRefreshMsg, UpdateMsg};

/// How to reach one peer. `Debug` hides the MD5 key.
#[derive(Clone, PartialEq, Eq)]
pub struct Transport {
    /// Peer address and port.
    pub remote: SocketAddr,
    /// Bind outgoing connections to this address (`source_address`).
    pub local: Option<IpAddr>,
    /// Never connect; wait for the peer.
    pub passive: bool,
    /// TTL of outgoing packets: 1 for directly connected eBGP, more with `multihop`.
    pub ttl: u8,
    /// RFC 5082 GTSM: send with TTL 255 and accept only TTL ≥ 255 - (ttl - 1).
    pub gtsm: bool,
    /// RFC 2385 TCP-MD5 key (never logged).
    pub md5_key: Option<Vec<u8>>,
}

/// What a session task reports to the speaker.
// An UPDATE moves once per message (a batch); boxing it would not pay.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum PeerEvent {
    /// The FSM changed state.
    State {
        peer: PeerId,
        from: State,
        to: State,
    },
    /// The session is Established.
    Up {
        peer: PeerId,
        neg: Negotiated,
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// One UPDATE, decoded, with its RFC 7606 findings.
    Update {
        peer: PeerId,
        msg: UpdateMsg,
        findings: Vec<Finding>,
    },
    RouteRefresh {
        peer: PeerId,
        msg: RouteRefreshMsg,
    },
    /// The session left Established, or failed to get there: why, in one sentence.
    Down {
        peer: PeerId,
        reason: DownReason,
        /// It had been Established (its routes must be withdrawn or kept as stale).
        was_established: bool,
    },
    /// The listener accepted a connection; the speaker hands it to the peer's session.
    Inbound {
        stream: tokio::net::TcpStream,
        remote: SocketAddr,
        local: SocketAddr,
    },
}

/// What the speaker tells a session task.
#[derive(Debug)]
pub enum SessionCmd {
    /// Start (or restart) the session: connect, or wait when passive.
    Start,
    /// Stop: send this NOTIFICATION if a session exists, close, and stay down.
    Stop(Option<NotificationMsg>),
    /// Framed BGP messages to write, as encoded by the RIB.
    Send(Arc<[u8]>),
    /// Several runs of framed messages (one flush's output for this peer, each run shared
    /// with the other members of its update group), written together.
    SendAll(Vec<Arc<[u8]>>),
    /// An accepted connection from this peer (collision detection, RFC 4271 §6.8).
    Incoming(tokio::net::TcpStream),
    /// Announce these capabilities from the next OPEN on; the current session keeps what
    /// it negotiated (e.g. the Restart State bit once our restart is over, RFC 4724 §3).
    Capabilities(Vec<crate::wire::Capability>),
}

/// The speaker's end of one session task. Sending never blocks.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub peer: PeerId,
    tx: mpsc::UnboundedSender<SessionCmd>,
}

// ===== impl Transport =====

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("remote", &self.remote)
            .field("local", &self.local)
            .field("passive", &self.passive)
            .field("ttl", &self.ttl)
            .field("gtsm", &self.gtsm)
            .field("md5_key", &self.md5_key.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

// ===== impl SessionHandle =====

impl SessionHandle {
    /// Queue a command for the session task (dropped if the task has ended).
    pub fn send(&self, cmd: SessionCmd) {
        let _ = self.tx.send(cmd);
    }

    /// A reference that does not keep the task alive ([`Direct`]).
    pub fn downgrade(&self) -> mpsc::WeakUnboundedSender<SessionCmd> {
        self.tx.downgrade()
    }

    /// The task has ended (it only ends when every handle is dropped, or on a panic).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}
