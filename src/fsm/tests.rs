//! FSM scripts: events in, actions out, no runtime.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::*;
use crate::wire::{Capability, Message, NotificationMsg, OpenMsg, OptParam};

fn cfg() -> SessionCfg {
    SessionCfg {
        local_as: 64512,
        local_id: Ipv4Addr::new(198, 18, 0, 1),
        remote_as: RemoteAs::Exact(65001),
        passive: false,
        hold_time: 90,
        keepalive: None,
        connect_retry: Duration::from_secs(5),
        connect_retry_max: Duration::from_secs(120),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(64512),
        ],
        jitter_seed: 42,
    }
}

fn peer_open(asn: u32, hold: u16, id: [u8; 4], caps: Vec<Capability>) -> Message {
    let mut caps = caps;
    caps.push(Capability::FourOctetAs(asn));
    Message::Open(OpenMsg {
        version: 4,
        my_as: u16::try_from(asn).unwrap_or(23456),
        hold_time: hold,
        bgp_id: Ipv4Addr::from(id),
        params: vec![OptParam::Capabilities(caps)],
        extended_params: false,
    })
}

fn good_open() -> Message {
    peer_open(
        65001,
        60,
        [198, 18, 0, 2],
        vec![Capability::Multiprotocol(Family::IPV4_UNICAST)],
    )
}

fn sent_notification(actions: &[Action]) -> Option<(u8, u8)> {
    actions.iter().find_map(|a| match a {
        Action::Send(Message::Notification(n)) => Some((n.code, n.subcode)),
        _ => None,
    })
}

fn armed(actions: &[Action], t: Timer) -> Option<Duration> {
    actions.iter().find_map(|a| match a {
        Action::Arm(x, d) if *x == t => Some(*d),
        _ => None,
    })
}

/// Drive a session to OpenSent.
fn open_sent() -> (Session, Instant) {
    let now = Instant::now();
    let mut s = Session::new(cfg());
    s.handle(now, Event::Start);
    let a = s.handle(now, Event::TcpConnected);
    assert!(matches!(a[1], Action::Send(Message::Open(_))), "{a:?}");
    assert_eq!(armed(&a, Timer::Hold), Some(Duration::from_secs(240)));
    assert_eq!(s.state(), State::OpenSent);
    (s, now)
}

fn established() -> (Session, Instant) {
    let (mut s, now) = open_sent();
    s.handle(now, Event::Recv(good_open()));
    let a = s.handle(now, Event::Recv(Message::Keepalive));
    assert!(
        a.iter().any(|x| matches!(x, Action::Established(_))),
        "{a:?}"
    );
    assert_eq!(s.state(), State::Established);
    (s, now)
}

#[test]
fn start_connects_and_arms_retry() {
    let mut s = Session::new(cfg());
    let a = s.handle(Instant::now(), Event::Start);
    assert!(a.contains(&Action::Connect));
    let d = armed(&a, Timer::ConnectRetry).unwrap();
    assert!(
        d >= Duration::from_millis(3750) && d <= Duration::from_secs(5),
        "{d:?}"
    );
    assert!(a.contains(&Action::StateChanged {
        from: State::Idle,
        to: State::Connect
    }));
}

#[test]
fn passive_start_waits_in_active() {
    let mut c = cfg();
    c.passive = true;
    let mut s = Session::new(c);
    let a = s.handle(Instant::now(), Event::Start);
    assert!(!a.contains(&Action::Connect));
    assert_eq!(s.state(), State::Active);
    let a = s.handle(Instant::now(), Event::TimerFired(Timer::ConnectRetry));
    assert!(
        !a.contains(&Action::Connect),
        "a passive peer never connects: {a:?}"
    );
}

