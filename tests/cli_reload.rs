//! `wren reload`, SIGHUP and `wren peer ...` against a `wren run` process on loopback (no
//! root, no BGP neighbour needed: the peers only have to exist).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// A `wren run` process, killed (by its PID) if the test ends early.
struct Daemon {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The config with peers at 127.0.0.{n} for each `n` (hold time `hold`).
fn write_config(path: &Path, socket: &Path, peers: &[u8], hold: u16) {
    let mut text = format!(
        "[router]\nasn = 64512\nrouter_id = \"127.0.0.51\"\nlisten = []\n\n\
         [control]\nsocket = \"{}\"\n\n[fib]\ndry_run = true\n\n[metrics]\nlisten = \"\"\n",
        socket.display()
    );
    for n in peers {
        text += &format!(
            "\n[[peer]]\nname = \"p{n}\"\naddress = \"127.0.0.{n}\"\nasn = 64512\n\
             port = 21191\npassive = true\nhold_time = {hold}\n"
        );
    }
    std::fs::write(path, text).unwrap();
}

fn wren(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(args)
        .arg("--socket")
        .arg(socket)
        .output()
        .expect("run wren")
}

fn peers(socket: &Path) -> Option<Value> {
    let out = wren(socket, &["show", "peers", "-o", "json"]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())?
}

fn names(socket: &Path) -> Vec<String> {
    let v = peers(socket).unwrap_or_default();
    let rows = v.as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|p| p["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn until(d: &Daemon, what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        if t0.elapsed() > WAIT {
            let log = std::fs::read_to_string(&d.log).unwrap_or_default();
            panic!("timed out waiting for {what}\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn reload_sighup_and_peer_commands() {
    let dir = std::env::temp_dir().join(format!("wren-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (cfg, socket, log) = (
        dir.join("wren.toml"),
        dir.join("wren.sock"),
        dir.join("wren.log"),
    );
    write_config(&cfg, &socket, &[61], 90);
    let child = Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start wren run");
    let d = Daemon { child, socket, log };
    until(&d, "the control socket", || peers(&d.socket).is_some());
    assert_eq!(names(&d.socket), ["p61"]);

    // Nothing changed.
    let out = wren(&d.socket, &["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "no change\n");

    // A peer added and one changed, one line each.
    write_config(&cfg, &d.socket, &[61, 62], 30);
    let out = wren(&d.socket, &["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "peer p61: hold_time 90 → 30\npeer p62 added\n"
    );
    assert_eq!(names(&d.socket), ["p61", "p62"]);

    // A refused file: exit 1, the file, the key and the reason; nothing changes.
    write_config(&cfg, &d.socket, &[61], 2);
    let out = wren(&d.socket, &["reload", "-o", "json"]);
    assert!(!out.status.success());
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["ok"], false);
    let err = reply["error"].as_str().unwrap();
    assert!(
        err.contains("wren.toml") && err.contains("peer[0].hold_time"),
        "{err}"
    );
    assert_eq!(names(&d.socket), ["p61", "p62"]);

    // SIGHUP: the same as `wren reload`.
    write_config(&cfg, &d.socket, &[62, 63], 30);
    let pid = d.child.id() as libc::pid_t;
    // SAFETY: kill(2) on the PID of a child we started and have not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    until(&d, "the SIGHUP reload", || {
        names(&d.socket) == ["p62", "p63"]
    });

    // The peer commands.
    let out = wren(&d.socket, &["peer", "disable", "p62", "-m", "maintenance"]);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("Cease 6/2"), "{out:?}");
    let v = peers(&d.socket).unwrap();
    assert_eq!(
        v[0]["last_down"], "disabled by the operator: maintenance",
        "{v}"
    );
    let out = wren(&d.socket, &["peer", "enable", "p62", "-o", "json"]);
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["ok"], true, "{reply}");
    // Started again (passive: it waits for the peer); the last down reason stays.
    until(&d, "p62 started", || {
        peers(&d.socket).is_some_and(|v| v[0]["state"] == "active")
    });
    let out = wren(&d.socket, &["peer", "reset", "p63"]);
    assert!(out.status.success(), "{out:?}");
    let out = wren(&d.socket, &["peer", "reset", "nope"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no peer named \"nope\""),
        "{out:?}"
    );
    let logged = std::fs::read_to_string(&d.log).unwrap();
    assert!(
        logged.contains("SIGHUP: reload: peer p61 removed"),
        "{logged}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
