//! Reconfigure, reload and the peer commands, driven with fake sessions: which session
//! gets which command, and that the others get none.

use std::path::Path;

use super::super::tests::{rig_with, Rig, CONFIG};
use crate::config;
use crate::control::{Request, Response};
use crate::fsm::Negotiated;
use crate::net::PeerEvent;
use crate::rib::PeerId;
use crate::wire::Family;

fn edited(from: &str, to: &str) -> config::Config {
    assert!(CONFIG.contains(from), "{from}");
    config::parse(&CONFIG.replacen(from, to, 1), Path::new("t.toml")).unwrap()
}

impl Rig {
    async fn ask(&self, req: Request) -> Result<String, String> {
        match self.handle.request(req).await? {
            Response::Done(s) => Ok(s),
            other => panic!("{other:?}"),
        }
    }

    async fn reconfigure(&self, cfg: config::Config) -> Result<String, String> {
        self.ask(Request::Reconfigure(Box::new(cfg))).await
    }

    /// Bring `peer` up as an IPv4 session from `addr` with AS `asn`.
    async fn up(&self, peer: PeerId, addr: &str, asn: u32) {
        let neg = Negotiated::plain(asn, addr.parse().unwrap(), vec![Family::IPV4_UNICAST]);
        let ev = PeerEvent::Up {
            peer,
            neg,
            local: "198.18.0.1:179".parse().unwrap(),
            remote: format!("{addr}:40000").parse().unwrap(),
        };
        self.events.send(ev).await.unwrap();
        let _ = self.peers().await;
    }
}

/// The log entries after start (the two starts).
async fn started() -> Rig {
    let r = rig_with(CONFIG, None);
    let _ = r.peers().await;
    assert_eq!(r.take_log(), [(1, "start".into()), (2, "start".into())]);
    r
}

