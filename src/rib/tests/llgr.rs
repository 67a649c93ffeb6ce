//! Long-lived graceful restart as the receiving speaker (RFC 9494 §4.2–§4.4).

use super::*;
use crate::rib::{LLGR_STALE, NO_LLGR};

const P: &str = "198.51.100.0/24";
const Q: &str = "203.0.113.0/24";

fn with_llgr(mut p: PeerInfo) -> PeerInfo {
    p.neg.peer_llgr = Some(Vec::new());
    p
}

/// Peer 1 sends P and Q (shortest path), peer 2 sends P with a longer path; 3 sent the
/// LLGR capability, 4 did not.
fn setup() -> Rib {
    let mut rib = rib();
    let peers = [
        ebgp(1, 65001),
        ebgp(2, 65002),
        with_llgr(ebgp(3, 65003)),
        ebgp(4, 65004),
    ];
    up(&mut rib, &peers);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P, Q]), &[]);
    let longer = attrs(&[65002, 65009, 65010], "198.18.2.2");
    rib.update(2, announce(longer, &[P]), &[]);
    rib.flush();
    assert_eq!(best(&rib, P).unwrap().peer, 1);
    rib
}

fn communities(u: &UpdateMsg) -> Vec<u32> {
    u.attrs.communities.clone().unwrap_or_default()
}

#[test]
fn long_lived_stale_loses_to_any_other_path() {
    let mut rib = setup();
    rib.peer_down(1, true);
    rib.flush();
    assert_eq!(best(&rib, P).unwrap().peer, 1, "GR stale alone still wins");
    rib.llgr_begin(1, &[Family::IPV4_UNICAST]);
    let out = rib.flush();
    // RFC 9494 §4.3: the longer AS_PATH of peer 2 wins against the long-lived stale one.
    let b = best(&rib, P).unwrap();
    assert_eq!(b.peer, 2);
    let lost = rib
        .explain(&p4(P))
        .into_iter()
        .find(|v| v.peer == 1)
        .unwrap();
    assert!(lost.llgr_stale && lost.stale);
    assert!(lost.reason.contains("RFC 9494 §4.3"), "{}", lost.reason);
    // Q has no other path: it stays, in the kernel too (no Remove), marked LLGR_STALE.
    let q = best(&rib, Q).unwrap();
    assert!(q.llgr_stale && q.attrs.communities == Some(vec![LLGR_STALE]));
    assert!(
        !out.fib.contains(&FibChange::Remove(p4(Q))),
        "{:?}",
        out.fib
    );
    assert_eq!(rib.counts(1).stale, 2);
}

#[test]
fn long_lived_stale_paths_go_only_to_llgr_peers() {
    let mut rib = setup();
    rib.peer_down(1, true);
    rib.flush();
    rib.llgr_begin(1, &[Family::IPV4_UNICAST]);
    let out = rib.flush();
    // RFC 9494 §4.3: peer 4 (no LLGR capability) loses Q; peer 3 gets it with LLGR_STALE.
    assert_eq!(withdrawn4(&out, 4), vec![Q]);
    let to3: Vec<UpdateMsg> = routes(&out, 3)
        .into_iter()
        .filter(|u| u.nlri.iter().any(|n| n.prefix.to_string() == Q))
        .collect();
    assert_eq!(to3.len(), 1, "{to3:?}");
    assert_eq!(communities(&to3[0]), vec![LLGR_STALE]);
    // Both get P from peer 2 now.
    assert!(announced4(&out, 4).contains(&P.to_string()));
    assert!(announced4(&out, 3).contains(&P.to_string()));
}

#[test]
fn no_llgr_paths_and_families_without_llgr_are_removed() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), with_llgr(ebgp(3, 65003))]);
    let mut a = attrs(&[65001], "198.18.1.2");
    a.communities = Some(vec![NO_LLGR]);
    rib.update(1, announce(a, &[P]), &[]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[Q]), &[]);
    let nh6 = NextHop::V6 {
        global: "2001:db8::2".parse().unwrap(),
        link_local: None,
    };
    let a6 = attrs(&[65001], "198.18.1.2");
    rib.update(1, announce6(a6, nh6, &["2001:db8:1::/48"]), &[]);
    rib.flush();
    assert_eq!(rib.counts(1).received, 3);
    rib.peer_down(1, true);
    rib.flush();
    rib.llgr_begin(1, &[Family::IPV4_UNICAST]);
    let out = rib.flush();
    // RFC 9494 §3.3: NO_LLGR is removed; IPv6 had no LLGR negotiated: removed too.
    let kept: Vec<String> = rib
        .paths(Some(1))
        .iter()
        .map(|v| v.prefix.to_string())
        .collect();
    assert_eq!(kept, vec![Q]);
    assert!(out.fib.contains(&FibChange::Remove(p4(P))));
    assert!(out.fib.contains(&FibChange::Remove(p6("2001:db8:1::/48"))));
    assert_eq!(rib.counts(1).stale, 1);
}

#[test]
fn received_llgr_stale_is_least_preferred() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    let mut a = attrs(&[65001], "198.18.1.2");
    a.communities = Some(vec![LLGR_STALE]);
    rib.update(1, announce(a, &[P]), &[]);
    rib.update(2, announce(attrs(&[65002, 65009], "198.18.2.2"), &[P]), &[]);
    rib.flush();
    let b = best(&rib, P).unwrap();
    assert_eq!(b.peer, 2);
    assert!(b.reason.contains("not long-lived stale"), "{}", b.reason);
    let other = rib
        .explain(&p4(P))
        .into_iter()
        .find(|v| v.peer == 1)
        .unwrap();
    assert!(other.llgr_stale && !other.stale);
}

#[test]
fn end_of_rib_or_the_timer_ends_long_lived_stale_paths() {
    let mut rib = setup();
    rib.peer_down(1, true);
    rib.llgr_begin(1, &[Family::IPV4_UNICAST]);
    rib.flush();
    // Back, P re-sent fresh (no LLGR_STALE any more), then End-of-RIB ends Q.
    rib.peer_up(ebgp(1, 65001));
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    let b = best(&rib, P).unwrap();
    assert!(b.peer == 1 && !b.llgr_stale && !b.stale);
    rib.update(1, UpdateMsg::eor(Family::IPV4_UNICAST), &[]);
    let out = rib.flush();
    assert!(out.fib.contains(&FibChange::Remove(p4(Q))));
    assert_eq!(rib.counts(1).stale, 0);

    // The long-lived stale time runs out while the peer is down: gone, peer forgotten.
    let mut rib = setup();
    rib.peer_down(1, true);
    rib.llgr_begin(1, &[Family::IPV4_UNICAST]);
    rib.flush();
    rib.llgr_expired(1, Family::IPV4_UNICAST);
    let out = rib.flush();
    assert!(out.fib.contains(&FibChange::Remove(p4(Q))));
    assert!(rib.paths(Some(1)).is_empty());
    assert_eq!(best(&rib, P).unwrap().peer, 2);
}
