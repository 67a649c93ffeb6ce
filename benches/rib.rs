//! RIB relay benchmark: 500k IPv4 /24 prefixes from one eBGP peer, in UPDATEs of 1000
//! prefixes with one attribute set each, applied and flushed to one other eBGP peer.
//!
//! `cargo bench --bench rib`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use wren::config::NextHopMode;
use wren::fsm::Negotiated;
use wren::rib::{Filter, PeerInfo, Rib, RibCfg};
use wren::wire::attr::{AsPath, Attrs, Origin};
use wren::wire::{Family, Nlri4, Prefix4, UpdateMsg};

const PREFIXES: u32 = 500_000;
const PER_UPDATE: u32 = 1000;

fn peer(id: u32, asn: u32) -> PeerInfo {
    let n = id as u8;
    PeerInfo {
        id,
        name: format!("p{id}"),
        remote: IpAddr::V4(Ipv4Addr::new(198, 18, n, 2)),
        local: IpAddr::V4(Ipv4Addr::new(198, 18, n, 1)),
        local_v4: None,
        local_v6: None,
        link_local: None,
        asn,
        ibgp: false,
        rr_client: false,
        next_hop: NextHopMode::Auto,
        import: Filter::AcceptAll,
        export: Filter::AcceptAll,
        max_prefix: None,
        neg: Negotiated::plain(
            asn,
            Ipv4Addr::new(198, 19, n, 2),
            vec![Family::IPV4_UNICAST],
        ),
    }
}

/// `prefixes / 1000` UPDATEs of 1000 /24 each, one attribute set per UPDATE.
fn updates(prefixes: u32) -> Vec<UpdateMsg> {
    (0..prefixes / PER_UPDATE)
        .map(|u| UpdateMsg {
            attrs: Attrs {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::sequence(&[65001, 4_200_000_000 + u])),
                next_hop: Some(Ipv4Addr::new(198, 18, 1, 2)),
                ..Attrs::default()
            },
            nlri: (0..PER_UPDATE)
                .map(|i| {
                    let n = u * PER_UPDATE + i;
                    Nlri4 {
                        path_id: 0,
                        prefix: Prefix4::new(0x1000_0000 + (n << 8), 24).unwrap(),
                    }
                })
                .collect(),
            ..UpdateMsg::default()
        })
        .collect()
}

fn setup(updates: &[UpdateMsg]) -> (Rib, Vec<UpdateMsg>) {
    let mut rib = Rib::new(RibCfg {
        local_as: 65000,
        router_id: Ipv4Addr::new(198, 18, 255, 1),
        cluster_id: Ipv4Addr::new(198, 18, 255, 1),
        multipath: 1,
        fib: true,
    });
    rib.peer_up(peer(1, 65001));
    rib.peer_up(peer(2, 65002));
    rib.flush();
    (rib, updates.to_vec())
}

/// Under `cargo test` (no `--bench` argument) criterion runs each routine once: a small
/// table keeps that quick in a debug build.
fn size() -> u32 {
    if std::env::args().any(|a| a == "--bench") {
        PREFIXES
    } else {
        5 * PER_UPDATE
    }
}

fn relay(c: &mut Criterion) {
    let n = size();
    let ups = updates(n);
    let mut g = c.benchmark_group("rib");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("relay_500k_ebgp_one_flush", |b| {
        b.iter_batched(
            || setup(&ups),
            |(mut rib, ups)| {
                for u in ups {
                    rib.update(1, u, &[]);
                }
                let out = rib.flush();
                black_box(out.sends.iter().map(|o| o.bytes.len()).sum::<usize>());
                (rib, out)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("relay_500k_ebgp_flush_every_10_updates", |b| {
        b.iter_batched(
            || setup(&ups),
            |(mut rib, ups)| {
                let mut outs = Vec::new();
                for (i, u) in ups.into_iter().enumerate() {
                    rib.update(1, u, &[]);
                    if i % 10 == 9 {
                        outs.push(rib.flush());
                    }
                }
                outs.push(rib.flush());
                (rib, outs)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Thread CPU time in milliseconds.
fn cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

/// Resident set size in MiB (Linux), 0 elsewhere.
fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

/// `WREN_RIB_CPU=5 cargo bench --bench rib`: CPU time of the phases (not wall time, so
/// other load on the machine matters less), then exit without criterion.
fn cpu_report(runs: usize) {
    let ups = updates(PREFIXES);
    for _ in 0..runs {
        // Calibration: the same machine's speed at this moment (load on shared cores
        // changes CPU times by 2x): 500k inserts into a std HashMap.
        let t = cpu_ms();
        let mut m = std::collections::HashMap::new();
        for i in 0..PREFIXES {
            m.insert(0x1000_0000u32 + (i << 8), i);
        }
        black_box(&m);
        let cal = cpu_ms() - t;
        drop(m);
        let (mut rib, ups) = setup(&ups);
        let rss0 = rss_mib();
        let t0 = cpu_ms();
        for u in ups {
            rib.update(1, u, &[]);
        }
        let t1 = cpu_ms();
        let out = rib.flush();
        let t2 = cpu_ms();
        let bytes: usize = out.sends.iter().map(|o| o.bytes.len()).sum();
        let rss_out = rss_mib() - rss0;
        drop(out);
        let rss_rib = rss_mib() - rss0;
        println!(
            "update {:.1} ms  flush {:.1} ms  total {:.1} ms CPU  ({} bytes sent; calibration {cal:.1} ms)  RSS +{rss_out:.0} MiB with the output, +{rss_rib:.0} MiB RIB alone",
            t1 - t0,
            t2 - t1,
            t2 - t0,
            bytes,
        );
        drop(rib);
    }
}

criterion_group!(benches, relay);

fn main() {
    if let Some(n) = std::env::var("WREN_RIB_CPU")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return cpu_report(n);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
