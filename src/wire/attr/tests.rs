//! Attribute-level tests: AS4 merge (RFC 6793 §4.2.3), encoders, raw attributes.

use super::*;
use crate::wire::update::tests::{attr, msg};
use crate::wire::{decode, encode_to_vec, Message, UpdateMsg};

fn seg(kind: SegmentKind, asns: &[u32]) -> AsSegment {
    AsSegment {
        kind,
        asns: asns.to_vec(),
    }
}

fn path(segs: Vec<AsSegment>) -> AsPath {
    AsPath { segments: segs }
}

fn merged(as_path: AsPath, as4: Option<AsPath>) -> AsPath {
    let a = Attrs {
        as_path: Some(as_path),
        as4_path: as4,
        ..Attrs::default()
    };
    a.effective_as_path().unwrap().into_owned()
}

use SegmentKind::{ConfedSequence, Sequence, Set};

#[test]
fn as4_merge_replaces_as_trans_tail() {
    // AS_PATH: 65001 23456 23456 ; AS4_PATH: 131072 131073
    let p = merged(
        AsPath::sequence(&[65001, AS_TRANS, AS_TRANS]),
        Some(AsPath::sequence(&[131072, 131073])),
    );
    assert_eq!(p, AsPath::sequence(&[65001, 131072, 131073]));
}

#[test]
fn as4_merge_ignores_longer_as4_path() {
    let p = merged(
        AsPath::sequence(&[AS_TRANS]),
        Some(AsPath::sequence(&[131072, 131073])),
    );
    assert_eq!(p, AsPath::sequence(&[AS_TRANS]));
}

#[test]
fn as4_merge_counts_sets_as_one_and_keeps_leading_confed_segments() {
    let as_path = path(vec![
        seg(ConfedSequence, &[64512]),
        seg(Sequence, &[65001, AS_TRANS]),
        seg(Set, &[AS_TRANS, 65003]),
    ]);
    // AS_PATH counts 3, AS4_PATH counts 2 (its confed segment is dropped, RFC 6793 §6).
    let as4 = path(vec![
        seg(ConfedSequence, &[1]),
        seg(Sequence, &[131072]),
        seg(Set, &[131073, 65003]),
    ]);
    let p = merged(as_path, Some(as4));
    assert_eq!(
        p,
        path(vec![
            seg(ConfedSequence, &[64512]),
            seg(Sequence, &[65001, 131072]),
            seg(Set, &[131073, 65003]),
        ])
    );
}

#[test]
fn as4_merge_is_skipped_when_aggregator_is_not_as_trans() {
    let a = Attrs {
        as_path: Some(AsPath::sequence(&[65001, AS_TRANS])),
        as4_path: Some(AsPath::sequence(&[131072])),
        aggregator: Some(Aggregator {
            asn: 65009,
            address: [198, 18, 0, 1].into(),
        }),
        as4_aggregator: Some(Aggregator {
            asn: 131079,
            address: [198, 18, 0, 2].into(),
        }),
        ..Attrs::default()
    };
    assert_eq!(
        a.effective_as_path().unwrap().into_owned(),
        AsPath::sequence(&[65001, AS_TRANS])
    );
    assert_eq!(a.effective_aggregator().unwrap().asn, 65009);
    let b = Attrs {
        aggregator: Some(Aggregator {
            asn: AS_TRANS,
            address: [198, 18, 0, 1].into(),
        }),
        ..a
    };
    assert_eq!(
        b.effective_as_path().unwrap().into_owned(),
        AsPath::sequence(&[65001, 131072])
    );
    assert_eq!(b.effective_aggregator().unwrap().asn, 131079);
    // Without AS4_PATH the path is borrowed as is.
    let c = Attrs {
        as_path: Some(AsPath::sequence(&[1])),
        ..Attrs::default()
    };
    assert!(matches!(
        c.effective_as_path(),
        Some(std::borrow::Cow::Borrowed(_))
    ));
    assert!(Attrs::default().effective_as_path().is_none());
}

