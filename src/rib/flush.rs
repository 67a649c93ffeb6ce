//! The flush: decide the changed prefixes (best path, ECMP set, FIB delta), then bring
//! every update group's Adj-RIB-Out up to date and encode once per group; full tables
//! and End-of-RIB for peers that just came up; route-refresh answers.

use std::net::{IpAddr, Ipv4Addr};

use smallvec::SmallVec;

use super::decision::{select, Cand};
use super::export::GroupKey;
use super::intern::{Interner, NhSets};
use super::out::{encode_batch, Batch, Batches, Ex, Group};
use super::table::{fib, flag, Dest, DestId, Path};
use super::{
    FibChange, FibKind, FibRoute, Filter, Outgoing, PeerId, PeerState, Rib, RibCfg, RibOutput,
    LOCAL,
};
use crate::config::{PeerType, RouteSource};
use crate::hash::FastMap;
use crate::policy::RouteCtx;
use crate::wire::{encode, Family, Message, NextHop, RouteRefreshMsg, UpdateMsg};

// ===== impl Rib =====

impl Rib {
    pub(super) fn run_flush(&mut self) -> RibOutput {
        let mut out = RibOutput::default();
        let dirty = std::mem::take(&mut self.table.dirty);
        // Groups whose members are all synced get the changed prefixes in the same pass
        // as the decision (each dest is touched once); groups with a new member get a
        // full pass of their own (what a group stores depends on its members: no entry
        // is kept that every member is excepted from).
        let steady: Vec<u16> = (0..self.groups.len() as u16)
            .filter(|&gi| {
                self.group(gi)
                    .is_some_and(|g| g.has_synced() && !g.has_joiners())
            })
            .collect();
        let mut deltas: Vec<Batches> = steady.iter().map(|_| Batches::default()).collect();
        if self.cfg.fib {
            out.fib.reserve(dirty.len());
        }
        for &di in &dirty {
            self.decide_and_sync(di, &steady, &mut deltas, &mut out);
        }
        let mut sends = Vec::new();
        for (&gi, delta) in steady.iter().zip(&deltas) {
            if let Some(g) = self.group(gi) {
                g.encode_all(&self.attrs, true, delta, &mut sends);
            }
        }
        drop(deltas);
        // A peer that is getting its whole table needs no route-refresh answer as well.
        let joining = |rib: &Rib, p: PeerId| {
            let gi = rib.peers.get(&p).and_then(|ps| ps.group);
            gi.and_then(|gi| rib.group(gi)?.member(p))
                .is_some_and(|m| !m.synced)
        };
        let refresh = std::mem::take(&mut self.refresh);
        self.refresh = refresh
            .into_iter()
            .filter(|&(p, _)| !joining(self, p))
            .collect();
        for gi in 0..self.groups.len() as u16 {
            if self.group(gi).is_some_and(Group::has_joiners) {
                self.full_sync(gi, &mut sends);
            }
        }
        self.withdraw_left_over(&mut sends);
        self.answer_refreshes(&mut sends);
        for g in self.groups.iter_mut().flatten() {
            g.clear_memo(&mut self.attrs);
        }
        out.sends = sends;
        out.stop = std::mem::take(&mut self.stop);
        out
    }

    fn group(&self, gi: u16) -> Option<&Group> {
        self.groups.get(gi as usize)?.as_ref()
    }

    /// Best path, ECMP set and FIB state of one prefix, then its export to the steady
    /// groups; the dest is freed if nothing refers to it any more.
    fn decide_and_sync(
        &mut self,
        di: DestId,
        steady: &[u16],
        deltas: &mut [Batches],
        out: &mut RibOutput,
    ) {
        let Rib {
            table,
            attrs,
            peers,
            cfg,
            nhs,
            groups,
            kernel,
            ..
        } = self;
        let Some(d) = table.get_mut(di) else {
            return;
        };
        choose(cfg, attrs, peers, d);
        if cfg.fib {
            let allowed = match kernel {
                Filter::AcceptAll => true,
                Filter::RejectAll => false,
                Filter::Policy(pol) => d
                    .best()
                    .is_none_or(|b| pol.decide(&path_ctx(attrs, peers, d.prefix(), b)).accept),
            };
            update_fib(attrs, nhs, d, allowed, out);
        }
        let mut ex = Ex { cfg, attrs, peers };
        for (&gi, delta) in steady.iter().zip(deltas.iter_mut()) {
            if let Some(g) = groups.get_mut(gi as usize).and_then(Option::as_mut) {
                g.sync(&mut ex, gi, d, delta, None);
            }
        }
        d.dirty = false;
        table.gc(di);
    }

