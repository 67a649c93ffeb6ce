//! Best path, export to eBGP and iBGP, FIB deltas, counts and paths.

use super::*;

#[test]
fn ebgp_route_is_relayed_to_another_ebgp_peer_with_our_as_and_next_hop_self() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    let mut a = attrs(&[65001, 65010], "198.18.1.2");
    a.med = Some(50);
    a.local_pref = Some(300);
    rib.update(1, announce(a, &["198.51.100.0/24", "203.0.113.0/24"]), &[]);
    let out = rib.flush();
    let to2 = routes(&out, 2);
    assert_eq!(to2.len(), 1, "one UPDATE for both prefixes");
    let u = &to2[0];
    assert_eq!(u.nlri.len(), 2);
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(&[AS, 65001, 65010])));
    assert_eq!(u.attrs.next_hop, Some(v4("198.18.2.1")));
    assert_eq!(u.attrs.med, None, "MED from another AS is not passed on");
    assert_eq!(u.attrs.local_pref, None);
    assert!(routes(&out, 1).is_empty(), "never back to the source");
    assert_eq!(
        out.fib,
        vec![
            FibChange::Upsert(FibRoute {
                prefix: p4("198.51.100.0/24"),
                kind: FibKind::Unicast(vec![ip("198.18.1.2")].into()),
            }),
            FibChange::Upsert(FibRoute {
                prefix: p4("203.0.113.0/24"),
                kind: FibKind::Unicast(vec![ip("198.18.1.2")].into()),
            }),
        ]
    );
    let c = rib.counts(1);
    assert_eq!((c.received, c.accepted, c.advertised), (2, 2, 0));
    assert_eq!(rib.counts(2).advertised, 2);
}

#[test]
fn ebgp_route_goes_to_ibgp_with_local_pref_and_next_hop_unchanged() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ibgp(2, false)]);
    let mut a = attrs(&[65001], "198.18.1.2");
    a.med = Some(7);
    a.local_pref = Some(300);
    rib.update(1, announce(a, &["198.51.100.0/24"]), &[]);
    let out = rib.flush();
    let u = &routes(&out, 2)[0];
    assert_eq!(
        u.attrs.local_pref,
        Some(100),
        "eBGP LOCAL_PREF ignored, 100 sent"
    );
    assert_eq!(u.attrs.med, Some(7));
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(&[65001])));
    assert_eq!(u.attrs.next_hop, Some(v4("198.18.1.2")));
}

#[test]
fn withdraw_removes_route_from_peers_and_fib() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &["198.51.100.0/24"]),
        &[],
    );
    rib.flush();
    rib.update(1, withdraw(&["198.51.100.0/24"]), &[]);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec!["198.51.100.0/24"]);
    assert_eq!(out.fib, vec![FibChange::Remove(p4("198.51.100.0/24"))]);
    assert!(rib.fib().is_empty());
    assert_eq!(
        rib.sizes(),
        (0, 0),
        "no prefix or attribute set is left behind"
    );
}

#[test]
fn unchanged_reannouncement_sends_nothing_and_changes_no_fib() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    let a = attrs(&[65001], "198.18.1.2");
    rib.update(1, announce(a.clone(), &["198.51.100.0/24"]), &[]);
    rib.flush();
    rib.update(1, announce(a, &["198.51.100.0/24"]), &[]);
    let out = rib.flush();
    assert!(out.sends.is_empty() && out.fib.is_empty(), "{out:?}");
}

#[test]
fn peer_up_gets_full_table_then_end_of_rib() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &["198.51.100.0/24"]),
        &[],
    );
    rib.flush();
    rib.peer_up(ebgp(2, 65002));
    let out = rib.flush();
    let msgs = sent(&out, 2, &Ctx::default());
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert_eq!(msgs[0].nlri.len(), 1);
    assert_eq!(msgs[1].end_of_rib(), Some(Family::IPV4_UNICAST));
    assert_eq!(msgs[2].end_of_rib(), Some(Family::IPV6_UNICAST));
    assert!(sent(&out, 1, &Ctx::default()).is_empty());
}

#[test]
fn paths_and_counts_show_the_adj_rib_in() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &["198.51.100.0/24"]),
        &[],
    );
    rib.update(
        2,
        announce(attrs(&[65002, 65003], "198.18.2.2"), &["198.51.100.0/24"]),
        &[],
    );
    rib.flush();
    let all = rib.paths(None);
    assert_eq!(all.len(), 2);
    assert!(all[0].best && all[0].peer == 1);
    assert!(all[0].reason.contains("AS_PATH"), "{}", all[0].reason);
    assert!(
        !all[1].best && all[1].reason.contains("9.1.2.2 a"),
        "{}",
        all[1].reason
    );
    assert_eq!(rib.paths(Some(2)).len(), 1);
    assert_eq!(all[0].next_hop, Some(ip("198.18.1.2")));
    // Peer 2 has the route from 1; peer 1 has nothing (its own route is best).
    assert_eq!(rib.counts(2).advertised, 1);
    assert_eq!(rib.counts(1).advertised, 0);
    let adv = rib.advertised(2);
    assert_eq!(adv.len(), 1);
    assert_eq!(adv[0].attrs.as_path, Some(AsPath::sequence(&[AS, 65001])));
}

/// 500k prefixes cost 500k dests: keep them small (this is most of the RIB's memory).
#[test]
fn hot_structs_stay_small() {
    use super::super::table::{Dest, OutEntry, Path};
    assert!(std::mem::size_of::<Option<Dest>>() <= 64);
    assert!(std::mem::size_of::<Path>() <= 20);
    assert!(std::mem::size_of::<OutEntry>() <= 16);
    // The key of every prefix-keyed table outside the RIB (the FIB adapter holds three):
    // 48 bytes while the IPv6 address was a u128.
    assert!(std::mem::size_of::<crate::rib::Prefix>() <= 20);
}

#[test]
fn the_rib_can_move_to_the_speaker_task() {
    fn send<T: Send + 'static>(_: &T) -> bool {
        true
    }
    assert!(send(&rib()));
}

/// A burst of 70 000 prefixes: every one is sent once, the prefix index finds each after
/// it grew several times, and withdrawing them all frees every dest.
#[test]
fn a_burst_of_70k_prefixes_is_sent_whole_and_then_freed() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    let n = 70_000u32;
    let names: Vec<String> = (0..n)
        .map(|i| format!("{}.{}.{}.0/24", 10 + (i >> 16), (i >> 8) & 255, i & 255))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    for part in refs.chunks(1000) {
        rib.update(1, announce(attrs(&[65001], "198.18.1.2"), part), &[]);
    }
    let out = rib.flush();
    let mut got = announced4(&out, 2);
    got.sort();
    let mut want = names.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(rib.counts(2).advertised, n as u64);
    assert!(best(&rib, "10.17.3.0/24").is_some());
    for part in refs.chunks(1000) {
        rib.update(1, withdraw(part), &[]);
    }
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2).len(), n as usize);
    assert_eq!(rib.counts(2).advertised, 0);
    assert!(best(&rib, "10.17.3.0/24").is_none());
    assert_eq!(rib.table.len(), 0, "every dest freed");
}