#[tokio::test]
async fn the_same_config_changes_nothing() {
    let r = started().await;
    let same = config::parse(CONFIG, Path::new("t.toml")).unwrap();
    assert_eq!(r.reconfigure(same).await.unwrap(), "no change");
    assert_eq!(r.take_log(), []);
    assert_eq!(r.spawned.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn adding_and_removing_peers_touches_no_other_session() {
    let r = started().await;
    let new = edited(
        "name = \"b\"\naddress = \"198.18.0.3\"",
        "name = \"c\"\naddress = \"198.18.0.4\"",
    );
    let done = r.reconfigure(new).await.unwrap();
    assert_eq!(done, "peer b removed; peer c added");
    // b: Cease 6/3 Peer De-configured; c: a new session, started; a: nothing.
    assert_eq!(r.take_log(), [(2, "stop 6/3".into()), (3, "start".into())]);
    let names: Vec<String> = r.peers().await.into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["a", "c"]);
    let spawned = r.spawned.lock().unwrap().clone();
    assert_eq!(spawned[2].2.remote, "198.18.0.4:179".parse().unwrap());
}

#[tokio::test]
async fn a_negotiated_change_resets_only_that_session() {
    let r = started().await;
    let new = edited("asn = 65001\n", "asn = 65001\nhold_time = 30\n");
    let done = r.reconfigure(new).await.unwrap();
    assert_eq!(done, "peer b: hold_time 90 → 30");
    assert_eq!(r.take_log(), [(2, "stop 6/6".into()), (3, "start".into())]);
    let spawned = r.spawned.lock().unwrap().clone();
    assert_eq!(spawned[2].1.hold_time, 30);
    let peers = r.peers().await;
    assert_eq!(peers[1].name, "b");
}

#[tokio::test]
async fn a_live_change_re_exports_without_a_reset() {
    let text = CONFIG.replacen(
        "[[peer]]",
        "[[originate]]\nprefix = \"198.19.0.0/24\"\n\n[[peer]]",
        1,
    );
    let r = rig_with(&text, None);
    r.up(2, "198.18.0.3", 65001).await;
    let _ = r.peers().await;
    let first = r.take_log();
    assert!(
        first.iter().any(|(p, w)| *p == 2 && w.starts_with("send")),
        "{first:?}"
    );
    let new = config::parse(
        &text.replacen("export = \"accept-all\"", "export = \"reject-all\"", 1),
        Path::new("t.toml"),
    )
    .unwrap();
    let done = r.reconfigure(new).await.unwrap();
    assert_eq!(done, "peer b: export accept-all → reject-all");
    let _ = r.peers().await;
    let log = r.take_log();
    assert!(log.iter().all(|(_, w)| !w.starts_with("stop")), "{log:?}");
    assert!(
        log.iter().any(|(p, w)| *p == 2 && w.starts_with("send")),
        "the withdrawal: {log:?}"
    );
    assert_eq!(r.peers().await[1].advertised, 0);
    // A rename is live too: no session command at all.
    let new = config::parse(
        &text
            .replacen("export = \"accept-all\"", "export = \"reject-all\"", 1)
            .replacen("name = \"b\"", "name = \"bee\"", 1),
        Path::new("t.toml"),
    )
    .unwrap();
    assert_eq!(r.reconfigure(new).await.unwrap(), "peer b: name b → bee");
    assert_eq!(r.take_log(), []);
    assert_eq!(r.peers().await[1].name, "bee");
}

#[tokio::test]
async fn originate_added_and_removed() {
    let r = started().await;
    r.up(2, "198.18.0.3", 65001).await;
    let _ = r.take_log();
    let with = CONFIG.replacen(
        "[[peer]]",
        "[[originate]]\nprefix = \"198.19.0.0/24\"\n\n[[peer]]",
        1,
    );
    let new = config::parse(&with, Path::new("t.toml")).unwrap();
    assert_eq!(
        r.reconfigure(new).await.unwrap(),
        "originate 198.19.0.0/24 added"
    );
    let _ = r.peers().await;
    assert_eq!(r.peers().await[1].advertised, 1);
    let log = r.take_log();
    assert!(
        log.iter().all(|(p, w)| *p == 2 && w.starts_with("send")),
        "{log:?}"
    );
    let new = config::parse(CONFIG, Path::new("t.toml")).unwrap();
    assert_eq!(
        r.reconfigure(new).await.unwrap(),
        "originate 198.19.0.0/24 removed"
    );
    assert_eq!(r.peers().await[1].advertised, 0);
}

#[tokio::test]
async fn a_refused_config_leaves_the_running_one() {
    let r = started().await;
    let bad = edited("name = \"b\"", "name = \"a\"");
    let err = r.reconfigure(bad).await.unwrap_err();
    assert!(err.contains("refused") && err.contains("peer[1]"), "{err}");
    assert_eq!(r.take_log(), []);
    assert_eq!(r.peers().await[1].name, "b");
}

#[tokio::test]
async fn a_router_change_resets_every_session() {
    let r = started().await;
    // Once the initial sync is over (both peers refused: nobody to wait for), sessions
    // announce R = 0 and F for every family; new ones are spawned with those bits.
    for peer in [1, 2] {
        let reason = crate::fsm::DownReason::Transport("connection refused".into());
        let down = PeerEvent::Down {
            peer,
            reason,
            was_established: false,
        };
        r.events.send(down).await.unwrap();
    }
    let mut synced = r.handle.initial_sync();
    synced.wait_for(|done| *done).await.unwrap();
    let _ = r.peers().await;
    r.take_log();
    let new = edited("router_id = \"198.18.0.1\"", "router_id = \"198.18.0.9\"");
    let done = r.reconfigure(new).await.unwrap();
    assert_eq!(done, "router: router_id 198.18.0.1 → 198.18.0.9");
    let mut log = r.take_log();
    log.sort();
    assert_eq!(
        log,
        [
            (1, "stop 6/6".into()),
            (2, "stop 6/6".into()),
            (3, "start".into()),
            (4, "start".into())
        ]
    );
    let spawned = r.spawned.lock().unwrap().clone();
    assert_eq!(spawned[3].1.local_id.to_string(), "198.18.0.9");
    for (_, cfg, _) in &spawned[2..] {
        assert_eq!(super::super::tests::gr_bits(&cfg.capabilities), "R0 N1 F11");
    }
}

#[tokio::test]
async fn a_cluster_id_change_resets_no_session() {
    let r = started().await;
    let new = edited(
        "router_id = \"198.18.0.1\"",
        "router_id = \"198.18.0.1\"\ncluster_id = \"244.0.0.1\"",
    );
    let done = r.reconfigure(new).await.unwrap();
    assert_eq!(done, "router: cluster_id - → 244.0.0.1");
    assert_eq!(r.take_log(), []);
    assert_eq!(r.spawned.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn peer_disable_enable_and_reset() {
    let r = started().await;
    let disable = |m: Option<&str>| Request::PeerDisable {
        name: "b".into(),
        message: m.map(String::from),
    };
    let done = r.ask(disable(Some("maintenance"))).await.unwrap();
    assert!(
        done.contains("Cease 6/2") && done.contains("maintenance"),
        "{done}"
    );
    assert_eq!(r.take_log(), [(2, "stop 6/2".into())]);
    let row = r.peers().await.remove(1);
    assert_eq!(row.state, "idle");
    assert_eq!(
        row.last_down.as_deref(),
        Some("disabled by the operator: maintenance")
    );
    let err = r.ask(Request::PeerReset { name: "b".into() }).await;
    assert!(err.unwrap_err().contains("disabled"));
    // A config change that needs a reset keeps it disabled.
    let new = edited("asn = 65001\n", "asn = 65001\nhold_time = 30\n");
    r.reconfigure(new).await.unwrap();
    assert_eq!(r.take_log(), [(2, "stop 6/6".into())], "no start");
    assert!(r.peers().await[1]
        .last_down
        .as_deref()
        .unwrap()
        .starts_with("disabled"));
    r.ask(Request::PeerEnable { name: "b".into() })
        .await
        .unwrap();
    assert_eq!(r.take_log(), [(3, "start".into())]);
    assert_eq!(r.peers().await[1].last_down, None);
    r.ask(Request::PeerReset { name: "a".into() })
        .await
        .unwrap();
    assert_eq!(r.take_log(), [(1, "stop 6/4".into()), (1, "start".into())]);
    let err = r.ask(Request::PeerEnable { name: "zz".into() }).await;
    assert_eq!(err.unwrap_err(), "no peer named \"zz\"");
}

#[tokio::test]
async fn reload_reads_the_file_again_or_says_why_not() {
    let dir = std::env::temp_dir().join(format!("wren-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wren.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let r = rig_with(CONFIG, Some(path.clone()));
    assert_eq!(r.ask(Request::Reload).await.unwrap(), "no change");
    std::fs::write(
        &path,
        CONFIG.replacen("asn = 65001", "asn = 65001\nhold_time = 2", 1),
    )
    .unwrap();
    let err = r.ask(Request::Reload).await.unwrap_err();
    assert!(
        err.contains("wren.toml") && err.contains("hold_time"),
        "{err}"
    );
    std::fs::write(
        &path,
        CONFIG.replacen("asn = 65001", "asn = 65001\nhold_time = 9", 1),
    )
    .unwrap();
    assert_eq!(
        r.ask(Request::Reload).await.unwrap(),
        "peer b: hold_time 90 → 9"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let plain = rig_with(CONFIG, None);
    assert!(plain
        .ask(Request::Reload)
        .await
        .unwrap_err()
        .contains("not started from a config file"));
}

#[tokio::test]
async fn a_range_change_reaches_its_dynamic_peers_only() {
    let r = started().await;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (c, _) = tokio::join!(tokio::net::TcpStream::connect(addr), l.accept());
    let ev = PeerEvent::Inbound {
        stream: c.unwrap(),
        remote: "198.18.1.7:40000".parse().unwrap(),
        local: "198.18.0.1:179".parse().unwrap(),
    };
    r.events.send(ev).await.unwrap();
    assert_eq!(r.peers().await.len(), 3);
    assert_eq!(r.take_log(), [(3, "start".into()), (3, "incoming".into())]);
    // A live change: the dynamic peer keeps its session.
    let new = edited("passive = true\n", "passive = true\nmax_prefix = 5\n");
    assert_eq!(
        r.reconfigure(new).await.unwrap(),
        "peer range: max_prefix - → 5"
    );
    assert_eq!(r.take_log(), []);
    // A negotiated change: the dynamic peer goes (it comes back when it reconnects).
    let new = edited("passive = true\n", "passive = true\nhold_time = 30\n");
    r.reconfigure(new).await.unwrap();
    assert_eq!(r.take_log(), [(3, "stop 6/6".into())]);
    assert_eq!(r.peers().await.len(), 2);
}
