//! Codec benchmarks: decode and encode of full UPDATEs and of a typical attribute set.
//!
//! `cargo bench --bench codec` (about 30 s). Throughput is in prefixes, so criterion
//! prints elem/s. The messages are built by the encoder when it works, otherwise by hand
//! here, so decode can be measured on its own. A bench whose operation fails on its
//! input is skipped with a message on stderr, never silently.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wren::wire::{
    self, AsPath, AsSegment, Attrs, Ctx, Message, MpNlri, MpReach, NextHop, Nlri4, Nlri6, Origin,
    Prefix4, Prefix6, SegmentKind, UpdateMsg,
};

/// A message to measure: its typed form, its bytes and how many prefixes it carries.
struct Case {
    name: &'static str,
    msg: Message,
    bytes: Vec<u8>,
    prefixes: u64,
}

// ===== benches =====

fn codec(c: &mut Criterion) {
    let ctx = Ctx::default();
    for case in [ipv4_full(&ctx), ipv6_mp_reach(&ctx), typical_attrs(&ctx)] {
        let mut g = c.benchmark_group(case.name);
        g.throughput(Throughput::Elements(case.prefixes));
        match wire::decode(&case.bytes, &ctx) {
            Ok(_) => {
                g.bench_function("decode", |b| {
                    b.iter(|| wire::decode(black_box(&case.bytes), &ctx))
                });
            }
            Err(e) => eprintln!("SKIPPED {}/decode: the decoder fails on it: {e}", case.name),
        }
        match wire::encode_to_vec(&case.msg, &ctx) {
            Ok(_) => {
                let mut out = Vec::with_capacity(wire::MAX_MSG_LEN);
                g.bench_function("encode", |b| {
                    b.iter(|| {
                        out.clear();
                        wire::encode(black_box(&case.msg), &ctx, &mut out)
                    })
                });
            }
            Err(e) => eprintln!("SKIPPED {}/encode: the encoder fails on it: {e}", case.name),
        }
        g.finish();
    }
    framing(c, &ctx);
}

