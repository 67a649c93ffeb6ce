//! Export rules: route reflection (RFC 4456), well-known communities (RFC 1997), import
//! checks, next-hop modes, RFC 8950, AS4, unknown attributes, filters.

use super::*;
use crate::wire::{MpReach, RawAttr};

const P: &str = "198.51.100.0/24";

/// Peers: 1, 2 RR clients; 3, 4 non-clients; 5 eBGP.
fn rr_rib() -> Rib {
    let mut rib = rib();
    let c1 = ibgp(1, true);
    let c2 = twin(c1.clone(), 2, "198.18.1.3");
    let n1 = ibgp(3, false);
    let n2 = twin(n1.clone(), 4, "198.18.3.3");
    up(&mut rib, &[c1, c2, n1, n2, ebgp(5, 65005)]);
    rib
}

fn receivers(out: &RibOutput) -> Vec<PeerId> {
    let mut v: Vec<PeerId> = (1..=5)
        .filter(|&p| !announced4(out, p).is_empty())
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn rr_from_non_client_goes_to_clients_and_ebgp_only() {
    let mut rib = rr_rib();
    rib.update(3, announce(attrs(&[], "198.18.3.2"), &[P]), &[]);
    assert_eq!(receivers(&rib.flush()), vec![1, 2, 5]);
}

#[test]
fn rr_from_client_goes_to_everyone_but_the_client() {
    let mut rib = rr_rib();
    rib.update(1, announce(attrs(&[], "198.18.1.2"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(receivers(&out), vec![2, 3, 4, 5]);
    let u = &routes(&out, 3)[0];
    // RFC 4456 §8: ORIGINATOR_ID is the client's BGP identifier, CLUSTER_LIST ours.
    assert_eq!(u.attrs.originator_id, Some(v4("198.19.1.2")));
    assert_eq!(u.attrs.cluster_list, Some(vec![RID]));
    assert_eq!(u.attrs.local_pref, Some(100));
    assert_eq!(
        u.attrs.next_hop,
        Some(v4("198.18.1.2")),
        "iBGP auto keeps the next hop"
    );
    // To eBGP the RR attributes are stripped.
    let e = &routes(&out, 5)[0];
    assert_eq!(
        (e.attrs.originator_id, e.attrs.cluster_list.clone()),
        (None, None)
    );
    assert_eq!(e.attrs.as_path, Some(AsPath::sequence(&[AS])));
}

#[test]
fn rr_from_ebgp_goes_to_all_ibgp() {
    let mut rib = rr_rib();
    rib.update(5, announce(attrs(&[65005], "198.18.5.2"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(receivers(&out), vec![1, 2, 3, 4]);
    let u = &routes(&out, 1)[0];
    assert_eq!(
        u.attrs.originator_id, None,
        "not reflected: no ORIGINATOR_ID"
    );
    assert_eq!(u.attrs.cluster_list, None);
}

#[test]
fn reflection_keeps_an_existing_originator_and_prepends_the_cluster() {
    let mut rib = rr_rib();
    let mut a = attrs(&[], "198.18.1.2");
    a.originator_id = Some(v4("198.19.77.7"));
    a.cluster_list = Some(vec![v4("10.9.9.9")]);
    rib.update(1, announce(a, &[P]), &[]);
    let out = rib.flush();
    let u = &routes(&out, 3)[0];
    assert_eq!(u.attrs.originator_id, Some(v4("198.19.77.7")));
    assert_eq!(u.attrs.cluster_list, Some(vec![RID, v4("10.9.9.9")]));
}

#[test]
fn a_reflected_route_is_not_sent_to_the_client_that_originated_it() {
    let mut rib = rr_rib();
    // Non-client 3 sends a route whose ORIGINATOR_ID is client 2's BGP identifier.
    let mut a = attrs(&[], "198.18.3.2");
    a.originator_id = Some(v4("198.19.100.2"));
    rib.update(3, announce(a, &[P]), &[]);
    let out = rib.flush();
    assert_eq!(receivers(&out), vec![1, 5]);
}

#[test]
fn ibgp_loops_by_originator_id_or_cluster_list_are_rejected() {
    let mut rib = rr_rib();
    let mut a = attrs(&[], "198.18.3.2");
    a.originator_id = Some(RID);
    rib.update(3, announce(a, &[P]), &[]);
    let mut b = attrs(&[], "198.18.4.2");
    b.cluster_list = Some(vec![v4("10.1.1.1"), RID]);
    rib.update(4, announce(b, &[P]), &[]);
    let out = rib.flush();
    assert!(out.sends.is_empty() && out.fib.is_empty());
    let v = rib.explain(&p4(P));
    assert!(v.iter().all(|v| !v.best));
    assert!(v
        .iter()
        .any(|v| v.reason.contains("ORIGINATOR_ID is our router ID")));
    assert!(v
        .iter()
        .any(|v| v.reason.contains("cluster ID is in the CLUSTER_LIST")));
}

#[test]
fn ebgp_originator_cluster_and_local_pref_are_dropped_on_import() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001)]);
    let mut a = attrs(&[65001], "198.18.1.2");
    a.originator_id = Some(RID);
    a.cluster_list = Some(vec![RID]);
    a.local_pref = Some(7);
    rib.update(1, announce(a, &[P]), &[]);
    rib.flush();
    let v = &rib.explain(&p4(P))[0];
    assert!(v.best, "no RR loop check for eBGP: the attributes are gone");
    assert_eq!(
        (
            v.attrs.originator_id,
            v.attrs.cluster_list.clone(),
            v.attrs.local_pref
        ),
        (None, None, None)
    );
}

#[test]
fn as_path_loop_withdraws_a_previous_path() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.flush();
    rib.update(1, announce(attrs(&[65001, AS], "198.18.1.2"), &[P]), &[]);
    let out = rib.flush();
    assert_eq!(withdrawn4(&out, 2), vec![P]);
    assert_eq!(out.fib, vec![FibChange::Remove(p4(P))]);
}

fn with_community(c: u32) -> Attrs {
    Attrs {
        communities: Some(vec![0xfde8_0001, c]),
        ..attrs(&[65005], "198.18.5.2")
    }
}

#[test]
fn well_known_communities_limit_the_export() {
    for (c, want) in [
        (0xFFFF_FF02, vec![]),              // NO_ADVERTISE: nobody
        (0xFFFF_FF01, vec![1, 2, 3, 4]),    // NO_EXPORT: no eBGP peer
        (0xFFFF_FF03, vec![1, 2, 3, 4]),    // NO_EXPORT_SUBCONFED: no eBGP peer
        (0xFFFF_FF04, vec![1, 2, 3, 4, 6]), // NOPEER: not interpreted
    ] {
        let mut rib = rr_rib();
        up(&mut rib, &[ebgp(6, 65006)]);
        rib.update(5, announce(with_community(c), &[P]), &[]);
        let out = rib.flush();
        let mut got: Vec<PeerId> = (1..=6)
            .filter(|&p| !announced4(&out, p).is_empty())
            .collect();
        got.sort_unstable();
        assert_eq!(got, want, "community {c:#x}");
    }
}

#[test]
fn import_and_export_filters() {
    let mut rib = rib();
    let mut quiet = ebgp(2, 65002);
    quiet.export = Filter::RejectAll;
    let mut deaf = ebgp(3, 65003);
    deaf.import = Filter::RejectAll;
    up(&mut rib, &[ebgp(1, 65001), quiet, deaf]);
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.update(
        3,
        announce(attrs(&[65003], "198.18.3.2"), &["203.0.113.0/24"]),
        &[],
    );
    let out = rib.flush();
    assert!(routes(&out, 2).is_empty());
    assert_eq!(announced4(&out, 3), vec![P]);
    assert!(
        announced4(&out, 1).is_empty(),
        "peer 3's route was not accepted"
    );
    let c = rib.counts(3);
    assert_eq!((c.received, c.accepted), (1, 0));
    assert_eq!(rib.fib().len(), 1);
}

#[test]
fn next_hop_modes() {
    let mut rib = rib();
    let mut ib_self = ibgp(2, false);
    ib_self.next_hop = NextHopMode::SelfAddr;
    let mut eb_keep = ebgp(3, 65003);
    eb_keep.next_hop = NextHopMode::Keep;
    up(
        &mut rib,
        &[ebgp(1, 65001), ib_self, eb_keep, ibgp(4, false)],
    );
    rib.update(1, announce(attrs(&[65001], "198.18.1.2"), &[P]), &[]);
    rib.originate(p4("192.0.2.0/24"), false);
    let out = rib.flush();
    let nh = |peer, prefix: &str| {
        routes(&out, peer)
            .into_iter()
            .find(|u| u.nlri.iter().any(|n| n.prefix.to_string() == prefix))
            .and_then(|u| u.attrs.next_hop)
    };
    assert_eq!(nh(2, P), Some(v4("198.18.2.1")), "iBGP self");
    assert_eq!(nh(4, P), Some(v4("198.18.1.2")), "iBGP auto keeps");
    assert_eq!(nh(3, P), Some(v4("198.18.1.2")), "eBGP keep");
    // Locally originated: always self, even with keep.
    for peer in [2, 3, 4] {
        assert_eq!(
            nh(peer, "192.0.2.0/24"),
            Some(v4(&format!("198.18.{peer}.1")))
        );
    }
}

#[test]
fn originated_routes_carry_our_attributes() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ibgp(2, false)]);
    rib.originate(p4("192.0.2.0/24"), false);
    let out = rib.flush();
    assert!(out.fib.is_empty(), "no FIB entry without blackhole");
    let e = &routes(&out, 1)[0];
    assert_eq!(e.attrs.as_path, Some(AsPath::sequence(&[AS])));
    assert_eq!(e.attrs.origin, Some(Origin::Igp));
    let i = &routes(&out, 2)[0];
    assert_eq!(i.attrs.as_path, Some(AsPath::default()));
    assert_eq!(i.attrs.local_pref, Some(100));
}

