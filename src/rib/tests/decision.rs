//! RFC 4271 §9.1.2.2 and RFC 4456 §9: one test per step, MED removal, ECMP.

use super::*;
use crate::wire::{AsSegment, SegmentKind};

const P: &str = "198.51.100.0/24";

/// A rib with `peers` up and one path for P from each, `(peer, attrs)`.
fn race(peers: &[PeerInfo], paths: Vec<(PeerId, Attrs)>) -> Rib {
    let mut rib = rib();
    up(&mut rib, peers);
    for (peer, a) in paths {
        rib.update(peer, announce(a, &[P]), &[]);
    }
    rib.flush();
    rib
}

fn winner(rib: &Rib) -> PeerId {
    best(rib, P).expect("a best path").peer
}

fn ibgp_attrs(path: &[u32], nh: &str, lp: u32) -> Attrs {
    Attrs {
        local_pref: Some(lp),
        ..attrs(path, nh)
    }
}

#[test]
fn locally_originated_wins_over_everything() {
    let mut rib = rib();
    up(&mut rib, &[ibgp(1, false)]);
    rib.update(1, announce(ibgp_attrs(&[], "198.18.1.2", 1000), &[P]), &[]);
    rib.originate(p4(P), false);
    rib.flush();
    let v = rib.explain(&p4(P));
    assert_eq!((v[0].peer, v[0].best), (LOCAL, true));
    assert!(
        v[0].reason.contains("locally originated"),
        "{}",
        v[0].reason
    );
    assert!(
        v[1].reason.contains("locally originated path exists"),
        "{}",
        v[1].reason
    );
}

#[test]
fn highest_local_pref_wins_and_ebgp_counts_as_100() {
    let rib = race(
        &[ibgp(1, false), ibgp(2, false), ebgp(3, 65003)],
        vec![
            (1, ibgp_attrs(&[65010], "198.18.1.2", 90)),
            (2, ibgp_attrs(&[65010, 65011, 65012], "198.18.2.2", 200)),
            (3, ibgp_attrs(&[65003], "198.18.3.2", 500)),
        ],
    );
    assert_eq!(winner(&rib), 2);
    let v = rib.explain(&p4(P));
    assert!(v[0].reason.contains("LOCAL_PREF 200"), "{}", v[0].reason);
    // The eBGP path's 500 was ignored: it ranks as 100, above the 90 one.
    assert_eq!(v[1].peer, 3);
    assert_eq!(v[1].attrs.local_pref, None);
    assert!(
        v[2].reason.contains("LOCAL_PREF 90 is lower than 200"),
        "{}",
        v[2].reason
    );
}

#[test]
fn shortest_as_path_wins_with_set_as_one_and_confed_as_zero() {
    let set_path = Attrs {
        as_path: Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentKind::ConfedSequence,
                    asns: vec![64600, 64601, 64602],
                },
                AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: vec![65001],
                },
                AsSegment {
                    kind: SegmentKind::Set,
                    asns: vec![65020, 65021, 65022],
                },
            ],
        }),
        ..attrs(&[], "198.18.1.2")
    };
    // Length 2 (confed 0, sequence 1, set 1) against a sequence of 3.
    let rib = race(
        &[ebgp(1, 65001), ebgp(2, 65002)],
        vec![
            (1, set_path),
            (2, attrs(&[65002, 65030, 65031], "198.18.2.2")),
        ],
    );
    assert_eq!(winner(&rib), 1);
    let v = rib.explain(&p4(P));
    assert!(
        v[1].reason.contains("AS_PATH length 3 is longer than 2"),
        "{}",
        v[1].reason
    );
}

#[test]
fn lowest_origin_wins() {
    let mut incomplete = attrs(&[65001], "198.18.1.2");
    incomplete.origin = Some(Origin::Incomplete);
    let mut egp = attrs(&[65002], "198.18.2.2");
    egp.origin = Some(Origin::Egp);
    let rib = race(
        &[ebgp(1, 65001), ebgp(2, 65002)],
        vec![(1, incomplete), (2, egp)],
    );
    assert_eq!(winner(&rib), 2);
    assert!(best(&rib, P).unwrap().reason.contains("ORIGIN 1"));
}

