//! `show peers --detail` and `show fib --diff` against a speaker with fake sessions,
//! through the control socket (the JSON the CLI reads).

use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::tests::{FakeSessions, CONFIG};
use super::*;
use crate::config;
use crate::control::{client, server::ControlServer, FibDiff, PeerDetail, Reply};
use crate::fib::{KernelDiff, KernelDiffRow, MemFib};
use crate::net::PeerEvent;
use crate::rib::{FibChange, FibKind, FibRoute, Prefix};
use crate::wire::Family;

fn neg() -> crate::fsm::Negotiated {
    crate::fsm::Negotiated {
        hold_time: 30,
        keepalive: 10,
        add_path_rx: vec![Family::IPV4_UNICAST],
        enhanced_route_refresh: true,
        peer_gr: Some(crate::fsm::PeerGr {
            restarting: true,
            notification: true,
            restart_time: 90,
            preserved: vec![Family::IPV4_UNICAST],
        }),
        ..crate::fsm::Negotiated::plain(
            64512,
            "198.18.0.2".parse().unwrap(),
            vec![Family::IPV4_UNICAST],
        )
    }
}

fn up(peer: crate::rib::PeerId) -> PeerEvent {
    PeerEvent::Up {
        peer,
        neg: neg(),
        local: "198.18.0.1:40123".parse().unwrap(),
        remote: "198.18.0.2:179".parse().unwrap(),
    }
}

