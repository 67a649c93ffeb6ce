//! FIB throughput in a fresh network namespace: install and withdraw N IPv4 routes
//! (blackhole, then unicast through one gateway), and the cost of one ECMP member
//! change over N multipath routes (classic multipath routes, then nexthop objects). Prints routes per second. Runs by default with N = 100000 (a few
//! seconds); WREN_FIB_BENCH_ROUTES sets N (up to 196606: every prefix nested in
//! 198.18.0.0/16 and 198.19.0.0/17). Measure with a release build:
//!
//! ```sh
//! WREN_FIB_BENCH_ROUTES=196606 cargo test --release --test fib_throughput -- --nocapture
//! ```

#[path = "fib_netns/ns.rs"]
mod ns;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use ns::Netns;
use wren::fib::netlink::{NetlinkFib, NetlinkFibCfg};
use wren::rib::{FibChange, FibKind, FibRoute, Prefix};
use wren::wire::Prefix4;

/// The i-th prefix nested in 198.18.0.0/16 (lengths 32 down to 17), then 198.19.0.0/17.
fn nth_prefix(mut i: u32) -> Prefix {
    for (base, top) in [(0xc612_0000u32, 16u8), (0xc613_0000, 17)] {
        for len in (top + 1..=32).rev() {
            let count = 1u32 << (len - top);
            if i < count {
                let addr = base | (i << (32 - len));
                return Prefix::V4(Prefix4::new(addr, len).unwrap());
            }
            i -= count;
        }
    }
    panic!("more prefixes than 198.18.0.0/16 + 198.19.0.0/17 hold");
}

fn upserts(n: u32, kind: &FibKind) -> Vec<FibChange> {
    (0..n)
        .map(|i| {
            FibChange::Upsert(FibRoute {
                prefix: nth_prefix(i),
                kind: kind.clone(),
            })
        })
        .collect()
}

/// User + system CPU seconds of this process so far (the worker thread's syscalls,
/// where the kernel does the route work, included).
fn cpu_secs() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Apply and wait for the kernel; returns (wall, cpu) seconds.
fn timed(fib: &mut NetlinkFib, changes: &[FibChange]) -> (f64, f64) {
    let (t, c) = (Instant::now(), cpu_secs());
    fib.apply(changes);
    fib.wait_flushed();
    (t.elapsed().as_secs_f64(), cpu_secs() - c)
}

/// Print the rate; returns routes per wall-clock second. The CPU time is printed too:
/// on a shared machine the wall time also counts other processes' turns.
fn report(what: &str, n: u32, (wall, cpu): (f64, f64)) -> f64 {
    let rate = f64::from(n) / wall;
    let cpu_rate = f64::from(n) / cpu.max(1e-6);
    eprintln!(
        "fib throughput: {what}: {n} routes in {wall:.3} s = {rate:.0} routes/s \
         (cpu {cpu:.3} s = {cpu_rate:.0} routes per cpu-second)"
    );
    rate
}

fn routes_env() -> u32 {
    std::env::var("WREN_FIB_BENCH_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn gw(o: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 19, 255, o))
}

fn lab(test: &str) -> Option<Netns> {
    let ns = Netns::enter(test)?;
    ns.veth("veth0", "veth0p", &["198.19.255.1/24"]);
    Some(ns)
}

#[test]
fn install_and_withdraw_throughput() {
    let n = routes_env();
    let Some(ns) = lab("tput") else { return };
    let mut fib = NetlinkFib::start(NetlinkFibCfg::default()).unwrap();
    let withdraw: Vec<FibChange> = (0..n).map(|i| FibChange::Remove(nth_prefix(i))).collect();
    let mut rates = Vec::new();

    let s = timed(&mut fib, &upserts(n, &FibKind::Blackhole));
    assert_eq!(ns.count(254, "bgp"), n as usize);
    rates.push(report("install blackhole", n, s));
    rates.push(report("withdraw blackhole", n, timed(&mut fib, &withdraw)));
    assert_eq!(ns.count(254, "bgp"), 0);

    let s = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(2)])));
    rates.push(report("install unicast via gateway", n, s));
    let s = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(3)])));
    rates.push(report("replace gateway", n, s));
    rates.push(report("withdraw unicast", n, timed(&mut fib, &withdraw)));
    assert_eq!(ns.count(254, "bgp"), 0);
    let st = fib.close_blocking();
    assert_eq!(st.refused, 0, "{st:?}");
    // A floor far below the target, to catch a regression to per-route round trips
    // even in a debug build on a busy machine.
    let worst = rates.iter().copied().fold(f64::MAX, f64::min);
    assert!(worst > 15_000.0, "slowest step {worst:.0} routes/s");
}

/// The cost of one ECMP member change over N 2-way multipath routes, with classic
/// RTA_MULTIPATH routes (one message per route) and with nexthop objects (the group is
/// rewritten: O(1) messages; the time left is wren's own diff of N routes).
#[test]
fn ecmp_member_change_cost() {
    let n = routes_env();
    let Some(ns) = lab("ecmpcost") else { return };
    for objects in [false, true] {
        let cfg = NetlinkFibCfg {
            nexthop_objects: objects,
            ..NetlinkFibCfg::default()
        };
        let mut fib = NetlinkFib::start(cfg).unwrap();
        let what = if objects {
            "nexthop objects"
        } else {
            "multipath routes"
        };
        let s = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(2), gw(3)])));
        report(&format!("install 2-way ECMP ({what})"), n, s);
        let before = fib.wait_flushed();
        let t = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(2)])));
        let after = fib.wait_flushed();
        let msgs = after.writes + after.nexthop_writes - before.writes - before.nexthop_writes;
        eprintln!(
            "fib ecmp member change ({what}): {n} routes, {msgs} netlink messages, {:.3} s wall, {:.3} s cpu",
            t.0, t.1
        );
        if objects {
            assert!(msgs <= 3, "{msgs} messages");
        } else {
            assert_eq!(msgs, u64::from(n));
        }
        let lines = ns.ip("route show proto bgp");
        assert_eq!(lines.matches("via 198.19.255.2").count(), n as usize);
        assert!(!lines.contains("198.19.255.3"));
        fib.withdraw_all();
        fib.close_blocking();
    }
}
