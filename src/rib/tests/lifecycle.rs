//! Sessions coming and going: graceful restart (RFC 4724), max_prefix (RFC 4486), route
//! refresh (RFC 2918, RFC 7313), RFC 7606 outcomes, families, originated blackholes.

use super::*;
use crate::wire::{Finding, NotificationMsg, RouteRefreshMsg, Treatment};

const P: &str = "198.51.100.0/24";
const Q: &str = "203.0.113.0/24";

fn two() -> Rib {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P, Q]), &[]);
    rib.flush();
    rib
}

#[test]
fn peer_down_withdraws_its_paths() {
    let mut rib = two();
    rib.peer_down(1, false);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec![P, Q]);
    assert_eq!(
        out.fib,
        vec![FibChange::Remove(p4(P)), FibChange::Remove(p4(Q))]
    );
    assert_eq!(rib.counts(1), PeerCounts::default());
    assert_eq!(rib.sizes(), (0, 0));
}

#[test]
fn graceful_restart_keeps_stale_paths_until_end_of_rib() {
    let mut rib = two();
    rib.peer_down(1, true);
    let out = rib.flush();
    assert!(out.sends.is_empty() && out.fib.is_empty(), "{out:?}");
    assert_eq!(rib.counts(1).stale, 2);
    assert!(rib.paths(Some(1)).iter().all(|v| v.stale && v.best));
    // The peer is back and re-sends P only; the End-of-RIB ends Q.
    rib.peer_up(ebgp(1, 65001));
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    let out = rib.flush();
    assert!(withdrawn4(&out, 2).is_empty());
    assert_eq!(rib.counts(1).stale, 1);
    rib.update(1, UpdateMsg::eor(Family::IPV4_UNICAST), &[]);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec![Q]);
    assert_eq!(out.fib, vec![FibChange::Remove(p4(Q))]);
    let c = rib.counts(1);
    assert_eq!((c.received, c.accepted, c.stale), (1, 1, 0));
}

#[test]
fn end_of_rib_of_another_family_leaves_stale_paths() {
    let mut rib = two();
    rib.peer_down(1, true);
    rib.peer_up(ebgp(1, 65001));
    rib.update(1, UpdateMsg::eor(Family::IPV6_UNICAST), &[]);
    rib.flush();
    assert_eq!(rib.counts(1).stale, 2);
}

#[test]
fn stale_expired_removes_the_stale_paths() {
    let mut rib = two();
    rib.peer_down(1, true);
    rib.flush();
    rib.stale_expired(1);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec![P, Q]);
    assert!(rib.paths(None).is_empty());
}

#[test]
fn max_prefix_stops_the_session_with_cease_1() {
    let mut rib = rib();
    let mut a = ebgp(1, 65001);
    a.max_prefix = Some(2);
    up(&mut rib, &[a, ebgp(2, 65002)]);
    rib.update(
        1,
        announce(attrs(&[65001], "198.18.1.2"), &[P, Q, "192.0.2.0/24"]),
        &[],
    );
    let out = rib.flush();
    let n = NotificationMsg::new(6, 1, vec![0, 1, 1, 0, 0, 0, 2]);
    assert_eq!(out.stop, vec![(1, n)]);
    assert_eq!(rib.counts(1).accepted, 2);
    assert_eq!(announced4(&out, 2), vec![P, Q]);
    // Further input is ignored until the session is down.
    rib.update(1, withdraw(&[P]), &[]);
    let out = rib.flush();
    assert!(out.sends.is_empty() && out.stop.is_empty());
    rib.peer_down(1, false);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec![P, Q]);
}

#[test]
fn replacing_a_path_does_not_count_against_max_prefix() {
    let mut rib = rib();
    let mut a = ebgp(1, 65001);
    a.max_prefix = Some(1);
    up(&mut rib, &[a]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.update(1, announce(attrs(&[65001, 65009], "198.18.1.2"), &[P]), &[]);
    assert!(rib.flush().stop.is_empty());
}

#[test]
fn route_refresh_resends_the_adj_rib_out() {
    let mut rib = two();
    rib.refresh(2, Family::IPV4_UNICAST);
    let out = rib.flush();
    assert_eq!(out.sends.len(), 1);
    assert_eq!(out.sends[0].peers, vec![2]);
    assert_eq!(announced4(&out, 2), vec![P, Q]);
    // Nothing for a family without routes, nothing to a peer that has nothing.
    rib.refresh(1, Family::IPV4_UNICAST);
    assert!(rib.flush().sends.is_empty());
}

#[test]
fn enhanced_route_refresh_wraps_in_borr_and_eorr() {
    let mut rib = rib();
    let mut b = ebgp(2, 65002);
    b.neg.enhanced_route_refresh = true;
    up(&mut rib, &[ebgp(1, 65001), b]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    rib.refresh(2, Family::IPV4_UNICAST);
    let out = rib.flush();
    let m = messages(&out.sends[0].bytes, &Ctx::default());
    assert_eq!(m.len(), 3);
    assert_eq!(
        m[0],
        Message::RouteRefresh(RouteRefreshMsg::borr(Family::IPV4_UNICAST))
    );
    assert!(matches!(&m[1], Message::Update(u) if u.nlri.len() == 1));
    assert_eq!(
        m[2],
        Message::RouteRefresh(RouteRefreshMsg::eorr(Family::IPV4_UNICAST))
    );
}

fn finding(t: Treatment, data: Vec<u8>) -> Finding {
    Finding::new(30, Some(14), t, NotificationMsg::new(3, 9, data), "test")
}

#[test]
fn treat_as_withdraw_withdraws_the_update_nlri() {
    let mut rib = two();
    let f = finding(Treatment::TreatAsWithdraw, vec![]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[f]);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec![P]);
    assert_eq!(rib.counts(1).received, 1);
}

#[test]
fn attribute_discard_keeps_the_route() {
    let mut rib = two();
    let f = finding(Treatment::AttributeDiscard, vec![]);
    rib.update(
        1,
        announce(attrs(&[65001, 65002], "198.18.1.2"), &[P]),
        &[f],
    );
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), vec![P]);
}

