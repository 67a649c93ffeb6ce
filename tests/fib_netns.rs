//! The netlink FIB against a real kernel, each test in its own network namespace
//! (`wren-fib-<test>-<pid>`, needs root and iproute2; otherwise SKIPPED, which fails
//! with WREN_REQUIRE_ALL=1). Assertions read the kernel with `ip route`, and the event
//! sequence with `ip monitor route`.

#[path = "fib_netns/ns.rs"]
mod ns;

use std::net::IpAddr;
use std::time::Duration;

use ns::{wait_for, Netns};
use wren::fib::netlink::{DeviceRule, NetlinkFib, NetlinkFibCfg};
use wren::rib::{FibChange, FibKind, FibRoute, Prefix};

const T: u32 = 254;

fn pfx(s: &str) -> Prefix {
    if s.contains(':') {
        Prefix::V6(s.parse().unwrap())
    } else {
        Prefix::V4(s.parse().unwrap())
    }
}

fn uni(prefix: &str, nhs: &[&str]) -> FibChange {
    let nhs: Vec<IpAddr> = nhs.iter().map(|a| a.parse().unwrap()).collect();
    FibChange::Upsert(FibRoute {
        prefix: pfx(prefix),
        kind: FibKind::Unicast(nhs.into()),
    })
}

fn bh(prefix: &str) -> FibChange {
    FibChange::Upsert(FibRoute {
        prefix: pfx(prefix),
        kind: FibKind::Blackhole,
    })
}

fn rm(prefix: &str) -> FibChange {
    FibChange::Remove(pfx(prefix))
}

fn cfg() -> NetlinkFibCfg {
    NetlinkFibCfg::default()
}

/// A namespace with veth0 (198.18.0.1/24, 2001:db8:0:1::1/64) whose peer is veth0p.
fn lab(test: &str) -> Option<Netns> {
    let ns = Netns::enter(test)?;
    ns.veth("veth0", "veth0p", &["198.18.0.1/24", "2001:db8:0:1::1/64"]);
    Some(ns)
}

fn apply(fib: &mut NetlinkFib, changes: &[FibChange]) -> wren::fib::netlink::FibStats {
    fib.apply(changes);
    fib.wait_flushed()
}

#[test]
fn install_kinds_and_remove() {
    let Some(ns) = lab("kinds") else { return };
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    let s = apply(
        &mut fib,
        &[
            bh("198.19.0.0/26"),
            uni("198.19.1.0/24", &["198.18.0.2"]),
            uni("198.19.2.0/24", &["198.18.0.2", "198.18.0.3"]),
            uni("2001:db8:1::/48", &["2001:db8:0:1::2"]),
            bh("2001:db8:2::/48"),
        ],
    );
    assert_eq!(s.creates, 5, "{s:?}");
    let r = ns.routes(T, "bgp");
    assert_eq!(
        r,
        vec![
            "198.19.1.0/24 via 198.18.0.2 dev veth0",
            "198.19.2.0/24 via 198.18.0.2 dev veth0, via 198.18.0.3 dev veth0",
            "2001:db8:1::/48 via 2001:db8:0:1::2 dev veth0",
            "blackhole 198.19.0.0/26",
            "blackhole 2001:db8:2::/48",
        ],
        "{r:#?}"
    );
    apply(&mut fib, &[rm("198.19.0.0/26"), rm("2001:db8:1::/48")]);
    assert_eq!(ns.count(T, "bgp"), 3);
    let s = fib.close_blocking();
    assert_eq!(s.deletes, 2);
}

#[test]
fn replace_not_delete_then_add() {
    replace_not_delete_then_add_with(false);
}

#[test]
fn replace_not_delete_then_add_nexthop_objects() {
    replace_not_delete_then_add_with(true);
}

