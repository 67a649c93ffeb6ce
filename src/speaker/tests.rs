//! The owner loop driven with fake sessions: which commands go to which session, and
//! what `show` answers. (Routes need the RIB; the quick-start test covers them.)

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::*;
use crate::config;
use crate::control::PeerRow;
use crate::fib::MemFib;
use crate::fsm::{DownReason, SessionCfg, State};
use crate::net::{PeerEvent, SessionCmd, Transport};
use crate::rib::PeerId;

pub(super) type Log = Arc<Mutex<Vec<(PeerId, String)>>>;

struct FakeTx {
    id: PeerId,
    log: Log,
}

impl SessionTx for FakeTx {
    fn send(&self, cmd: SessionCmd) {
        let what = match cmd {
            SessionCmd::Start => "start".to_string(),
            SessionCmd::Stop(Some(n)) => format!("stop {}/{}", n.code, n.subcode),
            SessionCmd::Stop(None) => "stop".to_string(),
            SessionCmd::Send(b) => format!("send {}", b.len()),
            SessionCmd::SendAll(v) => format!("send {}", v.iter().map(|b| b.len()).sum::<usize>()),
            SessionCmd::Incoming(_) => "incoming".to_string(),
            SessionCmd::Capabilities(c) => format!("caps {}", gr_bits(&c)),
        };
        self.log.lock().unwrap().push((self.id, what));
    }
}

/// The graceful-restart flags of capabilities sent to a session: `R0 N1 F11`.
pub(super) fn gr_bits(caps: &[crate::wire::Capability]) -> String {
    caps.iter()
        .find_map(|c| match c {
            crate::wire::Capability::GracefulRestart(g) => {
                let f: String = g
                    .families
                    .iter()
                    .map(|f| if f.forwarding { '1' } else { '0' })
                    .collect();
                Some(format!(
                    "R{} N{} F{f}",
                    u8::from(g.restart),
                    u8::from(g.notification)
                ))
            }
            _ => None,
        })
        .unwrap_or_else(|| "no GR".into())
}

#[derive(Default)]
pub(super) struct FakeSessions {
    pub(super) log: Log,
    pub(super) spawned: Arc<Mutex<Vec<(PeerId, SessionCfg, Transport)>>>,
    md5: Arc<Mutex<Vec<(IpAddr, bool)>>>,
}

impl Sessions for FakeSessions {
    fn spawn(&mut self, peer: PeerId, cfg: SessionCfg, t: Transport) -> Box<dyn SessionTx> {
        self.spawned.lock().unwrap().push((peer, cfg, t));
        Box::new(FakeTx {
            id: peer,
            log: self.log.clone(),
        })
    }

    fn set_md5(&mut self, peer: IpAddr, key: Option<Vec<u8>>) {
        self.md5.lock().unwrap().push((peer, key.is_some()));
    }
}

pub(super) struct Rig {
    pub(super) handle: SpeakerHandle,
    pub(super) events: mpsc::Sender<PeerEvent>,
    pub(super) log: Log,
    pub(super) spawned: Arc<Mutex<Vec<(PeerId, SessionCfg, Transport)>>>,
}

pub(super) const CONFIG: &str = r#"
[router]
asn = 64512
router_id = "198.18.0.1"
listen = []

[[peer]]
name = "a"
address = "198.18.0.2"
asn = 64512

[[peer]]
name = "b"
address = "198.18.0.3"
asn = 65001
import = "accept-all"
export = "accept-all"

[[peer]]
name = "range"
address = "198.18.1.0/24"
asn = "external"
passive = true
"#;

fn rig() -> Rig {
    rig_with(CONFIG, None)
}

/// A speaker with fake sessions running `text` (read from `path` for `wren reload`).
pub(super) fn rig_with(text: &str, path: Option<std::path::PathBuf>) -> Rig {
    let cfg = config::parse(text, Path::new("t.toml")).unwrap();
    let fake = FakeSessions::default();
    let (log, spawned) = (fake.log.clone(), fake.spawned.clone());
    let (tx, rx) = mpsc::channel(16);
    let handle = start_with(cfg, path, Box::new(MemFib::new()), Box::new(fake), rx).unwrap();
    Rig {
        handle,
        events: tx,
        log,
        spawned,
    }
}