#[test]
fn happy_path_negotiates_the_smaller_hold_time() {
    let (mut s, now) = open_sent();
    let a = s.handle(now, Event::Recv(good_open()));
    assert_eq!(a[0], Action::Send(Message::Keepalive));
    assert_eq!(armed(&a, Timer::Hold), Some(Duration::from_secs(60)));
    assert_eq!(armed(&a, Timer::Keepalive), Some(Duration::from_secs(20)));
    assert_eq!(s.state(), State::OpenConfirm);
    let a = s.handle(now, Event::Recv(Message::Keepalive));
    let neg = a
        .iter()
        .find_map(|x| match x {
            Action::Established(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(neg.peer_as, 65001);
    assert_eq!(neg.hold_time, 60);
    assert!(neg.as4);
    assert_eq!(neg.families, vec![Family::IPV4_UNICAST]);
    assert!(
        !neg.route_refresh,
        "the peer did not announce route refresh"
    );
    assert!(armed(&a, Timer::SendHold).unwrap() >= Duration::from_secs(480));
}

#[test]
fn bad_peer_as_names_expected_and_received() {
    let (mut s, now) = open_sent();
    let a = s.handle(
        now,
        Event::Recv(peer_open(65002, 90, [198, 18, 0, 2], vec![])),
    );
    assert_eq!(sent_notification(&a), Some((2, 2)));
    let down = a.iter().find_map(|x| match x {
        Action::Down(r) => Some(r.to_string()),
        _ => None,
    });
    assert_eq!(
        down.unwrap(),
        "bad peer AS: expected 65001, got 65002 (sent NOTIFICATION 2/2: OPEN Message Error/Bad Peer AS)"
    );
    assert_eq!(s.state(), State::Idle);
    assert!(
        armed(&a, Timer::ConnectRetry).is_some(),
        "restarts automatically"
    );
}

#[test]
fn open_checks_version_hold_time_and_identifier() {
    let (mut s, now) = open_sent();
    let mut m = good_open();
    if let Message::Open(o) = &mut m {
        o.version = 3;
    }
    let a = s.handle(now, Event::Recv(m));
    assert_eq!(sent_notification(&a), Some((2, 1)));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Send(Message::Notification(n)) if n.data == [0, 4])));

    let (mut s, now) = open_sent();
    let a = s.handle(
        now,
        Event::Recv(peer_open(65001, 2, [198, 18, 0, 2], vec![])),
    );
    assert_eq!(sent_notification(&a), Some((2, 6)));

    let (mut s, now) = open_sent();
    let a = s.handle(now, Event::Recv(peer_open(65001, 90, [0, 0, 0, 0], vec![])));
    assert_eq!(sent_notification(&a), Some((2, 3)));
}

#[test]
fn ibgp_peer_with_our_identifier_is_refused() {
    let mut c = cfg();
    c.remote_as = RemoteAs::Internal;
    let mut s = Session::new(c);
    let now = Instant::now();
    s.handle(now, Event::Start);
    s.handle(now, Event::TcpConnected);
    let a = s.handle(
        now,
        Event::Recv(peer_open(64512, 90, [198, 18, 0, 1], vec![])),
    );
    assert_eq!(sent_notification(&a), Some((2, 3)));
}

#[test]
fn external_accepts_any_other_as() {
    let mut c = cfg();
    c.remote_as = RemoteAs::External;
    let mut s = Session::new(c.clone());
    let now = Instant::now();
    s.handle(now, Event::Start);
    s.handle(now, Event::TcpConnected);
    let a = s.handle(
        now,
        Event::Recv(peer_open(4_200_000_000, 90, [198, 18, 0, 2], vec![])),
    );
    assert_eq!(sent_notification(&a), None, "{a:?}");
    let mut s = Session::new(c);
    s.handle(now, Event::Start);
    s.handle(now, Event::TcpConnected);
    let a = s.handle(
        now,
        Event::Recv(peer_open(64512, 90, [198, 18, 0, 2], vec![])),
    );
    assert_eq!(sent_notification(&a), Some((2, 2)));
}

