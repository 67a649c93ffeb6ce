//! Tests for UPDATE decoding/encoding and the RFC 7606 rules.

use super::*;
use crate::wire::attr::{AsPath, Origin};
use crate::wire::error::worst;
use crate::wire::{decode as decode_msg, encode_to_vec, Message, Prefix4, Prefix6};

// ===== helpers =====

pub(crate) fn attr(flags: u8, c: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![flags, c];
    if flags & flag::EXTENDED_LENGTH != 0 {
        o.extend_from_slice(&(v.len() as u16).to_be_bytes());
    } else {
        o.push(v.len() as u8);
    }
    o.extend_from_slice(v);
    o
}

pub(crate) fn msg(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut o = vec![0xff; 16];
    let len = 19 + 2 + withdrawn.len() + 2 + attrs.len() + nlri.len();
    o.extend_from_slice(&(len as u16).to_be_bytes());
    o.push(2);
    o.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    o.extend_from_slice(withdrawn);
    o.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    o.extend_from_slice(attrs);
    o.extend_from_slice(nlri);
    o
}

fn origin() -> Vec<u8> {
    attr(0x40, 1, &[0])
}
fn as_path4() -> Vec<u8> {
    attr(0x40, 2, &[2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea])
}
fn next_hop() -> Vec<u8> {
    attr(0x40, 3, &[198, 18, 0, 1])
}
fn base_attrs() -> Vec<u8> {
    [origin(), as_path4(), next_hop()].concat()
}
const NLRI: [u8; 4] = [24, 10, 0, 1];

fn ctx() -> Ctx {
    Ctx::default()
}

fn dec(buf: &[u8], ctx: &Ctx) -> Result<(UpdateMsg, Vec<Finding>), WireError> {
    match decode_msg(buf, ctx)? {
        (Message::Update(u), f) => Ok((u, f)),
        other => panic!("not an update: {other:?}"),
    }
}

fn roundtrip(buf: &[u8], ctx: &Ctx) -> UpdateMsg {
    let (u, f) = dec(buf, ctx).expect("decodes");
    assert!(f.is_empty(), "unexpected findings {f:?}");
    let again = encode_to_vec(&Message::Update(u.clone()), ctx).unwrap();
    assert_eq!(hex(&again), hex(buf), "re-encoding differs");
    u
}

fn hex(b: &[u8]) -> String {
    crate::wire::hex::encode(b)
}

/// One finding expected: (treatment, subcode, offset, attr type).
fn one_finding(buf: &[u8], ctx: &Ctx) -> (UpdateMsg, Finding) {
    let (u, f) = dec(buf, ctx).expect("decodes");
    assert_eq!(f.len(), 1, "findings: {f:?}");
    (u, f.into_iter().next().unwrap())
}

fn p4(s: &str) -> Nlri4 {
    Nlri4 {
        path_id: 0,
        prefix: s.parse::<Prefix4>().unwrap(),
    }
}
fn p6(s: &str) -> Nlri6 {
    Nlri6 {
        path_id: 0,
        prefix: s.parse::<Prefix6>().unwrap(),
    }
}

// ===== round trips =====

#[test]
fn classic_ipv4_update_round_trips() {
    let buf = msg(
        &[16, 10, 9],
        &base_attrs(),
        &[24, 10, 0, 1, 32, 10, 0, 0, 9, 0],
    );
    let u = roundtrip(&buf, &ctx());
    assert_eq!(u.withdrawn, vec![p4("10.9.0.0/16")]);
    assert_eq!(
        u.nlri,
        vec![p4("10.0.1.0/24"), p4("10.0.0.9/32"), p4("0.0.0.0/0")]
    );
    assert_eq!(u.attrs.origin, Some(Origin::Igp));
    assert_eq!(u.attrs.as_path, Some(AsPath::sequence(&[65001, 65002])));
    assert_eq!(u.attrs.next_hop, Some("198.18.0.1".parse().unwrap()));
    assert_eq!(u.layout, None);
    assert!(u.end_of_rib().is_none());
}