/// Cutting a stream of 100 KEEPALIVEs into messages with `frame_len`.
fn framing(c: &mut Criterion, ctx: &Ctx) {
    let one = [[0xff; 16].as_slice(), &[0, 19, 4]].concat();
    let stream = one.repeat(100);
    let mut g = c.benchmark_group("frame_len");
    g.throughput(Throughput::Elements(100));
    g.bench_function("100 keepalives", |b| {
        b.iter(|| {
            let mut rest = black_box(&stream[..]);
            while let Ok(Some(n)) = wire::frame_len(rest, ctx) {
                rest = &rest[n..];
            }
            rest.len()
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = codec }
criterion_main!(benches);

// ===== cases =====

/// A 4096-byte UPDATE: ORIGIN, AS_PATH, NEXT_HOP and as many IPv4 /24s as fit (1013).
fn ipv4_full(ctx: &Ctx) -> Case {
    let attrs = Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(sequence(&[64512])),
        next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
        ..Attrs::default()
    };
    // 4096 - header 19 - two length fields 4 - attributes 20 = 4053 bytes of 4-byte NLRI.
    let nlri: Vec<Nlri4> = (0..4053 / 4)
        .map(|i| nlri4(0x0a00_0000 | (i << 8), 24))
        .collect();
    let mut a = vec![0x40, 1, 1, 0];
    a.extend_from_slice(&[0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x00]);
    a.extend_from_slice(&[0x40, 3, 4, 198, 18, 0, 1]);
    let mut field = Vec::new();
    for n in &nlri {
        field.push(24);
        field.extend_from_slice(&n.prefix.addr().octets()[..3]);
    }
    let prefixes = nlri.len() as u64;
    let msg = Message::Update(UpdateMsg {
        attrs,
        nlri,
        ..UpdateMsg::default()
    });
    Case {
        name: "update_ipv4_full_4096",
        bytes: bytes_of(&msg, ctx, &a, &field),
        msg,
        prefixes,
    }
}

/// An IPv6 UPDATE: MP_REACH_NLRI with 200 /64s, ORIGIN and AS_PATH.
fn ipv6_mp_reach(ctx: &Ctx) -> Case {
    let global: Ipv6Addr = "2001:db8::1".parse().expect("address");
    let nlri: Vec<Nlri6> = (0..200u128)
        .map(|i| Nlri6 {
            path_id: 0,
            prefix: prefix6((0x2001_0db8_u128 << 96) | (i << 64), 64),
        })
        .collect();
    // MP_REACH_NLRI value: AFI 2, SAFI 1, next hop length 16, next hop, reserved, NLRI.
    let mut mp = vec![0, 2, 1, 16];
    mp.extend_from_slice(&global.octets());
    mp.push(0);
    for n in &nlri {
        mp.push(64);
        mp.extend_from_slice(&n.prefix.addr().octets()[..8]);
    }
    let mut attrs_bytes = vec![0x90, 14];
    attrs_bytes.extend_from_slice(&(mp.len() as u16).to_be_bytes());
    attrs_bytes.extend_from_slice(&mp);
    attrs_bytes.extend_from_slice(&[0x40, 1, 1, 0]);
    attrs_bytes.extend_from_slice(&[0x40, 2, 6, 2, 1, 0, 0, 0xfc, 0x00]);
    let msg = Message::Update(UpdateMsg {
        attrs: Attrs {
            origin: Some(Origin::Igp),
            as_path: Some(sequence(&[64512])),
            ..Attrs::default()
        },
        mp_reach: Some(MpReach {
            family: wire::Family::IPV6_UNICAST,
            next_hop: NextHop::V6 {
                global,
                link_local: None,
            },
            nlri: MpNlri::V6(nlri),
        }),
        ..UpdateMsg::default()
    });
    Case {
        name: "update_ipv6_mp_reach_200",
        bytes: bytes_of(&msg, ctx, &attrs_bytes, &[]),
        msg,
        prefixes: 200,
    }
}

/// One /26 with ORIGIN, AS_PATH of 3, NEXT_HOP, MED, LOCAL_PREF, 3 COMMUNITIES and a
/// LARGE_COMMUNITY: the per-UPDATE cost of a typical route.
fn typical_attrs(ctx: &Ctx) -> Case {
    let attrs = Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(sequence(&[64512, 65001, 4_200_000_000])),
        next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
        med: Some(100),
        local_pref: Some(200),
        communities: Some(vec![0xfde8_0001, 0xfde8_0002, 0xfde8_0003]),
        large_communities: Some(vec![[4_200_000_000, 1, 2]]),
        ..Attrs::default()
    };
    let mut a = vec![0x40, 1, 1, 0];
    a.extend_from_slice(&[0x40, 2, 14, 2, 3]);
    for asn in [64512u32, 65001, 4_200_000_000] {
        a.extend_from_slice(&asn.to_be_bytes());
    }
    a.extend_from_slice(&[0x40, 3, 4, 198, 18, 0, 1]);
    a.extend_from_slice(&[0x80, 4, 4, 0, 0, 0, 100]);
    a.extend_from_slice(&[0x40, 5, 4, 0, 0, 0, 200]);
    a.extend_from_slice(&[0xc0, 8, 12]);
    for c in [0xfde8_0001u32, 0xfde8_0002, 0xfde8_0003] {
        a.extend_from_slice(&c.to_be_bytes());
    }
    a.extend_from_slice(&[0xc0, 32, 12]);
    for v in [4_200_000_000u32, 1, 2] {
        a.extend_from_slice(&v.to_be_bytes());
    }
    let nlri = vec![nlri4(0x0a41_0040, 26)];
    let msg = Message::Update(UpdateMsg {
        attrs,
        nlri,
        ..UpdateMsg::default()
    });
    Case {
        name: "update_typical_attrs",
        bytes: bytes_of(&msg, ctx, &a, &[26, 10, 65, 0, 64]),
        msg,
        prefixes: 1,
    }
}

// ===== helper functions =====

/// The encoder's bytes when it works, else an UPDATE built by hand from the attribute
/// bytes and the NLRI field (no withdrawn routes).
fn bytes_of(msg: &Message, ctx: &Ctx, attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let len = wire::HEADER_LEN + 4 + attrs.len() + nlri.len();
    let mut hand = vec![0xff; 16];
    hand.extend_from_slice(&(len as u16).to_be_bytes());
    hand.extend_from_slice(&[wire::msg_type::UPDATE, 0, 0]);
    hand.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    hand.extend_from_slice(attrs);
    hand.extend_from_slice(nlri);
    let framed = wire::frame_len(&hand, ctx);
    assert_eq!(
        framed,
        Ok(Some(hand.len())),
        "hand-built UPDATE has a bad header"
    );
    match wire::encode_to_vec(msg, ctx) {
        Ok(enc) => {
            if enc != hand {
                eprintln!("note: the encoder's bytes differ from the hand-built ones; benching the encoder's");
            }
            enc
        }
        Err(_) => hand,
    }
}

fn sequence(asns: &[u32]) -> AsPath {
    AsPath {
        segments: vec![AsSegment {
            kind: SegmentKind::Sequence,
            asns: asns.to_vec(),
        }],
    }
}

fn nlri4(addr: u32, len: u8) -> Nlri4 {
    Nlri4 {
        path_id: 0,
        prefix: Prefix4::new(addr, len).expect("prefix length"),
    }
}

fn prefix6(addr: u128, len: u8) -> Prefix6 {
    Prefix6::new(addr, len).expect("prefix length")
}
