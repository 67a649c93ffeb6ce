//! A speaker with fake sessions, its metrics text parsed, and the HTTP endpoints over
//! loopback.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::*;
use crate::config;
use crate::fib::MemFib;
use crate::fsm::{DownReason, Negotiated, SessionCfg, State};
use crate::net::{PeerEvent, SessionCmd, Transport};
use crate::rib::PeerId;
use crate::speaker::{SessionTx, Sessions, SpeakerHandle};
use crate::wire::{Ctx, Family, NotificationMsg};

struct Quiet;

impl SessionTx for Quiet {
    fn send(&self, _: SessionCmd) {}
}

struct FakeSessions;

impl Sessions for FakeSessions {
    fn spawn(&mut self, _: PeerId, _: SessionCfg, _: Transport) -> Box<dyn SessionTx> {
        Box::new(Quiet)
    }
    fn set_md5(&mut self, _: IpAddr, _: Option<Vec<u8>>) {}
}

const CONFIG: &str = r#"
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
"#;

fn speaker() -> (SpeakerHandle, mpsc::Sender<PeerEvent>) {
    let cfg = config::parse(CONFIG, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let h = crate::speaker::start(cfg, Box::new(MemFib::new()), Box::new(FakeSessions), rx);
    (h.unwrap(), tx)
}

fn neg(asn: u32) -> Negotiated {
    Negotiated::plain(
        asn,
        "198.18.0.3".parse().unwrap(),
        vec![Family::IPV4_UNICAST],
    )
}

/// An UPDATE body (after the header) as the peer would send it.
fn update(peer: PeerId, body: &[u8]) -> PeerEvent {
    let ctx = Ctx {
        as4: true,
        ..Ctx::default()
    };
    let (msg, findings) = crate::wire::update::decode(body, &ctx, 19).unwrap();
    PeerEvent::Update {
        peer,
        msg,
        findings,
    }
}

/// 198.18.10.0/24 and 198.18.11.0/24 from AS 65001, next hop 198.18.0.3.
const TWO_PREFIXES: [u8; 32] = [
    0, 0, 0, 20, 0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 198, 18, 0, 3, 24,
    198, 18, 10, 24, 198, 18, 11,
];
/// IPv4 End-of-RIB (RFC 4724 §2): an empty UPDATE.
const EOR: [u8; 4] = [0; 4];

/// Bring peer `peer` ("b") up and give it two prefixes and End-of-RIB.
async fn bring_up_b(tx: &mpsc::Sender<PeerEvent>, peer: PeerId) {
    let states = [
        State::Idle,
        State::Connect,
        State::OpenSent,
        State::OpenConfirm,
    ];
    for w in states.windows(2) {
        let (from, to) = (w[0], w[1]);
        tx.send(PeerEvent::State { peer, from, to }).await.unwrap();
    }
    tx.send(PeerEvent::Up {
        peer,
        neg: neg(65001),
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.3:40000".parse().unwrap(),
    })
    .await
    .unwrap();
    let (from, to) = (State::OpenConfirm, State::Established);
    tx.send(PeerEvent::State { peer, from, to }).await.unwrap();
    tx.send(update(peer, &TWO_PREFIXES)).await.unwrap();
    tx.send(update(peer, &EOR)).await.unwrap();
}

/// Wait (a few ticks at most) until `ok` holds for the snapshot.
async fn wait_for(h: &SpeakerHandle, ok: impl Fn(&crate::speaker::Snapshot) -> bool) {
    for _ in 0..40 {
        if ok(&h.stats().snapshot()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not reached: {:?}", h.stats().snapshot());
}

/// `series → value` of the metrics text (comments skipped).
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn metrics_after_a_speaker_run_with_fake_sessions() {
    let (h, tx) = speaker();
    bring_up_b(&tx, 2).await;
    let n = NotificationMsg {
        code: 2,
        subcode: 2,
        data: Vec::new(),
    };
    let reason = DownReason::NotificationSent(n, "bad peer AS".into());
    let down = PeerEvent::Down {
        peer: 1,
        reason,
        was_established: false,
    };
    tx.send(down).await.unwrap();
    wait_for(&h, |s| s.rib_prefixes == 2).await;
    let m = parse(&render(&h.stats().snapshot(), true));
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no {k} in {m:#?}"));
    assert_eq!(get(r#"wren_peer_state{peer="b"}"#), 6.0);
    assert_eq!(get(r#"wren_peer_state{peer="a"}"#), 1.0);
    assert_eq!(get(r#"wren_peer_up{peer="b"}"#), 1.0);
    assert_eq!(get(r#"wren_peer_up{peer="a"}"#), 0.0);
    assert_eq!(get(r#"wren_peer_prefixes_received{peer="b"}"#), 2.0);
    assert_eq!(get(r#"wren_peer_prefixes_accepted{peer="b"}"#), 2.0);
    assert_eq!(
        get(r#"wren_peer_updates_total{peer="b",direction="received"}"#),
        2.0
    );
    assert!(get(r#"wren_peer_updates_total{peer="b",direction="sent"}"#) >= 1.0);
    let note = r#"wren_peer_notifications_total{peer="a",direction="sent",code="2",subcode="2"}"#;
    assert_eq!(get(note), 1.0);
    assert_eq!(get(r#"wren_peer_flaps_total{peer="b"}"#), 0.0);
    assert_eq!(get(r#"wren_peers{state="established"}"#), 1.0);
    assert_eq!(get(r#"wren_peers{state="idle"}"#), 1.0);
    assert_eq!(
        (get("wren_rib_prefixes"), get("wren_rib_paths")),
        (2.0, 2.0)
    );
    assert_eq!(get("wren_config_applied"), 1.0);
    assert_eq!(get("wren_initial_sync_done"), 0.0, "peer a never came up");
    assert!(get("wren_event_loop_ticks_total") >= 1.0);

    // The established session is lost: a flap, and its counts go to zero.
    let n = NotificationMsg {
        code: 6,
        subcode: 4,
        data: Vec::new(),
    };
    let down = PeerEvent::Down {
        peer: 2,
        reason: DownReason::NotificationReceived(n),
        was_established: true,
    };
    tx.send(down).await.unwrap();
    let (from, to) = (State::Established, State::Idle);
    tx.send(PeerEvent::State { peer: 2, from, to })
        .await
        .unwrap();
    wait_for(&h, |s| s.peers.iter().all(|p| p.state == State::Idle)).await;
    let folded = render(&h.stats().snapshot(), false);
    assert!(!folded.contains("peer=\""), "{folded}");
    let m = parse(&folded);
    assert_eq!(m["wren_peer_flaps_total"], 1.0);
    assert_eq!(m["wren_peer_prefixes_received"], 0.0);
    assert_eq!(m[r#"wren_peer_updates_total{direction="received"}"#], 2.0);
    let key = r#"wren_peer_notifications_total{direction="received",code="6",subcode="4"}"#;
    assert_eq!(m[key], 1.0);
    assert_eq!(m[r#"wren_peers{state="idle"}"#], 2.0);
    h.shutdown().await;
}

/// One HTTP exchange: the status code and the body.
async fn get(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

fn req(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n").into_bytes()
}

async fn server(h: &SpeakerHandle, ready_min: Option<&str>) -> MetricsServer {
    let mut cfg = MetricsCfg {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..MetricsCfg::default()
    };
    cfg.ready_min_established = ready_min.map(|m| match m.strip_suffix('%') {
        Some(p) => ReadyMin::Percent(p.parse().unwrap()),
        None => ReadyMin::Count(m.parse().unwrap()),
    });
    MetricsServer::start(&cfg, h.stats())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn http_endpoints_over_loopback() {
    let (h, _tx) = speaker();
    let srv = server(&h, None).await;
    let a = srv.local_addr();
    wait_for(&h, |s| s.ticks > 0).await;
    let (st, body) = get(a, &req("/metrics")).await;
    assert_eq!(st, 200);
    assert!(body.contains("wren_peers{state=\"idle\"} 2"), "{body}");
    assert!(body.ends_with("# EOF\n"));
    let (st, body) = get(a, &req("/healthz")).await;
    assert_eq!((st, &body[..3]), (200, "ok:"));
    let (st, _) = get(a, &req("/metrics?x=1")).await;
    assert_eq!(st, 200, "the query is ignored");
    assert_eq!(get(a, &req("/nope")).await.0, 404);
    assert_eq!(get(a, b"POST /metrics HTTP/1.1\r\n\r\n").await.0, 405);
    assert_eq!(get(a, b"GET /metrics\r\n\r\n").await.0, 400);
    let mut big = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
    big.resize(20_000, b'a');
    assert_eq!(get(a, &big).await.0, 431);
    // A client that sends nothing does not keep the server from answering others.
    let _idle = tokio::net::TcpStream::connect(a).await.unwrap();
    assert_eq!(get(a, &req("/healthz")).await.0, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn healthz_fails_without_ticks() {
    let stats = std::sync::Arc::new(crate::speaker::Stats::new());
    let cfg = MetricsCfg {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..MetricsCfg::default()
    };
    let srv = MetricsServer::start(&cfg, stats).await.unwrap().unwrap();
    let (st, body) = get(srv.local_addr(), &req("/healthz")).await;
    assert_eq!(st, 503);
    assert!(body.contains("not ticked"), "{body}");
    let off = MetricsCfg {
        listen: None,
        ..MetricsCfg::default()
    };
    let stats = std::sync::Arc::new(crate::speaker::Stats::new());
    assert!(MetricsServer::start(&off, stats).await.unwrap().is_none());
}

#[tokio::test]
async fn readyz_transitions() {
    let (h, tx) = speaker();
    let srv = server(&h, Some("50%")).await;
    let a = srv.local_addr();
    wait_for(&h, |s| s.ticks > 0).await;
    let (st, body) = get(a, &req("/readyz")).await;
    assert_eq!(st, 503);
    assert!(body.contains("initial sync"), "{body}");
    assert!(body.contains("0 of 2 configured peers established, 1 needed"));
    bring_up_b(&tx, 2).await;
    wait_for(&h, |s| {
        s.sync_done || s.peers.iter().any(|p| p.received > 0)
    })
    .await;
    // Peer "a" never came up: the initial sync still waits for it (at most 120 s).
    let (st, body) = get(a, &req("/readyz")).await;
    assert_eq!(st, 503, "{body}");
    assert!(!body.contains("established, 1 needed"), "{body}");
    assert!(body.contains("initial sync"), "{body}");
    h.stats().set_config_applied(false);
    let (_, body) = get(a, &req("/readyz")).await;
    assert!(body.contains("config is not applied"), "{body}");
    h.shutdown().await;
}

#[tokio::test]
async fn readyz_turns_ready_and_back() {
    let text = CONFIG
        .split("[[peer]]\nname = \"a\"")
        .next()
        .unwrap()
        .to_string()
        + "[[peer]]\nname = \"b\"\naddress = \"198.18.0.3\"\nasn = 65001\n\
           import = \"accept-all\"\nexport = \"accept-all\"\n";
    let cfg = config::parse(&text, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let h = crate::speaker::start(cfg, Box::new(MemFib::new()), Box::new(FakeSessions), rx);
    let h = h.unwrap();
    let srv = server(&h, None).await;
    let a = srv.local_addr();
    wait_for(&h, |s| s.ticks > 0).await;
    assert_eq!(get(a, &req("/readyz")).await.0, 503);
    bring_up_b(&tx, 1).await;
    wait_for(&h, |s| s.sync_done && s.config_applied).await;
    let (st, body) = get(a, &req("/readyz")).await;
    assert_eq!(
        (st, body.as_str()),
        (200, "ready: 1 of 1 configured peers established\n")
    );
    let (from, to) = (State::Established, State::Active);
    tx.send(PeerEvent::State { peer: 1, from, to })
        .await
        .unwrap();
    wait_for(&h, |s| s.peers[0].state == State::Active).await;
    let (st, body) = get(a, &req("/readyz")).await;
    assert_eq!(st, 503);
    assert!(body.contains("down: b (active)"), "{body}");
    h.shutdown().await;
}

#[test]
fn config_keys_parse_and_check() {
    let base = "[router]\nasn = 64512\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 64512\n";
    let parse = |extra: &str| config::parse(&format!("{base}{extra}"), Path::new("t.toml"));
    let c = parse("[metrics]\nper_peer = false\nready_min_established = \"50%\"\n").unwrap();
    assert!(!c.metrics.per_peer);
    assert_eq!(c.metrics.ready_min_established, Some(ReadyMin::Percent(50)));
    let c = parse("[metrics]\nready_min_established = 3\n").unwrap();
    assert_eq!(c.metrics.ready_min_established, Some(ReadyMin::Count(3)));
    let w = config::validate(&c, Path::new("t.toml")).unwrap();
    assert_eq!(
        w[0].key, "metrics.ready_min_established",
        "3 of 1 peer: {w:?}"
    );
    for bad in ["\"150%\"", "\"half\"", "-1"] {
        let e = parse(&format!("[metrics]\nready_min_established = {bad}\n")).unwrap_err();
        assert!(e.to_string().contains("ready_min_established"), "{e}");
    }
    let c = parse("[log]\nlevel = \"info,[\"\n").unwrap();
    let e = config::validate(&c, Path::new("t.toml")).unwrap_err();
    assert_eq!(e[0].key, "log.level");
    assert!(
        parse("[metrics]\nper_peer = true\n")
            .unwrap()
            .metrics
            .per_peer
    );
    assert_eq!(ReadyMin::Percent(50).needed(3), 2, "rounded up");
}
