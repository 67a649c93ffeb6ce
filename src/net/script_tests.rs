//! Against a scripted peer that sends exactly what the test wants, when it wants:
//! connection collisions (RFC 4271 §6.8), graceful-restart reconnects, malformed input.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::timeout;

use super::tests::{peer, single, wait_for, wait_up, Side};
use super::*;
use crate::wire::{self, Capability, Ctx, Message, OpenMsg, OptParam};

/// The scripted peer: AS 65002 on 127.0.0.2.
struct Script {
    listener: TcpListener,
    id: Ipv4Addr,
}

// ===== impl Script =====

impl Script {
    async fn new(id: [u8; 4]) -> Script {
        Script {
            listener: TcpListener::bind("127.0.0.2:0").await.unwrap(),
            id: Ipv4Addr::from(id),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    fn open(&self) -> Message {
        Message::Open(OpenMsg {
            version: 4,
            my_as: 65002,
            hold_time: 9,
            bgp_id: self.id,
            params: vec![OptParam::Capabilities(vec![
                Capability::Multiprotocol(wire::Family::IPV4_UNICAST),
                Capability::RouteRefresh,
                Capability::FourOctetAs(65002),
            ])],
            extended_params: false,
        })
    }

    /// Wren's connection to us (connection 1).
    async fn accept(&self) -> TcpStream {
        let fut = self.listener.accept();
        timeout(Duration::from_secs(5), fut)
            .await
            .unwrap()
            .unwrap()
            .0
    }

    /// Our connection to wren's listener (connection 2).
    async fn connect(&self, side: &Side) -> TcpStream {
        let s = TcpSocket::new_v4().unwrap();
        s.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        s.connect(side.listener.local_addrs()[0]).await.unwrap()
    }
}

// ===== helper functions =====

async fn send(s: &mut TcpStream, m: &Message) {
    let bytes = wire::encode_to_vec(m, &Ctx::default()).unwrap();
    s.write_all(&bytes).await.unwrap();
}

/// The next message on `s`, or `None` at end of stream.
async fn recv(s: &mut TcpStream) -> Option<Message> {
    let fut = async {
        let mut head = [0u8; wire::HEADER_LEN];
        s.read_exact(&mut head).await.ok()?;
        let len = usize::from(u16::from_be_bytes([head[16], head[17]]));
        let mut msg = head.to_vec();
        msg.resize(len, 0);
        s.read_exact(&mut msg[wire::HEADER_LEN..]).await.ok()?;
        Some(wire::decode(&msg, &Ctx::default()).unwrap().0)
    };
    timeout(Duration::from_secs(5), fut)
        .await
        .expect("no message in time")
}

fn is_collision_cease(m: &Option<Message>) -> bool {
    matches!(m, Some(Message::Notification(n)) if (n.code, n.subcode) == (6, 7))
}

/// Wren (AS 65001, `id`) started towards the script.
async fn wren(id: u8, script: &Script) -> Side {
    let a = peer("127.0.0.1", 65001, 65002, id);
    let side = single(&a, script.addr()).await;
    side.h.send(SessionCmd::Start);
    side
}

// ===== tests =====

#[tokio::test]
async fn opensent_collision_peer_wins() {
    let script = Script::new([198, 18, 0, 200]).await;
    let mut a = wren(1, &script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    let mut c2 = script.connect(&a).await;
    send(&mut c2, &script.open()).await;
    // Our identifier is higher: wren closes its own connection and continues on ours.
    assert!(is_collision_cease(&recv(&mut c1).await));
    assert!(matches!(recv(&mut c2).await, Some(Message::Open(_))));
    assert_eq!(recv(&mut c2).await, Some(Message::Keepalive));
    send(&mut c2, &Message::Keepalive).await;
    let (_, _, remote) = wait_up(&mut a, 5).await;
    assert_eq!(remote, c2.local_addr().unwrap());
}

#[tokio::test]
async fn opensent_collision_we_win() {
    let script = Script::new([198, 18, 0, 1]).await;
    let mut a = wren(50, &script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    let mut c2 = script.connect(&a).await;
    send(&mut c2, &script.open()).await;
    // Wren's identifier (198.18.0.50) is higher: our second connection is closed.
    assert!(is_collision_cease(&recv(&mut c2).await));
    send(&mut c1, &script.open()).await;
    send(&mut c1, &Message::Keepalive).await;
    let (_, _, remote) = wait_up(&mut a, 5).await;
    assert_eq!(remote, script.addr());
}

#[tokio::test]
async fn openconfirm_collision_peer_wins() {
    let script = Script::new([198, 18, 0, 200]).await;
    let mut a = wren(2, &script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    send(&mut c1, &script.open()).await;
    assert_eq!(recv(&mut c1).await, Some(Message::Keepalive));
    // Wren is in OpenConfirm on c1; we open c2 with the same OPEN.
    let mut c2 = script.connect(&a).await;
    send(&mut c2, &script.open()).await;
    assert!(is_collision_cease(&recv(&mut c1).await));
    assert!(matches!(recv(&mut c2).await, Some(Message::Open(_))));
    assert_eq!(recv(&mut c2).await, Some(Message::Keepalive));
    send(&mut c2, &Message::Keepalive).await;
    let (_, _, remote) = wait_up(&mut a, 5).await;
    assert_eq!(remote, c2.local_addr().unwrap());
}

#[tokio::test]
async fn peer_cease_on_our_connection_selects_its_own() {
    // Our identifier is lower, but we resolved first and closed wren's connection.
    let script = Script::new([198, 18, 0, 1]).await;
    let mut a = wren(60, &script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    let mut c2 = script.connect(&a).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let cease = NotificationMsg {
        code: 6,
        subcode: 7,
        data: vec![],
    };
    send(&mut c1, &Message::Notification(cease)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&mut c2, &script.open()).await;
    assert!(matches!(recv(&mut c2).await, Some(Message::Open(_))));
    assert_eq!(recv(&mut c2).await, Some(Message::Keepalive));
    send(&mut c2, &Message::Keepalive).await;
    let (_, _, remote) = wait_up(&mut a, 5).await;
    assert_eq!(remote, c2.local_addr().unwrap());
}

#[tokio::test]
async fn established_session_refuses_a_second_connection() {
    let script = Script::new([198, 18, 0, 200]).await;
    let mut a = wren(3, &script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    send(&mut c1, &script.open()).await;
    send(&mut c1, &Message::Keepalive).await;
    wait_up(&mut a, 5).await;
    let mut c2 = script.connect(&a).await;
    send(&mut c2, &script.open()).await;
    assert!(is_collision_cease(&recv(&mut c2).await));
    // The first connection carries on: an UPDATE on it still arrives.
    let u = wire::UpdateMsg {
        withdrawn: vec![wire::Nlri4 {
            path_id: 0,
            prefix: "198.18.5.0/24".parse().unwrap(),
        }],
        ..wire::UpdateMsg::default()
    };
    send(&mut c1, &Message::Update(u.clone())).await;
    let got = wait_for(&mut a, 5, |ev| match ev {
        PeerEvent::Update { msg, .. } => Some(msg.clone()),
        PeerEvent::Down { reason, .. } => panic!("down: {reason}"),
        _ => None,
    })
    .await;
    assert_eq!(got.withdrawn, u.withdrawn);
    while let Ok(ev) = a.rx.try_recv() {
        assert!(!matches!(ev, PeerEvent::Down { .. }), "{ev:?}");
    }
}

/// The script's OPEN with a graceful-restart capability; `restart` is the R bit.
fn gr_open(script: &Script, restart: bool) -> Message {
    let gr = Capability::GracefulRestart(wire::capability::GracefulRestart {
        restart,
        notification: false,
        reserved_flags: 0,
        time: 120,
        families: vec![],
    });
    let mut open = script.open();
    if let Message::Open(o) = &mut open {
        o.params.push(OptParam::Capabilities(vec![gr]));
    }
    open
}

/// Established with a graceful-restart script on connection 1.
async fn established_gr(script: &Script) -> (Side, TcpStream) {
    let mut a = wren(4, script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    send(&mut c1, &gr_open(script, false)).await;
    send(&mut c1, &Message::Keepalive).await;
    wait_up(&mut a, 5).await;
    (a, c1)
}

#[tokio::test]
async fn graceful_restart_peer_reconnecting_replaces_the_session() {
    let script = Script::new([198, 18, 0, 200]).await;
    let (mut a, _c1) = established_gr(&script).await;
    // The peer restarted: it connects again, R bit set, while wren still has the old
    // session.
    let mut c2 = script.connect(&a).await;
    send(&mut c2, &gr_open(&script, true)).await;
    let (reason, was_established) = wait_for(&mut a, 5, |ev| match ev {
        PeerEvent::Down {
            reason,
            was_established,
            ..
        } => Some((reason.to_string(), *was_established)),
        _ => None,
    })
    .await;
    assert!(was_established);
    assert!(reason.contains("graceful restart"), "{reason}");
    assert!(matches!(recv(&mut c2).await, Some(Message::Open(_))));
    assert_eq!(recv(&mut c2).await, Some(Message::Keepalive));
    send(&mut c2, &Message::Keepalive).await;
    let (_, _, remote) = wait_up(&mut a, 5).await;
    assert_eq!(remote, c2.local_addr().unwrap());
}

#[tokio::test]
async fn a_late_crossing_connection_of_a_live_gr_peer_is_refused() {
    let script = Script::new([198, 18, 0, 201]).await;
    let (mut a, _c1) = established_gr(&script).await;
    // A connection attempt that crossed the first one arrives late: no R bit, and the
    // old connection has just carried the peer's messages. RFC 4271 §6.8: it loses.
    let mut c2 = script.connect(&a).await;
    send(&mut c2, &gr_open(&script, false)).await;
    match recv(&mut c2).await {
        Some(Message::Notification(n)) => assert_eq!((n.code, n.subcode), (6, 7)),
        other => panic!("expected Cease 6/7, got {other:?}"),
    }
    let down = wait_for(&mut a, 60, |ev| match ev {
        PeerEvent::Down { reason, .. } => Some(reason.to_string()),
        _ => None,
    });
    if let Ok(reason) = timeout(Duration::from_secs(2), down).await {
        panic!("the established session went down: {reason}");
    }
}

/// Established with the script on one connection.
async fn established(id: u8) -> (Side, TcpStream) {
    let script = Script::new([198, 18, 0, 200]).await;
    let mut a = wren(id, &script).await;
    let mut c1 = script.accept().await;
    assert!(matches!(recv(&mut c1).await, Some(Message::Open(_))));
    send(&mut c1, &script.open()).await;
    send(&mut c1, &Message::Keepalive).await;
    wait_up(&mut a, 5).await;
    (a, c1)
}

#[tokio::test]
async fn malformed_message_gets_its_notification() {
    let (mut a, mut c1) = established(5).await;
    let mut bad = wire::encode_to_vec(&Message::Keepalive, &Ctx::default()).unwrap();
    bad[0] = 0; // RFC 4271 §6.1: Connection Not Synchronized
    c1.write_all(&bad).await.unwrap();
    let reason = super::tests::wait_down(&mut a, 5).await;
    match &reason {
        DownReason::NotificationSent(n, why) => {
            assert_eq!((n.code, n.subcode), (1, 1));
            assert!(why.contains("marker"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let mut last = None;
    while let Some(m) = recv(&mut c1).await {
        last = Some(m);
    }
    assert!(matches!(last, Some(Message::Notification(n)) if (n.code, n.subcode) == (1, 1)));
}

/// RFC 7606 §7.1: a bad ORIGIN value is treat-as-withdraw, for the RIB to apply: the
/// UPDATE arrives with its finding and the session stays up.
#[tokio::test]
async fn rfc7606_findings_reach_the_speaker() {
    let (mut a, mut c1) = established(6).await;
    let attrs: &[u8] = &[
        0x40, 1, 1, 5, // ORIGIN 5: invalid
        0x40, 2, 0, // AS_PATH empty
        0x40, 3, 4, 127, 0, 0, 1, // NEXT_HOP
    ];
    let mut m = vec![0xff; 16];
    let len = 19 + 2 + 2 + attrs.len() + 4;
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(attrs);
    m.extend_from_slice(&[24, 198, 18, 5]);
    c1.write_all(&m).await.unwrap();
    let findings = wait_for(&mut a, 5, |ev| match ev {
        PeerEvent::Update { findings, .. } => Some(findings.clone()),
        PeerEvent::Down { reason, .. } => panic!("down: {reason}"),
        _ => None,
    })
    .await;
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].treatment, wire::Treatment::TreatAsWithdraw);
}
