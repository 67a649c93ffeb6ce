//! `wren run` and `wren show` as processes: two daemons on 127.0.0.41 and 127.0.0.42
//! peer with each other, and `wren show ... -o json` over the control socket shows the
//! session, the routes and the FIB with the documented schemas.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{sigterm, tmpdir, until, Daemon};

const PORT: u16 = 21180;

/// A `wren run` process and its control socket.
struct Node {
    d: Daemon,
    socket: PathBuf,
}

fn config(dir: &Path, me: &str, other: &str, block: &str) -> PathBuf {
    let socket = dir.join(format!("{me}.sock"));
    let text = format!(
        r#"[router]
asn = 64512
router_id = "127.0.0.{me}"
listen = ["127.0.0.{me}:{PORT}"]

[[peer]]
name = "n{other}"
address = "127.0.0.{other}"
asn = 64512
port = {PORT}
source_address = "127.0.0.{me}"
families = ["ipv4"]
hold_time = 9

[[originate]]
prefix = "{block}"

[control]
socket = "{}"

[fib]
dry_run = true

[metrics]
listen = ""
"#,
        socket.display()
    );
    let path = dir.join(format!("n{me}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn start(dir: &Path, me: &str, other: &str, block: &str) -> Node {
    let cfg = config(dir, me, other, block);
    Node {
        d: common::wren_run(dir, &cfg, &format!("n{me}.log")),
        socket: dir.join(format!("{me}.sock")),
    }
}

fn show(socket: &Path, args: &[&str]) -> Output {
    let mut a = vec!["show"];
    a.extend(args);
    common::wren(socket, &a)
}

fn show_json(socket: &Path, args: &[&str]) -> Option<Value> {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    let out = show(socket, &a);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn established(socket: &Path) -> Option<Value> {
    let v = show_json(socket, &["peers"])?;
    (v[0]["state"] == "established").then_some(v)
}

#[test]
fn two_daemons_peer_and_answer_show() {
    let dir = tmpdir("run");
    let mut a = start(&dir, "41", "42", "10.65.1.0/26");
    let mut b = start(&dir, "42", "41", "10.65.1.64/26");
    let peers = until(&dir, "a session", || established(&a.socket));
    let p = &peers[0];
    let mut keys: Vec<&String> = p.as_object().unwrap().keys().collect();
    keys.sort();
    let want = [
        "accepted",
        "address",
        "advertised",
        "asn",
        "families",
        "last_down",
        "last_down_unix",
        "name",
        "passive",
        "peer_id",
        "received",
        "since_unix",
        "stale",
        "state",
        "uptime_secs",
    ];
    assert_eq!(keys, want);
    assert_eq!(p["name"], "n42");
    assert_eq!(p["address"], "127.0.0.42");
    assert_eq!(p["asn"], 64512);
    assert_eq!(p["families"], serde_json::json!(["ipv4-unicast"]));

    let fib = until(&dir, "b's block in a's FIB", || {
        let f = show_json(&a.socket, &["fib"])?;
        let row = f
            .as_array()?
            .iter()
            .find(|r| r["prefix"] == "10.65.1.64/26")?;
        Some(row.clone())
    });
    assert_eq!(fib["kind"], "unicast");
    assert_eq!(fib["next_hops"], serde_json::json!(["127.0.0.42"]));

    let routes = show_json(&a.socket, &["routes"]).unwrap();
    let learned = routes
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prefix"] == "10.65.1.64/26")
        .expect("b's route in a's RIB");
    assert_eq!(learned["peer"], "n42");
    assert_eq!(learned["best"], true);
    assert_eq!(learned["next_hop"], "127.0.0.42");
    assert_eq!(learned["attrs"]["local_pref"], 100);
    let own = routes
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["prefix"] == "10.65.1.0/26");
    assert_eq!(own.expect("a's own route")["peer"], "local");

    let adv = show_json(&a.socket, &["routes", "--peer", "n42", "--advertised"]).unwrap();
    let adv = adv.as_array().unwrap();
    assert!(
        adv.iter()
            .any(|r| r["prefix"] == "10.65.1.0/26" && r["peer"] == "n42"),
        "{adv:?}"
    );
    assert!(
        !adv.iter().any(|r| r["prefix"] == "10.65.1.64/26"),
        "iBGP: not sent back"
    );

    let table = String::from_utf8(show(&b.socket, &["peers"]).stdout).unwrap();
    assert!(
        table.contains("n41") && table.contains("established"),
        "{table}"
    );
    let status = show_json(&b.socket, &["status"]).unwrap();
    assert_eq!(status["established"], 1);

    // SIGTERM: a graceful stop (RFC 4724): no NOTIFICATION, b keeps a's route as
    // stale; socket removed, exit 0.
    assert!(sigterm(&mut a.d).success());
    assert!(!a.socket.exists(), "socket file left behind");
    let down = until(&dir, "b to see the session go down", || {
        let v = show_json(&b.socket, &["peers"])?;
        let why = v[0]["last_down"].as_str()?.to_string();
        Some(why)
    });
    assert!(!down.contains("NOTIFICATION"), "graceful: no Cease: {down}");
    let r = until(&dir, "a's route at b, stale", || {
        route(&b.socket, "10.65.1.0/26").filter(|r| r["stale"] == true)
    });
    assert_eq!(r["peer"], "n41");
    a = start(&dir, "41", "42", "10.65.1.0/26");
    until(&dir, "a's route at b, fresh again", || {
        route(&b.socket, "10.65.1.0/26").filter(|r| r["stale"] == false)
    });
    until(&dir, "a session again", || established(&a.socket));

    // `wren stop --withdraw`: Cease (as a Hard Reset: both set the RFC 8538 N bit), and
    // b drops a's route at once.
    let out = Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(["stop", "--withdraw", "--socket"])
        .arg(&a.socket)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("withdraw"),
        "{out:?}"
    );
    assert!(
        !a.socket.exists(),
        "wren stop waits until the daemon is gone"
    );
    assert!(a.d.child.wait().unwrap().success());
    let down = until(&dir, "b to see the Cease", || {
        let v = show_json(&b.socket, &["peers"])?;
        let why = v[0]["last_down"].as_str()?.to_string();
        why.contains("NOTIFICATION").then_some(why)
    });
    assert!(down.contains("Cease/Hard Reset"), "{down}");
    until(&dir, "a's route gone from b", || {
        route(&b.socket, "10.65.1.0/26").is_none().then_some(())
    });
    assert!(sigterm(&mut b.d).success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The row of `prefix` in `show routes -o json`.
fn route(socket: &Path, prefix: &str) -> Option<Value> {
    let v = show_json(socket, &["routes"])?;
    v.as_array()?
        .iter()
        .find(|r| r["prefix"] == prefix)
        .cloned()
}

#[test]
fn graceful_restart_keeps_a_dead_peers_routes_as_stale() {
    let dir = tmpdir("gr");
    let a = start(&dir, "43", "44", "10.65.2.0/26");
    let mut b = start(&dir, "44", "43", "10.65.2.64/26");
    until(&dir, "b's route at a", || route(&a.socket, "10.65.2.64/26"));
    // No NOTIFICATION: the session just drops, as when a daemon restarts.
    b.d.child.kill().unwrap();
    b.d.child.wait().unwrap();
    let r = until(&dir, "the route to turn stale", || {
        route(&a.socket, "10.65.2.64/26").filter(|r| r["stale"] == true)
    });
    assert_eq!(r["next_hop"], "127.0.0.44");
    let fib = show_json(&a.socket, &["fib"]).unwrap();
    assert!(
        fib.as_array()
            .unwrap()
            .iter()
            .any(|r| r["prefix"] == "10.65.2.64/26"),
        "stale routes stay in the FIB: {fib}"
    );
    let peers = show_json(&a.socket, &["peers"]).unwrap();
    assert_eq!(peers[0]["stale"], 1);
    assert_ne!(peers[0]["state"], "established");
    // The peer comes back: its End-of-RIB ends the stale state.
    let _b = start(&dir, "44", "43", "10.65.2.64/26");
    until(&dir, "a fresh route", || {
        route(&a.socket, "10.65.2.64/26").filter(|r| r["stale"] == false)
    });
    let peers = show_json(&a.socket, &["peers"]).unwrap();
    assert_eq!(peers[0]["stale"], 0);
    drop(a);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_refuses_a_bad_config_like_check() {
    let dir = tmpdir("run-bad");
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "[router]\nasn = 64512\n[[peer]]\naddress = \"198.18.0.2\"\nasn = 65001\nhold_time = 2\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(["run", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("peer[0].hold_time") && err.contains("RFC 4271"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn show_without_a_daemon_names_the_socket() {
    let dir = tmpdir("show-none");
    let sock = dir.join("nobody.sock");
    let out = show(&sock, &["peers"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nobody.sock"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