    /// Bring every entry of group `gi` up to date and send the whole table (then
    /// End-of-RIB) to its new members.
    fn full_sync(&mut self, gi: u16, sends: &mut Vec<Outgoing>) {
        let Rib {
            table,
            groups,
            attrs,
            peers,
            cfg,
            ..
        } = self;
        let Some(g) = groups.get_mut(gi as usize).and_then(Option::as_mut) else {
            return;
        };
        let mut delta = Batches::default();
        let mut dump = Batches::default();
        let mut ex = Ex { cfg, attrs, peers };
        for di in 0..table.end() {
            if let Some(d) = table.get_mut(di) {
                g.sync(&mut ex, gi, d, &mut delta, Some(&mut dump));
                if !d.dirty {
                    table.gc(di);
                }
            }
        }
        g.encode_all(attrs, true, &delta, sends);
        g.encode_all(attrs, false, &dump, sends);
        end_of_rib(g, sends);
        for m in g.members.iter_mut() {
            m.synced = true;
        }
    }

    /// RFC 2918 §4 / RFC 7313 §4: re-send the family's Adj-RIB-Out, between BoRR and
    /// EoRR when enhanced route refresh was negotiated.
    fn answer_refreshes(&mut self, sends: &mut Vec<Outgoing>) {
        for (peer, fam) in std::mem::take(&mut self.refresh) {
            let Some(ps) = self.peers.get(&peer) else {
                continue;
            };
            let Some(gi) = ps.group else { continue };
            let Some(g) = self.groups.get(gi as usize).and_then(Option::as_ref) else {
                continue;
            };
            if !g.member(peer).is_some_and(|m| m.synced) || !g.key.families.contains(&fam) {
                continue;
            }
            let v6 = fam == Family::IPV6_UNICAST;
            let mut b = Batch::default();
            for d in self.table.iter().filter(|d| d.is_v6() == v6) {
                g.resend(gi, peer, d, &mut b);
            }
            let enhanced = ps.info.neg.enhanced_route_refresh;
            let mut bytes = Vec::new();
            if enhanced {
                let m = Message::RouteRefresh(RouteRefreshMsg::borr(fam));
                let _ = encode(&m, &g.ctx, &mut bytes);
            }
            encode_batch(&self.attrs, &g.ctx, &b, &mut bytes);
            if enhanced {
                let m = Message::RouteRefresh(RouteRefreshMsg::eorr(fam));
                let _ = encode(&m, &g.ctx, &mut bytes);
            }
            if !bytes.is_empty() {
                sends.push(Outgoing {
                    peers: vec![peer],
                    bytes: bytes.into(),
                });
            }
        }
    }

    /// Put the peer in the update group of its key (a new group if none matches).
    pub(super) fn join_group(&mut self, peer: PeerId) {
        let Some(ps) = self.peers.get(&peer) else {
            return;
        };
        let key = GroupKey::of(&ps.info);
        let rid = ps.info.neg.peer_id;
        let found = self
            .groups
            .iter()
            .position(|g| g.as_ref().is_some_and(|g| g.key == key));
        let gi = match (found, self.groups.iter().position(Option::is_none)) {
            (Some(i), _) => i,
            (None, Some(free)) => {
                self.groups[free] = Some(Group::new(key));
                free
            }
            (None, None) => {
                self.groups.push(Some(Group::new(key)));
                self.groups.len() - 1
            }
        };
        if let Some(g) = self.groups[gi].as_mut() {
            g.add(peer, rid);
        }
        if let Some(ps) = self.peers.get_mut(&peer) {
            ps.group = Some(gi as u16);
        }
    }

