//! Session tasks over loopback: two wren sessions in one process, or one against a
//! scripted peer. 127.0.0.0/8 is all local on Linux, so 127.0.0.1 and 127.0.0.2 need no
//! setup. TCP-MD5 and BIRD tests run in a network namespace: see `netns_tests.rs`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

use super::*;
use crate::fsm::{RemoteAs, SessionCfg};
use crate::wire::{
    self, Attrs, Capability, Ctx, Family, Message, Nlri4, OpenMsg, OptParam, Origin,
    RouteRefreshMsg, UpdateMsg,
};

/// One side: its session, listener and the events the test sees (Inbound is routed).
pub(super) struct Side {
    pub h: SessionHandle,
    pub rx: mpsc::Receiver<PeerEvent>,
    /// Dropping it stops listening.
    pub listener: ListenerHandle,
}

pub(super) struct Peer {
    pub ip: &'static str,
    pub asn: u32,
    pub expect_as: u32,
    pub id: [u8; 4],
    pub passive: bool,
    pub hold: u16,
    pub key: Option<&'static [u8]>,
    /// Capacity of the speaker's events channel.
    pub cap: usize,
    /// Listening port (0: any).
    pub port: u16,
}

// ===== helper functions =====

/// Log to the test output (shown for failing tests) with `WREN_LOG`, default debug.
pub(super) fn init_log() {
    let filter = std::env::var("WREN_LOG").unwrap_or_else(|_| "wren=debug".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

pub(super) fn peer(ip: &'static str, asn: u32, expect_as: u32, id: u8) -> Peer {
    Peer {
        ip,
        asn,
        expect_as,
        id: [198, 18, 0, id],
        passive: false,
        hold: 9,
        key: None,
        cap: 64,
        port: 0,
    }
}

pub(super) fn session_cfg(p: &Peer) -> SessionCfg {
    SessionCfg {
        local_as: p.asn,
        local_id: Ipv4Addr::from(p.id),
        remote_as: RemoteAs::Exact(p.expect_as),
        passive: p.passive,
        hold_time: p.hold,
        keepalive: None,
        connect_retry: Duration::from_millis(1500),
        connect_retry_max: Duration::from_secs(4),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(p.asn),
        ],
        jitter_seed: u64::from(p.id[3]),
    }
}

/// Bind listeners for both, then start both sessions pointed at each other.
pub(super) async fn pair(a: &Peer, b: &Peer) -> (Side, Side) {
    pair_with(a, b, |_| {}).await
}

/// [`pair`], with `f` applied to both transports.
pub(super) async fn pair_with(a: &Peer, b: &Peer, f: impl Fn(&mut Transport)) -> (Side, Side) {
    init_log();
    let la = bind_side(a, b.ip.parse().unwrap()).await;
    let lb = bind_side(b, a.ip.parse().unwrap()).await;
    let addr_a = la.0.local_addrs()[0];
    let addr_b = lb.0.local_addrs()[0];
    let sa = start_side(a, addr_b, la, &f);
    let sb = start_side(b, addr_a, lb, &f);
    (sa, sb)
}

/// One session towards `remote` (another daemon or a scripted peer).
pub(super) async fn single(a: &Peer, remote: SocketAddr) -> Side {
    init_log();
    let l = bind_side(a, remote.ip()).await;
    start_side(a, remote, l, &|_| {})
}

type Bound = (ListenerHandle, mpsc::Receiver<PeerEvent>);

/// Listen on `p.ip`; with a key, accept `other` signed with it.
async fn bind_side(p: &Peer, other: IpAddr) -> Bound {
    let (tx, rx) = mpsc::channel(8);
    let addr = SocketAddr::new(p.ip.parse().unwrap(), p.port);
    let l = listen(&[addr], tx).await.unwrap();
    if let Some(key) = p.key {
        l.set_md5(other, Some(key)).unwrap();
    }
    (l, rx)
}

fn start_side(
    p: &Peer,
    remote: SocketAddr,
    (listener, lrx): Bound,
    f: &dyn Fn(&mut Transport),
) -> Side {
    let mut t = Transport {
        remote,
        local: Some(p.ip.parse().unwrap()),
        passive: p.passive,
        ttl: 1,
        gtsm: false,
        md5_key: p.key.map(<[u8]>::to_vec),
    };
    f(&mut t);
    let (tx, rx) = mpsc::channel(p.cap);
    let h = spawn_session(u32::from(p.id[3]), session_cfg(p), t, tx);
    route_inbound(h.clone(), lrx);
    Side { h, rx, listener }
}

/// Play the speaker's part for the listener: hand accepted connections to the session.
pub(super) fn route_inbound(h: SessionHandle, mut rx: mpsc::Receiver<PeerEvent>) {
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if let PeerEvent::Inbound { stream, .. } = ev {
                h.send(SessionCmd::Incoming(stream));
            }
        }
    });
}

