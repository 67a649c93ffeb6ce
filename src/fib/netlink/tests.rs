//! Unit tests without a kernel: the encoder checked against netlink-packet-route's
//! parser, message splitting, next-hop resolution and the nexthop-group bookkeeping.
//! The kernel itself is exercised by tests/fib_netns.rs.

use std::hash::BuildHasher;
use std::net::IpAddr;

use super::decode::{Addr, KHop, KRoute, Link, Nexthop};
use super::encode::*;
use super::nh::{Nh, NhOp};
use super::sock::{for_each_msg, u16_at, u32_at, Hdr};
use super::topo::{Rule, Topo};
use crate::hash::{Fast, FastSet};
use crate::rib::Prefix;

fn pfx(s: &str) -> Prefix {
    if s.contains(':') {
        Prefix::V6(s.parse().unwrap())
    } else {
        Prefix::V4(s.parse().unwrap())
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn hop(gw: &str, oif: u32, onlink: bool) -> Hop {
    Hop {
        gw: ip(gw),
        oif,
        onlink,
    }
}

fn key(p: &str, table: u32) -> RouteKey {
    RouteKey {
        prefix: pfx(p),
        table,
        protocol: 186,
        metric: 1024,
    }
}

/// The messages of a batch: (header, payload).
fn messages(b: &mut Batch) -> Vec<(Hdr, Vec<u8>)> {
    let mut v = Vec::new();
    for_each_msg(b.seal(), &mut |h, p| v.push((*h, p.to_vec())));
    v
}

fn one_route(mode: Mode, k: &RouteKey, f: &Form) -> (Hdr, KRoute) {
    let mut b = Batch::new(7);
    assert_eq!(b.route(mode, k, f), 7);
    let m = messages(&mut b);
    assert_eq!(m.len(), 1);
    (m[0].0, KRoute::parse(&m[0].1).expect("parses"))
}

// ===== encoder against the parser =====

#[test]
fn route_single_hop_round_trips() {
    let k = key("198.19.1.0/24", 254);
    let f = Form::Hops(vec![hop("198.18.0.2", 3, true)]);
    let (h, r) = one_route(Mode::Replace, &k, &f);
    assert_eq!(h.ty, RTM_NEWROUTE);
    assert_eq!(
        h.flags,
        NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK
    );
    assert_eq!(h.seq, 7);
    assert_eq!(
        (r.prefix, r.table, r.protocol, r.metric),
        (k.prefix, 254, 186, 1024)
    );
    assert_eq!(r.kind, RTN_UNICAST);
    assert_eq!(r.form(), Some(f));
}

#[test]
fn route_multipath_v6_and_big_table_round_trip() {
    let k = key("2001:db8:9::/48", 1000);
    let f = Form::Hops(vec![
        hop("2001:db8::2", 2, false),
        hop("2001:db8::3", 4, true),
    ]);
    let (h, r) = one_route(Mode::Create, &k, &f);
    assert_eq!(
        h.flags,
        NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK
    );
    assert_eq!(r.table, 1000, "ids above 255 travel in RTA_TABLE");
    assert_eq!(r.form(), Some(f));
}

#[test]
fn route_ipv6_gateway_of_ipv4_prefix_uses_rta_via() {
    let k = key("198.19.30.0/24", 254);
    let f = Form::Hops(vec![hop("fe80::2", 5, false)]);
    let (_, r) = one_route(Mode::Create, &k, &f);
    assert_eq!(
        r.hops,
        vec![KHop {
            gw: Some(ip("fe80::2")),
            oif: 5,
            onlink: false
        }]
    );
}

#[test]
fn blackhole_and_nhid_round_trip() {
    let (_, r) = one_route(Mode::Create, &key("198.19.0.0/26", 254), &Form::Blackhole);
    assert_eq!((r.kind, r.form()), (RTN_BLACKHOLE, Some(Form::Blackhole)));
    let (_, r) = one_route(Mode::Replace, &key("198.19.0.0/26", 254), &Form::Nhid(77));
    assert_eq!(r.form(), Some(Form::Nhid(77)));
}

#[test]
fn delete_carries_our_protocol_and_any_type() {
    let mut b = Batch::new(1);
    b.del_route(&key("198.19.0.0/24", 254));
    let m = messages(&mut b);
    assert_eq!(m[0].0.ty, RTM_DELROUTE);
    let r = KRoute::parse(&m[0].1).unwrap();
    assert_eq!((r.protocol, r.kind, r.metric), (186, 0, 1024));
    assert_eq!(m[0].1[6], RT_SCOPE_NOWHERE);
}

#[test]
fn only_the_last_message_asks_for_an_ack() {
    let mut b = Batch::new(u32::MAX);
    for i in 0..3 {
        b.route(
            Mode::Create,
            &key(&format!("198.19.{i}.0/24"), 254),
            &Form::Blackhole,
        );
    }
    let m = messages(&mut b);
    let acks: Vec<bool> = m.iter().map(|(h, _)| h.flags & NLM_F_ACK != 0).collect();
    assert_eq!(acks, vec![false, false, true]);
    let seqs: Vec<u32> = m.iter().map(|(h, _)| h.seq).collect();
    assert_eq!(seqs, vec![u32::MAX, 0, 1], "sequence numbers wrap");
    assert_eq!((b.index_of(0), b.index_of(2)), (Some(1), None));
}

#[test]
fn nexthop_objects_round_trip() {
    let mut b = Batch::new(1);
    b.nexthop(10, 186, &hop("198.18.0.2", 3, true), false);
    b.group(11, 186, &[10, 12], true);
    b.del_nexthop(10);
    let m = messages(&mut b);
    assert_eq!(
        m.iter().map(|(h, _)| h.ty).collect::<Vec<_>>(),
        vec![RTM_NEWNEXTHOP, RTM_NEWNEXTHOP, RTM_DELNEXTHOP]
    );
    let n = Nexthop::parse(&m[0].1).unwrap();
    assert_eq!(
        (n.id, n.protocol, n.hop),
        (10, 186, Some(hop("198.18.0.2", 3, true)))
    );
    let g = Nexthop::parse(&m[1].1).unwrap();
    assert_eq!((g.id, g.group.clone(), g.hop), (11, vec![10, 12], None));
    assert_eq!(m[1].0.flags & NLM_F_REPLACE, NLM_F_REPLACE);
}

#[test]
fn dump_requests_are_well_formed() {
    let mut b = Batch::new(1);
    b.dump_routes(AF_INET6, 254, 186);
    b.dump(RTM_GETLINK, AF_UNSPEC, 16);
    let m = messages(&mut b);
    assert_eq!(m[0].0.flags & NLM_F_DUMP, NLM_F_DUMP);
    assert_eq!(&m[0].1[..8], &[AF_INET6, 0, 0, 0, 254, 186, 0, 0]);
    assert_eq!(m[1].1.len(), 16);
    assert_eq!(b.bytes().len() % 4, 0);
}

// ===== message splitting =====

#[test]
fn splitting_stops_at_a_bad_length_and_reads_out_of_range_as_zero() {
    let mut b = Batch::new(1);
    b.route(Mode::Create, &key("198.19.0.0/24", 254), &Form::Blackhole);
    b.route(Mode::Create, &key("198.19.1.0/24", 254), &Form::Blackhole);
    let mut buf = b.seal().to_vec();
    let first = u32_at(&buf, 0) as usize;
    buf[first..first + 4].copy_from_slice(&9999u32.to_ne_bytes());
    let mut n = 0;
    for_each_msg(&buf, &mut |_, _| n += 1);
    assert_eq!(n, 1);
    assert_eq!((u16_at(&buf, buf.len()), u32_at(&[1, 2], 0)), (0, 0));
    for_each_msg(&[0u8; 7], &mut |_, _| panic!("nothing in 7 bytes"));
}

// ===== next-hop resolution =====

fn topo() -> Topo {
    let mut t = Topo::default();
    for (index, name, up) in [
        (1, "lo", true),
        (2, "eth0", true),
        (3, "tunl0", true),
        (4, "eth1", false),
    ] {
        t.links.insert(
            index,
            Link {
                index,
                name: name.into(),
                up,
                lower_up: up,
                loopback: index == 1,
            },
        );
    }
    for (index, a, p) in [
        (2, "198.18.0.1", "198.18.0.0/24"),
        (2, "fe80::1", "fe80::/64"),
        (4, "198.18.9.1", "198.18.9.0/24"),
    ] {
        t.addrs.push(Addr {
            index,
            local: ip(a),
            subnet: pfx(p),
        });
    }
    t
}

fn foreign(p: &str, hops: Vec<KHop>) -> KRoute {
    KRoute {
        prefix: pfx(p),
        table: 254,
        protocol: 4,
        metric: 0,
        kind: RTN_UNICAST,
        nhid: None,
        hops,
    }
}

#[test]
fn resolution_order() {
    let mut t = topo();
    let rules = vec![Rule {
        prefix: pfx("10.0.0.0/8"),
        device: "tunl0".into(),
        cross_subnet_only: true,
    }];
    let r =
        |t: &Topo, p: &str, nh: &str| t.resolve(&rules, (ip(nh), Topo::rule_for(&rules, pfx(p))));
    // Device rule; CrossSubnet keeps a connected next hop direct.
    assert_eq!(
        r(&t, "10.1.0.0/26", "198.20.0.7"),
        vec![hop("198.20.0.7", 3, true)]
    );
    assert_eq!(
        r(&t, "10.1.0.0/26", "198.18.0.7"),
        vec![hop("198.18.0.7", 2, false)]
    );
    // A down link is no way out; our own address is no next hop.
    assert_eq!(r(&t, "198.19.0.0/24", "198.18.9.2"), vec![]);
    assert_eq!(r(&t, "198.19.0.0/24", "198.18.0.1"), vec![]);
    // Recursive: through a gateway route, and through a device route.
    let gw = KHop {
        gw: Some(ip("198.18.0.2")),
        oif: 2,
        onlink: false,
    };
    t.put_foreign(foreign("198.20.0.0/16", vec![gw]));
    t.put_foreign(foreign(
        "198.21.0.0/16",
        vec![KHop {
            gw: None,
            oif: 2,
            onlink: false,
        }],
    ));
    assert_eq!(
        r(&t, "198.19.0.0/24", "198.20.1.1"),
        vec![hop("198.18.0.2", 2, false)]
    );
    assert_eq!(
        r(&t, "198.19.0.0/24", "198.21.1.1"),
        vec![hop("198.21.1.1", 2, false)]
    );
    assert_eq!(r(&t, "198.19.0.0/24", "198.22.1.1"), vec![]);
    // The rule's device down: wait, do not fall back to the underlay.
    t.links.get_mut(&3).unwrap().up = false;
    assert_eq!(r(&t, "10.1.0.0/26", "198.20.0.7"), vec![]);
}

#[test]
fn link_local_next_hops() {
    let mut t = topo();
    let ll = |t: &Topo, nh: &str| t.resolve(&[], (ip(nh), None));
    assert_eq!(
        ll(&t, "fe80::9"),
        vec![hop("fe80::9", 2, false)],
        "the only IPv6 link"
    );
    t.links.get_mut(&4).unwrap().up = true;
    t.addrs.push(Addr {
        index: 4,
        local: ip("fe80::4"),
        subnet: pfx("fe80::/64"),
    });
    assert_eq!(ll(&t, "fe80::9"), vec![], "two links: ambiguous");
    assert_eq!(
        t.re_resolve(&[], (ip("fe80::9"), None), &[hop("fe80::9", 2, false)]),
        vec![hop("fe80::9", 2, false)],
        "keeps its device"
    );
    t.ll_neigh.insert("fe80::3".parse().unwrap(), vec![4]);
    assert_eq!(ll(&t, "fe80::3"), vec![hop("fe80::3", 4, false)]);
    t.ll_hints.insert("fe80::3".parse().unwrap(), "eth0".into());
    assert_eq!(
        ll(&t, "fe80::3"),
        vec![hop("fe80::3", 2, false)],
        "a hint wins"
    );
}

#[test]
fn foreign_routes_mark_their_key() {
    let mut t = topo();
    let r = foreign("198.19.0.0/24", vec![]);
    t.put_foreign(r.clone());
    assert!(t.occupied(pfx("198.19.0.0/24"), 254, 0));
    assert!(!t.occupied(pfx("198.19.0.0/24"), 254, 10));
    t.del_foreign(&r);
    assert!(!t.occupied(pfx("198.19.0.0/24"), 254, 0));
}

// ===== nexthop groups =====

#[test]
fn groups_are_shared_rewritten_and_collected() {
    let mut nh = Nh::default();
    nh.enabled = true;
    nh.create = true;
    let (a, b, c) = (
        hop("198.18.0.2", 2, false),
        hop("198.18.0.3", 2, false),
        hop("198.18.0.4", 2, false),
    );
    let mut pre = Vec::new();
    let g = nh.group_for(&[a, b], &mut pre);
    assert_eq!(pre.len(), 3, "two objects and the group: {pre:?}");
    assert_eq!(nh.group_for(&[a, b], &mut pre), g);
    assert_eq!(pre.len(), 3, "the same set shares the group");
    assert!(nh.same(&Form::Nhid(g), &Form::Hops(vec![a, b])));
    assert!(
        !nh.wants_group(pfx("2001:db8::/48"), &[a, b]),
        "IPv6 routes need IPv6 members"
    );
    pre.clear();
    assert!(nh.morph(g, &[a, c], &mut pre));
    assert!(
        matches!(pre.as_slice(), [NhOp::Hop(_, h), NhOp::Group(id, _, true)] if *h == c && *id == g)
    );
    assert!(nh.same(&Form::Nhid(g), &Form::Hops(vec![a, c])));
    let g2 = nh.group_for(&[b, c], &mut pre);
    assert!(!nh.morph(g2, &[a, c], &mut pre), "a set has one group");
    let dels = nh.unused(&[g].into_iter().collect::<FastSet<u32>>());
    assert_eq!(dels.len(), 2, "g2 and the object of b: {dels:?}");
}

#[test]
fn adopted_groups_keep_their_ids_and_new_ids_avoid_taken_ones() {
    let h = hop("198.18.0.2", 2, false);
    let h2 = hop("198.18.0.3", 2, false);
    let n = |id, protocol, hop, group: Vec<u32>| Nexthop {
        family: 0,
        id,
        protocol,
        hop,
        group,
        blackhole: false,
    };
    let mut nh = Nh::default();
    nh.enabled = true;
    nh.create = true;
    nh.adopt(
        vec![
            n(0x5752_0000, 186, Some(h), vec![]),
            n(0x5752_0001, 186, Some(h2), vec![]),
            n(0x5752_0002, 186, None, vec![0x5752_0001, 0x5752_0000]),
            n(0x5752_0003, 4, Some(hop("198.18.0.9", 2, false)), vec![]),
        ],
        186,
    );
    assert!(nh.same(&Form::Nhid(0x5752_0002), &Form::Hops(vec![h, h2])));
    let mut pre = Vec::new();
    nh.group_for(&[h, hop("198.18.0.4", 2, false)], &mut pre);
    let ids: Vec<u32> = pre
        .iter()
        .map(|o| match o {
            NhOp::Hop(id, _) | NhOp::Group(id, _, _) | NhOp::Del(id) | NhOp::Blackhole(id, _) => {
                *id
            }
        })
        .collect();
    assert_eq!(ids, vec![0x5752_0004, 0x5752_0005]);
}

#[test]
fn blackhole_objects_are_shared_adopted_and_collected() {
    let mut nh = Nh::default();
    nh.enabled = true;
    nh.blackholes = true;
    let bh = |id, family| Nexthop {
        id,
        family,
        protocol: 186,
        hop: None,
        group: Vec::new(),
        blackhole: true,
    };
    // A previous run's IPv6 object is adopted; IPv4 gets a new one, made once.
    nh.adopt(vec![bh(7, 10), bh(8, 2)], 12);
    nh.adopt(vec![bh(7, 10)], 186);
    let mut pre = Vec::new();
    let v4 = nh.blackhole_for(pfx("198.19.0.0/26"), &mut pre);
    assert_eq!(nh.blackhole_for(pfx("198.19.0.64/26"), &mut pre), v4);
    assert_eq!(nh.blackhole_for(pfx("2001:db8::/48"), &mut pre), 7);
    assert_eq!(pre, vec![NhOp::Blackhole(v4, 2)]);
    assert!(nh.same(&Form::Nhid(7), &Form::Blackhole));
    assert!(!nh.same(&Form::Nhid(8), &Form::Blackhole), "not ours");
    // Unused: deleted. Refused: plain blackholes from now on.
    let used: FastSet<u32> = [v4].into_iter().collect();
    assert_eq!(nh.unused(&used), vec![NhOp::Del(7)]);
    nh.refused(&NhOp::Blackhole(v4, 2));
    assert!(!nh.blackholes);
    assert!(!nh.same(&Form::Nhid(v4), &Form::Blackhole));
}

// ===== hashing =====

#[test]
fn fast_hash_spreads_prefixes_over_the_low_bits() {
    let buckets: FastSet<u64> = (0..4096u32)
        .map(|i| Fast::default().hash_one(pfx(&format!("10.{}.{}.0/24", i >> 8, i & 255))) & 4095)
        .collect();
    assert!(buckets.len() > 2500, "{} of 4096 buckets", buckets.len());
}
