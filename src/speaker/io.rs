//! The speaker's only contact with sockets: starting session tasks and the listener
//! (through [`crate::net`]). Behind a trait so that tests can drive the owner loop with
//! fake sessions.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::sync::mpsc;

use crate::fsm::SessionCfg;
use crate::net::{self, PeerEvent, SessionCmd, Transport};
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
    listener: Option<net::ListenerHandle>,
    /// Started sessions by peer address, for the listener.
    direct: net::Direct,
}

/// A session of [`NetSessions`]: registers with the listener when started, so that its
/// peer's connections do not wait behind the speaker's queued events.
struct NetTx {
    h: net::SessionHandle,
    addr: IpAddr,
    direct: net::Direct,
}

// ===== impl NetSessions =====

impl NetSessions {
    /// Start listening on `addrs` (none when empty); connections arrive as
    /// [`PeerEvent::Inbound`] on `events`.
    pub async fn start(addrs: &[SocketAddr], events: mpsc::Sender<PeerEvent>) -> io::Result<Self> {
        let direct = net::Direct::default();
        let listener = if addrs.is_empty() {
            None
        } else {
            let l = net::listen_direct(addrs, events.clone(), direct.clone()).await?;
            tracing::info!("listening on {:?}", l.local_addrs());
            Some(l)
        };
        Ok(NetSessions {
            events,
            listener,
            direct,
        })
    }
}

impl SessionTx for net::SessionHandle {
    fn send(&self, cmd: SessionCmd) {
        net::SessionHandle::send(self, cmd);
    }
}

impl SessionTx for NetTx {
    fn send(&self, cmd: SessionCmd) {
        // Only once started: an idle session refuses connections, which the speaker's
        // queue would otherwise have held until the start.
        let start = matches!(cmd, SessionCmd::Start);
        self.h.send(cmd);
        if start {
            self.direct.register(self.addr, &self.h);
        }
    }
}

impl Sessions for NetSessions {
    fn spawn(&mut self, peer: PeerId, cfg: SessionCfg, transport: Transport) -> Box<dyn SessionTx> {
        let addr = transport.remote.ip();
        let h = net::spawn_session(peer, cfg, transport, self.events.clone());
        Box::new(NetTx {
            h,
            addr,
            direct: self.direct.clone(),
        })
    }

    fn set_md5(&mut self, peer: IpAddr, key: Option<Vec<u8>>) {
        let Some(l) = &self.listener else {
            return;
        };
        // The key itself is never logged.
        if let Err(e) = l.set_md5(peer, key.as_deref()) {
            tracing::warn!("listener: cannot set the TCP-MD5 key for {peer}: {e}");
        }
    }
}