#[test]
fn every_attribute_round_trips() {
    let attrs = [
        origin(),
        as_path4(),
        next_hop(),
        attr(0x80, 4, &[0, 0, 0, 7]),
        attr(0x40, 5, &[0, 0, 0, 100]),
        attr(0x40, 6, &[]),
        attr(0xc0, 7, &[0, 0, 0xfd, 0xe9, 198, 18, 0, 9]),
        attr(0xc0, 8, &[0xfd, 0xe9, 0, 1, 0xff, 0xff, 0xff, 0x01]),
        attr(0x80, 9, &[198, 18, 0, 5]),
        attr(0x80, 10, &[1, 1, 1, 1, 2, 2, 2, 2]),
        attr(0xc0, 16, &[0, 2, 0xfd, 0xe9, 0, 0, 0, 1]),
        attr(0xc0, 32, &[0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2]),
        attr(0xc0, 35, &[0, 0, 0xfd, 0xe9]),
        attr(0xc0, 99, &[1, 2, 3]),
    ]
    .concat();
    let u = roundtrip(&msg(&[], &attrs, &NLRI), &ctx());
    let a = &u.attrs;
    assert_eq!(a.med, Some(7));
    assert_eq!(a.local_pref, Some(100));
    assert!(a.atomic_aggregate);
    assert_eq!(a.aggregator.unwrap().asn, 65001);
    assert_eq!(a.communities, Some(vec![0xfde9_0001, 0xffff_ff01]));
    assert_eq!(a.originator_id, Some("198.18.0.5".parse().unwrap()));
    assert_eq!(a.cluster_list.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        a.ext_communities,
        Some(vec![[0, 2, 0xfd, 0xe9, 0, 0, 0, 1]])
    );
    assert_eq!(a.large_communities, Some(vec![[65001, 1, 2]]));
    assert_eq!(a.otc, Some(65001));
    assert_eq!(a.unknown, vec![RawAttr::new(0xc0, 99, vec![1, 2, 3])]);
    assert_eq!(u.layout, None);
}

#[test]
fn two_octet_session_as_path_aggregator_and_as4_attributes() {
    let ctx = Ctx {
        as4: false,
        ..Ctx::default()
    };
    let attrs = [
        origin(),
        attr(0x40, 2, &[2, 2, 0xfd, 0xe9, 0x5b, 0xa0]), // 65001 23456
        next_hop(),
        attr(0xc0, 7, &[0x5b, 0xa0, 198, 18, 0, 9]),
        attr(0xc0, 17, &[2, 1, 0, 1, 0, 0]), // AS4_PATH 65536
        attr(0xc0, 18, &[0, 1, 0, 0, 198, 18, 0, 9]),
    ]
    .concat();
    let u = roundtrip(&msg(&[], &attrs, &NLRI), &ctx);
    assert_eq!(u.attrs.as4_path, Some(AsPath::sequence(&[65536])));
    assert_eq!(
        u.attrs.effective_as_path().unwrap().into_owned(),
        AsPath::sequence(&[65001, 65536])
    );
    assert_eq!(u.attrs.effective_aggregator().unwrap().asn, 65536);
}

#[test]
fn ipv6_mp_reach_with_link_local_and_extended_length_keeps_layout() {
    // FRR style: MP_REACH_NLRI first with Extended Length set although short.
    let mut mp = vec![0, 2, 1, 32];
    mp.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.push(0);
    mp.extend_from_slice(&[64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]);
    let attrs = [attr(0x90, 14, &mp), origin(), as_path4()].concat();
    let u = roundtrip(&msg(&[], &attrs, &[]), &ctx());
    let r = u.mp_reach.as_ref().unwrap();
    assert_eq!(r.family, Family::IPV6_UNICAST);
    assert_eq!(r.nlri, MpNlri::V6(vec![p6("2001:db8:1::/64")]));
    assert!(matches!(
        r.next_hop,
        NextHop::V6 {
            link_local: Some(_),
            ..
        }
    ));
    assert_eq!(u.layout, Some(vec![(14, 0x90), (1, 0x40), (2, 0x40)]));
}

#[test]
fn non_canonical_order_and_flags_round_trip() {
    // NEXT_HOP before ORIGIN, an unused low flag bit, and Partial on AGGREGATOR.
    let attrs = [
        next_hop(),
        attr(0x41, 1, &[2]),
        as_path4(),
        attr(0xe0, 7, &[0, 0, 0xfd, 0xe9, 198, 18, 0, 9]),
    ]
    .concat();
    let u = roundtrip(&msg(&[], &attrs, &NLRI), &ctx());
    assert_eq!(
        u.layout,
        Some(vec![(3, 0x40), (1, 0x41), (2, 0x40), (7, 0xe0)])
    );
    // Without the layout the encoder writes the canonical form.
    let canon = UpdateMsg { layout: None, ..u };
    let b = encode_to_vec(&Message::Update(canon), &ctx()).unwrap();
    let want = [
        attr(0x40, 1, &[2]),
        as_path4(),
        next_hop(),
        attr(0xc0, 7, &[0, 0, 0xfd, 0xe9, 198, 18, 0, 9]),
    ]
    .concat();
    assert_eq!(hex(&b), hex(&msg(&[], &want, &NLRI)));
}