/// With nexthop objects the first change (every route of gateway .2 moves to .3) is a
/// rewrite of the route's group, not a route write.
fn replace_not_delete_then_add_with(nexthop_objects: bool) {
    let Some(ns) = lab(if nexthop_objects {
        "replacenh"
    } else {
        "replace"
    }) else {
        return;
    };
    let mut c = cfg();
    c.nexthop_objects = nexthop_objects;
    let mut fib = NetlinkFib::start(c).unwrap();
    apply(
        &mut fib,
        &[uni("198.19.1.0/24", &["198.18.0.2"]), bh("2001:db8:5::/48")],
    );
    let mon = ns.monitor();
    let s0 = fib.stats();
    apply(&mut fib, &[uni("198.19.1.0/24", &["198.18.0.3"])]);
    apply(&mut fib, &[bh("198.19.1.0/24")]);
    apply(
        &mut fib,
        &[uni("198.19.1.0/24", &["198.18.0.2", "198.18.0.4"])],
    );
    apply(&mut fib, &[uni("2001:db8:5::/48", &["2001:db8:0:1::9"])]);
    let s = fib.wait_flushed();
    let replaces = if nexthop_objects { 3 } else { 4 };
    assert_eq!(s.replaces - s0.replaces, replaces, "{s:?}");
    assert_eq!((s.deletes, s.creates), (s0.deletes, s0.creates));
    assert_eq!(
        mon.deleted(),
        Vec::<String>::new(),
        "a change must be one replace"
    );
    assert!(mon.lines().len() >= 4, "{:?}", mon.lines());
    assert_eq!(
        ns.routes(T, "bgp"),
        vec![
            "198.19.1.0/24 via 198.18.0.2 dev veth0, via 198.18.0.4 dev veth0",
            "2001:db8:5::/48 via 2001:db8:0:1::9 dev veth0",
        ]
    );
    // Applying the same routes again writes nothing.
    apply(
        &mut fib,
        &[uni("198.19.1.0/24", &["198.18.0.4", "198.18.0.2"])],
    );
    assert_eq!(fib.wait_flushed().writes, s.writes);
}

#[test]
fn ecmp_multipath_routes_add_and_remove_one_path() {
    let Some(ns) = lab("ecmp") else { return };
    ns.veth("veth1", "veth1p", &["198.18.1.1/24", "2001:db8:0:2::1/64"]);
    let mut c = cfg();
    c.nexthop_objects = false;
    let mut fib = NetlinkFib::start(c).unwrap();
    apply(
        &mut fib,
        &[
            uni("198.19.0.0/24", &["198.18.0.2", "198.18.1.2", "198.18.0.3"]),
            uni("2001:db8:9::/48", &["2001:db8:0:1::2", "2001:db8:0:2::2"]),
        ],
    );
    let r = ns.routes(T, "bgp");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].matches("via ").count(), 3, "{r:?}");
    assert_eq!(r[1].matches("via ").count(), 2, "{r:?}");
    let mon = ns.monitor();
    apply(
        &mut fib,
        &[
            uni("198.19.0.0/24", &["198.18.0.2", "198.18.0.3"]),
            uni("2001:db8:9::/48", &["2001:db8:0:2::2"]),
        ],
    );
    assert_eq!(
        ns.routes(T, "bgp"),
        vec![
            "198.19.0.0/24 via 198.18.0.2 dev veth0, via 198.18.0.3 dev veth0",
            "2001:db8:9::/48 via 2001:db8:0:2::2 dev veth1",
        ]
    );
    // IPv6 reports the dropped sibling as deleted inside the replace; IPv4 must not.
    let v4_deleted: Vec<String> = mon
        .deleted()
        .into_iter()
        .filter(|l| !l.contains(':'))
        .collect();
    assert_eq!(v4_deleted, Vec::<String>::new());
}

