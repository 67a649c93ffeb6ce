//! The BGP listener: accepts on every configured address and hands each connection to
//! the peer's session directly when it is a known, started peer ([`Direct`]), or else to
//! the speaker as [`PeerEvent::Inbound`] (passive ranges, unknown addresses).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

use super::conn::{set_md5, set_ttl};
use super::{PeerEvent, SessionCmd, SessionHandle};
use crate::hash::FastMap;

/// Pending connections the kernel queues per listening socket.
const BACKLOG: i32 = 128;

/// Listening sockets; dropping the handle stops listening.
#[derive(Debug)]
pub struct ListenerHandle {
    sockets: Vec<Arc<TcpListener>>,
    addrs: Vec<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

/// Where accepted connections go without a trip through the speaker: the session of each
/// started peer, by address. The speaker's event queue can hold thousands of UPDATEs
/// while sessions come up (a route reflector with many clients); a connection waiting
/// there keeps its peer's OPEN waiting too. Weak references: a session whose handles are
/// all dropped (peer removed) is forgotten at its next connection, which then goes to the
/// speaker.
#[derive(Debug, Clone, Default)]
pub struct Direct(Arc<Mutex<FastMap<IpAddr, mpsc::WeakUnboundedSender<SessionCmd>>>>);

// ===== impl Direct =====

impl Direct {
    /// Send connections from `addr` to this session from now on.
    pub fn register(&self, addr: IpAddr, h: &SessionHandle) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(addr.to_canonical(), h.downgrade());
        }
    }

    /// Hand `stream` to the session registered for `remote`; gives it back when none is.
    fn route(&self, remote: IpAddr, stream: TcpStream) -> Result<(), TcpStream> {
        let ip = remote.to_canonical();
        let Ok(mut m) = self.0.lock() else {
            return Err(stream);
        };
        let Some(tx) = m.get(&ip).and_then(|w| w.upgrade()) else {
            m.remove(&ip);
            return Err(stream);
        };
        let Err(mpsc::error::SendError(cmd)) = tx.send(SessionCmd::Incoming(stream)) else {
            return Ok(());
        };
        m.remove(&ip);
        match cmd {
            SessionCmd::Incoming(s) => Err(s),
            _ => Ok(()),
        }
    }
}

// ===== impl ListenerHandle =====

impl ListenerHandle {
    /// The bound addresses (with the real port when port 0 was asked for).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Set (or with `None` clear) the RFC 2385 TCP-MD5 key for connections from `peer`
    /// on every listening socket of `peer`'s family. Accepted sockets inherit the key.
    pub fn set_md5(&self, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
        for (s, a) in self.sockets.iter().zip(&self.addrs) {
            if a.is_ipv4() == peer.is_ipv4() {
                match set_md5(s.as_ref(), peer, key) {
                    Ok(()) => {}
                    // Clearing a key that was never set is not an error.
                    Err(e) if key.is_none() && e.raw_os_error() == Some(libc::ENOENT) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

// ===== helper functions =====

/// Listen on every address in `addrs` and send each accepted connection to `events`.
///
/// IPv6 sockets are IPv6-only, so `0.0.0.0:179` and `[::]:179` can both be listed.
pub async fn listen(
    addrs: &[SocketAddr],
    events: mpsc::Sender<PeerEvent>,
) -> io::Result<ListenerHandle> {
    listen_direct(addrs, events, Direct::default()).await
}

/// [`listen`], handing connections of the peers in `direct` straight to their sessions.
pub async fn listen_direct(
    addrs: &[SocketAddr],
    events: mpsc::Sender<PeerEvent>,
    direct: Direct,
) -> io::Result<ListenerHandle> {
    let mut h = ListenerHandle {
        sockets: Vec::new(),
        addrs: Vec::new(),
        tasks: Vec::new(),
    };
    for &addr in addrs {
        let l = Arc::new(
            bind(addr)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?,
        );
        h.addrs.push(l.local_addr()?);
        h.tasks.push(tokio::spawn(accept_loop(
            l.clone(),
            events.clone(),
            direct.clone(),
        )));
        h.sockets.push(l);
    }
    Ok(h)
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    // SYN-ACKs leave with the listener's TTL: 255 satisfies peers that use GTSM
    // (RFC 5082) from the first packet; accepted sockets get the peer's own TTL.
    set_ttl(&s, addr.is_ipv6(), 255, true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    TcpListener::from_std(s.into())
}

async fn accept_loop(l: Arc<TcpListener>, events: mpsc::Sender<PeerEvent>, direct: Direct) {
    loop {
        match l.accept().await {
            Ok((stream, remote)) => {
                let Ok(local) = stream.local_addr() else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let Err(stream) = direct.route(remote.ip(), stream) else {
                    continue;
                };
                let ev = PeerEvent::Inbound {
                    stream,
                    remote,
                    local,
                };
                if events.send(ev).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // EMFILE and friends: wait instead of spinning.
                warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair(l: &TcpListener) -> (TcpStream, SocketAddr) {
        let addr = l.local_addr().unwrap();
        let c = TcpStream::connect(addr).await.unwrap();
        let (s, remote) = l.accept().await.unwrap();
        drop(c);
        (s, remote)
    }

    #[tokio::test]
    async fn direct_hands_connections_to_live_sessions_only() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let d = Direct::default();
        let (s, remote) = pair(&l).await;
        let Err(s) = d.route(remote.ip(), s) else {
            panic!("routed without a registered session");
        };
        drop(s);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let h = SessionHandle { peer: 7, tx };
        d.register("::ffff:127.0.0.1".parse().unwrap(), &h);
        let (s, remote) = pair(&l).await;
        assert!(
            d.route(remote.ip(), s).is_ok(),
            "mapped IPv4 address registered"
        );
        assert!(matches!(rx.try_recv(), Ok(SessionCmd::Incoming(_))));
        drop(h);
        let (s, remote) = pair(&l).await;
        assert!(d.route(remote.ip(), s).is_err(), "the session is gone");
        assert!(d.0.lock().unwrap().is_empty(), "and forgotten");
    }
}