#[test]
fn long_attribute_gets_extended_length_and_is_canonical() {
    let comms: Vec<u8> = (0..100u32).flat_map(|i| i.to_be_bytes()).collect();
    let attrs = [base_attrs(), attr(0xd0, 8, &comms)].concat();
    let u = roundtrip(&msg(&[], &attrs, &NLRI), &ctx());
    assert_eq!(u.layout, None);
    assert_eq!(u.attrs.communities.unwrap().len(), 100);
}

#[test]
fn ipv4_nlri_with_ipv6_next_hop_rfc8950() {
    let mut mp = vec![0, 1, 1, 16];
    mp.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.push(0);
    mp.extend_from_slice(&[26, 10, 65, 0, 64]);
    let attrs = [attr(0x80, 14, &mp), origin(), as_path4()].concat();
    let u = roundtrip(&msg(&[], &attrs, &[]), &ctx());
    let r = u.mp_reach.unwrap();
    assert_eq!(r.nlri, MpNlri::V4(vec![p4("10.65.0.64/26")]));
    assert!(matches!(
        r.next_hop,
        NextHop::V6 {
            link_local: None,
            ..
        }
    ));
}

#[test]
fn add_path_ids_round_trip() {
    let ctx = Ctx {
        add_path: vec![Family::IPV4_UNICAST],
        ..Ctx::default()
    };
    let nlri = [0, 0, 0, 7, 24, 10, 0, 1, 0, 0, 0, 8, 24, 10, 0, 1];
    let u = roundtrip(&msg(&[0, 0, 0, 9, 8, 10], &base_attrs(), &nlri), &ctx);
    assert_eq!(u.nlri[0].path_id, 7);
    assert_eq!(u.nlri[1].path_id, 8);
    assert_eq!(u.withdrawn[0].path_id, 9);
}

#[test]
fn unknown_family_is_kept_raw() {
    let mp = [
        0, 1, 128, 12, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1, 0, 1, 2, 3,
    ];
    let attrs = [attr(0x80, 14, &mp), origin(), as_path4()].concat();
    let u = roundtrip(&msg(&[], &attrs, &[]), &ctx());
    let r = u.mp_reach.unwrap();
    assert_eq!(r.family, Family::new(1, 128));
    assert_eq!(r.next_hop, NextHop::Raw(mp[4..16].to_vec()));
    assert_eq!(r.nlri, MpNlri::Raw(vec![1, 2, 3]));
}

// ===== End-of-RIB =====

#[test]
fn end_of_rib_markers() {
    let v4 = roundtrip(&msg(&[], &[], &[]), &ctx());
    assert_eq!(v4.end_of_rib(), Some(Family::IPV4_UNICAST));
    assert_eq!(v4, UpdateMsg::eor(Family::IPV4_UNICAST));
    let v6buf = msg(&[], &attr(0x80, 15, &[0, 2, 1]), &[]);
    let v6 = roundtrip(&v6buf, &ctx());
    assert_eq!(v6.end_of_rib(), Some(Family::IPV6_UNICAST));
    assert_eq!(v6, UpdateMsg::eor(Family::IPV6_UNICAST));
    let b = encode_to_vec(
        &Message::Update(UpdateMsg::eor(Family::IPV6_UNICAST)),
        &ctx(),
    )
    .unwrap();
    assert_eq!(b, v6buf);
    let not = roundtrip(&msg(&[8, 10], &[], &[]), &ctx());
    assert_eq!(not.end_of_rib(), None);
}

// ===== RFC 4271 §6.3 / RFC 7606 fatal errors =====

fn err(buf: &[u8], ctx: &Ctx) -> WireError {
    dec(buf, ctx).expect_err("must fail")
}

#[test]
fn lengths_too_large_are_malformed_attribute_list() {
    let mut b = msg(&[], &base_attrs(), &NLRI);
    b[19..21].copy_from_slice(&[0x10, 0]);
    let e = err(&b, &ctx());
    assert_eq!(
        (e.offset, e.notification.code, e.notification.subcode),
        (19, 3, 1)
    );
    let mut b = msg(&[], &base_attrs(), &NLRI);
    b[21..23].copy_from_slice(&[0x10, 0]);
    let e = err(&b, &ctx());
    assert_eq!((e.offset, e.notification.subcode), (21, 1));
}

