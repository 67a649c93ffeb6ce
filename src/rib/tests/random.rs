//! Differential test: random inputs applied incrementally must leave every peer holding
//! exactly what a fresh RIB, given only the final Adj-RIB-In, would send it; and the FIB
//! deltas must add up to the final FIB.

use std::collections::BTreeMap;

use super::*;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What one peer holds: (prefix, path id) -> (attributes, next hop).
type Held = BTreeMap<(String, u32), (Attrs, Option<String>)>;

fn peers() -> Vec<PeerInfo> {
    let c1 = ibgp(1, true);
    let c2 = twin(c1.clone(), 2, "198.18.1.3");
    let n1 = ibgp(3, false);
    let e1 = ebgp(4, 65004);
    let e2 = twin(ebgp(5, 65005), 5, "198.18.4.3");
    let mut e2 = e2;
    e2.local = ip("198.18.4.1");
    let mut e1b = e1.clone();
    e1b.local = ip("198.18.4.1");
    let mut ap = ibgp(6, true);
    ap.neg.add_path_tx = vec![Family::IPV4_UNICAST];
    let c3 = twin(c1.clone(), 7, "198.18.1.4");
    let mut all = vec![c1, c2, n1, e1b, e2, ap, c3];
    for p in &mut all {
        p.local_v6 = Some("2001:db8:ffff::1".parse().unwrap());
    }
    all
}

fn random_attrs(rng: &mut Rng, peer: &PeerInfo) -> Attrs {
    let mut path: Vec<u32> = Vec::new();
    if !peer.ibgp {
        path.push(peer.asn);
    }
    for _ in 0..rng.below(3) {
        path.push(65100 + rng.below(3) as u32);
    }
    if rng.below(20) == 0 {
        path.push(AS); // a loop now and then
    }
    let mut a = attrs(&path, &format!("198.18.{}.{}", peer.id, 2 + rng.below(2)));
    a.med = (rng.below(2) == 0).then(|| rng.below(3) as u32 * 10);
    a.local_pref = Some(100 + rng.below(2) as u32 * 50);
    if rng.below(4) == 0 {
        // Client 2's or client 7's BGP identifier, or nobody's.
        let o = [2, 7, 9][rng.below(3) as usize];
        a.originator_id = Some(v4(&format!("198.19.100.{o}")));
    }
    if rng.below(8) == 0 {
        a.communities = Some(vec![0xFFFF_FF01]);
    }
    a
}

/// One of 12 IPv4 or 6 IPv6 prefixes (one of them a /128).
fn prefix(rng: &mut Rng) -> String {
    match rng.below(18) {
        n @ 0..=11 => format!("198.51.{n}.0/24"),
        17 => "2001:db8:5::1/128".into(),
        n => format!("2001:db8:{n}::/48"),
    }
}

fn any_prefix(s: &str) -> Prefix {
    if s.contains(':') {
        p6(s)
    } else {
        p4(s)
    }
}

/// An UPDATE announcing `prefixes` (either family) from `peer` with `a`.
fn announce_any(a: Attrs, peer: &PeerInfo, prefixes: &[String]) -> UpdateMsg {
    let v4: Vec<&str> = prefixes
        .iter()
        .filter(|p| !p.contains(':'))
        .map(|p| p.as_str())
        .collect();
    let v6: Vec<&str> = prefixes
        .iter()
        .filter(|p| p.contains(':'))
        .map(|p| p.as_str())
        .collect();
    let mut u = announce(a.clone(), &v4);
    if !v6.is_empty() {
        let nh = NextHop::V6 {
            global: format!("2001:db8:{}::2", peer.id).parse().unwrap(),
            link_local: None,
        };
        u.mp_reach = announce6(a, nh, &v6).mp_reach;
    }
    if v4.is_empty() {
        u.attrs.next_hop = None;
    }
    u
}

fn withdraw_any(p: &str) -> UpdateMsg {
    if !p.contains(':') {
        return withdraw(&[p]);
    }
    UpdateMsg {
        mp_unreach: Some(crate::wire::MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: MpNlri::V6(vec![Nlri6 {
                path_id: 0,
                prefix: p.parse().unwrap(),
            }]),
        }),
        ..UpdateMsg::default()
    }
}

