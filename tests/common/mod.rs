//! What the process-level tests share: a scratch directory, a daemon killed by its PID when
//! the test ends, polling with the daemons' logs on timeout, SIGTERM, and `wren` commands.
//! Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// How long `until` waits.
pub const WAIT: Duration = Duration::from_secs(20);

/// A daemon process, killed (by its PID) if the test ends early.
pub struct Daemon {
    pub child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An empty directory `wren-NAME-PID` under the temporary directory.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wren-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts `prog` with `args`, its stderr in `dir/log`, debug logging, no WREN_CONFIG.
pub fn spawn(prog: &Path, args: &[&str], dir: &Path, log: &str) -> Daemon {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let child = Command::new(prog)
        .args(args)
        .env("WREN_LOG", "debug")
        .env_remove("WREN_CONFIG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the daemon");
    Daemon { child }
}

/// `wren run --config CFG`, logging to `dir/log`.
pub fn wren_run(dir: &Path, cfg: &Path, log: &str) -> Daemon {
    let exe = Path::new(env!("CARGO_BIN_EXE_wren"));
    spawn(exe, &["run", "--config", cfg.to_str().unwrap()], dir, log)
}

/// Polls `f` until it returns Some, or panics after [`WAIT`] with every `*.log` in `dir`.
pub fn until<T>(dir: &Path, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if t0.elapsed() > WAIT {
            panic!("timed out waiting for {what}\n{}", logs(dir));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every `*.log` in `dir`, separated.
pub fn logs(dir: &Path) -> String {
    let logs: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|l| std::fs::read_to_string(l).unwrap_or_default())
        .collect();
    logs.join("\n-----\n")
}

/// Sends `sig` to the daemon.
pub fn signal(d: &Daemon, sig: libc::c_int) {
    let pid = d.child.id() as libc::pid_t;
    // SAFETY: kill(2) on the PID of a child we started and have not reaped.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

/// SIGTERM, then waits (at most 10 s) for the exit.
pub fn sigterm(d: &mut Daemon) -> ExitStatus {
    signal(d, libc::SIGTERM);
    let t0 = Instant::now();
    loop {
        if let Some(st) = d.child.try_wait().unwrap() {
            return st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `wren ARGS --socket SOCKET`.
pub fn wren(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wren"))
        .args(args)
        .arg("--socket")
        .arg(socket)
        .output()
        .expect("run wren")
}
