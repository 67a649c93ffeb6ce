//! Hot-path benchmarks of the UPDATE codec: NLRI decode/encode, whole-UPDATE decode, packing.
//!
//! `cargo bench --bench update_hot`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wren::wire::attr::{AsPath, Attrs, Origin};
use wren::wire::nlri::{decode_v4, encode_v4};
use wren::wire::{decode, pack, Ctx, Nlri4, Prefix4};

fn prefixes(n: u32) -> Vec<Nlri4> {
    (0..n)
        .map(|i| Nlri4 {
            path_id: 0,
            prefix: Prefix4::new(0x0a00_0000 + (i << 8), 24).unwrap(),
        })
        .collect()
}

fn attrs() -> Attrs {
    Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(&[65001, 65002])),
        next_hop: Some("198.18.0.1".parse().unwrap()),
        local_pref: Some(100),
        ..Attrs::default()
    }
}

fn nlri(c: &mut Criterion) {
    let p = prefixes(1000);
    let mut wire = Vec::new();
    encode_v4(&p, false, &mut wire);
    let mut g = c.benchmark_group("nlri_v4");
    g.throughput(Throughput::Elements(p.len() as u64));
    g.bench_function("decode_1000x24", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            decode_v4(black_box(&wire), 23, false, &mut out).unwrap();
            out
        })
    });
    let mut buf = Vec::with_capacity(8192);
    g.bench_function("encode_1000x24", |b| {
        b.iter(|| {
            buf.clear();
            encode_v4(black_box(&p), false, &mut buf);
            buf.len()
        })
    });
    g.finish();
}

fn update(c: &mut Criterion) {
    let ctx = Ctx::default();
    let p = prefixes(100_000);
    let mut packed = Vec::new();
    let n = pack::announce4(&attrs(), None, &p, &ctx, &mut packed).unwrap();
    let first_len = u16::from_be_bytes([packed[16], packed[17]]) as usize;
    let first = packed[..first_len].to_vec();
    let per_msg = match decode(&first, &ctx).unwrap().0 {
        wren::wire::Message::Update(u) => u.nlri.len(),
        _ => unreachable!(),
    };
    let mut g = c.benchmark_group("update");
    g.throughput(Throughput::Elements(per_msg as u64));
    g.bench_function("decode_full_4096", |b| {
        b.iter(|| decode(black_box(&first), &ctx).unwrap())
    });
    g.throughput(Throughput::Elements(p.len() as u64));
    let mut out = Vec::with_capacity(packed.len());
    g.bench_function("pack_100k_x24", |b| {
        b.iter(|| {
            out.clear();
            pack::announce4(&attrs(), None, black_box(&p), &ctx, &mut out).unwrap()
        })
    });
    g.finish();
    assert!(n > 90);
}

criterion_group!(benches, nlri, update);
criterion_main!(benches);