/// Apply what `out` sends to the per-peer holdings.
fn receive(out: &RibOutput, held: &mut BTreeMap<PeerId, Held>, infos: &[PeerInfo]) {
    for o in &out.sends {
        for &p in &o.peers {
            let info = infos.iter().find(|i| i.id == p).unwrap();
            let h = held.entry(p).or_default();
            for m in messages(&o.bytes, &info.neg.encode_ctx()) {
                let Message::Update(u) = m else { continue };
                apply(&u, h, p);
            }
        }
    }
}

/// One received UPDATE (either family) applied to a peer's holdings.
fn apply(u: &UpdateMsg, h: &mut Held, p: PeerId) {
    let mut gone: Vec<(String, u32)> = u
        .withdrawn
        .iter()
        .map(|n| (n.prefix.to_string(), n.path_id))
        .collect();
    if let Some(MpNlri::V6(v)) = u.mp_unreach.as_ref().map(|m| &m.withdrawn) {
        gone.extend(v.iter().map(|n| (n.prefix.to_string(), n.path_id)));
    }
    for k in gone {
        assert!(
            h.remove(&k).is_some(),
            "withdrawal of {k:?} that {p} does not have"
        );
    }
    let mut a = u.attrs.clone();
    let nh = a.next_hop.take().map(|x| x.to_string());
    for n in &u.nlri {
        h.insert((n.prefix.to_string(), n.path_id), (a.clone(), nh.clone()));
    }
    if let Some(r) = &u.mp_reach {
        let MpNlri::V6(v) = &r.nlri else {
            panic!("IPv4 in MP_REACH_NLRI")
        };
        let NextHop::V6 { global, .. } = &r.next_hop else {
            panic!("next hop {:?}", r.next_hop)
        };
        for n in v {
            let k = (n.prefix.to_string(), n.path_id);
            h.insert(k, (a.clone(), Some(global.to_string())));
        }
    }
}

fn apply_fib(out: &RibOutput, fib: &mut BTreeMap<Prefix, FibKind>) {
    for c in out.fib.iter().chain(out.fib_after.iter()) {
        match c {
            FibChange::Upsert(r) => {
                fib.insert(r.prefix, r.kind.clone());
            }
            FibChange::Remove(p) => {
                assert!(fib.remove(p).is_some(), "removal of {p} not in the FIB");
            }
        }
    }
}

/// A fresh RIB with the same peers and the current Adj-RIB-In; the tables it sends.
fn from_scratch(rib: &Rib, up_peers: &[PeerInfo]) -> (BTreeMap<PeerId, Held>, Vec<FibRoute>) {
    let mut fresh = Rib::new(rib.cfg().clone());
    for p in up_peers {
        fresh.peer_up(p.clone());
    }
    let all = rib.paths(None);
    // Paths of peers that are down (stale) need their peer known: bring them up first,
    // then take them down keeping stale, as the incremental RIB saw it.
    let infos = peers();
    let stale_peers: Vec<PeerId> = all
        .iter()
        .filter(|v| v.stale)
        .map(|v| v.peer)
        .filter(|p| !up_peers.iter().any(|u| u.id == *p))
        .collect();
    for &p in &stale_peers {
        fresh.peer_up(infos.iter().find(|i| i.id == p).unwrap().clone());
    }
    for v in &all {
        if v.peer == LOCAL {
            continue;
        }
        let msg = match v.prefix {
            Prefix::V4(p) => UpdateMsg {
                attrs: v.attrs.clone(),
                nlri: vec![Nlri4 {
                    path_id: v.path_id,
                    prefix: p,
                }],
                ..UpdateMsg::default()
            },
            Prefix::V6(p) => {
                let Some(IpAddr::V6(global)) = v.next_hop else {
                    panic!("{v:?}")
                };
                let nh = NextHop::V6 {
                    global,
                    link_local: None,
                };
                let mut u = announce6(v.attrs.clone(), nh, &[]);
                if let Some(r) = u.mp_reach.as_mut() {
                    r.nlri = MpNlri::V6(vec![Nlri6 {
                        path_id: v.path_id,
                        prefix: p,
                    }]);
                }
                u
            }
        };
        fresh.update(v.peer, msg, &[]);
    }
    for v in all.iter().filter(|v| v.peer == LOCAL) {
        fresh.originate(v.prefix, false);
    }
    let mut stale_sorted = stale_peers.clone();
    stale_sorted.sort_unstable();
    stale_sorted.dedup();
    for p in stale_sorted {
        fresh.peer_down(p, true);
    }
    let out = fresh.flush();
    let mut held = BTreeMap::new();
    receive(&out, &mut held, &infos);
    (held, fresh.fib())
}