#[test]
fn afi_safi_disable_drops_the_family_from_the_peer() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    let nh = NextHop::V6 {
        global: "2001:db8:1::2".parse().unwrap(),
        link_local: None,
    };
    rib.update(
        1,
        announce6(
            attrs(&[65001], "0.0.0.0"),
            nh.clone(),
            &["2001:db8:100::/48"],
        ),
        &[],
    );
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    // MP_REACH_NLRI for IPv6 unicast could not be parsed: flags, type, length, AFI 2, SAFI 1.
    let f = finding(Treatment::AfiSafiDisable, vec![0x80, 14, 5, 0, 2, 1, 0, 0]);
    rib.update(1, UpdateMsg::default(), &[f]);
    rib.flush();
    assert!(rib.explain(&p6("2001:db8:100::/48")).is_empty());
    assert_eq!(rib.explain(&p4(P)).len(), 1, "IPv4 stays");
    // Further IPv6 routes from the peer are ignored.
    rib.update(
        1,
        announce6(attrs(&[65001], "0.0.0.0"), nh, &["2001:db8:200::/48"]),
        &[],
    );
    rib.flush();
    assert!(rib.explain(&p6("2001:db8:200::/48")).is_empty());
}

#[test]
fn families_not_negotiated_are_ignored() {
    let mut rib = rib();
    let mut a = ebgp(1, 65001);
    a.neg.families = vec![Family::IPV4_UNICAST];
    up(&mut rib, &[a]);
    let nh = NextHop::V6 {
        global: "2001:db8:1::2".parse().unwrap(),
        link_local: None,
    };
    rib.update(
        1,
        announce6(attrs(&[65001], "0.0.0.0"), nh, &["2001:db8:100::/48"]),
        &[],
    );
    rib.flush();
    assert_eq!(rib.counts(1).received, 0);
}

#[test]
fn updates_from_unknown_peers_are_ignored() {
    let mut rib = rib();
    rib.update(9, announce(attrs(&[65009], "198.18.9.2"), &[P]), &[]);
    assert_eq!(rib.flush(), RibOutput::default());
}

#[test]
fn blackhole_is_installed_before_the_export_and_removed_after_the_withdrawal() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001)]);
    rib.originate(p4("192.0.2.0/24"), true);
    let out = rib.flush();
    assert_eq!(
        out.fib,
        vec![FibChange::Upsert(FibRoute {
            prefix: p4("192.0.2.0/24"),
            kind: FibKind::Blackhole
        })]
    );
    assert_eq!(announced4(&out, 1), vec!["192.0.2.0/24"]);
    assert!(out.fib_after.is_empty());
    assert_eq!(rib.fib().len(), 1);
    rib.unoriginate(p4("192.0.2.0/24"));
    let out = rib.flush();
    assert!(out.fib.is_empty());
    assert_eq!(withdrawn4(&out, 1), vec!["192.0.2.0/24"]);
    assert_eq!(out.fib_after, vec![FibChange::Remove(p4("192.0.2.0/24"))]);
    assert!(rib.fib().is_empty());
}

#[test]
fn originate_twice_changes_only_the_blackhole() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001)]);
    rib.originate(p4("192.0.2.0/24"), false);
    rib.flush();
    rib.originate(p4("192.0.2.0/24"), true);
    let out = rib.flush();
    assert!(out.sends.is_empty());
    assert_eq!(out.fib.len(), 1);
    rib.originate(p4("192.0.2.0/24"), true);
    assert_eq!(rib.flush(), RibOutput::default());
}

#[test]
fn a_peer_route_for_an_originated_block_is_not_installed() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    rib.originate(p4(P), false);
    let out = rib.flush();
    assert_eq!(out.fib, vec![FibChange::Remove(p4(P))]);
    // Peer 1 now gets our route (it is no longer the source of the best).
    assert_eq!(announced4(&out, 1), vec![P]);
    let u = &routes(&out, 2)[0];
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(&[AS])));
}

#[test]
fn a_refresh_in_the_flush_that_brings_the_peer_up_sends_the_table_once() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    rib.peer_up(ebgp(2, 65002));
    rib.refresh(2, Family::IPV4_UNICAST);
    let out = rib.flush();
    assert_eq!(announced4(&out, 2), vec![P]);
}