#[test]
fn ipv6_routes_use_mp_reach_with_self_and_link_local() {
    let mut rib = rib();
    let mut a = ebgp(1, 65001);
    a.remote = ip("2001:db8:1::2");
    a.local = ip("2001:db8:1::1");
    let mut b = ebgp(2, 65002);
    b.remote = ip("2001:db8:2::2");
    b.local = ip("2001:db8:2::1");
    b.link_local = Some("fe80::1".parse().unwrap());
    up(&mut rib, &[a, b]);
    let nh = NextHop::V6 {
        global: "2001:db8:1::2".parse().unwrap(),
        link_local: Some("fe80::2".parse().unwrap()),
    };
    rib.update(
        1,
        announce6(attrs(&[65001], "0.0.0.0"), nh, &["2001:db8:100::/48"]),
        &[],
    );
    let out = rib.flush();
    assert_eq!(
        out.fib,
        vec![FibChange::Upsert(FibRoute {
            prefix: p6("2001:db8:100::/48"),
            kind: FibKind::Unicast(vec![ip("2001:db8:1::2")].into()),
        })]
    );
    let u = &routes(&out, 2)[0];
    let r = u.mp_reach.as_ref().unwrap();
    assert_eq!(
        r.next_hop,
        NextHop::V6 {
            global: "2001:db8:2::1".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap())
        }
    );
    assert_eq!(u.attrs.next_hop, None);
}

