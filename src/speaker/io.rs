//! The speaker's only contact with sockets: starting session tasks and the listener
//! (through [`crate::net`]). Behind a trait so that tests can drive the owner loop with
//! fake sessions.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::sync::mpsc;

use crate::fsm::SessionCfg;
use crate::net::{PeerEvent, SessionCmd, Transport};
use crate::rib::PeerId;

/// A running session task, as the speaker sees it.
pub trait SessionTx: Send {
    /// Hand a command to the session task; never blocks.
    fn send(&self, cmd: SessionCmd);
}

/// Starts session tasks and tells the listener about TCP-MD5 keys.
pub trait Sessions: Send {
    fn spawn(&mut self, peer: PeerId, cfg: SessionCfg, transport: Transport) -> Box<dyn SessionTx>;

    /// Accept connections from `peer` only with this TCP-MD5 key (`None`: without one).
    fn set_md5(&mut self, peer: IpAddr, key: Option<Vec<u8>>);
}

/// The real sessions: tokio tasks of [`crate::net`] and its listener.
pub struct NetSessions {
    events: mpsc::Sender<PeerEvent>,
}

// ===== impl NetSessions =====

impl NetSessions {
    /// Start listening on `addrs` (none when empty); connections arrive as
    /// [`PeerEvent::Inbound`] on `events`.
    pub async fn start(addrs: &[SocketAddr], events: mpsc::Sender<PeerEvent>) -> io::Result<Self> {
        if !addrs.is_empty() {
            tracing::warn!("listener not available yet: not listening on {addrs:?}");
        }
        Ok(NetSessions { events })
    }
}

struct Placeholder;

impl SessionTx for Placeholder {
    fn send(&self, _cmd: SessionCmd) {}
}

impl Sessions for NetSessions {
    fn spawn(&mut self, peer: PeerId, cfg: SessionCfg, transport: Transport) -> Box<dyn SessionTx> {
        let _ = (peer, cfg, transport, &self.events);
        Box::new(Placeholder)
    }

    fn set_md5(&mut self, peer: IpAddr, key: Option<Vec<u8>>) {
        let _ = (peer, key);
    }
}
