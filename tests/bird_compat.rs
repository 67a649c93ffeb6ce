//! The BIRD-compatible socket as calico-node uses it: wren runs as `bird` (a link named
//! `bird` to the binary, with calico-node's flags) and `bird6`, peers on loopback with a
//! plain `wren run`, and has one peer nobody answers. calicoctl's, the probes' and the
//! status reporter's parsing ([`calico`]) read its replies: during the start-up recovery
//! (a peer never came up: `0024` block, not ready within the threshold), with the peer
//! down (`Active  Socket: Connection refused`), and once everything synced (ready).
//! With BIRD 1.6 unpacked in /opt/bird1, its `birdc` must print the same as our `birdcl`.

#[path = "bird_compat/calico.rs"]
mod calico;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use calico::Conn;
use common::{sigterm, until, Daemon};

const THRESHOLD: Duration = Duration::from_secs(30);
const BIRDC: &str = "/opt/bird1/usr/sbin/birdc";

fn tmpdir(name: &str) -> PathBuf {
    let d = common::tmpdir(name);
    for n in ["bird", "bird6", "birdcl", "birdcl6"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_wren"), d.join(n)).unwrap();
    }
    d
}

/// A node's config: peer `other` on loopback, plus `extra` peers in TOML.
fn config(dir: &Path, me: u8, other: u8, port: u16, extra: &str) -> PathBuf {
    let text = format!(
        r#"[router]
asn = 64512
router_id = "127.0.0.{me}"
listen = ["127.0.0.{me}:{port}", "127.0.0.{}:{port}"]

[[peer]]
name = "Mesh_127_0_0_{other}"
address = "127.0.0.{other}"
asn = 64512
port = {port}
source_address = "127.0.0.{me}"
families = ["ipv4"]
hold_time = 9
{extra}
[[originate]]
prefix = "10.65.{me}.0/26"
blackhole = true

[control]
socket = "{}/n{me}.sock"

[metrics]
listen = ""

[fib]
dry_run = true
"#,
        me + 6,
        dir.display()
    );
    let path = dir.join(format!("n{me}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn(dir: &Path, prog: &str, args: &[&str], log: &str) -> Daemon {
    common::spawn(&dir.join(prog), args, dir, log)
}

/// calico-node's `bird -R -s SOCK -d -c FILE`.
fn bird(dir: &Path, name: &str, socket: &Path, cfg: &Path) -> Daemon {
    let (s, c) = (socket.to_str().unwrap(), cfg.to_str().unwrap());
    spawn(
        dir,
        name,
        &["-R", "-s", s, "-d", "-c", c],
        &format!("{name}.log"),
    )
}

fn plain(dir: &Path, cfg: &Path, log: &str) -> Daemon {
    let child_dir = dir.join("wren-plain");
    let _ = std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_wren"), &child_dir);
    spawn(
        dir,
        "wren-plain",
        &["run", "--config", cfg.to_str().unwrap()],
        log,
    )
}

/// calicoctl node status: `show protocols` on a fresh connection (None: no socket yet).
fn calicoctl(socket: &Path, sep: char) -> Option<Vec<calico::Peer>> {
    let mut c = Conn::try_open(socket)?;
    let lines = c.ask("show protocols", &["0000"]);
    Some(calico::scan_peers(&lines, sep).unwrap_or_else(|e| panic!("{e}: {lines:#?}")))
}

fn gr(socket: &Path) -> bool {
    let lines = Conn::open(socket).ask("show status", &["0013"]);
    calico::gr_in_progress(&lines).unwrap_or_else(|e| panic!("{e}: {lines:#?}"))
}

fn birdcl(dir: &Path, prog: &str, socket: &Path, cmd: &[&str]) -> String {
    let out = Command::new(dir.join(prog))
        .arg("-s")
        .arg(socket)
        .args(cmd)
        .output()
        .unwrap();
    assert!(out.status.success(), "{prog} {cmd:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn calico_reads_recovery_and_a_down_peer() {
    let dir = tmpdir("birdsock-gr");
    let port = 21390;
    // A peer that accepts the connection and never answers: it stays in OpenSent, so
    // the initial sync waits for it (up to PEER_UP_WAIT, 10 s) and the node is in GR
    // recovery meanwhile. Refused peers are not waited for.
    let silent_port = port + 2;
    let silent = std::net::TcpListener::bind(("127.0.0.91", silent_port)).unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(60));
        drop(held);
    });
    let extra = format!(
        r#"
[[peer]]
name = "Node_127_0_0_91"
address = "127.0.0.91"
asn = 64512
port = {silent_port}
source_address = "127.0.0.71"
families = ["ipv4"]

[[peer]]
name = "Node_127_0_0_79"
address = "127.0.0.79"
asn = 64512
port = {port}
source_address = "127.0.0.71"
families = ["ipv4"]

[[peer]]
name = "Global_127_0_0_78"
address = "127.0.0.78"
asn = 65000
port = {port}
source_address = "127.0.0.77"
families = ["ipv4"]

[[peer]]
name = "Mesh___1"
address = "::1"
asn = 64512
port = {}
families = ["ipv6"]
"#,
        port + 1
    );
    // B (also listening on 127.0.0.78) is AS 64512, not the 65000 A expects there.
    let b_extra = r#"
[[peer]]
name = "Global_127_0_0_77"
address = "127.0.0.77"
asn = 64512
passive = true
families = ["ipv4"]
"#;
    let a_cfg = config(&dir, 71, 72, port, &extra);
    let b_cfg = config(&dir, 72, 71, port, b_extra);
    let (sock, sock6) = (dir.join("bird.ctl"), dir.join("bird6.ctl"));
    let mut a = bird(&dir, "bird", &sock, &a_cfg);
    let mut a6 = bird(&dir, "bird6", &sock6, &a_cfg);
    let _b = plain(&dir, &b_cfg, "n72.log");

    // calicoctl node status: the mesh peer up, the node peer refused.
    let peers = until(
        &dir,
        "mesh up, node peer refused, global peer AS refused",
        || {
            let p = calicoctl(&sock, '.')?;
            let up = p.iter().any(|x| x.bgp_state == "Established");
            let refused = p.iter().any(|x| x.info == "Socket: Connection refused");
            let bad_as = p.iter().any(|x| x.info == "BGP Error: Bad peer AS");
            (up && refused && bad_as).then_some(p)
        },
    );
    assert_eq!(peers.len(), 4, "{peers:#?}");
    let global = &peers[0];
    assert_eq!(
        (global.peer_ip.as_str(), global.peer_type.as_str()),
        ("127.0.0.78", "global")
    );
    assert_eq!(global.state, "start");
    let mesh = &peers[1];
    assert_eq!(
        (mesh.peer_ip.as_str(), mesh.peer_type.as_str()),
        ("127.0.0.72", "node-to-node mesh")
    );
    // Recovery holds the kernel back: BIRD shows an Established protocol as `wait`.
    assert_eq!(mesh.state, "wait");
    let node = &peers[2];
    assert_eq!(
        (node.peer_ip.as_str(), node.peer_type.as_str()),
        ("127.0.0.79", "node specific")
    );
    assert_eq!(node.state, "start");
    assert!(
        ["Active", "Connect", "Idle"].contains(&node.bgp_state.as_str()),
        "{node:?}"
    );
    assert_eq!(node.since.len(), 8, "HH:MM:SS: {node:?}");

    // Readiness: a peer never came up, so the initial sync (GR recovery) is pending.
    assert!(
        gr(&sock),
        "0024 block expected while a peer owes End-of-RIB"
    );
    let young = calico::bird_ready(&peers, true, Duration::from_secs(1), THRESHOLD);
    assert!(young.is_err(), "not ready within the threshold");
    let old = calico::bird_ready(&peers, true, Duration::from_secs(60), THRESHOLD);
    assert_eq!(old, Ok(()), "one Established peer is enough after it");

    // Liveness: `birdcl -s SOCK show status` prints something starting with BIRD.
    let live = birdcl(&dir, "birdcl", &sock, &["show", "status"]);
    assert!(live.starts_with("BIRD v"), "{live}");
    assert!(
        live.contains("\nGraceful restart recovery in progress\n"),
        "{live}"
    );

    reporter(&sock);

    // The IPv6 view, served by the bird6 process through the daemon.
    let v6 = until(&dir, "the IPv6 view", || {
        let p = calicoctl(&sock6, ':')?;
        p.iter()
            .any(|x| x.info == "Socket: Connection refused")
            .then_some(p)
    });
    assert_eq!(v6.len(), 1, "{v6:#?}");
    assert_eq!(
        (v6[0].peer_ip.as_str(), v6[0].bgp_state.as_str()),
        ("::1", "Active")
    );
    let v6_routes = birdcl(&dir, "birdcl6", &sock6, &["show", "route"]);
    assert!(
        v6_routes.starts_with("BIRD v") && !v6_routes.contains("10.65."),
        "{v6_routes}"
    );

    compare_with_birdc(&dir, &sock);

    sigterm(&mut a6);
    sigterm(&mut a);
    assert!(
        !sock.exists() && !sock6.exists(),
        "sockets removed on SIGTERM"
    );
    drop((a, a6, _b));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CalicoNodeStatus reporter: status, protocols, details per peer and routes, all
/// on one connection; plus an unknown command.
fn reporter(sock: &Path) {
    let mut c = Conn::open(sock);
    let st = calico::status(&c.ask("show status", &["0013"])).unwrap();
    assert!(st.ready && st.version.starts_with('v'), "{st:?}");
    assert_eq!(st.router_id, "127.0.0.71");
    assert_eq!(st.last_boot.len(), "2026-11-21 21:39:26".len(), "{st:?}");
    assert_eq!(st.last_boot, st.last_reconfig);
    let peers = calico::scan_peers(&c.ask("show protocols", &["0000"]), '.').unwrap();
    let mut seen = Vec::new();
    for name in ["Mesh_127_0_0_72", "Node_127_0_0_79"] {
        let lines = c.ask(&format!("show protocols all {name}"), &["0000"]);
        seen.push(calico::details(&lines));
    }
    assert_eq!(
        seen[0],
        ("Established".to_string(), "127.0.0.72".to_string())
    );
    assert_eq!(seen[1].1, "127.0.0.79");
    assert_eq!(seen[1].0, peers[2].bgp_state, "details agree with the list");
    let routes = calico::routes(&c.ask("show route", &["0000"])).unwrap();
    let own = routes
        .iter()
        .find(|r| r.dest == "10.65.71.0/26")
        .expect("own block");
    assert_eq!(
        (own.kind, own.from.as_str(), own.primary),
        ("blackhole", "static1", true)
    );
    let learned = routes
        .iter()
        .find(|r| r.dest == "10.65.72.0/26")
        .expect("peer's block");
    assert_eq!(
        (learned.kind, learned.gateway.as_str()),
        ("via", "127.0.0.72")
    );
    assert_eq!(
        (learned.iface.as_str(), learned.from.as_str()),
        ("lo", "Mesh_127_0_0_72")
    );
    assert_eq!(c.ask("show bgp", &["9001"]), ["9001 syntax error"]);
    assert_eq!(
        c.ask("show route count\r", &["0014"]),
        ["0014 2 of 2 routes for 2 networks"],
        "CRLF line ends are accepted"
    );
    let long = format!("show protocols all {}", "x".repeat(5000));
    assert_eq!(c.ask(&long, &["9000"]), ["9000 Command too long"]);
}

/// BIRD 1.6's own client against wren's socket prints what our birdcl prints.
fn compare_with_birdc(dir: &Path, sock: &Path) {
    if !Path::new(BIRDC).exists() {
        eprintln!("SKIPPED: {BIRDC} missing (.ci/run unpacks BIRD 1.6 there): no birdc comparison");
        return;
    }
    for cmd in [
        &["show", "protocols"][..],
        &["show", "protocols", "all", "Node_127_0_0_79"],
        &["show", "route"],
        &["show", "route", "count"],
    ] {
        let theirs = Command::new(BIRDC)
            .arg("-s")
            .arg(sock)
            .args(cmd)
            .output()
            .unwrap();
        let ours = birdcl(dir, "birdcl", sock, cmd);
        let theirs = String::from_utf8_lossy(&theirs.stdout);
        assert!(
            theirs.starts_with("BIRD v"),
            "birdc talked to wren: {theirs}"
        );
        assert_eq!(theirs, ours, "{cmd:?}");
    }
}

#[test]
fn calico_reads_a_synced_node_as_ready() {
    let dir = tmpdir("birdsock-ready");
    let port = 21392;
    let a_cfg = config(&dir, 73, 74, port, "");
    let b_cfg = config(&dir, 74, 73, port, "");
    let sock = dir.join("bird.ctl");
    let mut a = bird(&dir, "bird", &sock, &a_cfg);
    let _b = plain(&dir, &b_cfg, "n74.log");
    let peers = until(&dir, "the session up and the initial sync done", || {
        let p = calicoctl(&sock, '.')?;
        (p.len() == 1 && p[0].bgp_state == "Established" && !gr(&sock)).then_some(p)
    });
    assert_eq!(peers[0].state, "up");
    let ready = calico::bird_ready(&peers, false, Duration::from_secs(1), THRESHOLD);
    assert_eq!(ready, Ok(()), "ready within the threshold once synced");
    let status = birdcl(&dir, "birdcl", &sock, &["show", "status"]);
    assert!(status.ends_with("\nDaemon is up and running\n"), "{status}");
    assert!(!status.contains("Graceful restart"), "{status}");
    // `bird -p -c FILE` checks the config (confd's check_cmd) and exits.
    let check = Command::new(dir.join("bird"))
        .args(["-p", "-c", a_cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    std::fs::write(dir.join("bad.toml"), "[router]\nasn = \"x\"\n").unwrap();
    let bad = Command::new(dir.join("bird"))
        .args(["-p", "-c", dir.join("bad.toml").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "{bad:?}");
    sigterm(&mut a);
    drop((a, _b));
    let _ = std::fs::remove_dir_all(&dir);
}