#[test]
fn bad_nlri_and_withdrawn_are_invalid_network_field() {
    let e = err(
        &msg(&[], &base_attrs(), &[24, 10, 0, 1, 33, 1, 2, 3, 4, 5]),
        &ctx(),
    );
    let nlri_at = 23 + base_attrs().len();
    assert_eq!((e.offset, e.notification.subcode), (nlri_at + 4, 10));
    assert!(e.notification.data.is_empty());
    let e = err(&msg(&[], &base_attrs(), &[24, 10, 0]), &ctx());
    assert_eq!((e.offset, e.notification.subcode), (nlri_at, 10));
    let e = err(&msg(&[8, 10, 25, 1], &[], &[]), &ctx());
    assert_eq!((e.offset, e.notification.subcode), (23, 10));
}

#[test]
fn duplicate_mp_attribute_resets() {
    let un = attr(0x80, 15, &[0, 2, 1]);
    let b = msg(&[], &[un.clone(), un].concat(), &[]);
    let e = err(&b, &ctx());
    assert_eq!((e.offset, e.notification.subcode), (29, 1));
}

#[test]
fn mp_attributes_too_short_for_afi_safi_reset() {
    // RFC 7606 §7.11, §7.12: no AFI/SAFI to disable, so only a session reset is left.
    for a in [attr(0x80, 14, &[0, 2]), attr(0x80, 15, &[0, 2])] {
        let e = err(&msg(&[], &a, &[]), &ctx());
        assert_eq!((e.offset, e.notification.subcode), (23, 9), "{}", hex(&a));
        assert_eq!(e.notification.data, a);
    }
}

#[test]
fn unparseable_mp_attributes_disable_the_family() {
    // RFC 4760 §7, RFC 7606 §7.11, §7.12: AFI/SAFI disable, 3/9 with the attribute.
    let cases: Vec<Vec<u8>> = vec![
        attr(0x80, 14, &[0, 2, 1, 5, 1, 2, 3, 4, 5, 0]), // next hop length 5 for IPv6
        attr(0x80, 14, &[0, 2, 1, 16]),                  // next hop runs past the end
        attr(0x80, 14, &[0, 2, 1]),                      // no next-hop length
        attr(0x80, 15, &[0, 2, 1, 129, 0]),              // prefix length 129
        attr(0x80, 15, &[0, 1, 1, 24, 10]),              // prefix overruns
    ];
    for a in cases {
        let b = msg(&[], &[a.clone(), origin(), as_path4()].concat(), &[]);
        let (u, f) = one_finding(&b, &ctx());
        check(&f, Treatment::AfiSafiDisable, 9, 23, a[1]);
        assert_eq!(f.notification.data, a, "{}", hex(&a));
        assert!(u.mp_reach.is_none() && u.mp_unreach.is_none());
        let fam = Family::new(a[4] as u16, a[5]);
        assert_eq!(disabled_family(&f), Some(fam));
        assert_eq!(u.attrs.origin, Some(Origin::Igp));
        assert!(u.attrs.as_path.is_some());
    }
    // The rest of the UPDATE stays: here the IPv4 NLRI field and its attributes.
    let a = attr(0x80, 15, &[0, 2, 1, 129, 0]);
    let b = msg(&[], &[a, base_attrs()].concat(), &NLRI);
    let (u, f) = one_finding(&b, &ctx());
    assert_eq!(f.treatment, Treatment::AfiSafiDisable);
    assert_eq!(u.nlri, vec![p4("10.0.1.0/24")]);
    assert_eq!(u.attrs.next_hop, Some(Ipv4Addr::new(198, 18, 0, 1)));
}

#[test]
fn mp_reach_add_path_mismatch_disables_the_family() {
    // A path identifier the receiver did not negotiate makes the NLRI overrun (RFC 7911 §3).
    let mut mp = vec![0, 2, 1, 16];
    mp.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.extend_from_slice(&[0, 0, 0, 0, 1, 48, 0x20, 1, 0xd, 0xb8, 0, 1]);
    let a = attr(0x80, 14, &mp);
    let (u, f) = one_finding(&msg(&[], &[a.clone(), origin()].concat(), &[]), &ctx());
    check(&f, Treatment::AfiSafiDisable, 9, 23, 14);
    assert_eq!(disabled_family(&f), Some(Family::IPV6_UNICAST));
    // With Extended Length the family is found after the 2-octet length.
    let mut ext = f.clone();
    ext.notification.data = attr(0x90, 14, &mp);
    assert_eq!(disabled_family(&ext), Some(Family::IPV6_UNICAST));
    ext.treatment = Treatment::TreatAsWithdraw;
    assert_eq!(disabled_family(&ext), None);
    assert_eq!(f.notification.data, a);
    assert!(u.mp_reach.is_none());
}