impl Rig {
    pub(super) async fn peers(&self) -> Vec<PeerRow> {
        match self.handle.request(Request::ShowPeers).await.unwrap() {
            Response::Peers(p) => p,
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn take_log(&self) -> Vec<(PeerId, String)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// A connected TCP stream to carry in an Inbound event.
async fn stream() -> tokio::net::TcpStream {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (c, _) = tokio::join!(tokio::net::TcpStream::connect(addr), l.accept());
    c.unwrap()
}

fn inbound(s: tokio::net::TcpStream, remote: &str) -> PeerEvent {
    PeerEvent::Inbound {
        stream: s,
        remote: remote.parse().unwrap(),
        local: "198.18.0.1:179".parse::<SocketAddr>().unwrap(),
    }
}

#[tokio::test]
async fn configured_peers_are_spawned_and_started() {
    let r = rig();
    let peers = r.peers().await;
    let names: Vec<&str> = peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["a", "b"],
        "ranges have no session until a connection"
    );
    assert!(peers.iter().all(|p| p.state == "idle"));
    assert_eq!(peers[0].asn, Some(64512));
    assert_eq!(peers[1].families.len(), 2);
    let spawned = r.spawned.lock().unwrap().clone();
    assert_eq!(spawned.len(), 2);
    assert_eq!(spawned[0].2.remote, "198.18.0.2:179".parse().unwrap());
    assert_eq!(
        spawned[1].1.local_id,
        "198.18.0.1".parse::<std::net::Ipv4Addr>().unwrap()
    );
    assert_eq!(r.take_log(), vec![(1, "start".into()), (2, "start".into())]);
}

#[tokio::test]
async fn state_and_down_events_show_in_peers() {
    let r = rig();
    let ev = |from, to| PeerEvent::State { peer: 2, from, to };
    r.events
        .send(ev(State::Idle, State::Connect))
        .await
        .unwrap();
    r.events
        .send(PeerEvent::Down {
            peer: 2,
            reason: DownReason::Transport("connection refused".into()),
            was_established: false,
        })
        .await
        .unwrap();
    r.events
        .send(ev(State::Connect, State::Active))
        .await
        .unwrap();
    let peers = r.peers().await;
    assert_eq!(peers[1].state, "active");
    assert_eq!(
        peers[1].last_down.as_deref(),
        Some("connection failed: connection refused")
    );
    assert_eq!(peers[0].last_down, None);
}

#[tokio::test]
async fn a_lost_session_keeps_its_reason_through_later_failed_attempts() {
    let r = rig();
    let down = |reason, was_established| PeerEvent::Down {
        peer: 2,
        reason,
        was_established,
    };
    let cease = crate::wire::NotificationMsg::cease(2);
    r.events
        .send(down(DownReason::NotificationReceived(cease), true))
        .await
        .unwrap();
    let first = r.peers().await[1].last_down.clone().unwrap();
    assert!(first.contains("Cease"), "{first}");
    r.events
        .send(down(
            DownReason::Transport("connection refused".into()),
            false,
        ))
        .await
        .unwrap();
    let later = r.peers().await[1].last_down.clone().unwrap();
    assert!(
        later.starts_with(&first)
            && later.ends_with("since then: connection failed: connection refused"),
        "{later}"
    );
}

#[tokio::test]
async fn inbound_goes_to_the_peer_with_that_address() {
    let r = rig();
    r.events
        .send(inbound(stream().await, "198.18.0.3:40000"))
        .await
        .unwrap();
    // An IPv4 peer seen through an IPv6 listener is the same peer.
    r.events
        .send(inbound(stream().await, "[::ffff:198.18.0.2]:40001"))
        .await
        .unwrap();
    r.events
        .send(inbound(stream().await, "198.18.9.9:40002"))
        .await
        .unwrap();
    let _ = r.peers().await;
    let log = r.take_log();
    assert_eq!(&log[2..], &[(2, "incoming".into()), (1, "incoming".into())]);
}

#[tokio::test]
async fn a_range_creates_a_dynamic_peer_that_goes_away_when_down() {
    let r = rig();
    r.events
        .send(inbound(stream().await, "198.18.1.7:40000"))
        .await
        .unwrap();
    let peers = r.peers().await;
    assert_eq!(peers.len(), 3);
    assert_eq!(peers[2].name, "198.18.1.7");
    assert_eq!(peers[2].address, "198.18.1.7");
    assert_eq!(peers[2].asn, None, "external, not connected yet");
    let spawned = r.spawned.lock().unwrap().clone();
    assert!(spawned[2].1.passive && spawned[2].2.passive);
    assert_eq!(spawned[2].2.remote, "198.18.1.7:179".parse().unwrap());
    let log = r.take_log();
    assert_eq!(&log[2..], &[(3, "start".into()), (3, "incoming".into())]);
    r.events
        .send(PeerEvent::Down {
            peer: 3,
            reason: DownReason::Transport("closed".into()),
            was_established: false,
        })
        .await
        .unwrap();
    assert_eq!(r.peers().await.len(), 2);
    assert_eq!(r.take_log(), vec![(3, "stop".into())]);
}

#[tokio::test]
async fn show_routes_refuses_unknown_peers_and_advertised_without_peer() {
    let r = rig();
    let e = r
        .handle
        .request(Request::ShowRoutes {
            peer: Some("nope".into()),
            advertised: false,
        })
        .await
        .unwrap_err();
    assert!(e.contains("nope"), "{e}");
    let e = r
        .handle
        .request(Request::ShowRoutes {
            peer: None,
            advertised: true,
        })
        .await
        .unwrap_err();
    assert!(e.contains("--peer"), "{e}");
    // A peer that never came up has no routes.
    let ok = r
        .handle
        .request(Request::ShowRoutes {
            peer: Some("a".into()),
            advertised: true,
        })
        .await
        .unwrap();
    assert_eq!(ok, Response::Routes(vec![]));
    assert_eq!(
        r.handle.request(Request::ShowFib).await.unwrap(),
        Response::Fib(vec![])
    );
    match r.handle.request(Request::ShowStatus).await.unwrap() {
        Response::Status(s) => {
            assert_eq!((s.asn, s.peers, s.established), (64512, 2, 0));
            assert_eq!(s.router_id.to_string(), "198.18.0.1");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn shutdown_is_graceful_by_default_no_cease() {
    let r = rig();
    let _ = r.peers().await;
    r.take_log();
    let requester = r.handle.requester();
    r.handle.shutdown().await;
    assert_eq!(
        r.log.lock().unwrap().clone(),
        vec![(1, "stop".into()), (2, "stop".into())],
        "RFC 4724: the TCP connections close without a NOTIFICATION"
    );
    assert!(requester.request(Request::ShowPeers).await.is_err());
}

#[tokio::test]
async fn shutdown_withdraw_sends_cease_admin_shutdown_to_every_session() {
    let r = rig();
    let _ = r.peers().await;
    r.take_log();
    r.handle.shutdown_withdraw().await;
    assert_eq!(
        r.log.lock().unwrap().clone(),
        vec![(1, "stop 6/2".into()), (2, "stop 6/2".into())]
    );
}

#[tokio::test]
async fn a_stop_request_ends_the_speaker() {
    for (withdraw, want) in [(false, "stop"), (true, "stop 6/2")] {
        let mut r = rig();
        let _ = r.peers().await;
        r.take_log();
        let reply = r.handle.request(Request::Stop { withdraw }).await.unwrap();
        let Response::Done(text) = reply else {
            panic!("{reply:?}")
        };
        assert!(text.contains("stopping"), "{text}");
        tokio::time::timeout(std::time::Duration::from_secs(5), r.handle.stopped())
            .await
            .expect("the owner task ends");
        assert_eq!(r.take_log(), vec![(1, want.into()), (2, want.into())]);
        assert!(r.handle.request(Request::ShowPeers).await.is_err());
        r.handle.shutdown().await; // after the stop: returns at once
    }
}

#[tokio::test]
async fn control_socket_round_trip() {
    use crate::control::{client, server::ControlServer, Reply};
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("wren-ctl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("sub").join("wren.sock");
    // A stale socket file (nobody listening) is replaced.
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let r = rig();
    let srv = ControlServer::bind(&path, r.handle.requester()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);
    // A second daemon on the same socket is refused.
    let e = ControlServer::bind(&path, r.handle.requester()).unwrap_err();
    assert!(e.to_string().contains("another daemon"), "{e}");
    let p = path.clone();
    let reply: Reply =
        tokio::task::spawn_blocking(move || client::request(&p, &Request::ShowPeers).unwrap())
            .await
            .unwrap();
    assert!(reply.ok);
    let data = reply.data.unwrap();
    assert_eq!(data[0]["name"], "a");
    assert_eq!(data[1]["state"], "idle");
    // A bad line gets an error reply, and the connection still answers after it.
    let p = path.clone();
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&p).unwrap();
        s.write_all(b"{\"cmd\":\"reboot\"}\n{\"cmd\":\"show-status\"}\n")
            .unwrap();
        let mut rd = BufReader::new(s);
        let (mut l1, mut l2) = (String::new(), String::new());
        rd.read_line(&mut l1).unwrap();
        rd.read_line(&mut l2).unwrap();
        (l1, l2)
    })
    .await
    .unwrap();
    assert!(
        lines.0.starts_with(r#"{"ok":false,"error":"bad request"#),
        "{}",
        lines.0
    );
    assert!(
        lines.1.starts_with(r#"{"ok":true,"data":{"version""#),
        "{}",
        lines.1
    );
    drop(srv);
    assert!(!path.exists(), "socket removed on drop");
    // Any other kind of file is not ours to remove.
    std::fs::write(&path, "x").unwrap();
    let e = ControlServer::bind(&path, r.handle.requester()).unwrap_err();
    assert!(e.to_string().contains("not a socket"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn md5_keys_go_to_the_listener_and_a_missing_key_file_is_an_error() {
    let dir = std::env::temp_dir().join(format!("wren-spk-md5-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("a.key");
    std::fs::write(&key, "k\n").unwrap();
    let text = format!(
        "[router]\nasn = 64512\nlisten = []\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 64512\npassword_file = \"{}\"\n[[peer]]\naddress = \"198.18.0.3\"\nasn = 64512\n",
        key.display()
    );
    let cfg = config::parse(&text, Path::new("t.toml")).unwrap();
    let fake = FakeSessions::default();
    let (md5, spawned) = (fake.md5.clone(), fake.spawned.clone());
    let (_tx, rx) = mpsc::channel(1);
    let h = start(cfg.clone(), Box::new(MemFib::new()), Box::new(fake), rx).unwrap();
    assert_eq!(
        md5.lock().unwrap().clone(),
        vec![("198.18.0.2".parse().unwrap(), true)]
    );
    {
        let s = spawned.lock().unwrap();
        assert_eq!(s[0].2.md5_key.as_deref(), Some(&b"k"[..]));
        assert_eq!(s[1].2.md5_key, None);
    }
    h.shutdown().await;
    std::fs::remove_file(&key).unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let fake = Box::new(FakeSessions::default());
    let e = start(cfg, Box::new(MemFib::new()), fake, rx).unwrap_err();
    assert!(e.to_string().contains("a.key"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ===== blackhole before advertise =====

/// A FIB whose barriers open only when the test says so.
#[derive(Default, Clone)]
struct SlowFib {
    applied: Arc<Mutex<Vec<crate::rib::FibChange>>>,
    gates: Arc<Mutex<Vec<tokio::sync::oneshot::Sender<()>>>>,
}

impl crate::fib::FibSink for SlowFib {
    fn apply(&mut self, changes: &[crate::rib::FibChange]) {
        self.applied.lock().unwrap().extend_from_slice(changes);
    }

    fn routes(&self) -> Vec<crate::rib::FibRoute> {
        Vec::new()
    }

    fn barrier(&mut self) -> Option<Barrier> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.gates.lock().unwrap().push(tx);
        Some(Box::pin(async move {
            let _ = rx.await;
        }))
    }
}

#[tokio::test]
async fn a_block_is_advertised_only_after_its_blackhole_is_in_the_kernel() {
    let text = "[router]\nasn = 64512\nrouter_id = \"198.18.0.1\"\nlisten = []\n\
        [[peer]]\nname = \"a\"\naddress = \"198.18.0.2\"\nasn = 64512\nfamilies = [\"ipv4\"]\n\
        [[originate]]\nprefix = \"198.18.100.0/26\"\nblackhole = true\n";
    let cfg = config::parse(text, Path::new("t.toml")).unwrap();
    let fake = FakeSessions::default();
    let log = fake.log.clone();
    let fib = SlowFib::default();
    let (applied, gates) = (fib.applied.clone(), fib.gates.clone());
    let (tx, rx) = mpsc::channel(16);
    let handle = start(cfg, Box::new(fib), Box::new(fake), rx).unwrap();
    let neg = crate::fsm::Negotiated::plain(
        64512,
        "198.18.0.2".parse().unwrap(),
        vec![crate::wire::Family::IPV4_UNICAST],
    );
    tx.send(PeerEvent::Up {
        peer: 1,
        neg,
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40000".parse().unwrap(),
    })
    .await
    .unwrap();
    let sends = |log: &Log| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|(_, w)| w.starts_with("send"))
            .count()
    };
    let _ = handle.request(Request::ShowPeers).await.unwrap();
    assert_eq!(
        applied.lock().unwrap().len(),
        1,
        "the blackhole went to the FIB"
    );
    assert_eq!(
        sends(&log),
        0,
        "nothing is advertised before the kernel has the blackhole"
    );
    let gate = gates
        .lock()
        .unwrap()
        .pop()
        .expect("a barrier was asked for");
    gate.send(()).unwrap();
    for _ in 0..50 {
        let _ = handle.request(Request::ShowPeers).await.unwrap();
        if sends(&log) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        sends(&log) > 0,
        "the block is advertised once the barrier opens"
    );
}

pub(super) fn update_v4(prefix: &str, nh: &str) -> crate::wire::update::UpdateMsg {
    use crate::wire::{AsPath, Attrs, Nlri4, Origin};
    crate::wire::update::UpdateMsg {
        attrs: Attrs {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(&[])),
            next_hop: Some(nh.parse().unwrap()),
            local_pref: Some(100),
            ..Attrs::default()
        },
        nlri: vec![Nlri4 {
            path_id: 0,
            prefix: prefix.parse().unwrap(),
        }],
        ..Default::default()
    }
}
