//! Blackhole routes through a shared blackhole nexthop object (`blackhole_nexthop`), in a
//! network namespace `wren-fib-<test>-<pid>` (needs root and iproute2; otherwise SKIPPED,
//! which fails with WREN_REQUIRE_ALL=1): one object per family, adopted without rewrites
//! after a restart, turned back into plain blackholes when the option is off, collected
//! when no route uses it.

#[path = "fib_netns/ns.rs"]
mod ns;

use ns::Netns;
use wren::fib::netlink::{NetlinkFib, NetlinkFibCfg};
use wren::rib::{FibChange, FibKind, FibRoute, Prefix};

fn bh(s: &str) -> FibChange {
    let prefix = if s.contains(':') {
        Prefix::V6(s.parse().unwrap())
    } else {
        Prefix::V4(s.parse().unwrap())
    };
    FibChange::Upsert(FibRoute {
        prefix,
        kind: FibKind::Blackhole,
    })
}

fn cfg(on: bool) -> NetlinkFibCfg {
    NetlinkFibCfg {
        blackhole_nexthop: on,
        ..NetlinkFibCfg::default()
    }
}

const ROUTES: [&str; 4] = [
    "198.19.0.0/26",
    "198.19.0.64/26",
    "198.19.1.0/26",
    "2001:db8:7::/48",
];

#[test]
fn blackholes_through_one_object_per_family() {
    let Some(ns) = Netns::enter("bhnh") else {
        return;
    };
    let all: Vec<FibChange> = ROUTES.iter().map(|r| bh(r)).collect();
    let mut fib = NetlinkFib::start(cfg(true)).unwrap();
    fib.apply(&all);
    let s = fib.wait_flushed();
    assert_eq!((s.creates, s.refused, s.nexthop_writes), (4, 0, 2), "{s:?}");
    let want: Vec<String> = {
        let mut v: Vec<String> = ROUTES.iter().map(|r| format!("blackhole {r}")).collect();
        v.sort();
        v
    };
    assert_eq!(ns.routes(254, "bgp"), want);
    let nh = ns.nexthops();
    assert_eq!(nh.len(), 2, "{nh:?}");
    assert!(nh.iter().all(|l| l.contains("blackhole")), "{nh:?}");
    assert!(ns.ip("route show proto bgp").contains("nhid"));
    fib.close_blocking();

    // A restart with the same routes: adopted, nothing written.
    let mut fib = NetlinkFib::start(cfg(true)).unwrap();
    fib.apply(&all);
    fib.sync_done();
    let s = fib.wait_flushed();
    assert_eq!((s.adopted, s.writes, s.nexthop_writes), (4, 0, 0), "{s:?}");
    fib.close_blocking();

    // Off: plain blackholes again, and the objects go.
    let mut fib = NetlinkFib::start(cfg(false)).unwrap();
    fib.apply(&all);
    fib.sync_done();
    let s = fib.wait_flushed();
    assert_eq!((s.replaces, s.refused), (4, 0), "{s:?}");
    assert_eq!(ns.routes(254, "bgp"), want);
    assert!(!ns.ip("route show proto bgp").contains("nhid"));
    assert!(ns.nexthops().is_empty(), "{:?}", ns.nexthops());
    fib.close_blocking();
}

#[test]
fn falls_back_to_plain_blackholes_when_the_kernel_refuses_the_object() {
    let Some(ns) = Netns::enter("bhnhlo") else {
        return;
    };
    // A blackhole object needs the loopback device up.
    ns.ip("link set lo down");
    let mut fib = NetlinkFib::start(cfg(true)).unwrap();
    fib.apply(&[bh("198.19.0.0/26")]);
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while ns.count(254, "bgp") == 0 && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(ns.routes(254, "bgp"), vec!["blackhole 198.19.0.0/26"]);
    assert!(!ns.ip("route show proto bgp").contains("nhid"));
    fib.close_blocking();
}