#[test]
fn mp_attribute_with_wrong_flags_resets() {
    let a = attr(0xc0, 15, &[0, 2, 1]);
    let e = err(&msg(&[], &a, &[]), &ctx());
    assert_eq!(
        (
            e.offset,
            e.notification.subcode,
            e.notification.data.clone()
        ),
        (23, 4, a)
    );
}

#[test]
fn unrecognized_well_known_attribute_resets() {
    let a = attr(0x40, 200, &[1]);
    let e = err(
        &msg(&[], &[base_attrs(), a.clone()].concat(), &NLRI),
        &ctx(),
    );
    assert_eq!(
        (e.notification.subcode, e.notification.data.clone()),
        (2, a)
    );
    assert_eq!(e.offset, 23 + base_attrs().len());
}

#[test]
fn mp_attribute_overrunning_the_list_resets() {
    let mut a = attr(0x80, 14, &[0, 2, 1, 16]);
    a[2] = 40;
    let e = err(&msg(&[], &a, &[]), &ctx());
    assert_eq!((e.offset, e.notification.subcode), (23, 9));
}

// ===== RFC 7606 findings =====

fn check(f: &Finding, t: Treatment, sub: u8, at: usize, c: u8) {
    assert_eq!(f.treatment, t, "{f:?}");
    assert_eq!(f.notification.code, 3, "{f:?}");
    assert_eq!(f.notification.subcode, sub, "{f:?}");
    assert_eq!(f.offset, at, "{f:?}");
    assert_eq!(f.attr_type, Some(c), "{f:?}");
}

/// Base attributes plus `extra` (at offset 23 + base length), with NLRI.
fn with_extra(extra: &[u8]) -> (Vec<u8>, usize) {
    (
        msg(&[], &[base_attrs(), extra.to_vec()].concat(), &NLRI),
        23 + base_attrs().len(),
    )
}

#[test]
fn per_attribute_rules_rfc7606_section7() {
    use Treatment::{AttributeDiscard as D, TreatAsWithdraw as W};
    let cases: Vec<(Vec<u8>, Treatment, u8)> = vec![
        (attr(0x80, 4, &[0, 0, 7]), W, 5),                   // §7.4 MED
        (attr(0x40, 5, &[]), W, 5),                          // §7.5 LOCAL_PREF
        (attr(0x40, 6, &[1]), D, 5),                         // §7.6 ATOMIC_AGGREGATE
        (attr(0xc0, 7, &[0, 1, 198, 18, 0, 1]), D, 5),       // §7.7 AGGREGATOR (as4 wants 8)
        (attr(0xc0, 7, &[0, 0, 0, 0, 198, 18, 0, 1]), D, 9), // §7.7 + RFC 7607 §2: AS 0
        (attr(0xc0, 8, &[]), W, 5),                          // §7.8 COMMUNITIES zero length
        (attr(0xc0, 8, &[1, 2, 3, 4, 5]), W, 5),             // §7.8 not a multiple of 4
        (attr(0x80, 9, &[1, 2, 3]), W, 5),                   // §7.9 ORIGINATOR_ID
        (attr(0x80, 10, &[]), W, 5),                         // §7.10 CLUSTER_LIST
        (attr(0xc0, 16, &[0; 4]), W, 5),                     // §7.14 EXTENDED COMMUNITIES
        (attr(0xc0, 25, &[0; 21]), W, 5),                    // §7.15 IPv6 Address Specific EC
        (attr(0xc0, 25, &[]), W, 5),                         // §7.15 zero length
        (attr(0xc0, 32, &[0; 13]), W, 5),                    // RFC 8092 §6
        (attr(0xc0, 35, &[0; 2]), W, 5),                     // RFC 9234 §5 OTC
        (attr(0x40, 4, &[0, 0, 0, 7]), W, 4),                // §3 (c) MED marked well-known
        (attr(0x80, 7, &[0, 0, 0, 1, 198, 18, 0, 1]), W, 4), // AGGREGATOR non-transitive
        (attr(0xc0, 6, &[]), W, 4),                          // ATOMIC_AGGREGATE marked optional
        (attr(0xc0, 17, &[2, 1, 0, 1, 0, 0]), D, 9),         // RFC 6793 §4.1 on a 4-octet session
    ];
    for (a, t, sub) in cases {
        let (b, at) = with_extra(&a);
        let (u, f) = one_finding(&b, &ctx());
        check(&f, t, sub, at, a[1]);
        if sub != 1 {
            assert_eq!(f.notification.data, a, "data is the attribute");
        }
        assert!(!u.attrs.has(a[1]), "malformed attribute {} kept", a[1]);
        assert_eq!(u.nlri, vec![p4("10.0.1.0/24")], "NLRI still carried");
    }
}