#[test]
fn ecmp_nexthop_objects_member_change_is_one_message() {
    let Some(ns) = lab("nhobj") else { return };
    ns.veth("veth1", "veth1p", &["198.18.1.1/24", "2001:db8:0:2::1/64"]);
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    let v4 = |i: u32, nhs: &[&str]| uni(&format!("198.19.{i}.0/24"), nhs);
    let v6 = |i: u32, nhs: &[&str]| uni(&format!("2001:db8:{i:x}::/48"), nhs);
    let (a, b) = ("198.18.0.2", "198.18.1.2");
    let (a6, b6) = ("2001:db8:0:1::2", "2001:db8:0:2::2");
    let mut all: Vec<FibChange> = (0..100).map(|i| v4(i, &[a, b])).collect();
    all.extend((0..50).map(|i| v6(i, &[a6, b6])));
    let s0 = apply(&mut fib, &all);
    assert_eq!(s0.creates, 150);
    assert_eq!(
        ns.nexthops().len(),
        6,
        "4 objects, 2 groups: {:#?}",
        ns.nexthops()
    );
    let r = ns.routes(T, "bgp");
    assert!(r.iter().all(|l| l.matches("via ").count() == 2), "{r:#?}");
    // One member leaves every route: the groups are rewritten, no route is.
    let mut one: Vec<FibChange> = (0..100).map(|i| v4(i, &[a])).collect();
    one.extend((0..50).map(|i| v6(i, &[b6])));
    let s1 = apply(&mut fib, &one);
    assert_eq!(s1.writes, s0.writes, "no route write: {s1:?}");
    assert!(s1.nexthop_writes - s0.nexthop_writes <= 4, "{s1:?}");
    let r = ns.routes(T, "bgp");
    assert!(r.iter().all(|l| l.matches("via ").count() == 1), "{r:#?}");
    assert!(r
        .iter()
        .filter(|l| l.starts_with("198"))
        .all(|l| l.contains("via 198.18.0.2 dev veth0")));
    // One route alone moves to a new set: that route is written, the others stay.
    let s2 = apply(&mut fib, &[v4(7, &[a, "198.18.0.3"])]);
    assert_eq!(s2.replaces - s1.replaces, 1, "{s2:?}");
    assert_eq!(
        ns.routes(T, "bgp")
            .iter()
            .filter(|l| l.matches("via ").count() == 2)
            .count(),
        1
    );
    // Everything goes: so do the groups and objects.
    let gone: Vec<FibChange> = all
        .iter()
        .map(|c| match c {
            FibChange::Upsert(r) => FibChange::Remove(r.prefix),
            other => other.clone(),
        })
        .collect();
    apply(&mut fib, &gone);
    assert_eq!(ns.count(T, "bgp"), 0);
    assert_eq!(ns.nexthops(), Vec::<String>::new());
}

#[test]
fn onlink_via_tunl0_and_cross_subnet() {
    let Some(ns) = lab("onlink") else { return };
    // A veth named tunl0 stands in for the IPIP device (this kernel has no ipip module).
    ns.veth("tunl0", "tunl0p", &[]);
    let mut c = cfg();
    c.protocol = 12;
    c.rules = vec![DeviceRule {
        prefix: "10.0.0.0/8".parse().unwrap(),
        device: "tunl0".into(),
        cross_subnet_only: true,
    }];
    let mut fib = NetlinkFib::start(c).unwrap();
    apply(
        &mut fib,
        &[
            // Node in another subnet: via tunl0 onlink.
            uni("10.65.1.0/26", &["198.20.0.7"]),
            // Node in our subnet (CrossSubnet): straight over veth0.
            uni("10.65.2.0/26", &["198.18.0.7"]),
            // Outside the rule's prefix: normal resolution.
            uni("198.19.3.0/24", &["198.18.0.7"]),
        ],
    );
    assert_eq!(
        ns.routes(T, "bird"),
        vec![
            "10.65.1.0/26 via 198.20.0.7 dev tunl0 onlink",
            "10.65.2.0/26 via 198.18.0.7 dev veth0",
            "198.19.3.0/24 via 198.18.0.7 dev veth0",
        ]
    );
    // tunl0 down: the IPIP route cannot be installed (and is not sent via the underlay).
    ns.ip("link set tunl0 down");
    assert!(wait_for(3, || ns.routes(T, "bird").len() == 2));
    assert!(wait_for(2, || fib.wait_flushed().unresolved == 1));
    ns.ip("link set tunl0 up");
    assert!(
        wait_for(3, || ns.routes(T, "bird").len() == 3),
        "{:?}",
        ns.routes(T, "bird")
    );
    assert!(ns.routes(T, "bird")[0].contains("dev tunl0 onlink"));
}

#[test]
fn blackhole_install_and_removal() {
    let Some(ns) = lab("blackhole") else { return };
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    // The RIB puts the blackhole of a new block in the changes applied before the sends:
    // once apply is flushed, the kernel has it.
    apply(&mut fib, &[bh("198.19.64.0/26"), bh("2001:db8:64::/64")]);
    assert_eq!(
        ns.routes(T, "bgp"),
        vec!["blackhole 198.19.64.0/26", "blackhole 2001:db8:64::/64"]
    );
    // A more specific route inside the block is independent of it.
    apply(&mut fib, &[uni("198.19.64.0/32", &["198.18.0.2"])]);
    apply(&mut fib, &[rm("198.19.64.0/26"), rm("2001:db8:64::/64")]);
    assert_eq!(
        ns.routes(T, "bgp"),
        vec!["198.19.64.0 via 198.18.0.2 dev veth0"]
    );
}

