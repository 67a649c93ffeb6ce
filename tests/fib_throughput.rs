//! FIB throughput in a fresh network namespace: install and withdraw N routes
//! (blackhole, then unicast through one gateway), and the cost of one ECMP member change
//! over N multipath routes (classic multipath routes, then nexthop objects). Prints
//! routes per second, wall clock and CPU. N is WREN_FIB_BENCH_ROUTES, by default 100000
//! (20000 in a debug build). Prefixes are IPv4, nested in 198.18.0.0/16 and
//! 198.19.0.0/17 (at most 196604), or with WREN_FIB_BENCH_V6=1 IPv6 /64s in
//! 2001:db8::/32 (any number). Measure with a release build, one test at a time:
//!
//! ```sh
//! WREN_FIB_BENCH_ROUTES=196604 cargo test --release --test fib_throughput -- --nocapture --test-threads 1
//! WREN_FIB_BENCH_V6=1 WREN_FIB_BENCH_ROUTES=500000 cargo test --release --test fib_throughput -- --nocapture --test-threads 1
//! ```

#[path = "fib_netns/ns.rs"]
mod ns;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use ns::Netns;
use wren::fib::netlink::{NetlinkFib, NetlinkFibCfg};
use wren::rib::{FibChange, FibKind, FibRoute, Prefix};
use wren::wire::{Prefix4, Prefix6};

fn v6() -> bool {
    std::env::var("WREN_FIB_BENCH_V6").as_deref() == Ok("1")
}

/// The i-th prefix: IPv6 /64s in 2001:db8::/32, or IPv4 prefixes nested in
/// 198.18.0.0/16 (lengths 32 down to 17), then 198.19.0.0/17.
fn nth_prefix(mut i: u32) -> Prefix {
    if v6() {
        let addr = (0x2001_0db8u128 << 96) | (u128::from(i) << 64);
        return Prefix::V6(Prefix6::new(addr, 64).unwrap());
    }
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

/// (user, system) CPU seconds of this process so far: the system part is mostly the
/// kernel's route work inside the worker thread's sendmsg calls.
fn cpu_secs() -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(ru.ru_utime), tv(ru.ru_stime))
}

/// Wall, user and system seconds of one step.
#[derive(Debug, Clone, Copy)]
struct Took {
    wall: f64,
    user: f64,
    sys: f64,
}

/// Apply and wait for the kernel.
fn timed(fib: &mut NetlinkFib, changes: &[FibChange]) -> Took {
    let (t, (u0, s0)) = (Instant::now(), cpu_secs());
    fib.apply(changes);
    fib.wait_flushed();
    let (u1, s1) = cpu_secs();
    Took {
        wall: t.elapsed().as_secs_f64(),
        user: u1 - u0,
        sys: s1 - s0,
    }
}

/// Print the rate; returns routes per wall-clock second. CPU time is printed too: on a
/// shared machine the wall time also counts other processes' turns.
fn report(what: &str, n: u32, t: Took) -> f64 {
    let rate = f64::from(n) / t.wall;
    let cpu_rate = f64::from(n) / (t.user + t.sys).max(1e-6);
    eprintln!(
        "fib throughput: {what}: {n} routes in {:.3} s = {rate:.0} routes/s \
         (cpu user {:.3} s + sys {:.3} s = {cpu_rate:.0} routes per cpu-second)",
        t.wall, t.user, t.sys
    );
    rate
}

/// N: WREN_FIB_BENCH_ROUTES, else 100000 (20000 in a debug build, whose rates say
/// little: `cargo test` in CI checks that it works and is not absurdly slow).
fn routes_env() -> u32 {
    let default = if cfg!(debug_assertions) {
        20_000
    } else {
        100_000
    };
    std::env::var("WREN_FIB_BENCH_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn gw(o: u8) -> IpAddr {
    if v6() {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xffff,
            0,
            0,
            0,
            0,
            u16::from(o),
        ))
    } else {
        IpAddr::V4(Ipv4Addr::new(198, 19, 255, o))
    }
}

fn lab(test: &str) -> Option<Netns> {
    let ns = Netns::enter(test)?;
    ns.veth(
        "veth0",
        "veth0p",
        &["198.19.255.1/24", "2001:db8:ffff::1/64"],
    );
    Some(ns)
}