/// One request through a real control socket, as `wren show` sends it.
/// Ask over the control socket, which answers from the published view; a round trip
/// through the owner first makes it handle (and publish) the events sent before.
async fn ask(h: &SpeakerHandle, tag: &str, req: Request) -> Reply {
    h.request(Request::ShowStatus).await.unwrap();
    let dir = std::env::temp_dir().join(format!("wren-detail-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wren.sock");
    let srv = ControlServer::bind(&path, h.requester()).unwrap();
    let p = path.clone();
    let reply = tokio::task::spawn_blocking(move || client::request(&p, &req).unwrap())
        .await
        .unwrap();
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
    reply
}

#[tokio::test]
async fn peers_detail_shows_session_capabilities_and_timers() {
    let cfg = config::parse(CONFIG, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let fake = Box::new(FakeSessions::default());
    let h = start(cfg, Box::new(MemFib::new()), fake, rx).unwrap();
    tx.send(up(1)).await.unwrap();
    let req = Request::ShowPeersDetail {
        name: Some("a".into()),
    };
    let reply = ask(&h, "peer", req).await;
    assert!(reply.ok, "{reply:?}");
    let data = reply.data.unwrap();
    // The flattened show-peers fields and the detail fields side by side.
    assert_eq!(data[0]["name"], "a");
    assert_eq!(data[0]["local_port"], 40123);
    assert_eq!(data[0]["capabilities"]["add_path"][0]["receive"], true);
    let rows: Vec<PeerDetail> = serde_json::from_value(data).unwrap();
    assert_eq!(rows.len(), 1);
    let d = &rows[0];
    assert_eq!(d.local_address, Some("198.18.0.1".parse().unwrap()));
    assert_eq!(d.remote_address, Some("198.18.0.2".parse().unwrap()));
    assert_eq!(d.remote_port, Some(179));
    assert_eq!((d.hold_time, d.keepalive), (90, 30), "configured");
    assert_eq!(d.negotiated_hold_time, Some(30));
    assert_eq!(d.negotiated_keepalive, Some(10));
    let c = d.capabilities.as_ref().expect("capabilities while up");
    assert!(c.four_octet_as && c.route_refresh && c.enhanced_route_refresh);
    assert!(!c.extended_message);
    assert_eq!(c.add_path.len(), 1);
    assert!(c.add_path[0].receive && !c.add_path[0].send);
    let peer_gr = c.graceful_restart.peer.as_ref().unwrap();
    assert!(peer_gr.restart && peer_gr.notification);
    assert_eq!(peer_gr.time, 90);
    assert_eq!(peer_gr.forwarding, vec![Family::IPV4_UNICAST]);
    let ours = c.graceful_restart.local.as_ref().unwrap();
    assert!(!ours.restart, "a cold start sets no R bit");
    assert!(ours.notification, "RFC 8538 N bit");
    assert_eq!(ours.time, peer::GR_RESTART_TIME);
    // The peer that is not up has no session part; the unknown name is an error.
    let all = ask(&h, "all", Request::ShowPeersDetail { name: None }).await;
    let rows: Vec<PeerDetail> = serde_json::from_value(all.data.unwrap()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].row.name, "b");
    assert_eq!(rows[1].capabilities, None);
    assert_eq!(rows[1].local_port, None);
    let req = Request::ShowPeersDetail {
        name: Some("zz".into()),
    };
    let bad = ask(&h, "bad", req).await;
    assert!(!bad.ok);
    assert_eq!(bad.error.as_deref(), Some("no peer named \"zz\""));
    // A down clears the session part and counts.
    tx.send(PeerEvent::Down {
        peer: 1,
        reason: crate::fsm::DownReason::Transport("reset".into()),
        was_established: true,
    })
    .await
    .unwrap();
    let req = Request::ShowPeersDetail {
        name: Some("a".into()),
    };
    let rows = match h.request(req).await.unwrap() {
        Response::PeersDetail(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(rows[0].down_count, 1);
    assert_eq!(rows[0].capabilities, None);
    assert!(rows[0].row.last_down.is_some());
}

/// A FIB whose adapter holds one route nobody wants and whose kernel cannot resolve the
/// rest.
#[derive(Default)]
struct DiffFib {
    mem: MemFib,
    asked: Arc<Mutex<u32>>,
}

fn p(s: &str) -> Prefix {
    Prefix::V4(s.parse().unwrap())
}

impl crate::fib::FibSink for DiffFib {
    fn apply(&mut self, changes: &[FibChange]) {
        crate::fib::FibSink::apply(&mut self.mem, changes);
    }

    fn routes(&self) -> Vec<FibRoute> {
        let mut v = crate::fib::FibSink::routes(&self.mem);
        v.push(FibRoute {
            prefix: p("10.65.9.0/24"),
            kind: FibKind::Blackhole,
        });
        v
    }

    fn kernel_diff(&self) -> Option<tokio::sync::oneshot::Receiver<KernelDiff>> {
        *self.asked.lock().unwrap() += 1;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let rows = crate::fib::FibSink::routes(&self.mem)
            .into_iter()
            .map(|r| KernelDiffRow {
                prefix: r.prefix,
                reason: "unresolved",
                detail: "next hop does not resolve".into(),
            })
            .collect();
        let _ = tx.send(KernelDiff { installed: 0, rows });
        Some(rx)
    }
}

#[tokio::test]
async fn fib_diff_lists_adapter_and_kernel_differences_with_reasons() {
    let cfg = config::parse(CONFIG, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let fib = DiffFib::default();
    let asked = fib.asked.clone();
    let fake = Box::new(FakeSessions::default());
    let h = start(cfg, Box::new(fib), fake, rx).unwrap();
    tx.send(up(1)).await.unwrap();
    let msg = super::tests::update_v4("10.65.1.0/26", "198.18.0.2");
    tx.send(PeerEvent::Update {
        peer: 1,
        msg,
        findings: vec![],
    })
    .await
    .unwrap();
    let reply = ask(&h, "fib", Request::ShowFibDiff).await;
    assert!(reply.ok, "{reply:?}");
    let d: FibDiff = serde_json::from_value(reply.data.unwrap()).unwrap();
    assert_eq!(*asked.lock().unwrap(), 1, "the kernel's side was asked");
    assert!(d.kernel);
    assert_eq!((d.wanted, d.installed, d.differing), (1, 0, 2), "{d:?}");
    let reasons: Vec<(&str, &str)> = d
        .rows
        .iter()
        .map(|r| (r.prefix.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [("10.65.1.0/26", "unresolved"), ("10.65.9.0/24", "extra")]
    );
    let w = d.rows[0].wanted.as_ref().unwrap();
    assert_eq!(
        w.next_hops,
        vec!["198.18.0.2".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(d.rows[1].wanted, None);
    assert_eq!(d.rows[1].held.as_ref().unwrap().kind, "blackhole");
}

#[tokio::test]
async fn fib_diff_of_an_in_memory_fib_is_empty_when_it_holds_what_the_rib_wants() {
    let cfg = config::parse(CONFIG, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let fake = Box::new(FakeSessions::default());
    let h = start(cfg, Box::new(MemFib::new()), fake, rx).unwrap();
    tx.send(up(1)).await.unwrap();
    let msg = super::tests::update_v4("10.65.1.0/26", "198.18.0.2");
    tx.send(PeerEvent::Update {
        peer: 1,
        msg,
        findings: vec![],
    })
    .await
    .unwrap();
    let d = match h.request(Request::ShowFibDiff).await.unwrap() {
        Response::FibDiff(d) => d,
        other => panic!("{other:?}"),
    };
    assert!(!d.kernel);
    assert_eq!((d.wanted, d.installed, d.differing), (1, 1, 0), "{d:?}");
    assert!(d.rows.is_empty());
}