#[test]
fn hold_timer_expiry_sends_4_0() {
    let (mut s, now) = established();
    let a = s.handle(now, Event::TimerFired(Timer::Hold));
    assert_eq!(sent_notification(&a), Some((4, 0)));
    assert!(a.contains(&Action::CloseTcp));
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn keepalive_timer_sends_and_rearms() {
    let (mut s, now) = established();
    let a = s.handle(now, Event::TimerFired(Timer::Keepalive));
    assert_eq!(
        a,
        vec![
            Action::Send(Message::Keepalive),
            Action::Arm(Timer::Keepalive, Duration::from_secs(20))
        ]
    );
}

#[test]
fn messages_restart_the_hold_timer() {
    let (mut s, now) = established();
    let a = s.handle(now, Event::Recv(Message::Keepalive));
    assert_eq!(a, vec![Action::Arm(Timer::Hold, Duration::from_secs(60))]);
    let a = s.handle(now, Event::Recv(Message::Update(Default::default())));
    assert_eq!(a, vec![Action::Arm(Timer::Hold, Duration::from_secs(60))]);
}

#[test]
fn zero_hold_time_disables_timers() {
    let (mut s, now) = open_sent();
    let a = s.handle(
        now,
        Event::Recv(peer_open(65001, 0, [198, 18, 0, 2], vec![])),
    );
    assert_eq!(armed(&a, Timer::Hold), None);
    assert_eq!(armed(&a, Timer::Keepalive), None);
    assert!(a.contains(&Action::Disarm(Timer::Hold)));
}

#[test]
fn transport_failure_backs_off_exponentially_with_jitter() {
    let now = Instant::now();
    let mut s = Session::new(cfg());
    s.handle(now, Event::Start);
    let mut last = Duration::ZERO;
    for i in 0..8 {
        let a = s.handle(now, Event::TcpFailed("connection refused".into()));
        assert_eq!(s.state(), State::Active);
        assert!(a.contains(&Action::Down(DownReason::Transport(
            "connection refused".into()
        ))));
        let d = armed(&a, Timer::ConnectRetry).unwrap();
        let nominal = Duration::from_secs(5 * (1 << (i + 1))).min(Duration::from_secs(120));
        assert!(
            d <= nominal && d >= nominal.mul_f64(0.75),
            "try {i}: {d:?} vs {nominal:?}"
        );
        assert!(d >= last.mul_f64(0.75), "never shrinks much");
        last = d;
        let a = s.handle(now, Event::TimerFired(Timer::ConnectRetry));
        assert!(a.contains(&Action::Connect));
        assert_eq!(s.state(), State::Connect);
    }
}

#[test]
fn stop_sends_cease_or_closes_silently() {
    let (mut s, now) = established();
    let cease = NotificationMsg {
        code: 6,
        subcode: 2,
        data: vec![],
    };
    let a = s.handle(now, Event::Stop(Some(cease.clone())));
    assert_eq!(a[0], Action::Send(Message::Notification(cease)));
    assert!(a.contains(&Action::Down(DownReason::Stopped)));
    assert_eq!(
        armed(&a, Timer::ConnectRetry),
        None,
        "a stopped peer does not restart"
    );

    let (mut s, now) = established();
    let a = s.handle(now, Event::Stop(None));
    assert_eq!(sent_notification(&a), None, "graceful restart: no Cease");
    assert!(a.contains(&Action::CloseTcp));
}

#[test]
fn unexpected_messages_are_fsm_errors_rfc6608() {
    let (mut s, now) = open_sent();
    let a = s.handle(now, Event::Recv(Message::Update(Default::default())));
    assert_eq!(sent_notification(&a), Some((5, 1)));
    let (mut s, now) = established();
    let a = s.handle(now, Event::Recv(good_open()));
    assert_eq!(sent_notification(&a), Some((5, 3)));
}

#[test]
fn received_notification_goes_idle_without_reply() {
    let (mut s, now) = established();
    let n = NotificationMsg {
        code: 6,
        subcode: 4,
        data: vec![],
    };
    let a = s.handle(now, Event::Recv(Message::Notification(n.clone())));
    assert_eq!(sent_notification(&a), None);
    assert!(a.contains(&Action::Down(DownReason::NotificationReceived(n))));
    assert_eq!(s.state(), State::Idle);
    assert!(armed(&a, Timer::ConnectRetry).is_some());
    let a = s.handle(now, Event::TimerFired(Timer::ConnectRetry));
    assert!(a.contains(&Action::Connect), "automatic restart: {a:?}");
}

#[test]
fn peer_reset_or_config_change_does_not_grow_the_backoff() {
    // RFC 4486 §4 Cease 6/4 and 6/6: reconnect after the base interval (3.75..5 s), twice
    // in a row; any other NOTIFICATION (here 6/2 and 4/0) still counts as a failure.
    let base = Duration::from_secs(5);
    for sub in [4u8, 6] {
        let (mut s, now) = established();
        for _ in 0..2 {
            let n = NotificationMsg {
                code: 6,
                subcode: sub,
                data: vec![],
            };
            let a = s.handle(now, Event::Recv(Message::Notification(n)));
            let d = armed(&a, Timer::ConnectRetry).unwrap();
            assert!(d <= base && d >= base.mul_f64(0.75), "6/{sub}: {d:?}");
            s.handle(now, Event::TimerFired(Timer::ConnectRetry));
            s.handle(now, Event::TcpConnected);
            s.handle(now, Event::Recv(good_open()));
        }
    }
    for (code, sub) in [(6u8, 2u8), (4, 0)] {
        let (mut s, now) = established();
        let n = NotificationMsg {
            code,
            subcode: sub,
            data: vec![],
        };
        let a = s.handle(now, Event::Recv(Message::Notification(n)));
        let d = armed(&a, Timer::ConnectRetry).unwrap();
        assert!(d > base, "{code}/{sub} is a failure: {d:?}");
    }
}

#[test]
fn send_hold_timer_expiry_rfc9687() {
    let (mut s, now) = established();
    let a = s.handle(now, Event::SendProgress);
    assert_eq!(
        a,
        vec![Action::Arm(Timer::SendHold, Duration::from_secs(480))]
    );
    let a = s.handle(now, Event::TimerFired(Timer::SendHold));
    assert_eq!(sent_notification(&a), Some((8, 0)));
}

#[test]
fn idle_refuses_connections_and_ignores_stale_timers() {
    let mut s = Session::new(cfg());
    let now = Instant::now();
    assert_eq!(s.handle(now, Event::TcpConnected), vec![Action::CloseTcp]);
    assert!(s.handle(now, Event::TimerFired(Timer::Hold)).is_empty());
    assert!(
        s.handle(now, Event::TimerFired(Timer::ConnectRetry))
            .is_empty(),
        "stopped"
    );
}

#[test]
fn negotiation_intersects_families() {
    let (mut s, now) = open_sent();
    let open = peer_open(
        65001,
        90,
        [198, 18, 0, 2],
        vec![
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
        ],
    );
    s.handle(now, Event::Recv(open));
    let n = s.negotiated().unwrap();
    assert_eq!(n.families, vec![Family::IPV6_UNICAST]);
    assert!(n.route_refresh);
    assert_eq!(n.decode_ctx().add_path, vec![]);
}

#[test]
fn negotiation_keeps_the_peers_llgr_capability_rfc9494() {
    use crate::wire::capability::LlgrFamily;
    let (mut s, now) = open_sent();
    s.handle(now, Event::Recv(good_open()));
    assert_eq!(s.negotiated().unwrap().peer_llgr, None, "not sent: none");
    let fam = LlgrFamily {
        family: Family::IPV4_UNICAST,
        forwarding: true,
        reserved_flags: 0,
        stale_time: 3600,
    };
    let gr = Capability::GracefulRestart(crate::wire::capability::GracefulRestart {
        restart: false,
        notification: true,
        reserved_flags: 0,
        time: 120,
        families: vec![],
    });
    let open = |caps: Vec<Capability>| peer_open(65001, 90, [198, 18, 0, 2], caps);
    let v4 = Capability::Multiprotocol(Family::IPV4_UNICAST);
    let llgr = Capability::LongLivedGr(vec![fam]);
    let (mut s, now) = open_sent();
    s.handle(now, Event::Recv(open(vec![v4.clone(), gr, llgr.clone()])));
    assert_eq!(s.negotiated().unwrap().peer_llgr, Some(vec![fam]));
    // RFC 9494 §4.5: without the GR capability it is ignored.
    let (mut s, now) = open_sent();
    s.handle(now, Event::Recv(open(vec![v4, llgr])));
    assert_eq!(s.negotiated().unwrap().peer_llgr, None);
}

#[test]
fn collision_keeps_the_higher_identifier_side() {
    let lo = Ipv4Addr::new(198, 18, 0, 1);
    let hi = Ipv4Addr::new(198, 18, 0, 2);
    assert_eq!(resolve_collision(hi, lo, 1, 2), ConnDirection::Outbound);
    assert_eq!(resolve_collision(lo, hi, 1, 2), ConnDirection::Inbound);
    // RFC 6286 §2.3: equal identifiers, larger AS wins.
    assert_eq!(resolve_collision(lo, lo, 3, 2), ConnDirection::Outbound);
    assert_eq!(resolve_collision(lo, lo, 1, 2), ConnDirection::Inbound);
}

#[test]
fn negotiation_of_add_path_gr_ext_msg_and_ext_next_hop() {
    use crate::wire::capability::{
        AddPathFamily, AddPathMode, ExtNextHop, GrFamily, GracefulRestart,
    };
    let v4_over_v6 = ExtNextHop {
        nlri_afi: 1,
        nlri_safi: 1,
        next_hop_afi: 2,
    };
    let mut c = cfg();
    c.capabilities.extend([
        Capability::AddPath(vec![
            AddPathFamily {
                family: Family::IPV4_UNICAST,
                mode: AddPathMode::Both,
            },
            AddPathFamily {
                family: Family::IPV6_UNICAST,
                mode: AddPathMode::Receive,
            },
        ]),
        Capability::ExtendedMessage,
        Capability::ExtendedNextHop(vec![v4_over_v6]),
    ]);
    let mut s = Session::new(c);
    let now = Instant::now();
    s.handle(now, Event::Start);
    s.handle(now, Event::TcpConnected);
    let open = peer_open(
        65001,
        90,
        [198, 18, 0, 2],
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::AddPath(vec![
                AddPathFamily {
                    family: Family::IPV4_UNICAST,
                    mode: AddPathMode::Receive,
                },
                AddPathFamily {
                    family: Family::IPV6_UNICAST,
                    mode: AddPathMode::Send,
                },
            ]),
            Capability::ExtendedMessage,
            Capability::ExtendedNextHop(vec![v4_over_v6]),
            Capability::GracefulRestart(GracefulRestart {
                restart: true,
                notification: true,
                reserved_flags: 0,
                time: 120,
                families: vec![GrFamily {
                    family: Family::IPV4_UNICAST,
                    forwarding: true,
                    reserved_flags: 0,
                }],
            }),
        ],
    );
    s.handle(now, Event::Recv(open));
    let n = s.negotiated().unwrap();
    assert_eq!(
        n.add_path_tx,
        vec![Family::IPV4_UNICAST],
        "we send, they receive"
    );
    assert_eq!(
        n.add_path_rx,
        vec![Family::IPV6_UNICAST],
        "they send, we receive"
    );
    assert!(n.ext_msg);
    assert_eq!(n.ext_next_hop, vec![Family::IPV4_UNICAST]);
    let gr = n.peer_gr.as_ref().unwrap();
    assert!(gr.restarting && gr.notification);
    assert_eq!(gr.restart_time, 120);
    assert_eq!(gr.preserved, vec![Family::IPV4_UNICAST]);
    assert_eq!(n.encode_ctx().add_path, vec![Family::IPV4_UNICAST]);
    assert!(n.decode_ctx().ext_msg);
}

#[test]
fn new_capabilities_go_into_the_next_open() {
    let now = Instant::now();
    let mut s = Session::new(cfg());
    s.set_capabilities(vec![Capability::RouteRefresh]);
    s.handle(now, Event::Start);
    let a = s.handle(now, Event::TcpConnected);
    let caps = a.iter().find_map(|x| match x {
        Action::Send(Message::Open(o)) => Some(o.capabilities().cloned().collect::<Vec<_>>()),
        _ => None,
    });
    assert_eq!(caps, Some(vec![Capability::RouteRefresh]));
}