/// Logs of the FIB worker on stderr with WREN_LOG (e.g. `wren=debug`).
fn logs() {
    if let Ok(f) = tracing_subscriber::EnvFilter::try_from_env("WREN_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(f).try_init();
    }
}

#[test]
fn install_and_withdraw_throughput() {
    logs();
    let n = routes_env();
    let Some(ns) = lab("tput") else { return };
    // WREN_FIB_BENCH_BH_NHID=1: blackholes through a shared blackhole nexthop object.
    let cfg = NetlinkFibCfg {
        blackhole_nexthop: std::env::var("WREN_FIB_BENCH_BH_NHID").as_deref() == Ok("1"),
        ..NetlinkFibCfg::default()
    };
    let mut fib = NetlinkFib::start(cfg).unwrap();
    let withdraw: Vec<FibChange> = (0..n).map(|i| FibChange::Remove(nth_prefix(i))).collect();
    let mut rates = Vec::new();

    let s = timed(&mut fib, &upserts(n, &FibKind::Blackhole));
    assert_eq!(ns.count(254, "bgp"), n as usize);
    rates.push(report("install blackhole", n, s));
    rates.push(report("withdraw blackhole", n, timed(&mut fib, &withdraw)));
    assert_eq!(ns.count(254, "bgp"), 0);

    let s = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(2)].into())));
    rates.push(report("install unicast via gateway", n, s));
    let s = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(3)].into())));
    rates.push(report("replace gateway", n, s));
    rates.push(report("withdraw unicast", n, timed(&mut fib, &withdraw)));
    assert_eq!(ns.count(254, "bgp"), 0);
    let st = fib.close_blocking();
    assert_eq!(st.refused, 0, "{st:?}");
    // Exactly one write per route for installs and withdrawals; the gateway change
    // rewrites the shared nexthop object, not the routes. Writes go out in batches (a
    // regression to per-route round trips shows here). Speed is reported above, not
    // asserted: rates belong in BENCHMARKS.md, not in a pass/fail on a busy machine.
    let n = u64::from(n);
    assert_eq!(
        (st.creates, st.replaces, st.deletes),
        (2 * n, 0, 2 * n),
        "{st:?}"
    );
    assert!(st.nexthop_writes <= 20, "{st:?}");
    assert!(st.batches * 100 <= st.writes, "{st:?}");
    let worst = rates.iter().copied().fold(f64::MAX, f64::min);
    eprintln!("slowest step: {worst:.0} routes/s");
}

/// The cost of one ECMP member change over N 2-way multipath routes, with classic
/// RTA_MULTIPATH routes (one message per route) and with nexthop objects (the group is
/// rewritten: O(1) messages; the time left is wren's own diff of N routes).
#[test]
fn ecmp_member_change_cost() {
    logs();
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
        let s = timed(
            &mut fib,
            &upserts(n, &FibKind::Unicast(vec![gw(2), gw(3)].into())),
        );
        report(&format!("install 2-way ECMP ({what})"), n, s);
        let before = fib.wait_flushed();
        let t = timed(&mut fib, &upserts(n, &FibKind::Unicast(vec![gw(2)].into())));
        let after = fib.wait_flushed();
        let msgs = after.writes + after.nexthop_writes - before.writes - before.nexthop_writes;
        eprintln!(
            "fib ecmp member change ({what}): {n} routes, {msgs} netlink messages, {:.3} s wall \
             (cpu user {:.3} s + sys {:.3} s)",
            t.wall, t.user, t.sys
        );
        if objects {
            assert!(msgs <= 3, "{msgs} messages");
        } else {
            assert_eq!(msgs, u64::from(n));
        }
        let fam = if v6() { "-6" } else { "-4" };
        let lines = ns.ip(&format!("{fam} route show proto bgp"));
        assert_eq!(
            lines.matches(&format!("via {} ", gw(2))).count(),
            n as usize
        );
        assert!(!lines.contains(&format!("via {} ", gw(3))));
        fib.withdraw_all();
        fib.close_blocking();
    }
}