#[test]
fn ipv4_over_an_ipv6_next_hop_rfc8950() {
    let mut rib = rib();
    let mut a = ebgp(1, 65001);
    a.remote = ip("2001:db8:1::2");
    a.local = ip("2001:db8:1::1");
    a.neg.ext_next_hop = vec![Family::IPV4_UNICAST];
    let mut b = ebgp(2, 65002);
    b.remote = ip("2001:db8:2::2");
    b.local = ip("2001:db8:2::1");
    b.neg.ext_next_hop = vec![Family::IPV4_UNICAST];
    let mut c = ebgp(3, 65003);
    c.remote = ip("2001:db8:3::2");
    c.local = ip("2001:db8:3::1");
    up(&mut rib, &[a, b, c]);
    let msg = UpdateMsg {
        attrs: Attrs {
            next_hop: None,
            ..attrs(&[65001], "0.0.0.0")
        },
        mp_reach: Some(MpReach {
            family: Family::IPV4_UNICAST,
            next_hop: NextHop::V6 {
                global: "2001:db8:1::2".parse().unwrap(),
                link_local: None,
            },
            nlri: MpNlri::V4(vec![Nlri4 {
                path_id: 0,
                prefix: P.parse().unwrap(),
            }]),
        }),
        ..UpdateMsg::default()
    };
    rib.update(1, msg, &[]);
    let out = rib.flush();
    assert_eq!(
        rib.fib()[0].kind,
        FibKind::Unicast(vec![ip("2001:db8:1::2")].into())
    );
    let u = &routes(&out, 2)[0];
    let r = u.mp_reach.as_ref().unwrap();
    assert_eq!(r.family, Family::IPV4_UNICAST);
    assert_eq!(
        r.next_hop,
        NextHop::V6 {
            global: "2001:db8:2::1".parse().unwrap(),
            link_local: None
        }
    );
    // Peer 3 has no IPv4 address and no RFC 8950: no usable next hop, nothing sent.
    assert!(routes(&out, 3).is_empty());
}