    /// Take the peer out of its group: its exceptions go; an empty group goes entirely.
    pub(super) fn leave_group(&mut self, peer: PeerId) {
        let Some(gi) = self.peers.get_mut(&peer).and_then(|ps| ps.group.take()) else {
            return;
        };
        let Rib {
            table,
            groups,
            attrs,
            ..
        } = self;
        let Some(g) = groups.get_mut(gi as usize).and_then(Option::as_mut) else {
            return;
        };
        g.remove(peer);
        let empty = g.members.is_empty();
        for d in table.iter_mut() {
            if empty {
                g.drop_entries(attrs, gi, d);
            } else {
                g.forget(gi, peer, d);
            }
        }
        if empty {
            g.clear_memo(attrs);
            groups[gi as usize] = None;
        }
    }
}

// ===== helper functions =====

/// RFC 4724 §2: End-of-RIB for every negotiated family, after the initial table.
fn end_of_rib(g: &Group, sends: &mut Vec<Outgoing>) {
    let peers = g.recipients(false, &[]);
    let mut bytes = Vec::new();
    for &f in &g.key.families {
        let _ = encode(&Message::Update(UpdateMsg::eor(f)), &g.ctx, &mut bytes);
    }
    if !peers.is_empty() && !bytes.is_empty() {
        sends.push(Outgoing {
            peers,
            bytes: bytes.into(),
        });
    }
}

/// The decision-process view of one path.
pub(super) fn cand(
    cfg: &RibCfg,
    attrs: &Interner,
    peers: &FastMap<PeerId, PeerState>,
    p: &Path,
) -> Cand {
    let keys = attrs.keys(p.attr);
    match peers.get(&p.peer).filter(|_| p.peer != LOCAL) {
        Some(ps) => Cand {
            kernel: false,
            local: false,
            keys,
            ebgp: !ps.info.ibgp,
            router_id: keys.originator_id.unwrap_or(ps.src.bgp_id),
            addr: ps.info.remote,
            path_id: p.path_id,
        },
        None => Cand {
            kernel: super::learn::is_kernel(p),
            local: p.peer == LOCAL && !super::learn::is_kernel(p),
            keys,
            ebgp: false,
            router_id: if p.peer == LOCAL {
                cfg.router_id
            } else {
                Ipv4Addr::BROADCAST
            },
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            path_id: p.path_id,
        },
    }
}

/// Run the decision process over the eligible paths and set the BEST and MULTIPATH flags.
fn choose(cfg: &RibCfg, attrs: &Interner, peers: &FastMap<PeerId, PeerState>, d: &mut Dest) {
    if let [p] = &mut d.paths[..] {
        p.flags &= !(flag::BEST | flag::MULTIPATH);
        if p.eligible() {
            p.flags |= flag::BEST;
        }
        return;
    }
    for p in d.paths.iter_mut() {
        p.flags &= !(flag::BEST | flag::MULTIPATH);
    }
    let elig: SmallVec<[usize; 4]> = (0..d.paths.len())
        .filter(|&i| d.paths[i].eligible())
        .collect();
    match elig.len() {
        0 => return,
        1 => {
            d.paths[elig[0]].flags |= flag::BEST;
            return;
        }
        _ => {}
    }
    let cands: SmallVec<[Cand; 4]> = elig
        .iter()
        .map(|&i| cand(cfg, attrs, peers, &d.paths[i]))
        .collect();
    let o = select(&cands);
    d.paths[elig[o.best]].flags |= flag::BEST;
    if cfg.multipath < 2 || cands[o.best].local {
        return;
    }
    // ECMP: the paths equal to the best down to the eBGP/iBGP step, one per next hop.
    let mut hops: SmallVec<[IpAddr; 4]> = SmallVec::new();
    let mut members: SmallVec<[usize; 4]> = SmallVec::new();
    for &ci in &o.multipath {
        let i = elig[ci];
        let Some(nh) = fib_next_hop(attrs, &d.paths[i]) else {
            continue;
        };
        if hops.contains(&nh) || cands[ci].local {
            continue;
        }
        if hops.len() >= cfg.multipath {
            break;
        }
        hops.push(nh);
        members.push(i);
    }
    if members.len() >= 2 {
        for i in members {
            d.paths[i].flags |= flag::MULTIPATH;
        }
    }
}

