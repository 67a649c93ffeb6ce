//! systemd integration: `wren run` under a fake service manager (a unix datagram socket
//! in NOTIFY_SOCKET) sends READY=1 after its initial sync, WATCHDOG=1 pings at half of
//! WATCHDOG_USEC, and STOPPING=1; and `conf/wren.service` passes `systemd-analyze verify`.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::tmpdir;

/// A config with one peer nobody listens for (refused: not waited for by the sync).
fn config(dir: &Path) -> PathBuf {
    let text = format!(
        r#"[router]
asn = 64512
router_id = "127.0.0.51"
listen = []

[[peer]]
name = "nobody"
address = "127.0.0.52"
port = 21199
asn = 64512

[control]
socket = "{}"

[metrics]
listen = ""

[fib]
dry_run = true
"#,
        dir.join("wren.sock").display()
    );
    let path = dir.join("wren.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every notification until `until` is among them, or the time runs out.
fn collect(sock: &UnixDatagram, until: &str, within: Duration) -> Vec<String> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while t0.elapsed() < within {
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).to_string();
            let done = msg.contains(until);
            got.push(msg);
            if done {
                break;
            }
        }
    }
    got
}

#[test]
fn run_notifies_ready_watchdog_and_stopping() {
    let dir = tmpdir("sd");
    let notify = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&notify).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(["run", "--config"])
        .arg(config(&dir))
        .env("NOTIFY_SOCKET", &notify)
        .env("WATCHDOG_USEC", "1000000")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("wren.log")).unwrap())
        .spawn()
        .unwrap();
    let got = collect(&sock, "READY=1", Duration::from_secs(15));
    let ready = got.iter().find(|m| m.starts_with("READY=1"));
    assert!(ready.is_some(), "no READY=1: {got:?}");
    assert!(
        ready.unwrap().contains("STATUS=0/1 peers established"),
        "{got:?}"
    );
    // Two watchdog pings at half of the second.
    let got = collect(&sock, "WATCHDOG=1", Duration::from_secs(3));
    assert!(
        got.iter().any(|m| m.starts_with("WATCHDOG=1\nSTATUS=")),
        "{got:?}"
    );
    let got = collect(&sock, "WATCHDOG=1", Duration::from_secs(3));
    assert!(got.iter().any(|m| m.starts_with("WATCHDOG=1")), "{got:?}");
    // SAFETY: kill(2) on the PID of a child we started and have not reaped.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let got = collect(&sock, "STOPPING=1", Duration::from_secs(5));
    assert!(got.iter().any(|m| m.starts_with("STOPPING=1")), "{got:?}");
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_unit_file_verifies() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    if !analyze.exists() {
        eprintln!("SKIPPED: systemd-analyze is not installed; conf/wren.service not verified");
        return;
    }
    let dir = tmpdir("unit");
    let unit =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/wren.service")).unwrap();
    for key in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
        "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "RuntimeDirectory=wren",
        "ReadWritePaths=/run/wren",
    ] {
        assert!(
            unit.lines().any(|l| l == key),
            "conf/wren.service lacks {key}"
        );
    }
    // The installed path of the binary is not here: point it at the one just built.
    let unit = unit.replace("/usr/bin/wren", env!("CARGO_BIN_EXE_wren"));
    let path = dir.join("wren.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "systemd-analyze verify: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