#[test]
fn for_old_speaker_builds_as4_attributes_and_encodes_as_trans() {
    let a = Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(path(vec![
            seg(ConfedSequence, &[64512]),
            seg(Sequence, &[131072, 65001]),
        ])),
        aggregator: Some(Aggregator {
            asn: 131072,
            address: [198, 18, 0, 1].into(),
        }),
        ..Attrs::default()
    };
    let old = a.for_old_speaker();
    assert_eq!(old.as4_path, Some(AsPath::sequence(&[131072, 65001])));
    assert_eq!(old.as4_aggregator.unwrap().asn, 131072);
    let ctx = Ctx {
        as4: false,
        ..Ctx::default()
    };
    let mut out = Vec::new();
    old.encode_all(&ctx, &mut out).unwrap();
    let want = [
        attr(0x40, 1, &[0]),
        attr(0x40, 2, &[3, 1, 0xfc, 0x00, 2, 2, 0x5b, 0xa0, 0xfd, 0xe9]),
        attr(0xc0, 7, &[0x5b, 0xa0, 198, 18, 0, 1]),
        attr(0xc0, 17, &[2, 2, 0, 2, 0, 0, 0, 0, 0xfd, 0xe9]),
        attr(0xc0, 18, &[0, 2, 0, 0, 198, 18, 0, 1]),
    ]
    .concat();
    assert_eq!(out, want);
    // A 4-octet session never carries AS4_* (RFC 6793 §4.1).
    let mut out4 = Vec::new();
    old.encode_all(&Ctx::default(), &mut out4).unwrap();
    assert!(!out4.windows(2).any(|w| w == [0xc0, 17]));
    // Nothing above 65535: no AS4_* at all.
    let small = Attrs {
        as_path: Some(AsPath::sequence(&[65001])),
        ..Attrs::default()
    }
    .for_old_speaker();
    assert!(small.as4_path.is_none() && small.as4_aggregator.is_none());
}

#[test]
fn long_segments_are_split_on_encode() {
    let asns: Vec<u32> = (1..=300).collect();
    let mut out = Vec::new();
    AsPath::sequence(&asns).encode(true, &mut out);
    assert_eq!(out.len(), 2 + 255 * 4 + 2 + 45 * 4);
    assert_eq!((out[0], out[1]), (2, 255));
    let back = AsPath::decode(&out, true, code::AS_PATH).unwrap();
    assert_eq!(back.path_len(), 300);
}

#[test]
fn raw_attributes_for_readvertise() {
    let t = RawAttr::new(0xd0, 99, vec![1]);
    assert_eq!(
        t.flags, 0xc0,
        "Extended Length is not part of the attribute"
    );
    assert_eq!(t.for_readvertise().unwrap().flags, 0xe0);
    assert!(RawAttr::new(0x80, 98, vec![]).for_readvertise().is_none());
}

#[test]
fn unknown_attributes_encode_in_type_order_with_known_ones() {
    let a = Attrs {
        origin: Some(Origin::Egp),
        med: Some(5),
        unknown: vec![
            RawAttr::new(0xc0, 40, vec![9]),
            RawAttr::new(0xc0, 3, vec![7]),
        ],
        ..Attrs::default()
    };
    let mut out = Vec::new();
    a.encode_all(&Ctx::default(), &mut out).unwrap();
    let want = [
        attr(0x40, 1, &[1]),
        attr(0xc0, 3, &[7]),
        attr(0x80, 4, &[0, 0, 0, 5]),
        attr(0xc0, 40, &[9]),
    ]
    .concat();
    assert_eq!(out, want);
}

#[test]
fn emit_widens_the_length_when_needed() {
    let mut out = Vec::new();
    emit(&mut out, 0xc0, 8, |o| o.extend_from_slice(&[0; 300])).unwrap();
    assert_eq!(&out[..4], &[0xd0, 8, 1, 44]);
    assert_eq!(out.len(), 304);
    let mut out = Vec::new();
    emit(&mut out, 0x50, 1, |o| o.push(0)).unwrap();
    assert_eq!(out, vec![0x50, 1, 0, 1, 0]);
    assert!(emit(&mut Vec::new(), 0xc0, 8, |o| o
        .extend_from_slice(&vec![0; 70000]))
    .is_err());
}