/// The address the kernel forwards to for a path: IPv4, the IPv6 global address, or the
/// link-local one when there is no global.
pub(super) fn fib_next_hop(attrs: &Interner, p: &Path) -> Option<IpAddr> {
    nh_addr(attrs.get(p.attr).nh.as_ref())
}

pub(super) fn nh_addr(nh: Option<&NextHop>) -> Option<IpAddr> {
    match nh? {
        NextHop::V4(a) => Some(IpAddr::V4(*a)),
        NextHop::V6 { global, link_local } => match link_local {
            Some(ll) if global.is_unspecified() => Some(IpAddr::V6(*ll)),
            _ => Some(IpAddr::V6(*global)),
        },
        NextHop::Raw(_) => None,
    }
}

/// The policy view of path `p` of `prefix`.
pub(super) fn path_ctx<'a>(
    attrs: &'a Interner,
    peers: &FastMap<PeerId, PeerState>,
    prefix: super::Prefix,
    p: &Path,
) -> RouteCtx<'a> {
    let ra = attrs.get(p.attr);
    let (source, pt) = match peers.get(&p.peer).filter(|_| p.peer != LOCAL) {
        Some(ps) if ps.info.ibgp => (RouteSource::Bgp, Some(PeerType::Ibgp)),
        Some(_) => (RouteSource::Bgp, Some(PeerType::Ebgp)),
        None if super::learn::is_kernel(p) => (RouteSource::Kernel, None),
        None if p.peer == LOCAL => (RouteSource::Local, None),
        None => (RouteSource::Bgp, None),
    };
    RouteCtx::of(prefix.net(), nh_addr(ra.nh.as_ref()), source, pt, &ra.attrs)
}

/// Compare the FIB state the decision gives with the installed one and emit the change:
/// removals of blackholes after the sends, everything else before. `allowed`: the kernel
/// filter lets the best route in.
fn update_fib(
    attrs: &Interner,
    nhs: &mut NhSets,
    d: &mut Dest,
    allowed: bool,
    out: &mut RibOutput,
) {
    let new = match d.best().filter(|_| allowed) {
        None => fib::NONE,
        Some(b) if b.peer == LOCAL => {
            if b.has(flag::BLACKHOLE) {
                fib::BLACKHOLE
            } else {
                fib::NONE
            }
        }
        Some(b) if !b.has(flag::MULTIPATH) => match fib_next_hop(attrs, b) {
            Some(nh) => nhs.intern(&[nh]),
            None => fib::NONE,
        },
        Some(_) => {
            let mut set: SmallVec<[IpAddr; 4]> = d
                .paths
                .iter()
                .filter(|p| p.has(flag::MULTIPATH))
                .filter_map(|p| fib_next_hop(attrs, p))
                .collect();
            set.sort_unstable();
            set.dedup();
            if set.is_empty() {
                fib::NONE
            } else {
                nhs.intern(&set)
            }
        }
    };
    if new == d.fib {
        nhs.dec(new);
        return;
    }
    let old = std::mem::replace(&mut d.fib, new);
    match new {
        fib::NONE if old == fib::BLACKHOLE => out.fib_after.push(FibChange::Remove(d.prefix())),
        fib::NONE => out.fib.push(FibChange::Remove(d.prefix())),
        _ => out.fib.push(FibChange::Upsert(FibRoute {
            prefix: d.prefix(),
            kind: fib_kind(nhs, new),
        })),
    }
    nhs.dec(old);
}

pub(super) fn fib_kind(nhs: &NhSets, state: u32) -> FibKind {
    if state == fib::BLACKHOLE {
        FibKind::Blackhole
    } else {
        FibKind::Unicast(nhs.shared(state))
    }
}