#[test]
fn lowest_med_wins_only_within_the_same_neighbour_as() {
    let med = |path: &[u32], nh: &str, m: Option<u32>| Attrs {
        med: m,
        ..attrs(path, nh)
    };
    // Same neighbour AS 65001 (peers 1 and 2): MED 50 beats 70.
    let rib = race(
        &[ebgp(1, 65001), twin(ebgp(2, 65001), 2, "198.18.2.2")],
        vec![
            (1, med(&[65001], "198.18.1.2", Some(70))),
            (2, med(&[65001], "198.18.2.2", Some(50))),
        ],
    );
    assert_eq!(winner(&rib), 2);
    assert!(best(&rib, P).unwrap().reason.contains("MED 50"));
    // Missing MED is 0, the lowest.
    let rib = race(
        &[ebgp(1, 65001), twin(ebgp(2, 65001), 2, "198.18.2.2")],
        vec![
            (1, med(&[65001], "198.18.1.2", None)),
            (2, med(&[65001], "198.18.2.2", Some(1))),
        ],
    );
    assert_eq!(winner(&rib), 1);
    // Different neighbour ASes: MED is not compared; the lower BGP identifier (peer 1)
    // wins although its MED is higher.
    let rib = race(
        &[ebgp(1, 65001), ebgp(2, 65002)],
        vec![
            (1, med(&[65001], "198.18.1.2", Some(900))),
            (2, med(&[65002], "198.18.2.2", Some(1))),
        ],
    );
    assert_eq!(winner(&rib), 1);
    assert!(best(&rib, P).unwrap().reason.contains("BGP identifier"));
}

/// The classic non-transitive case: R1 (AS X, MED 20, eBGP), R2 (AS Y, MED 10, iBGP,
/// lowest router ID), R3 (AS X, MED 10, iBGP). Pairwise: R1 > R2 (eBGP), R2 > R3 (router
/// ID), R3 > R1 (MED): a cycle, so a sort depends on the input order. The RFC removal:
/// R1 goes at the MED step (R3 has a lower MED from the same AS); of R2 and R3 (both
/// iBGP) R2 has the lower router ID. R2 wins, whatever the order.
#[test]
fn med_removal_is_order_independent_for_the_non_transitive_case() {
    let r = |path: &[u32], nh: &str, m: u32| Attrs {
        med: Some(m),
        local_pref: Some(100),
        ..attrs(path, nh)
    };
    let paths = [
        (1, r(&[65010], "198.18.1.2", 20)),
        (2, r(&[65020], "198.18.2.2", 10)),
        (3, r(&[65010], "198.18.3.2", 10)),
    ];
    let peers = [ebgp(1, 65010), ibgp(2, false), ibgp(3, false)];
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let ps = order.iter().map(|&i| paths[i].clone()).collect();
        let rib = race(&peers, ps);
        assert_eq!(winner(&rib), 2, "order {order:?}");
        let v = rib.explain(&p4(P));
        let r1 = v.iter().find(|v| v.peer == 1).unwrap();
        assert!(r1.reason.contains("MED 20"), "{}", r1.reason);
    }
}

#[test]
fn ebgp_wins_over_ibgp() {
    let rib = race(
        &[ibgp(1, false), ebgp(2, 65002)],
        vec![
            (1, ibgp_attrs(&[65002], "198.18.1.2", 100)),
            (2, attrs(&[65002], "198.18.2.2")),
        ],
    );
    assert_eq!(winner(&rib), 2);
    assert!(best(&rib, P).unwrap().reason.contains("eBGP"));
}

#[test]
fn lowest_originator_id_or_bgp_id_wins() {
    // Peer 1 has the lower BGP ID, but its path carries a higher ORIGINATOR_ID.
    let mut a1 = ibgp_attrs(&[65010], "198.18.1.2", 100);
    a1.originator_id = Some(v4("198.19.200.1"));
    let a2 = ibgp_attrs(&[65010], "198.18.2.2", 100);
    let rib = race(&[ibgp(1, false), ibgp(2, false)], vec![(1, a1), (2, a2)]);
    assert_eq!(winner(&rib), 2);
    let v = rib.explain(&p4(P));
    assert!(
        v[1].reason
            .contains("198.19.200.1 is higher than 198.19.2.2"),
        "{}",
        v[1].reason
    );
}

#[test]
fn shorter_cluster_list_wins() {
    let mut a1 = ibgp_attrs(&[65010], "198.18.1.2", 100);
    a1.originator_id = Some(v4("198.19.50.1"));
    a1.cluster_list = Some(vec![v4("10.0.0.1"), v4("10.0.0.2")]);
    let mut a2 = a1.clone();
    a2.cluster_list = Some(vec![v4("10.0.0.3")]);
    a2.next_hop = Some(v4("198.18.2.2"));
    let rib = race(&[ibgp(1, false), ibgp(2, false)], vec![(1, a1), (2, a2)]);
    assert_eq!(winner(&rib), 2);
    assert!(best(&rib, P).unwrap().reason.contains("CLUSTER_LIST"));
}