#[test]
fn aggregator_length_follows_the_session() {
    let ctx2 = Ctx {
        as4: false,
        ..Ctx::default()
    };
    let a6 = attr(0xc0, 7, &[0xfd, 0xe9, 198, 18, 0, 1]);
    let base = [
        attr(0x40, 1, &[0]),
        attr(0x40, 2, &[]),
        attr(0x40, 3, &[198, 18, 0, 1]),
    ]
    .concat();
    let buf = msg(&[], &[base.clone(), a6].concat(), &[8, 10]);
    let (m, f) = decode(&buf, &ctx2).unwrap();
    assert!(f.is_empty());
    let Message::Update(u) = m else { panic!() };
    assert_eq!(u.attrs.aggregator.unwrap().asn, 65001);
    assert_eq!(encode_to_vec(&Message::Update(u), &ctx2).unwrap(), buf);
    let (_, f) = decode(&buf, &Ctx::default()).unwrap();
    assert_eq!(f.len(), 1);
    let _ = UpdateMsg::default();
}

#[test]
fn large_communities_duplicates_are_removed_keeping_the_first() {
    // RFC 8092 §2: silently removed, first occurrence kept, order preserved.
    let lc = |a: u32, b: u32, c: u32| [a.to_be_bytes(), b.to_be_bytes(), c.to_be_bytes()].concat();
    let v = [
        lc(1, 1, 1),
        lc(2, 2, 2),
        lc(1, 1, 1),
        lc(3, 3, 3),
        lc(2, 2, 2),
    ]
    .concat();
    let got = communities::decode_large(&v).unwrap();
    assert_eq!(got, vec![[1, 1, 1], [2, 2, 2], [3, 3, 3]]);
    // A long list takes the set path: same result.
    let mut v = Vec::new();
    for i in 0..100u32 {
        v.extend_from_slice(&lc(65001, i % 40, 0));
    }
    let got = communities::decode_large(&v).unwrap();
    let want: Vec<[u32; 3]> = (0..40).map(|i| [65001, i, 0]).collect();
    assert_eq!(got, want);
    assert!(communities::decode_large(&v[..13]).is_err());
}

#[test]
fn ipv6_address_specific_ext_community_is_kept_raw_when_well_formed() {
    let v = [0u8; 40];
    assert!(communities::check_ipv6_ext(&v).is_ok());
    assert!(communities::check_ipv6_ext(&v[..20]).is_ok());
    for n in [0, 19, 21] {
        let m = communities::check_ipv6_ext(&v[..n]).unwrap_err();
        assert_eq!(
            m.subcode,
            crate::wire::error::update_sub::ATTRIBUTE_LENGTH_ERROR
        );
        assert!(m.with_data);
    }
}

#[test]
fn aggregator_and_as4_aggregator_with_as_zero_are_discarded() {
    // RFC 7607 §2: malformed; RFC 7606 §7.7 / RFC 6793 §6: attribute discard.
    let sub = crate::wire::error::update_sub::OPTIONAL_ATTRIBUTE_ERROR;
    let m = Aggregator::decode(&[0, 0, 0, 0, 198, 18, 0, 1], true, code::AGGREGATOR).unwrap_err();
    assert_eq!((m.subcode, m.with_data), (sub, true));
    let m = Aggregator::decode(&[0, 0, 198, 18, 0, 1], false, code::AGGREGATOR).unwrap_err();
    assert_eq!(m.subcode, sub);
    let ctx2 = Ctx {
        as4: false,
        ..Ctx::default()
    };
    let base = [
        attr(0x40, 1, &[0]),
        attr(0x40, 2, &[2, 1, 0x5b, 0xa0]),
        attr(0x40, 3, &[198, 18, 0, 1]),
        attr(0xc0, 7, &[0x5b, 0xa0, 198, 18, 0, 1]),
    ]
    .concat();
    let a4 = attr(0xc0, 18, &[0, 0, 0, 0, 198, 18, 0, 1]);
    let (m, f) = decode(&msg(&[], &[base, a4.clone()].concat(), &[8, 10]), &ctx2).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].treatment,
        crate::wire::error::Treatment::AttributeDiscard
    );
    assert_eq!(
        (f[0].attr_type, f[0].notification.data.clone()),
        (Some(18), a4)
    );
    let Message::Update(u) = m else { panic!() };
    assert!(u.attrs.as4_aggregator.is_none());
    assert_eq!(u.attrs.aggregator.unwrap().asn, AS_TRANS);
}