/// The next event matching `f`, skipping others; panics after `secs`.
pub(super) async fn wait_for<T>(
    side: &mut Side,
    secs: u64,
    mut f: impl FnMut(&PeerEvent) -> Option<T>,
) -> T {
    let fut = async {
        loop {
            let ev = side.rx.recv().await.expect("session task ended");
            if let Some(t) = f(&ev) {
                return t;
            }
        }
    };
    timeout(Duration::from_secs(secs), fut)
        .await
        .expect("timed out waiting for an event")
}

pub(super) async fn wait_up(side: &mut Side, secs: u64) -> (Negotiated, SocketAddr, SocketAddr) {
    wait_for(side, secs, |ev| match ev {
        PeerEvent::Up {
            neg, local, remote, ..
        } => Some((neg.clone(), *local, *remote)),
        _ => None,
    })
    .await
}

pub(super) async fn wait_down(side: &mut Side, secs: u64) -> DownReason {
    wait_for(side, secs, |ev| match ev {
        PeerEvent::Down { reason, .. } => Some(reason.clone()),
        _ => None,
    })
    .await
}

fn update(i: u32) -> UpdateMsg {
    let prefix = format!("198.18.{}.{}/32", 100 + i / 256, i % 256);
    UpdateMsg {
        attrs: Attrs {
            origin: Some(Origin::Igp),
            as_path: Some(wire::AsPath::default()),
            next_hop: Some(Ipv4Addr::new(127, 0, 0, 1)),
            ..Attrs::default()
        },
        nlri: vec![Nlri4 {
            path_id: 0,
            prefix: prefix.parse().unwrap(),
        }],
        ..UpdateMsg::default()
    }
}

fn framed(msg: &Message, ctx: &Ctx) -> Arc<[u8]> {
    Arc::from(wire::encode_to_vec(msg, ctx).unwrap())
}

// ===== tests =====