#[test]
fn link_down_and_up() {
    link_down_and_up_with(true);
}

#[test]
fn link_down_and_up_multipath_routes() {
    link_down_and_up_with(false);
}

fn link_down_and_up_with(nexthop_objects: bool) {
    let Some(ns) = lab(if nexthop_objects { "link" } else { "linkmp" }) else {
        return;
    };
    ns.veth("veth1", "veth1p", &["198.18.1.1/24"]);
    let mut c = cfg();
    c.nexthop_objects = nexthop_objects;
    let mut fib = NetlinkFib::start(c).unwrap();
    apply(
        &mut fib,
        &[
            uni("198.19.0.0/24", &["198.18.0.2"]),
            uni("198.19.1.0/24", &["198.18.0.2", "198.18.1.2"]),
            uni("2001:db8:7::/48", &["2001:db8:0:1::2"]),
        ],
    );
    assert_eq!(ns.count(T, "bgp"), 3);
    ns.ip("link set veth0 down");
    // The kernel drops routes through veth0; the ECMP route keeps its other path.
    let ok = wait_for(3, || {
        ns.routes(T, "bgp") == vec!["198.19.1.0/24 via 198.18.1.2 dev veth1"]
    });
    assert!(ok, "{:?}", ns.routes(T, "bgp"));
    assert!(wait_for(2, || fib.wait_flushed().unresolved == 2));
    ns.ip("link set veth0 up");
    ns.ip("addr replace 2001:db8:0:1::1/64 dev veth0 nodad");
    let ok = wait_for(3, || ns.count(T, "bgp") == 3);
    assert!(ok, "{:?}", ns.routes(T, "bgp"));
    let r = ns.routes(T, "bgp");
    assert_eq!(r[1].matches("via ").count(), 2, "{r:?}");
    assert_eq!(fib.wait_flushed().repairs, 0, "a downed link is no repair");
}

#[test]
fn restart_adoption_writes_nothing_for_unchanged_routes() {
    restart_adoption_with(true);
}

#[test]
fn restart_adoption_multipath_routes() {
    restart_adoption_with(false);
}

fn restart_adoption_with(nexthop_objects: bool) {
    let Some(ns) = lab(if nexthop_objects {
        "restart"
    } else {
        "restartmp"
    }) else {
        return;
    };
    let mut c = cfg();
    c.nexthop_objects = nexthop_objects;
    let routes: Vec<FibChange> = (0..200)
        .map(|i| uni(&format!("198.19.{i}.0/24"), &["198.18.0.2"]))
        .chain([
            uni("198.19.249.0/24", &["198.18.0.2", "198.18.0.3"]), // a nexthop group
            bh("2001:db8:3::/48"),
            uni("198.19.250.0/24", &["198.18.0.3"]),
        ])
        .collect();
    let mut fib = NetlinkFib::start(c.clone()).unwrap();
    apply(&mut fib, &routes);
    // A stale route nobody will announce again, and a foreign one.
    apply(&mut fib, &[bh("198.19.251.0/24")]);
    ns.ip("route add 198.19.252.0/24 via 198.18.0.5 proto static");
    let s = fib.close_blocking();
    assert_eq!(s.deletes, 0, "persist is the default");
    assert_eq!(ns.count(T, "bgp"), 204);

    let mon = ns.monitor();
    let mut fib = NetlinkFib::start(c).unwrap();
    assert_eq!(fib.stats().adopted, 204);
    let mut again = routes.clone();
    again[202] = uni("198.19.250.0/24", &["198.18.0.4"]); // one changed route
    apply(&mut fib, &again);
    let s = fib.wait_flushed();
    // Only the changed route costs anything: one replace, or with nexthop objects the
    // rewrite of its group (a new object for .4, the group's new member).
    let cost = if nexthop_objects {
        (0, 0, 2)
    } else {
        (1, 1, 0)
    };
    assert_eq!((s.writes, s.replaces, s.nexthop_writes), cost, "{s:?}");
    assert_eq!(
        ns.count(T, "bgp"),
        204,
        "stale routes stay until the first sync"
    );
    fib.sync_done();
    let s = fib.wait_flushed();
    assert_eq!((s.deletes, s.stale_removed), (1, 1), "{s:?}");
    assert_eq!(ns.count(T, "bgp"), 203);
    assert!(ns
        .routes(T, "bgp")
        .contains(&"198.19.250.0/24 via 198.18.0.4 dev veth0".to_string()));
    assert_eq!(ns.count(T, "static"), 1);
    let events = mon.lines();
    assert_eq!(
        events.len(),
        2,
        "the changed route and the delete: {events:#?}"
    );
    assert!(events
        .iter()
        .any(|l| l.starts_with("Deleted blackhole 198.19.251.0/24")));
}