#[test]
fn old_speakers_get_as_trans_and_as4_path() {
    let mut rib = rib();
    let mut old = ebgp(2, 65002);
    old.neg.as4 = false;
    up(&mut rib, &[ebgp(1, 65001), old]);
    rib.update(
        1,
        announce(attrs(&[65001, 4_200_000_001], "198.18.1.2"), &[P]),
        &[],
    );
    let out = rib.flush();
    let ctx = Ctx {
        as4: false,
        ..Ctx::default()
    };
    let u = &sent(&out, 2, &ctx)[0];
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(&[AS, 65001, 23456])));
    assert_eq!(
        u.attrs.as4_path,
        Some(AsPath::sequence(&[AS, 65001, 4_200_000_001]))
    );
}

#[test]
fn unknown_attributes_transitive_pass_with_partial_non_transitive_dropped() {
    let mut rib = rib();
    up(&mut rib, &[ebgp(1, 65001), ebgp(2, 65002)]);
    let mut a = attrs(&[65001], "198.18.1.2");
    a.unknown = vec![
        RawAttr::new(0xc0, 99, vec![1, 2, 3]),
        RawAttr::new(0x80, 100, vec![4]),
    ];
    rib.update(1, announce(a, &[P]), &[]);
    let out = rib.flush();
    let u = &routes(&out, 2)[0];
    assert_eq!(u.attrs.unknown, vec![RawAttr::new(0xe0, 99, vec![1, 2, 3])]);
}

#[test]
fn med_is_kept_to_ibgp_and_dropped_to_ebgp() {
    let mut rib = rib();
    up(&mut rib, &[ibgp(1, true), ebgp(2, 65002), ibgp(3, false)]);
    let mut a = attrs(&[65010], "198.18.1.2");
    a.med = Some(33);
    rib.update(1, announce(a, &[P]), &[]);
    let out = rib.flush();
    assert_eq!(routes(&out, 3)[0].attrs.med, Some(33));
    assert_eq!(routes(&out, 2)[0].attrs.med, None);
}
