//! The BIRD-compatible socket in process, over a speaker with fake sessions: session
//! events the test injects (a passive peer waiting, a NOTIFICATION received, a bad AS
//! we refused) read back as BIRD's words through the socket, deterministically.

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;

use tokio::sync::mpsc;

use wren::control::bird::server::BirdServer;
use wren::fib::MemFib;
use wren::fsm::{DownReason, SessionCfg, State};
use wren::net::{PeerEvent, SessionCmd, Transport};
use wren::rib::PeerId;
use wren::speaker::{SessionTx, Sessions};
use wren::wire::NotificationMsg;

struct Tx;

impl SessionTx for Tx {
    fn send(&self, _cmd: SessionCmd) {}
}

struct Fake;

impl Sessions for Fake {
    fn spawn(&mut self, _peer: PeerId, _cfg: SessionCfg, _t: Transport) -> Box<dyn SessionTx> {
        Box::new(Tx)
    }

    fn set_md5(&mut self, _peer: IpAddr, _key: Option<Vec<u8>>) {}
}

const CONFIG: &str = r#"
[router]
asn = 64512
router_id = "198.18.0.1"
listen = []

[[peer]]
name = "Global_198_18_0_2"
address = "198.18.0.2"
asn = 65000

[[peer]]
name = "Mesh_198_18_0_3"
address = "198.18.0.3"
asn = 64512

[[peer]]
name = "Mesh_198_18_0_4"
address = "198.18.0.4"
asn = 64512
passive = true

[fib]
dry_run = true
"#;

/// `show protocols` through the socket, as birdcl prints the BGP rows.
fn bgp_rows(sock: &Path) -> Vec<String> {
    let s = UnixStream::connect(sock).unwrap();
    let mut wr = s.try_clone().unwrap();
    wr.write_all(b"show protocols\n").unwrap();
    let mut rows = Vec::new();
    for l in BufReader::new(s).lines() {
        let l = l.unwrap();
        if l.starts_with("0000") {
            break;
        }
        if l.contains(" BGP ") {
            rows.push(
                l.trim_start_matches("1002-")
                    .trim_start()
                    .trim_end()
                    .to_string(),
            );
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_events_read_as_birds_words() {
    let dir = std::env::temp_dir().join(format!("wren-birdfake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = wren::config::parse(CONFIG, Path::new("t.toml")).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let speaker = wren::speaker::start(cfg, Box::new(MemFib::new()), Box::new(Fake), rx).unwrap();
    let sock = dir.join("bird.ctl");
    let server = BirdServer::bind(&sock, speaker.requester()).unwrap();

    // Peer 1 (Global): we refused its OPEN (bad AS). Peer 2: it sent a Cease.
    let bad_as = NotificationMsg::new(2, 2, vec![0xfd, 0xe8]);
    let events = [
        PeerEvent::State {
            peer: 1,
            from: State::Idle,
            to: State::OpenSent,
        },
        PeerEvent::Down {
            peer: 1,
            reason: DownReason::NotificationSent(bad_as, "peer AS 64512, expected 65000".into()),
            was_established: false,
        },
        PeerEvent::State {
            peer: 1,
            from: State::OpenSent,
            to: State::Idle,
        },
        PeerEvent::State {
            peer: 2,
            from: State::Idle,
            to: State::Active,
        },
        PeerEvent::Down {
            peer: 2,
            reason: DownReason::NotificationReceived(NotificationMsg::admin_shutdown("bye")),
            was_established: false,
        },
        PeerEvent::State {
            peer: 3,
            from: State::Idle,
            to: State::Active,
        },
    ];
    for ev in events {
        tx.send(ev).await.unwrap();
    }
    let want = [
        "Global_198_18_0_2 BGP      master   start",
        "Idle          BGP Error: Bad peer AS",
        "Mesh_198_18_0_3 BGP      master   start",
        "Active        Received: Administrative shutdown",
        "Mesh_198_18_0_4 BGP      master   start",
        "Passive",
    ];
    let mut rows = Vec::new();
    for _ in 0..50 {
        let s = sock.clone();
        rows = tokio::task::spawn_blocking(move || bgp_rows(&s))
            .await
            .unwrap();
        let ok = rows.len() == 3
            && (0..3)
                .all(|i| rows[i].starts_with(want[2 * i]) && rows[i].ends_with(want[2 * i + 1]));
        if ok {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for i in 0..3 {
        assert!(rows[i].starts_with(want[2 * i]), "{rows:#?}");
        assert!(rows[i].ends_with(want[2 * i + 1]), "{rows:#?}");
    }
    drop(server);
    assert!(!sock.exists(), "the socket file goes with the server");
    speaker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