#[test]
fn external_deletion_is_repaired() {
    let Some(ns) = lab("repair") else { return };
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    apply(
        &mut fib,
        &[uni("198.19.8.0/24", &["198.18.0.2"]), bh("2001:db8:8::/48")],
    );
    ns.ip("route del 198.19.8.0/24");
    ns.ip("-6 route del blackhole 2001:db8:8::/48");
    assert!(
        wait_for(3, || ns.count(T, "bgp") == 2),
        "{:?}",
        ns.routes(T, "bgp")
    );
    // Changed by hand (same protocol, other gateway): put back too.
    ns.ip("route replace 198.19.8.0/24 via 198.18.0.9 proto bgp");
    let ok = wait_for(3, || {
        ns.routes(T, "bgp")[0] == "198.19.8.0/24 via 198.18.0.2 dev veth0"
    });
    assert!(ok, "{:?}", ns.routes(T, "bgp"));
    assert!(
        wait_for(2, || fib.wait_flushed().repairs == 3),
        "{:?}",
        fib.stats()
    );
}

#[test]
fn foreign_routes_are_untouched() {
    let Some(ns) = lab("foreign") else { return };
    ns.ip("route add 198.19.40.0/24 via 198.18.0.5 proto static");
    ns.ip("route add blackhole 198.19.41.0/24 proto 12");
    ns.ip("route add 198.19.43.0/24 via 198.18.0.5 proto static metric 100");
    ns.ip("-6 route add 2001:db8:40::/48 via 2001:db8:0:1::5 proto boot");
    let before: Vec<Vec<String>> = ["static", "12", "boot"]
        .iter()
        .map(|p| ns.routes(T, p))
        .collect();
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    let s = apply(
        &mut fib,
        &[
            uni("198.19.40.0/24", &["198.18.0.2"]), // held by a static route: left alone
            uni("198.19.41.0/24", &["198.18.0.2"]), // held by "bird" (12): left alone
            uni("198.19.42.0/24", &["198.18.0.2"]),
            uni("198.19.43.0/24", &["198.18.0.2"]), // other metric: both coexist
            uni("2001:db8:40::/48", &["2001:db8:0:1::2"]),
        ],
    );
    assert_eq!((s.creates, s.conflicts), (2, 3), "{s:?}");
    assert_eq!(
        ns.routes(T, "bgp"),
        vec![
            "198.19.42.0/24 via 198.18.0.2 dev veth0",
            "198.19.43.0/24 via 198.18.0.2 dev veth0"
        ]
    );
    fib.withdraw_all();
    fib.wait_flushed();
    assert_eq!(ns.count(T, "bgp"), 0);
    let after: Vec<Vec<String>> = ["static", "12", "boot"]
        .iter()
        .map(|p| ns.routes(T, p))
        .collect();
    assert_eq!(before, after);
    // When the other program's route goes, ours takes the prefix.
    apply(&mut fib, &[uni("198.19.40.0/24", &["198.18.0.2"])]);
    ns.ip("route del 198.19.40.0/24 proto static");
    let ok = wait_for(3, || ns.count(T, "bgp") == 1);
    assert!(ok, "{:?}", ns.routes(T, "bgp"));
}

