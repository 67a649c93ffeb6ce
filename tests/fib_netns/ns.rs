//! A network namespace for one test: `wren-fib-<test>-<pid>`, entered by the test thread
//! (setns), so the FIB worker thread it starts runs inside it too. Dropping it returns
//! the thread to its namespace and deletes the namespace (and everything in it).

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Netns {
    pub name: String,
    home: File,
}

/// `ip monitor route` in the namespace, recording its lines until dropped (killed by PID).
pub struct Monitor {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

// ===== impl Netns =====

impl Netns {
    /// Create and enter the namespace, or print `SKIPPED: <why>` and return None
    /// (panics instead when WREN_REQUIRE_ALL=1).
    pub fn enter(test: &str) -> Option<Netns> {
        if let Some(why) = cannot_run() {
            // Straight to the stderr handle: the test harness captures eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! SKIPPED: fib netns test {test}: {why}\n"
            );
            if std::env::var("WREN_REQUIRE_ALL").as_deref() == Ok("1") {
                panic!("SKIPPED with WREN_REQUIRE_ALL=1: {why}");
            }
            return None;
        }
        let name = format!("wren-fib-{test}-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        run("ip", &["netns", "add", &name]);
        let home = File::open("/proc/thread-self/ns/net").expect("open own netns");
        let ns = Netns { name, home };
        let target = File::open(format!("/run/netns/{}", ns.name)).expect("open netns");
        // SAFETY: setns on valid descriptors; it changes only this thread's namespace.
        let rc = unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        ns.ip("link set lo up");
        Some(ns)
    }

    /// `ip -n NS <args>`; panics on failure.
    pub fn ip(&self, args: &str) -> String {
        let mut a = vec!["-n", &self.name];
        a.extend(args.split_whitespace());
        run("ip", &a)
    }

    /// `ip -n NS <args>`, failure allowed.
    pub fn ip_try(&self, args: &str) -> bool {
        let mut a = vec!["-n", &self.name];
        a.extend(args.split_whitespace());
        Command::new("ip")
            .args(&a)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A veth pair, both ends up, `a` with these addresses. `b` gets no IPv6 link-local
    /// address: it stands for the far side, which would be in another host.
    pub fn veth(&self, a: &str, b: &str, addrs: &[&str]) {
        self.ip(&format!("link add {a} type veth peer name {b}"));
        self.ip(&format!("link set {b} addrgenmode none"));
        for addr in addrs {
            let nodad = if addr.contains(':') { " nodad" } else { "" };
            self.ip(&format!("addr add {addr} dev {a}{nodad}"));
        }
        self.ip(&format!("link set {a} up"));
        self.ip(&format!("link set {b} up"));
    }

    /// Routes of table `table` and protocol `proto` (IPv4 and IPv6), one canonical line
    /// each, sorted: `blackhole P`, or `P via GW dev D[ onlink][, via ...]` with the next
    /// hops sorted. Plain, multipath and nexthop-object routes read the same way.
    pub fn routes(&self, table: u32, proto: &str) -> Vec<String> {
        let mut v = Vec::new();
        for fam in ["-4", "-6"] {
            let out = self.ip(&format!("{fam} -j route show table {table} proto {proto}"));
            let json: serde_json::Value = serde_json::from_str(&out).expect("ip -j route");
            v.extend(json.as_array().into_iter().flatten().map(canonical));
        }
        v.sort();
        v
    }

    /// Number of routes of `proto` in `table` (fast, for big tables).
    pub fn count(&self, table: u32, proto: &str) -> usize {
        let mut n = 0;
        for fam in ["-4", "-6"] {
            n += self
                .ip(&format!("{fam} route show table {table} proto {proto}"))
                .lines()
                .filter(|l| !l.starts_with(char::is_whitespace))
                .count();
        }
        n
    }

    /// `ip nexthop show` lines.
    pub fn nexthops(&self) -> Vec<String> {
        let out = self.ip("nexthop show");
        out.lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }

    pub fn monitor(&self) -> Monitor {
        let mut child = Command::new("ip")
            .args(["-n", &self.name, "monitor", "route"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ip monitor");
        let out = child.stdout.take().expect("monitor stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(line);
            }
        });
        // Let it subscribe before the test acts.
        std::thread::sleep(Duration::from_millis(200));
        Monitor { child, lines }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // SAFETY: setns back to the thread's own namespace, on a valid descriptor.
        unsafe { libc::setns(self.home.as_raw_fd(), libc::CLONE_NEWNET) };
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

// ===== impl Monitor =====

impl Monitor {
    /// The lines so far, after a short settle time.
    pub fn lines(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(200));
        self.lines.lock().unwrap().clone()
    }

    pub fn deleted(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with("Deleted"))
            .collect()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ===== helper functions =====

fn canonical(r: &serde_json::Value) -> String {
    let dst = r["dst"].as_str().unwrap_or("?");
    if r["type"].as_str() == Some("blackhole") {
        return format!("blackhole {dst}");
    }
    let hop = |h: &serde_json::Value| {
        let gw = h["gateway"]
            .as_str()
            .or(h["via"]["host"].as_str())
            .unwrap_or("-");
        let onlink = h["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "onlink"));
        let dev = h["dev"].as_str().unwrap_or("-");
        format!("via {gw} dev {dev}{}", if onlink { " onlink" } else { "" })
    };
    let mut hops: Vec<String> = match r["nexthops"].as_array() {
        Some(v) => v.iter().map(hop).collect(),
        None => vec![hop(r)],
    };
    hops.sort();
    format!("{dst} {}", hops.join(", "))
}

fn cannot_run() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (network namespaces need CAP_SYS_ADMIN)".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("the `ip` command (iproute2) is missing".into());
    }
    None
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Poll `f` until it is true or `secs` pass.
pub fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}
