//! The speaker as the restarting side of graceful restart (RFC 4724): R and F bits,
//! kernel changes held until End-of-RIB, peers not waited for. Fake sessions and a
//! recording FIB.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::tests::{update_v4, FakeSessions};
use super::*;
use crate::config;
use crate::fsm::{DownReason, SessionCfg};
use crate::net::PeerEvent;
use crate::rib::PeerId;

// ===== graceful restart as the restarting speaker =====

/// A FIB that records what the speaker does with it and reports `preserved` families.
#[derive(Default, Clone)]
struct RecFib {
    preserved: Vec<crate::wire::Family>,
    log: Arc<Mutex<Vec<String>>>,
}

impl crate::fib::FibSink for RecFib {
    fn apply(&mut self, changes: &[crate::rib::FibChange]) {
        for c in changes {
            let what = match c {
                crate::rib::FibChange::Upsert(r) => {
                    format!("upsert {}", super::owner::prefix_str(&r.prefix))
                }
                crate::rib::FibChange::Remove(p) => {
                    format!("remove {}", super::owner::prefix_str(p))
                }
            };
            self.log.lock().unwrap().push(what);
        }
    }

    fn routes(&self) -> Vec<crate::rib::FibRoute> {
        Vec::new()
    }

    fn sync_done(&mut self) {
        self.log.lock().unwrap().push("sync done".into());
    }

    fn close(&mut self) {
        self.log.lock().unwrap().push("close".into());
    }

    fn close_keep(&mut self) {
        self.log.lock().unwrap().push("close keep".into());
    }

    fn preserved(&self) -> Vec<crate::wire::Family> {
        self.preserved.clone()
    }
}

const GR_CONFIG: &str = "[router]\nasn = 64512\nrouter_id = \"198.18.0.1\"\nlisten = []\n\
    [[peer]]\nname = \"a\"\naddress = \"198.18.0.2\"\nasn = 64512\nfamilies = [\"ipv4\", \"ipv6\"]\n\
    [[peer]]\nname = \"b\"\naddress = \"198.18.0.3\"\nasn = 64512\nfamilies = [\"ipv4\"]\n";

fn gr_neg(families: Vec<crate::wire::Family>, gr: bool) -> crate::fsm::Negotiated {
    crate::fsm::Negotiated {
        peer_gr: gr.then(|| crate::fsm::PeerGr {
            restarting: false,
            notification: true,
            restart_time: 120,
            preserved: vec![],
        }),
        ..crate::fsm::Negotiated::plain(64512, "198.18.0.2".parse().unwrap(), families)
    }
}

fn gr_flags(cfg: &SessionCfg) -> (bool, Vec<(crate::wire::Family, bool)>) {
    let g = cfg
        .capabilities
        .iter()
        .find_map(|c| match c {
            crate::wire::Capability::GracefulRestart(g) => Some(g.clone()),
            _ => None,
        })
        .expect("a graceful-restart capability");
    assert!(g.notification, "RFC 8538 N bit");
    let f = g
        .families
        .iter()
        .map(|f| (f.family, f.forwarding))
        .collect();
    (g.restart, f)
}

