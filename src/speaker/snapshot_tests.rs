//! Issue 6: `show status` / `show peers` are answered while the owner loop is busy.
//!
//! The owner is held inside its first FIB write (a FIB whose `apply` waits for the test),
//! so nothing it would answer can come back until the test lets it go: every reply
//! received before that was answered without it.

use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::sync::Mutex;

use tokio::sync::mpsc;

use super::tests::FakeSessions;
use super::*;
use crate::config;
use crate::control::{bird, client, server::ControlServer, Reply};
use crate::fib::FibSink;
use crate::fsm::State;
use crate::net::PeerEvent;
use crate::rib::{FibChange, FibRoute};

/// A FIB whose `apply` says it was entered, then waits until the test drops `gate`'s
/// sender (after that it returns at once).
struct HeldFib {
    entered: std_mpsc::Sender<()>,
    gate: Mutex<std_mpsc::Receiver<()>>,
    routes: usize,
}

impl FibSink for HeldFib {
    fn apply(&mut self, changes: &[FibChange]) {
        let _ = self.entered.send(());
        if let Ok(gate) = self.gate.lock() {
            let _ = gate.recv();
        }
        self.routes += changes.len();
    }

    fn routes(&self) -> Vec<FibRoute> {
        Vec::new()
    }

    fn route_count(&self) -> usize {
        self.routes
    }
}

const HELD: &str = r#"
[router]
asn = 64512
router_id = "198.18.0.1"
listen = []

[[peer]]
name = "a"
address = "198.18.0.2"
asn = 64512

[[originate]]
prefix = "198.18.100.0/26"
blackhole = true
"#;

/// Ask the control socket (blocking client, off the runtime).
async fn ask(path: &Path, req: Request) -> Reply {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || client::request(&p, &req).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_peers_are_answered_while_the_owner_is_busy() {
    let cfg = config::parse(HELD, Path::new("t.toml")).unwrap();
    let (entered_tx, entered) = std_mpsc::channel();
    let (release, gate) = std_mpsc::channel::<()>();
    let fib = HeldFib {
        entered: entered_tx,
        gate: Mutex::new(gate),
        routes: 0,
    };
    let (events, rx) = mpsc::channel(16);
    let handle = start(cfg, Box::new(fib), Box::new(FakeSessions::default()), rx).unwrap();
    // The owner's first flush writes the originated blackhole: it is held there now.
    tokio::task::spawn_blocking(move || entered.recv().unwrap())
        .await
        .unwrap();

    let dir = std::env::temp_dir().join(format!("wren-snap-{}", std::process::id()));
    let path = dir.join("wren.sock");
    let srv = ControlServer::bind(&path, handle.requester()).unwrap();
    let status = ask(&path, Request::ShowStatus).await;
    assert!(status.ok, "{status:?}");
    let data = status.data.unwrap();
    assert_eq!(
        (data["peers"].as_u64(), data["paths"].as_u64()),
        (Some(1), Some(1))
    );
    let peers = ask(&path, Request::ShowPeers).await;
    assert_eq!(peers.data.unwrap()[0]["name"], "a");
    let detail = ask(&path, Request::ShowPeersDetail { name: None }).await;
    assert_eq!(detail.data.unwrap()[0]["hold_time"], 90);
    let unknown = ask(
        &path,
        Request::ShowPeersDetail {
            name: Some("x".into()),
        },
    )
    .await;
    assert_eq!(unknown.error.as_deref(), Some("no peer named \"x\""));
    // The BIRD-compatible socket's status and protocols come from the same view.
    let requester = handle.requester();
    let protocols = bird::server::answer("show protocols", &requester, bird::View::V4).await;
    assert!(protocols.contains("\n a "), "{protocols}");
    // Routes need the RIB: they are the owner's to answer.
    let routes = Request::ShowRoutes {
        peer: None,
        advertised: false,
    };
    assert!(requester.read(&routes).is_none());

    // Let the owner go: it answers again, and what it does next reaches the view.
    drop(release);
    let reply = ask(&path, routes).await;
    assert_eq!(reply.data.unwrap()[0]["prefix"], "198.18.100.0/26");
    let (from, to) = (State::Idle, State::Connect);
    events
        .send(PeerEvent::State { peer: 1, from, to })
        .await
        .unwrap();
    let mut state = String::new();
    for _ in 0..200 {
        if let Some(Ok(Response::Peers(p))) = requester.read(&Request::ShowPeers) {
            state = p[0].state.clone();
        }
        if state == "connect" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(state, "connect", "the view follows the owner's turns");
    drop(srv);
    handle.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn view_answers_match_the_owners_answers() {
    let r = super::tests::rig_with(super::tests::CONFIG, None);
    let requester = r.handle.requester();
    let (from, to) = (State::Idle, State::Active);
    r.events
        .send(PeerEvent::State { peer: 2, from, to })
        .await
        .unwrap();
    for req in [
        Request::ShowStatus,
        Request::ShowPeers,
        Request::ShowPeersDetail { name: None },
        Request::ShowPeersDetail {
            name: Some("b".into()),
        },
    ] {
        // The owner's answer comes after it handled the event, and after its publish.
        let owner = r.handle.request(req.clone()).await.unwrap();
        let view = requester.read(&req).unwrap().unwrap();
        let line = |x: &Response| Reply::ok(x).to_line();
        assert_eq!(line(&view), line(&owner), "{req:?}");
    }
    r.handle.shutdown().await;
}

#[tokio::test]
async fn a_turn_without_requests_is_published_within_the_interval() {
    let r = super::tests::rig_with(super::tests::CONFIG, None);
    let requester = r.handle.requester();
    let state_of_b = |requester: &Requester| match requester.read(&Request::ShowPeers) {
        Some(Ok(Response::Peers(rows))) => rows[1].state.clone(),
        other => panic!("{other:?}"),
    };
    // Publish now (an owner round trip), so that the next turn falls inside the interval.
    r.handle.request(Request::ShowStatus).await.unwrap();
    let before = state_of_b(&requester);
    let (from, to) = (State::Idle, State::Active);
    let t0 = std::time::Instant::now();
    let ev = PeerEvent::State { peer: 2, from, to };
    r.events.send(ev).await.unwrap();
    // No request goes to the owner: only the publish it owes after the turn shows it.
    while state_of_b(&requester) == before {
        assert!(t0.elapsed() < Duration::from_secs(2), "never published");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_ne!(state_of_b(&requester), before);
    r.handle.shutdown().await;
}