#[test]
fn recursive_next_hops() {
    let Some(ns) = lab("recursive") else { return };
    ns.ip("route add 198.20.0.0/16 via 198.18.0.2 proto static");
    ns.ip("route add 198.21.0.0/16 dev veth0 proto static");
    ns.ip("-6 route add 2001:db8:aa::/48 via 2001:db8:0:1::2 proto static");
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    apply(
        &mut fib,
        &[
            uni("198.19.5.0/24", &["198.20.1.1"]),
            uni("198.19.6.0/24", &["198.21.0.5"]),
            uni("2001:db8:5::/48", &["2001:db8:aa::1"]),
            uni("198.19.7.0/24", &["198.22.0.1"]), // no route to it
        ],
    );
    assert_eq!(
        ns.routes(T, "bgp"),
        vec![
            "198.19.5.0/24 via 198.18.0.2 dev veth0",
            "198.19.6.0/24 via 198.21.0.5 dev veth0",
            "2001:db8:5::/48 via 2001:db8:0:1::2 dev veth0",
        ]
    );
    assert_eq!(fib.wait_flushed().unresolved, 1);
    // The route to the next hop changes: ours follows (one replace).
    let before = fib.stats();
    ns.ip("route replace 198.20.0.0/16 via 198.18.0.3 proto static");
    let ok = wait_for(3, || {
        ns.routes(T, "bgp")[0] == "198.19.5.0/24 via 198.18.0.3 dev veth0"
    });
    assert!(ok, "{:?}", ns.routes(T, "bgp"));
    // A route to the unreachable next hop appears: ours is installed.
    ns.ip("route add 198.22.0.0/16 via 198.18.0.4 proto static");
    assert!(
        wait_for(3, || ns.count(T, "bgp") == 4),
        "{:?}",
        ns.routes(T, "bgp")
    );
    // The route to the next hop goes: ours goes too.
    ns.ip("route del 198.20.0.0/16");
    assert!(
        wait_for(3, || ns.count(T, "bgp") == 3),
        "{:?}",
        ns.routes(T, "bgp")
    );
    let s = fib.wait_flushed();
    // The gateway change is one route replace, or with nexthop objects one group rewrite.
    let changed = s.replaces - before.replaces + (s.nexthop_writes > before.nexthop_writes) as u64;
    assert!(changed >= 1 && s.replaces - before.replaces <= 1, "{s:?}");
    assert_eq!(
        (s.creates - before.creates, s.deletes - before.deletes),
        (1, 1),
        "{s:?}"
    );
}

#[test]
fn ipv6_next_hops_and_link_local_via_device() {
    let Some(ns) = lab("ipv6") else { return };
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    // One link with IPv6: a link-local next hop goes through it.
    apply(&mut fib, &[uni("2001:db8:21::/48", &["fe80::9"])]);
    let ok = wait_for(3, || {
        ns.routes(T, "bgp") == vec!["2001:db8:21::/48 via fe80::9 dev veth0"]
    });
    assert!(ok, "{:?}", ns.routes(T, "bgp"));
    ns.veth("veth1", "veth1p", &["2001:db8:0:2::1/64"]);
    ns.ip("-6 neigh add fe80::3 lladdr 02:00:00:00:00:03 dev veth1");
    fib.link_local_device("fe80::2".parse().unwrap(), Some("veth1"));
    apply(
        &mut fib,
        &[
            uni("2001:db8:20::/48", &["fe80::2"]),         // hint
            uni("2001:db8:22::/48", &["fe80::3"]),         // neighbour table
            uni("198.19.30.0/24", &["fe80::2"]),           // IPv4 over IPv6 (RFC 8950)
            uni("2001:db8:23::/48", &["2001:db8:0:2::2"]), // global, connected
        ],
    );
    let want = vec![
        "198.19.30.0/24 via fe80::2 dev veth1",
        "2001:db8:20::/48 via fe80::2 dev veth1",
        // Keeps its device when a second IPv6 link appears.
        "2001:db8:21::/48 via fe80::9 dev veth0",
        "2001:db8:22::/48 via fe80::3 dev veth1",
        "2001:db8:23::/48 via 2001:db8:0:2::2 dev veth1",
    ];
    let ok = wait_for(3, || ns.routes(T, "bgp") == want);
    assert!(ok, "{:#?}", ns.routes(T, "bgp"));
}

