//! `wren reload`, SIGHUP and `wren peer ...` against a `wren run` process on loopback (no
//! root, no BGP neighbour needed: the peers only have to exist).

use std::path::Path;

use serde_json::Value;

mod common;
use common::{tmpdir, wren};

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

/// Polls the condition until it holds (see `common::until`).
fn until(dir: &Path, what: &str, mut f: impl FnMut() -> bool) {
    common::until(dir, what, || f().then_some(()));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn reload_sighup_and_peer_commands() {
    let dir = tmpdir("reload");
    let (cfg, socket, log) = (
        dir.join("wren.toml"),
        dir.join("wren.sock"),
        dir.join("wren.log"),
    );
    write_config(&cfg, &socket, &[61], 90);
    let d = common::wren_run(&dir, &cfg, "wren.log");
    until(&dir, "the control socket", || peers(&socket).is_some());
    assert_eq!(names(&socket), ["p61"]);

    // Nothing changed.
    let out = wren(&socket, &["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "no change\n");

    // A peer added and one changed, one line each.
    write_config(&cfg, &socket, &[61, 62], 30);
    let out = wren(&socket, &["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "peer p61: hold_time 90 → 30\npeer p62 added\n"
    );
    assert_eq!(names(&socket), ["p61", "p62"]);

    // A refused file: exit 1, the file, the key and the reason; nothing changes.
    write_config(&cfg, &socket, &[61], 2);
    let out = wren(&socket, &["reload", "-o", "json"]);
    assert!(!out.status.success());
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["ok"], false);
    let err = reply["error"].as_str().unwrap();
    assert!(
        err.contains("wren.toml") && err.contains("peer[0].hold_time"),
        "{err}"
    );
    assert_eq!(names(&socket), ["p61", "p62"]);

    // SIGHUP: the same as `wren reload`.
    write_config(&cfg, &socket, &[62, 63], 30);
    common::signal(&d, libc::SIGHUP);
    until(&dir, "the SIGHUP reload", || {
        names(&socket) == ["p62", "p63"]
    });

    // The peer commands.
    let out = wren(&socket, &["peer", "disable", "p62", "-m", "maintenance"]);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).contains("Cease 6/2"), "{out:?}");
    let v = peers(&socket).unwrap();
    assert_eq!(
        v[0]["last_down"], "disabled by the operator: maintenance",
        "{v}"
    );
    let out = wren(&socket, &["peer", "enable", "p62", "-o", "json"]);
    let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["ok"], true, "{reply}");
    // Started again (passive: it waits for the peer); the last down reason stays.
    until(&dir, "p62 started", || {
        peers(&socket).is_some_and(|v| v[0]["state"] == "active")
    });
    let out = wren(&socket, &["peer", "reset", "p63"]);
    assert!(out.status.success(), "{out:?}");
    let out = wren(&socket, &["peer", "reset", "nope"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no peer named \"nope\""),
        "{out:?}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("SIGHUP: reload: peer p61 removed"),
        "{logged}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