#[test]
fn origin_as_path_next_hop_rules() {
    use Treatment::TreatAsWithdraw as W;
    let ap = as_path4();
    let nh = next_hop();
    let cases: Vec<(Vec<u8>, u8, bool)> = vec![
        (attr(0x40, 1, &[0, 0]), 5, true),
        (attr(0x40, 1, &[3]), 6, true),
        (attr(0xc0, 1, &[0]), 4, true),
        (attr(0x40, 2, &[2, 0]), 11, false), // zero segment length
        (attr(0x40, 2, &[5, 1, 0, 0, 0, 1]), 11, false), // unknown segment type
        (attr(0x40, 2, &[2, 2, 0, 0, 0, 1]), 11, false), // overrun
        (attr(0x40, 2, &[2, 1, 0, 0, 0, 1, 2]), 11, false), // one octet left
        (attr(0x40, 2, &[2, 1, 0, 0, 0, 0]), 11, false), // AS 0 (RFC 7607)
        (attr(0x40, 3, &[1, 2, 3, 4, 5]), 5, true),
        (attr(0x40, 3, &[0, 0, 0, 0]), 8, true),
        (attr(0x40, 3, &[224, 0, 0, 1]), 8, true),
    ];
    for (a, sub, data) in cases {
        let c = a[1];
        let rest: Vec<u8> = [origin(), ap.clone(), nh.clone()]
            .into_iter()
            .filter(|x| x[1] != c)
            .flatten()
            .collect();
        let b = msg(&[], &[a.clone(), rest].concat(), &NLRI);
        let (_, f) = one_finding(&b, &ctx());
        check(&f, W, sub, 23, c);
        assert_eq!(f.notification.data.is_empty(), !data, "{}", hex(&a));
    }
}