#[test]
fn persist_keeps_routes_and_withdraw_removes_them() {
    let Some(ns) = lab("persist") else { return };
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    apply(&mut fib, &[bh("198.19.60.0/24")]);
    fib.close_blocking();
    assert_eq!(ns.count(T, "bgp"), 1, "persist (the default) keeps routes");
    let mut c = cfg();
    c.persist = false;
    let mut fib = NetlinkFib::start(c).unwrap();
    apply(&mut fib, &[bh("198.19.60.0/24"), bh("198.19.61.0/24")]);
    let s = fib.close_blocking();
    assert_eq!((s.writes, s.deletes), (3, 2), "{s:?}");
    assert_eq!(
        ns.count(T, "bgp"),
        0,
        "persist = false removes them on exit"
    );
    let mut fib = NetlinkFib::start(cfg()).unwrap();
    apply(&mut fib, &[bh("198.19.62.0/24")]);
    fib.withdraw_all();
    assert_eq!(fib.wait_flushed().installed, 0);
    assert_eq!(ns.count(T, "bgp"), 0);
    assert!(fib.routes().is_empty());
}

#[test]
fn stale_routes_go_after_the_sync_timeout() {
    let Some(ns) = lab("synctimeout") else { return };
    ns.ip("route add blackhole 198.19.70.0/24 proto bgp");
    ns.ip("route add blackhole 198.19.71.0/24 proto bgp");
    ns.ip("route add blackhole 198.19.72.0/24 proto bgp metric 7"); // an old metric
    let mut c = cfg();
    c.sync_timeout = Duration::from_millis(700);
    let mut fib = NetlinkFib::start(c).unwrap();
    assert_eq!(fib.stats().adopted, 2);
    apply(&mut fib, &[bh("198.19.70.0/24")]);
    assert_eq!(ns.count(T, "bgp"), 3);
    assert!(
        wait_for(3, || ns.count(T, "bgp") == 1),
        "{:?}",
        ns.routes(T, "bgp")
    );
    assert_eq!(ns.routes(T, "bgp"), vec!["blackhole 198.19.70.0/24"]);
    assert_eq!(
        fib.wait_flushed().writes,
        2,
        "no write for the re-announced route"
    );
}

#[tokio::test]
async fn learns_other_programs_routes() {
    let Some(ns) = lab("learned") else { return };
    ns.ip("route add 198.19.80.7/32 dev veth0 scope link proto boot");
    let fib = NetlinkFib::start(cfg()).unwrap();
    ns.ip("route add 198.19.81.0/24 via 198.18.0.2 proto static");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let l = fib.learned().await;
    let felix = l
        .iter()
        .find(|r| r.prefix == pfx("198.19.80.7/32"))
        .expect("learned");
    assert_eq!(
        (felix.protocol, felix.devices.clone()),
        (3, vec!["veth0".to_string()])
    );
    let st = l
        .iter()
        .find(|r| r.prefix == pfx("198.19.81.0/24"))
        .expect("learned");
    assert_eq!(st.gateways, vec!["198.18.0.2".parse::<IpAddr>().unwrap()]);
    fib.close().await;
}

#[test]
fn event_overrun_resyncs() {
    let Some(ns) = lab("overrun") else { return };
    let mut c = cfg();
    c.event_buffer = 4096;
    let mut fib = NetlinkFib::start(c).unwrap();
    apply(
        &mut fib,
        &[uni("198.19.90.0/24", &["198.18.0.2"]), bh("198.19.91.0/24")],
    );
    // While our worker is busy with a big batch, our route is deleted, and a burst of
    // another program's routes (a second FIB with protocol 12, which writes a thousand
    // routes per datagram) overruns the small event buffer.
    let busy: Vec<FibChange> = (0..30_000)
        .map(|i| bh(&format!("198.21.{}.{}/32", i / 250, i % 250)))
        .collect();
    fib.apply(&busy);
    ns.ip("route del 198.19.90.0/24 proto bgp");
    let mut other = cfg();
    other.protocol = 12;
    let mut flood = NetlinkFib::start(other).unwrap();
    let burst: Vec<FibChange> = (0..6000)
        .map(|i| bh(&format!("198.20.{}.{}/32", i / 250, i % 250)))
        .collect();
    apply(&mut flood, &burst);
    assert!(
        wait_for(5, || fib.wait_flushed().resyncs >= 1),
        "{:?}",
        fib.stats()
    );
    assert!(wait_for(3, || ns.count(T, "bgp") == 30_002));
    assert!(ns
        .routes(T, "bgp")
        .contains(&"198.19.90.0/24 via 198.18.0.2 dev veth0".to_string()));
    assert_eq!(ns.count(T, "12"), 6000);
}