#[test]
fn lowest_peer_address_breaks_the_last_tie() {
    // Same BGP identifier (one router, two sessions): the peer address decides.
    let mut b = twin(ebgp(2, 65001), 2, "198.18.0.9");
    b.neg.peer_id = v4("198.19.9.9");
    let mut a = twin(ebgp(1, 65001), 1, "198.18.0.10");
    a.neg.peer_id = v4("198.19.9.9");
    let rib = race(
        &[a, b],
        vec![
            (1, attrs(&[65001], "198.18.1.2")),
            (2, attrs(&[65001], "198.18.2.2")),
        ],
    );
    assert_eq!(winner(&rib), 2);
    assert!(best(&rib, P)
        .unwrap()
        .reason
        .contains("peer address 198.18.0.9"));
}

fn ecmp_rib(multipath: usize) -> Rib {
    let mut rib = Rib::new(RibCfg { multipath, ..cfg() });
    up(
        &mut rib,
        &[
            ebgp(1, 65001),
            ebgp(2, 65002),
            ebgp(3, 65003),
            ebgp(4, 65004),
            ebgp(5, 65005),
        ],
    );
    rib.update(1, announce(attrs(&[65001, 65100], "198.18.1.2"), &[P]), &[]);
    rib.update(2, announce(attrs(&[65002, 65100], "198.18.2.2"), &[P]), &[]);
    rib.update(3, announce(attrs(&[65003, 65100], "198.18.3.2"), &[P]), &[]);
    // Same next hop as peer 1: no second entry.
    rib.update(4, announce(attrs(&[65004, 65100], "198.18.1.2"), &[P]), &[]);
    // Longer path: not a multipath candidate.
    rib.update(
        5,
        announce(attrs(&[65005, 65006, 65100], "198.18.5.2"), &[P]),
        &[],
    );
    rib
}

#[test]
fn ecmp_takes_equal_paths_with_distinct_next_hops() {
    let mut rib = ecmp_rib(8);
    let out = rib.flush();
    let want = FibKind::Unicast(vec![ip("198.18.1.2"), ip("198.18.2.2"), ip("198.18.3.2")].into());
    assert_eq!(
        out.fib,
        vec![FibChange::Upsert(FibRoute {
            prefix: p4(P),
            kind: want.clone()
        })]
    );
    assert_eq!(rib.fib()[0].kind, want);
    let multi: Vec<PeerId> = rib
        .explain(&p4(P))
        .iter()
        .filter(|v| v.multipath)
        .map(|v| v.peer)
        .collect();
    assert_eq!(multi, vec![1, 2, 3]);
    // The peer-1 path goes: the set shrinks to peer 4's copy of the same next hop.
    rib.update(1, withdraw(&[P]), &[]);
    let out = rib.flush();
    assert!(
        out.fib.is_empty(),
        "same next hops, no FIB change: {:?}",
        out.fib
    );
    assert_eq!(
        rib.fib()[0].kind,
        want,
        "next hops unchanged, path 4 took over 198.18.1.2"
    );
    // Exports still carry the best path only.
    let adv = rib.advertised(5);
    assert_eq!(adv.len(), 1);
}

#[test]
fn ecmp_limit_keeps_the_preferred_next_hops() {
    let mut rib = ecmp_rib(2);
    rib.flush();
    let want = FibKind::Unicast(vec![ip("198.18.1.2"), ip("198.18.2.2")].into());
    assert_eq!(rib.fib()[0].kind, want);
    let mut rib = ecmp_rib(1);
    rib.flush();
    assert_eq!(
        rib.fib()[0].kind,
        FibKind::Unicast(vec![ip("198.18.1.2")].into())
    );
    assert!(rib.explain(&p4(P)).iter().all(|v| !v.multipath));
}

#[test]
fn ineligible_paths_are_listed_last_with_why() {
    let rib = race(
        &[ebgp(1, 65001), ebgp(2, 65002)],
        vec![
            (1, attrs(&[65001, AS, 65009], "198.18.1.2")),
            (2, attrs(&[65002, 65003, 65004], "198.18.2.2")),
        ],
    );
    let v = rib.explain(&p4(P));
    assert_eq!(v[0].peer, 2);
    assert!(v[0].reason.contains("only eligible"), "{}", v[0].reason);
    assert!(
        v[1].reason.contains("our AS is in the AS_PATH"),
        "{}",
        v[1].reason
    );
    assert_eq!(rib.counts(1).accepted, 0);
    assert_eq!(rib.counts(1).received, 1);
}
