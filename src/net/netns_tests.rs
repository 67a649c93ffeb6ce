//! Tests that need their own network namespace: TCP-MD5, GTSM, and BIRD 2.
//!
//! Each test re-executes the test binary for itself under `unshare -rn` (a new user
//! and network namespace: no root needed where user namespaces are enabled, nothing to
//! clean up), with `WREN_NETNS_CHILD=1` so that the child runs the body. Without
//! `unshare` (or without BIRD for the BIRD test) the test prints `SKIPPED: <why>` to
//! stderr, and fails instead when `WREN_REQUIRE_ALL=1`.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::tests::{pair, peer, wait_down, wait_for, wait_up, Peer};
use super::*;

const CHILD_ENV: &str = "WREN_NETNS_CHILD";

/// Kills a process started by a test when dropped.
struct Reaper(Child);

// ===== impl Reaper =====

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ===== helper functions =====

fn skip(why: &str) {
    if std::env::var("WREN_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("required test cannot run: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// Run the test `name` in a fresh network namespace; true in the child (run the body).
fn in_netns(name: &str) -> bool {
    if std::env::var_os(CHILD_ENV).is_some() {
        return true;
    }
    let probe = Command::new("unshare")
        .args(["-rn", "true"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        skip(&format!(
            "{name}: cannot create a network namespace with `unshare -rn`"
        ));
        return false;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the test binary under unshare");
    let _ = std::io::stderr().write_all(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{name} failed in its namespace");
    assert!(
        stdout.contains("1 passed"),
        "{name} did not run in its namespace"
    );
    false
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn with_key(p: Peer, key: Option<&'static [u8]>, passive: bool) -> Peer {
    Peer { key, passive, ..p }
}

/// A is active with `ka`, B passive with `kb`: A must not reach Established, and A's
/// reason must say `expect`.
async fn md5_mismatch(ka: Option<&'static [u8]>, kb: Option<&'static [u8]>, expect: &str) {
    let a = with_key(peer("127.0.0.1", 65001, 65002, 21), ka, false);
    let b = with_key(peer("127.0.0.2", 65002, 65001, 22), kb, true);
    let (mut sa, sb) = pair(&a, &b).await;
    sb.h.send(SessionCmd::Start);
    sa.h.send(SessionCmd::Start);
    let reason = wait_down(&mut sa, 10).await.to_string();
    assert!(reason.contains(expect), "{reason}");
    assert!(reason.contains("no answer from 127.0.0.2:"), "{reason}");
}

// ===== tests =====

#[test]
fn md5_in_netns() {
    if !in_netns("net::netns_tests::md5_in_netns") {
        return;
    }
    block_on(async {
        // Same key on both sides: established.
        let key: &'static [u8] = b"wren-md5-key";
        let a = with_key(peer("127.0.0.1", 65001, 65002, 21), Some(key), false);
        let b = with_key(peer("127.0.0.2", 65002, 65001, 22), Some(key), true);
        let (mut sa, mut sb) = pair(&a, &b).await;
        sb.h.send(SessionCmd::Start);
        sa.h.send(SessionCmd::Start);
        wait_up(&mut sa, 10).await;
        wait_up(&mut sb, 10).await;
        drop((sa, sb));
        // Different keys, and a key on one side only: the SYN is dropped silently.
        md5_mismatch(Some(b"right"), Some(b"wrong"), "TCP-MD5 key mismatch").await;
        md5_mismatch(Some(b"key"), None, "TCP-MD5 key mismatch").await;
        md5_mismatch(None, Some(b"key"), "(filtered or down)").await;
    });
}

#[test]
fn gtsm_in_netns() {
    if !in_netns("net::netns_tests::gtsm_in_netns") {
        return;
    }
    block_on(async {
        let a = peer("127.0.0.1", 65001, 65002, 23);
        let b = Peer {
            passive: true,
            ..peer("127.0.0.2", 65002, 65001, 24)
        };
        let (mut sa, mut sb) = super::tests::pair_with(&a, &b, |t| t.gtsm = true).await;
        sb.h.send(SessionCmd::Start);
        sa.h.send(SessionCmd::Start);
        wait_up(&mut sa, 10).await;
        wait_up(&mut sb, 10).await;
        drop((sa, sb));
        // Only B uses GTSM: A's packets leave with TTL 1 and B's kernel drops them, so
        // A's OPEN and KEEPALIVE never arrive and A's hold timer (3 s) ends it.
        let a = Peer {
            hold: 3,
            ..peer("127.0.0.1", 65001, 65002, 23)
        };
        let b = Peer { hold: 3, ..b };
        let b_only = |t: &mut Transport| t.gtsm = t.local == Some([127, 0, 0, 2].into());
        let (mut sa, mut sb) = super::tests::pair_with(&a, &b, b_only).await;
        sb.h.send(SessionCmd::Start);
        sa.h.send(SessionCmd::Start);
        let reason = wait_down(&mut sa, 10).await.to_string();
        assert!(reason.contains("hold timer expired"), "{reason}");
        let up = wait_for(&mut sb, 60, |ev| {
            matches!(ev, PeerEvent::Up { .. }).then_some(())
        });
        assert!(tokio::time::timeout(Duration::from_secs(2), up)
            .await
            .is_err());
    });
}

const BIRD_CONF: &str = r#"
router id 198.18.0.2;
log stderr all;
protocol device { }
protocol static s4 { ipv4; route 198.18.77.0/24 blackhole; }
protocol bgp wren {
    local 198.18.0.2 as 65002;
    neighbor 198.18.0.1 as 65001;
    password "wren-bird-md5";
    hold time 9;
    connect delay time 1;
    ipv4 { import all; export all; };
}
"#;

/// BIRD in a namespace of its own (BIRD refuses loopback neighbors), linked to ours by
/// a veth pair: 198.18.0.1 (wren, vA) -- 198.18.0.2 (BIRD, vB).
fn start_bird(dir: &std::path::Path) -> Reaper {
    let conf = dir.join("bird.conf");
    std::fs::write(&conf, BIRD_CONF).unwrap();
    let script = "until ip link show vB >/dev/null 2>&1; do sleep 0.05; done; \
                  ip link set lo up && ip addr add 198.18.0.2/24 dev vB && ip link set vB up && \
                  exec bird -f -c \"$0\" -s \"$1\" -P \"$2\"";
    let child = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .arg(&conf)
        .arg(dir.join("bird.ctl"))
        .arg(dir.join("bird.pid"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start bird in a namespace");
    let bird = Reaper(child);
    let pid = bird.0.id().to_string();
    let ok = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut linked = false;
    for _ in 0..50 {
        // The child needs a moment to enter its namespace.
        std::thread::sleep(Duration::from_millis(50));
        if ok(&[
            "link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", &pid,
        ]) {
            linked = true;
            break;
        }
    }
    assert!(linked, "cannot create the veth pair to BIRD's namespace");
    assert!(ok(&["addr", "add", "198.18.0.1/24", "dev", "vA"]));
    assert!(ok(&["link", "set", "vA", "up"]));
    bird
}

/// Run `name` against BIRD 2 with MD5 on both sides: Established, and BIRD's route
/// arrives. Active: wren connects to BIRD. Passive: BIRD connects to wren's listener,
/// which has BIRD's key.
fn bird_case(name: &str, passive: bool) {
    let no_bird = Command::new("bird").arg("--version").output().is_err();
    if std::env::var_os(CHILD_ENV).is_none() && no_bird {
        return skip(&format!("{name}: BIRD 2 (`bird`) is not installed"));
    }
    if !in_netns(name) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("wren-net-bird-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bird = start_bird(&dir);
    block_on(async {
        let a = Peer {
            key: Some(b"wren-bird-md5"),
            port: 179,
            passive,
            ..peer("198.18.0.1", 65001, 65002, 25)
        };
        let mut side = super::tests::single(&a, "198.18.0.2:179".parse().unwrap()).await;
        side.h.send(SessionCmd::Start);
        let (neg, local, remote) = wait_up(&mut side, 20).await;
        assert_eq!(neg.peer_as, 65002);
        // Who connected: the listening side has port 179.
        let port = if passive { local.port() } else { remote.port() };
        assert_eq!(port, 179);
        let u = wait_for(&mut side, 10, |ev| match ev {
            PeerEvent::Update { msg, .. } if !msg.nlri.is_empty() => Some(msg.clone()),
            _ => None,
        })
        .await;
        assert_eq!(u.nlri[0].prefix.to_string(), "198.18.77.0/24");
    });
    drop(bird);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bird2_md5_in_netns() {
    bird_case("net::netns_tests::bird2_md5_in_netns", false);
}

#[test]
fn bird2_md5_passive_in_netns() {
    bird_case("net::netns_tests::bird2_md5_passive_in_netns", true);
}