#[test]
fn next_hop_value_is_ignored_without_nlri_field() {
    let mut mp = vec![0, 2, 1, 16];
    mp.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    mp.extend_from_slice(&[32, 0x20, 1, 0xd, 0xb8]);
    let attrs = [
        attr(0x80, 14, &mp),
        origin(),
        as_path4(),
        attr(0x40, 3, &[0; 4]),
    ]
    .concat();
    let (_, f) = dec(&msg(&[], &attrs, &[]), &ctx()).unwrap();
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn duplicates_keep_the_first() {
    let (b, at) =
        with_extra(&[attr(0xc0, 8, &[0, 0, 0, 1]), attr(0xc0, 8, &[0, 0, 0, 2])].concat());
    let (u, f) = one_finding(&b, &ctx());
    check(&f, Treatment::AttributeDiscard, 1, at + 7, 8);
    assert_eq!(u.attrs.communities, Some(vec![1]));
}

#[test]
fn attribute_list_overrun_is_treat_as_withdraw() {
    // The last attribute claims more octets than the list has (RFC 7606 §4 first case).
    let mut a = attr(0xc0, 8, &[0, 0, 0, 1]);
    a[2] = 8;
    let (b, at) = with_extra(&a);
    let (u, f) = one_finding(&b, &ctx());
    // Malformed Attribute List with no data: a fault of the list, not of the type.
    check(&f, Treatment::TreatAsWithdraw, 1, at, 8);
    assert!(f.notification.data.is_empty());
    // The Total Path Attribute Length still locates the NLRI field.
    assert_eq!(u.nlri, vec![p4("10.0.1.0/24")]);
    // Two stray octets at the end (second case): Malformed Attribute List, and the type
    // octet is there, so it is reported.
    let (b, at) = with_extra(&[0x40, 9]);
    let (u, f) = one_finding(&b, &ctx());
    check(&f, Treatment::TreatAsWithdraw, 1, at, 9);
    assert_eq!(u.nlri, vec![p4("10.0.1.0/24")]);
    // Only the flags octet left: no type to report.
    let (b, _) = with_extra(&[0x40]);
    let (_, f) = one_finding(&b, &ctx());
    assert_eq!((f.notification.subcode, f.attr_type), (1, None));
    // Extended Length with three octets left: the type is there too.
    let (b, at) = with_extra(&[0xd0, 8, 0]);
    let (_, f) = one_finding(&b, &ctx());
    check(&f, Treatment::TreatAsWithdraw, 1, at, 8);
}

#[test]
fn treat_as_withdraw_without_reachable_nlri_resets() {
    // RFC 7606 §5.2: attributes, no NLRI field, no MP_REACH_NLRI.
    let med = attr(0x80, 4, &[0, 0, 5]);
    let b = msg(&[], &[origin(), as_path4(), med.clone()].concat(), &[]);
    let e = err(&b, &ctx());
    assert_eq!((e.offset, e.notification.subcode), (23 + 4 + 13, 5));
    assert_eq!(e.notification.data, med);
    // Withdrawn routes do not count as reachable NLRI.
    let b = msg(&[8, 10], &[base_attrs(), med.clone()].concat(), &[]);
    let e = err(&b, &ctx());
    assert_eq!(e.offset, 25 + base_attrs().len());
    // Nor does an MP_UNREACH_NLRI.
    let un = attr(0x80, 15, &[0, 2, 1]);
    let b = msg(&[], &[un, origin(), med.clone()].concat(), &[]);
    assert_eq!(err(&b, &ctx()).notification.subcode, 5);
    // A list overrun with no NLRI escalates too (3/1, offset of the overrunning attribute).
    let mut a = attr(0xc0, 8, &[0, 0, 0, 1]);
    a[2] = 8;
    let e = err(&msg(&[], &[origin(), a].concat(), &[]), &ctx());
    assert_eq!((e.offset, e.notification.subcode), (27, 1));
    // Attribute discard stays a discard.
    let b = msg(&[], &[origin(), attr(0x40, 6, &[1])].concat(), &[]);
    let (_, f) = one_finding(&b, &ctx());
    assert_eq!(f.treatment, Treatment::AttributeDiscard);
    // With NLRI in the NLRI field or in MP_REACH_NLRI the error stays treat-as-withdraw.
    let (b, _) = with_extra(&med);
    assert_eq!(
        one_finding(&b, &ctx()).1.treatment,
        Treatment::TreatAsWithdraw
    );
    let mp = [0, 1, 1, 4, 198, 18, 0, 1, 0, 24, 10, 0, 1];
    let b = msg(
        &[],
        &[attr(0x80, 14, &mp), origin(), as_path4(), med].concat(),
        &[],
    );
    assert_eq!(
        one_finding(&b, &ctx()).1.treatment,
        Treatment::TreatAsWithdraw
    );
}

#[test]
fn missing_mandatory_attributes() {
    let (u, f) = dec(&msg(&[], &[], &NLRI), &ctx()).unwrap();
    assert_eq!(f.len(), 3);
    for (x, c) in f.iter().zip([1u8, 2, 3]) {
        check(x, Treatment::TreatAsWithdraw, 3, 21, c);
        assert_eq!(x.notification.data, vec![c]);
    }
    assert_eq!(u.nlri.len(), 1);
    // Withdrawals only: attributes are irrelevant.
    let (_, f) = dec(&msg(&[8, 10], &[], &[]), &ctx()).unwrap();
    assert!(f.is_empty());
    // MP_REACH only: NEXT_HOP is not needed, ORIGIN is.
    let mp = [0, 1, 1, 4, 198, 18, 0, 1, 0, 24, 10, 0, 1];
    let (_, f) = dec(
        &msg(&[], &[attr(0x80, 14, &mp), as_path4()].concat(), &[]),
        &ctx(),
    )
    .unwrap();
    assert_eq!(f.len(), 1);
    check(&f[0], Treatment::TreatAsWithdraw, 3, 21, 1);
    // A malformed ORIGIN is not also reported missing.
    let attrs = [attr(0x40, 1, &[9]), as_path4(), next_hop()].concat();
    assert_eq!(dec(&msg(&[], &attrs, &NLRI), &ctx()).unwrap().1.len(), 1);
}

#[test]
fn the_worst_finding_decides() {
    let (b, _) = with_extra(&[attr(0x40, 6, &[1]), attr(0x80, 4, &[0])].concat());
    let (_, f) = dec(&b, &ctx()).unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(worst(&f), Some(Treatment::TreatAsWithdraw));
}

#[test]
fn malformed_as4_attributes_are_discarded_on_two_octet_sessions() {
    let ctx = Ctx {
        as4: false,
        ..Ctx::default()
    };
    let attrs = [
        origin(),
        attr(0x40, 2, &[2, 1, 0xfd, 0xe9]),
        next_hop(),
        attr(0xc0, 17, &[2, 0]),
        attr(0xc0, 18, &[0, 0]),
    ]
    .concat();
    let (u, f) = dec(&msg(&[], &attrs, &NLRI), &ctx).unwrap();
    assert_eq!(f.len(), 2);
    assert!(f.iter().all(|x| x.treatment == Treatment::AttributeDiscard));
    assert_eq!(
        (f[0].notification.subcode, f[1].notification.subcode),
        (9, 5)
    );
    assert!(u.attrs.as4_path.is_none() && u.attrs.as4_aggregator.is_none());
}

// ===== robustness =====

fn rich_update() -> Vec<u8> {
    let mut mp = vec![0, 2, 1, 32];
    mp.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    mp.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    mp.extend_from_slice(&[
        48, 0x20, 1, 0xd, 0xb8, 0, 1, 128, 0x20, 1, 0xd, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
        12,
    ]);
    let attrs = [
        attr(0x90, 14, &mp),
        attr(0x80, 15, &[0, 2, 1, 64, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 9]),
        origin(),
        attr(
            0x40,
            2,
            &[
                2, 2, 0, 0, 0xfd, 0xe9, 0, 0, 0xfd, 0xea, 1, 1, 0, 0, 0, 7, 3, 1, 0, 0, 0, 8,
            ],
        ),
        next_hop(),
        attr(0x80, 4, &[0, 0, 0, 7]),
        attr(0x40, 5, &[0, 0, 0, 100]),
        attr(0x40, 6, &[]),
        attr(0xc0, 7, &[0, 0, 0xfd, 0xe9, 198, 18, 0, 9]),
        attr(0xc0, 8, &[0xfd, 0xe9, 0, 1]),
        attr(0x80, 9, &[198, 18, 0, 5]),
        attr(0x80, 10, &[1, 1, 1, 1]),
        attr(0xc0, 16, &[0, 2, 0xfd, 0xe9, 0, 0, 0, 1]),
        attr(0xc0, 17, &[2, 1, 0, 1, 0, 0]),
        attr(0xc0, 18, &[0, 1, 0, 0, 198, 18, 0, 9]),
        attr(0xc0, 32, &[0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2]),
        attr(0xc0, 35, &[0, 0, 0xfd, 0xe9]),
        attr(0xe0, 99, &[1, 2, 3]),
    ]
    .concat();
    msg(
        &[16, 10, 9, 0],
        &attrs,
        &[24, 10, 0, 1, 32, 10, 0, 0, 9, 0, 17, 10, 1, 128],
    )
}

/// Decode must never panic; whatever decodes must re-encode and decode to the same value.
fn survive(buf: &[u8], ctx: &Ctx) {
    let Ok((Message::Update(u), _)) = decode_msg(buf, ctx) else {
        return;
    };
    let big = Ctx {
        ext_msg: true,
        ..ctx.clone()
    };
    let b = encode_to_vec(&Message::Update(u.clone()), &big).expect("re-encodes");
    match decode_msg(&b, &big) {
        Ok((Message::Update(again), _)) => assert_eq!(again, u, "unstable: {}", hex(buf)),
        other => panic!(
            "re-encoded message does not decode: {other:?} from {}",
            hex(buf)
        ),
    }
}

#[test]
fn truncations_and_bit_flips_never_panic() {
    let base = rich_update();
    let ctxs = [
        Ctx::default(),
        Ctx {
            as4: false,
            add_path: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            ext_msg: false,
        },
    ];
    for ctx in &ctxs {
        survive(&base, ctx);
        let body = &base[19..];
        for n in 0..body.len() {
            let _ = decode(&body[..n], ctx, 19);
            let mut t = base[..19 + n].to_vec();
            t[16..18].copy_from_slice(&((19 + n) as u16).to_be_bytes());
            survive(&t, ctx);
        }
        for i in 19..base.len() {
            for b in 0..8 {
                let mut t = base.clone();
                t[i] ^= 1 << b;
                survive(&t, ctx);
            }
        }
    }
}

#[test]
fn rich_update_round_trips_on_both_session_kinds() {
    let b = rich_update();
    let old = Ctx {
        as4: false,
        ..Ctx::default()
    };
    // The 4-octet AS_PATH is not a valid 2-octet one, so only the as4 session round-trips
    // without findings; the AS4_* attributes are discarded there (RFC 6793 §4.1).
    let (u, f) = dec(&b, &ctx()).unwrap();
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(u.attrs.as4_path.is_none());
    let (_, f) = dec(&b, &old).unwrap();
    let subs: Vec<(u8, u8)> = f
        .iter()
        .map(|x| (x.attr_type.unwrap(), x.notification.subcode))
        .collect();
    assert_eq!(subs, vec![(2, 11), (7, 5)]);
}