#[tokio::test]
async fn established_then_update_and_route_refresh() {
    let a = peer("127.0.0.1", 65001, 65002, 1);
    let b = Peer {
        passive: true,
        ..peer("127.0.0.2", 65002, 65001, 2)
    };
    let (mut sa, mut sb) = pair(&a, &b).await;
    sb.h.send(SessionCmd::Start);
    sa.h.send(SessionCmd::Start);
    let (neg_a, local_a, remote_a) = wait_up(&mut sa, 10).await;
    let (neg_b, local_b, remote_b) = wait_up(&mut sb, 10).await;
    assert_eq!((local_a, remote_a), (remote_b, local_b));
    assert_eq!(local_a.ip(), "127.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(neg_a.peer_as, 65002);
    assert_eq!(neg_b.peer_as, 65001);
    assert!(neg_a.route_refresh && neg_a.as4);

    let u = update(1);
    sa.h.send(SessionCmd::Send(framed(
        &Message::Update(u.clone()),
        &neg_a.encode_ctx(),
    )));
    let got = wait_for(&mut sb, 5, |ev| match ev {
        PeerEvent::Update { msg, findings, .. } => Some((msg.clone(), findings.clone())),
        _ => None,
    })
    .await;
    assert_eq!(got.0.nlri, u.nlri);
    assert_eq!(got.0.attrs.next_hop, u.attrs.next_hop);
    assert!(got.1.is_empty());

    let rr = RouteRefreshMsg {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    };
    let bytes = framed(&Message::RouteRefresh(rr.clone()), &neg_b.encode_ctx());
    sb.h.send(SessionCmd::Send(bytes));
    let got = wait_for(&mut sa, 5, |ev| match ev {
        PeerEvent::RouteRefresh { msg, .. } => Some(msg.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, rr);

    // Stop with a Cease: the other side learns it from the NOTIFICATION.
    sa.h.send(SessionCmd::Stop(Some(NotificationMsg {
        code: 6,
        subcode: 2,
        data: vec![],
    })));
    assert_eq!(wait_down(&mut sa, 5).await, DownReason::Stopped);
    match wait_down(&mut sb, 5).await {
        DownReason::NotificationReceived(n) => assert_eq!((n.code, n.subcode), (6, 2)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_peer_as_is_explained_on_both_sides() {
    // A expects AS 65009, but B is 65002.
    let a = peer("127.0.0.1", 65001, 65009, 3);
    let b = Peer {
        passive: true,
        ..peer("127.0.0.2", 65002, 65001, 4)
    };
    let (mut sa, mut sb) = pair(&a, &b).await;
    sb.h.send(SessionCmd::Start);
    sa.h.send(SessionCmd::Start);
    match wait_down(&mut sa, 10).await {
        DownReason::NotificationSent(n, why) => {
            assert_eq!((n.code, n.subcode), (2, 2));
            assert!(why.contains("expected 65009, got 65002"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    match wait_down(&mut sb, 10).await {
        DownReason::NotificationReceived(n) => assert_eq!((n.code, n.subcode), (2, 2)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_reason() {
    let a = peer("127.0.0.1", 65001, 65002, 5);
    let (tx, rx) = mpsc::channel(8);
    // A port with nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let remote = closed.local_addr().unwrap();
    drop(closed);
    let t = Transport {
        remote,
        local: None,
        passive: false,
        ttl: 1,
        gtsm: false,
        md5_key: None,
    };
    let h = spawn_session(5, session_cfg(&a), t, tx);
    h.send(SessionCmd::Start);
    let listener = listen(&["127.0.0.1:0".parse().unwrap()], mpsc::channel(1).0)
        .await
        .unwrap();
    let mut side = Side { rx, h, listener };
    let reason = wait_down(&mut side, 5).await;
    assert_eq!(
        reason.to_string(),
        format!("connection failed: connection refused by {remote} (is BGP running there?)")
    );
}

/// A scripted peer: answers the OPEN, sends one KEEPALIVE, then goes silent.
#[tokio::test]
async fn hold_timer_expires_when_the_peer_goes_silent() {
    let l = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let remote = l.local_addr().unwrap();
    let a = Peer {
        hold: 3,
        ..peer("127.0.0.1", 65001, 65002, 6)
    };
    let (tx, rx) = mpsc::channel(8);
    let t = Transport {
        remote,
        local: Some("127.0.0.1".parse().unwrap()),
        passive: false,
        ttl: 1,
        gtsm: false,
        md5_key: None,
    };
    let h = spawn_session(6, session_cfg(&a), t, tx);
    h.send(SessionCmd::Start);
    let (mut s, _) = l.accept().await.unwrap();
    let open = OpenMsg {
        version: 4,
        my_as: 65002,
        hold_time: 3,
        bgp_id: Ipv4Addr::new(198, 18, 0, 99),
        params: vec![OptParam::Capabilities(vec![Capability::FourOctetAs(65002)])],
        extended_params: false,
    };
    let ctx = Ctx::default();
    s.write_all(&wire::encode_to_vec(&Message::Open(open), &ctx).unwrap())
        .await
        .unwrap();
    s.write_all(&wire::encode_to_vec(&Message::Keepalive, &ctx).unwrap())
        .await
        .unwrap();
    let listener = listen(&["127.0.0.1:0".parse().unwrap()], mpsc::channel(1).0)
        .await
        .unwrap();
    let mut side = Side { rx, h, listener };
    wait_up(&mut side, 5).await;
    let t0 = tokio::time::Instant::now();
    match wait_down(&mut side, 8).await {
        DownReason::NotificationSent(n, why) => {
            assert_eq!((n.code, n.subcode), (4, 0));
            assert!(why.contains("hold timer expired"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(t0.elapsed() >= Duration::from_millis(2500));
    // What the silent peer received: OPEN, KEEPALIVEs, then the NOTIFICATION.
    let msgs = read_all(&mut s).await;
    assert!(matches!(msgs.first(), Some(Message::Open(_))));
    assert!(msgs.iter().filter(|m| **m == Message::Keepalive).count() >= 2);
    match msgs.last() {
        Some(Message::Notification(n)) => assert_eq!(n.code, 4),
        other => panic!("{other:?}"),
    }
}

async fn read_all(s: &mut TcpStream) -> Vec<Message> {
    let mut buf = Vec::new();
    let _ = timeout(Duration::from_secs(3), s.read_to_end(&mut buf)).await;
    let ctx = Ctx::default();
    let mut out = Vec::new();
    let mut rest = &buf[..];
    while let Ok(Some(len)) = wire::frame_len(rest, &ctx) {
        let Some(frame) = rest.get(..len) else { break };
        out.push(wire::decode(frame, &ctx).unwrap().0);
        rest = &rest[len..];
    }
    out
}

/// Both sides connect at once: exactly one connection survives, the same on both.
#[tokio::test]
async fn collision_leaves_one_session() {
    for (ida, idb) in [(7, 8), (10, 9)] {
        let a = peer("127.0.0.1", 65001, 65002, ida);
        let b = peer("127.0.0.2", 65002, 65001, idb);
        let (mut sa, mut sb) = pair(&a, &b).await;
        sa.h.send(SessionCmd::Start);
        sb.h.send(SessionCmd::Start);
        let (_, la, ra) = wait_up(&mut sa, 15).await;
        let (_, lb, rb) = wait_up(&mut sb, 15).await;
        assert_eq!((la, ra), (rb, lb), "both ends of one connection");
        // And it stays: no Down within a few keepalives.
        tokio::time::sleep(Duration::from_secs(2)).await;
        while let Ok(ev) = sa.rx.try_recv() {
            assert!(!matches!(ev, PeerEvent::Down { .. }), "{ev:?}");
        }
        while let Ok(ev) = sb.rx.try_recv() {
            assert!(!matches!(ev, PeerEvent::Down { .. }), "{ev:?}");
        }
    }
}

/// The speaker does not read B's events for longer than the hold time while A floods
/// B with UPDATEs: keepalives keep flowing and neither session drops.
#[tokio::test]
async fn busy_speaker_does_not_stop_keepalives() {
    let a = Peer {
        hold: 3,
        ..peer("127.0.0.1", 65001, 65002, 11)
    };
    let b = Peer {
        hold: 3,
        passive: true,
        cap: 1,
        ..peer("127.0.0.2", 65002, 65001, 12)
    };
    let (mut sa, mut sb) = pair(&a, &b).await;
    sb.h.send(SessionCmd::Start);
    sa.h.send(SessionCmd::Start);
    let (neg, ..) = wait_up(&mut sa, 10).await;
    wait_up(&mut sb, 10).await;
    let n = 2000;
    for i in 0..n {
        let bytes = framed(&Message::Update(update(i)), &neg.encode_ctx());
        sa.h.send(SessionCmd::Send(bytes));
    }
    // B's speaker is "busy" for 5 s (its channel holds one event).
    tokio::time::sleep(Duration::from_secs(5)).await;
    while let Ok(ev) = sa.rx.try_recv() {
        assert!(!matches!(ev, PeerEvent::Down { .. }), "{ev:?}");
    }
    let mut got = 0;
    while got < n {
        let ev = timeout(Duration::from_secs(10), sb.rx.recv())
            .await
            .unwrap()
            .unwrap();
        match ev {
            PeerEvent::Update { .. } => got += 1,
            PeerEvent::Down { reason, .. } => panic!("B went down: {reason}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn ipv6_session_over_loopback() {
    let a = peer("::1", 65001, 65002, 13);
    let b = Peer {
        passive: true,
        ..peer("::1", 65002, 65001, 14)
    };
    let (mut sa, mut sb) = pair(&a, &b).await;
    sb.h.send(SessionCmd::Start);
    sa.h.send(SessionCmd::Start);
    let (_, local, remote) = wait_up(&mut sa, 10).await;
    wait_up(&mut sb, 10).await;
    assert!(local.is_ipv6() && remote.is_ipv6());
}

/// `0.0.0.0:P` and `[::]:P` coexist (IPV6_V6ONLY), and each accepts its family.
#[tokio::test]
async fn dual_stack_listeners_share_a_port() {
    let (tx, mut rx) = mpsc::channel(4);
    let l6 = listen(&["[::]:0".parse().unwrap()], tx.clone())
        .await
        .unwrap();
    let port = l6.local_addrs()[0].port();
    let l4 = listen(&[SocketAddr::from(([0, 0, 0, 0], port))], tx)
        .await
        .unwrap();
    l6.set_md5("2001:db8::1".parse().unwrap(), Some(b"k"))
        .unwrap();
    l6.set_md5("2001:db8::1".parse().unwrap(), None).unwrap();
    l4.set_md5("198.18.0.9".parse().unwrap(), None).unwrap();
    for target in ["127.0.0.1", "::1"] {
        let addr = SocketAddr::new(target.parse().unwrap(), port);
        let _c = TcpStream::connect(addr).await.unwrap();
        let ev = timeout(Duration::from_secs(5), rx.recv()).await.unwrap();
        match ev {
            Some(PeerEvent::Inbound { local, remote, .. }) => {
                assert_eq!(local, addr);
                assert_eq!(remote.is_ipv6(), addr.is_ipv6());
            }
            other => panic!("{other:?}"),
        }
    }
    // Dropping the handles stops listening.
    drop((l4, l6));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).await;
    assert!(refused.is_err());
}

#[test]
fn transport_debug_hides_the_md5_key() {
    let t = Transport {
        remote: "198.18.0.2:179".parse().unwrap(),
        local: None,
        passive: false,
        ttl: 1,
        gtsm: false,
        md5_key: Some(b"s3cret".to_vec()),
    };
    let s = format!("{t:?}");
    assert!(!s.contains("s3cret") && !s.contains("115, 51"), "{s}");
    assert!(s.contains("<hidden>"));
}