#[tokio::test]
async fn a_restart_sets_r_and_f_and_holds_kernel_changes_until_end_of_rib() {
    use crate::wire::Family;
    let cfg = config::parse(GR_CONFIG, Path::new("t.toml")).unwrap();
    let fake = FakeSessions::default();
    let spawned = fake.spawned.clone();
    let log = fake.log.clone();
    let fib = RecFib {
        preserved: vec![Family::IPV4_UNICAST],
        ..RecFib::default()
    };
    let fib_log = fib.log.clone();
    let (tx, rx) = mpsc::channel(16);
    let mut handle = start(cfg, Box::new(fib), Box::new(fake), rx).unwrap();
    let synced = handle.initial_sync();
    {
        let s = spawned.lock().unwrap();
        let (r, f) = gr_flags(&s[0].1);
        assert!(r, "kernel routes survived: Restart State bit");
        assert_eq!(
            f,
            vec![(Family::IPV4_UNICAST, true), (Family::IPV6_UNICAST, false)],
            "F only where kernel routes survived"
        );
    }
    // b is refused: not waited for. a comes up, sends a route twice, then End-of-RIB.
    let down = PeerEvent::Down {
        peer: 2,
        reason: DownReason::Transport("connection refused".into()),
        was_established: false,
    };
    tx.send(down).await.unwrap();
    let up = PeerEvent::Up {
        peer: 1,
        neg: gr_neg(vec![Family::IPV4_UNICAST], true),
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40000".parse().unwrap(),
    };
    tx.send(up).await.unwrap();
    for nh in ["198.18.0.7", "198.18.0.2"] {
        let msg = update_v4("10.65.1.0/26", nh);
        let ev = PeerEvent::Update {
            peer: 1,
            msg,
            findings: vec![],
        };
        tx.send(ev).await.unwrap();
    }
    let _ = handle.request(Request::ShowPeers).await.unwrap();
    assert!(
        fib_log.lock().unwrap().is_empty(),
        "nothing reaches the kernel before End-of-RIB: {:?}",
        fib_log.lock().unwrap()
    );
    assert!(!*synced.borrow());
    let eor = PeerEvent::Update {
        peer: 1,
        msg: crate::wire::update::UpdateMsg::eor(Family::IPV4_UNICAST),
        findings: vec![],
    };
    tx.send(eor).await.unwrap();
    let _ = handle.request(Request::ShowPeers).await.unwrap();
    assert_eq!(
        fib_log.lock().unwrap().clone(),
        vec!["upsert 10.65.1.0/26".to_string(), "sync done".into()],
        "one write per prefix, then the adopted rest goes"
    );
    assert!(*synced.borrow(), "READY after the initial sync");
    let caps: Vec<(PeerId, String)> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, w)| w.starts_with("caps"))
        .cloned()
        .collect();
    assert_eq!(
        caps,
        vec![(1, "caps R0 N1 F11".into()), (2, "caps R0 N1 F1".into())],
        "the restart is over: later OPENs carry no R bit, F for every family"
    );
    handle
        .request(Request::Stop { withdraw: false })
        .await
        .unwrap();
    handle.stopped().await;
    assert_eq!(fib_log.lock().unwrap().last().unwrap(), "close keep");
}

#[tokio::test]
async fn a_cold_start_sets_no_r_or_f_and_holds_nothing() {
    use crate::wire::Family;
    let cfg = config::parse(GR_CONFIG, Path::new("t.toml")).unwrap();
    let fake = FakeSessions::default();
    let spawned = fake.spawned.clone();
    let fib = RecFib::default();
    let fib_log = fib.log.clone();
    let (tx, rx) = mpsc::channel(16);
    let handle = start(cfg, Box::new(fib), Box::new(fake), rx).unwrap();
    let (r, f) = gr_flags(&spawned.lock().unwrap()[0].1);
    assert!(!r);
    assert!(f.iter().all(|(_, fwd)| !fwd), "{f:?}");
    let up = PeerEvent::Up {
        peer: 1,
        neg: gr_neg(vec![Family::IPV4_UNICAST], true),
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40000".parse().unwrap(),
    };
    tx.send(up).await.unwrap();
    let ev = PeerEvent::Update {
        peer: 1,
        msg: update_v4("10.65.1.0/26", "198.18.0.2"),
        findings: vec![],
    };
    tx.send(ev).await.unwrap();
    let _ = handle.request(Request::ShowPeers).await.unwrap();
    assert_eq!(
        fib_log.lock().unwrap().clone(),
        vec!["upsert 10.65.1.0/26".to_string()],
        "a cold start installs at once"
    );
    handle.shutdown_withdraw().await;
    assert_eq!(fib_log.lock().unwrap().last().unwrap(), "close");
}

#[tokio::test]
async fn a_peer_without_graceful_restart_is_not_waited_for() {
    use crate::wire::Family;
    let text = "[router]\nasn = 64512\nrouter_id = \"198.18.0.1\"\nlisten = []\n\
        [[peer]]\nname = \"a\"\naddress = \"198.18.0.2\"\nasn = 64512\nfamilies = [\"ipv4\"]\n";
    let cfg = config::parse(text, Path::new("t.toml")).unwrap();
    let fib = RecFib {
        preserved: vec![Family::IPV4_UNICAST],
        ..RecFib::default()
    };
    let fib_log = fib.log.clone();
    let (tx, rx) = mpsc::channel(16);
    let handle = start(cfg, Box::new(fib), Box::new(FakeSessions::default()), rx).unwrap();
    let synced = handle.initial_sync();
    let up = PeerEvent::Up {
        peer: 1,
        neg: gr_neg(vec![Family::IPV4_UNICAST], false),
        local: "198.18.0.1:179".parse().unwrap(),
        remote: "198.18.0.2:40000".parse().unwrap(),
    };
    tx.send(up).await.unwrap();
    let _ = handle.request(Request::ShowPeers).await.unwrap();
    assert!(*synced.borrow(), "RFC 4724 §4.1: no End-of-RIB is promised");
    assert_eq!(
        fib_log.lock().unwrap().clone(),
        vec!["sync done".to_string()]
    );
}