/// Holdings without path identifiers (ADD-PATH ids are assigned in arrival order).
fn without_ids(h: &Held) -> Vec<(String, Attrs, Option<String>)> {
    let mut v: Vec<_> = h
        .iter()
        .map(|((p, _), (a, nh))| (p.clone(), a.clone(), nh.clone()))
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

fn run(seed: u64, steps: usize, multipath: usize) {
    let mut rng = Rng(seed);
    let infos = peers();
    let mut rib = Rib::new(RibCfg { multipath, ..cfg() });
    let mut up_now: Vec<bool> = vec![true; infos.len()];
    let mut held: BTreeMap<PeerId, Held> = BTreeMap::new();
    let mut fib: BTreeMap<Prefix, FibKind> = BTreeMap::new();
    for p in &infos {
        rib.peer_up(p.clone());
    }
    for step in 0..steps {
        let k = rng.below(infos.len() as u64) as usize;
        let peer = &infos[k];
        match rng.below(20) {
            0 => {
                rib.peer_down(peer.id, rng.below(2) == 0);
                up_now[k] = false;
                held.remove(&peer.id);
            }
            1 if !up_now[k] => {
                rib.peer_up(peer.clone());
                up_now[k] = true;
            }
            2 => rib.originate(any_prefix(&prefix(&mut rng)), rng.below(2) == 0),
            3 => rib.unoriginate(any_prefix(&prefix(&mut rng))),
            4..=7 => rib.update(peer.id, withdraw_any(&prefix(&mut rng)), &[]),
            _ => {
                let a = random_attrs(&mut rng, peer);
                let mut ps = vec![prefix(&mut rng), prefix(&mut rng)];
                ps.dedup();
                rib.update(peer.id, announce_any(a, peer, &ps), &[]);
            }
        }
        if rng.below(4) == 0 || step + 1 == steps {
            let out = rib.flush();
            receive(&out, &mut held, &infos);
            apply_fib(&out, &mut fib);
            check(&rib, &infos, &up_now, &held, &fib, seed, step);
        }
    }
}

fn check(
    rib: &Rib,
    infos: &[PeerInfo],
    up_now: &[bool],
    held: &BTreeMap<PeerId, Held>,
    fib: &BTreeMap<Prefix, FibKind>,
    seed: u64,
    step: usize,
) {
    let up_peers: Vec<PeerInfo> = infos
        .iter()
        .zip(up_now)
        .filter(|(_, u)| **u)
        .map(|(p, _)| p.clone())
        .collect();
    let (want, want_fib) = from_scratch(rib, &up_peers);
    let empty = Held::new();
    for p in &up_peers {
        let have = held.get(&p.id).unwrap_or(&empty);
        let want = want.get(&p.id).unwrap_or(&empty);
        assert_eq!(
            without_ids(have),
            without_ids(want),
            "seed {seed} step {step}: peer {} holds something else",
            p.id
        );
        assert_eq!(
            rib.advertised(p.id).len(),
            have.len(),
            "seed {seed} step {step}: peer {}",
            p.id
        );
        assert_eq!(rib.counts(p.id).advertised as usize, have.len());
    }
    let now: Vec<FibRoute> = fib
        .iter()
        .map(|(p, k)| FibRoute {
            prefix: *p,
            kind: k.clone(),
        })
        .collect();
    assert_eq!(
        now,
        rib.fib(),
        "seed {seed} step {step}: FIB deltas do not add up"
    );
    let no_blackholes: Vec<FibRoute> = now
        .into_iter()
        .filter(|r| r.kind != FibKind::Blackhole)
        .collect();
    assert_eq!(
        no_blackholes, want_fib,
        "seed {seed} step {step}: FIB differs from scratch"
    );
}

#[test]
fn incremental_exports_match_a_fresh_rib() {
    for seed in 1u64..=30 {
        run(
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            150,
            1 + (seed % 3) as usize,
        );
    }
}
