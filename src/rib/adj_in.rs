//! The import side: Adj-RIB-In per peer keyed by (prefix, path identifier) (RFC 4271 §3.2,
//! RFC 7911), with the import checks, RFC 7606 outcomes, graceful-restart stale paths
//! (RFC 4724 §4.2), AFI/SAFI disable (RFC 4760 §7) and the prefix limit (RFC 4486 §4).
//!
//! Nothing is decided here: changed prefixes are queued for the next flush.

use super::export::family;
use super::intern::{AttrId, RouteAttrs};
use super::table::{flag, Path, Reject};
use super::{Filter, PeerId, PeerState, Prefix, Rib, LOCAL};
use crate::config::{PeerType, RouteSource};
use crate::policy::{Policy, RouteCtx};
use crate::wire::error::{cease_sub, code};
use crate::wire::update::disabled_family;
use crate::wire::{
    AsPath, Attrs, Family, Finding, MpNlri, NextHop, NotificationMsg, Origin, Treatment, UpdateMsg,
};

/// Changes to a peer's counters during one input.
#[derive(Debug, Default, Clone, Copy)]
struct Delta {
    received: i64,
    accepted: i64,
    stale: i64,
}

// ===== impl Rib =====

impl Rib {
    pub(super) fn apply_update(&mut self, peer: PeerId, msg: UpdateMsg, findings: &[Finding]) {
        match self.peers.get(&peer) {
            Some(ps) if ps.up && !ps.stopped => {}
            _ => return,
        }
        // An UPDATE whose only MP attribute was dropped (AFI/SAFI disable) may look empty:
        // with findings it is not an End-of-RIB.
        if let Some(f) = msg.end_of_rib().filter(|_| findings.is_empty()) {
            // RFC 4724 §4.2: End-of-RIB ends the family's stale paths.
            if self.peers.get(&peer).is_some_and(|ps| ps.stale > 0) {
                self.drop_paths(peer, |p, v6| p.has(flag::STALE) && family(v6) == f);
            }
            return;
        }
        for f in findings.iter().filter_map(disabled_family) {
            self.disable_family(peer, f);
        }
        // RFC 7606 §2: treat-as-withdraw withdraws every NLRI the UPDATE carries.
        let taw = findings
            .iter()
            .any(|f| f.treatment == Treatment::TreatAsWithdraw);
        let mut delta = Delta::default();
        let UpdateMsg {
            withdrawn,
            attrs,
            mp_reach,
            mp_unreach,
            nlri,
            ..
        } = msg;
        if self.accepts(peer, Family::IPV4_UNICAST) {
            let w = withdrawn.iter().map(|n| (Prefix::V4(n.prefix), n.path_id));
            self.withdraw_all(peer, w, &mut delta);
        }
        if let Some(u) = mp_unreach.filter(|u| self.accepts(peer, u.family)) {
            self.withdraw_mp(peer, &u.withdrawn, &mut delta);
        }
        if !nlri.is_empty() && self.accepts(peer, Family::IPV4_UNICAST) {
            let items = nlri.iter().map(|n| (Prefix::V4(n.prefix), n.path_id));
            let nh = attrs.next_hop.map(NextHop::V4);
            self.reach(peer, &attrs, nh, taw, items, &mut delta);
        }
        if let Some(r) = mp_reach.filter(|r| self.accepts(peer, r.family)) {
            let nh = Some(r.next_hop);
            match r.nlri {
                MpNlri::V4(v) => {
                    let items = v.iter().map(|n| (Prefix::V4(n.prefix), n.path_id));
                    self.reach(peer, &attrs, nh, taw, items, &mut delta);
                }
                MpNlri::V6(v) => {
                    let items = v.iter().map(|n| (Prefix::V6(n.prefix), n.path_id));
                    self.reach(peer, &attrs, nh, taw, items, &mut delta);
                }
                MpNlri::Raw(_) => {}
            }
        }
        self.apply_delta(peer, delta);
    }

    /// RFC 4760 §6: NLRI of a family that was not negotiated are ignored; so are those of
    /// a family disabled by RFC 7606 / RFC 4760 §7, and families wren does not route.
    fn accepts(&self, peer: PeerId, f: Family) -> bool {
        let unicast = f == Family::IPV4_UNICAST || f == Family::IPV6_UNICAST;
        self.peers.get(&peer).is_some_and(|ps| {
            unicast && ps.info.neg.families.contains(&f) && !ps.disabled.contains(&f)
        })
    }

    /// RFC 4760 §7 AFI/SAFI disable: forget the peer's routes of the family and ignore it
    /// from now on.
    fn disable_family(&mut self, peer: PeerId, f: Family) {
        if let Some(ps) = self.peers.get_mut(&peer) {
            if !ps.disabled.contains(&f) {
                ps.disabled.push(f);
            }
        }
        self.drop_paths(peer, |_, v6| family(v6) == f);
    }

    fn withdraw_mp(&mut self, peer: PeerId, w: &MpNlri, delta: &mut Delta) {
        match w {
            MpNlri::V4(v) => {
                let w = v.iter().map(|n| (Prefix::V4(n.prefix), n.path_id));
                self.withdraw_all(peer, w, delta)
            }
            MpNlri::V6(v) => {
                let w = v.iter().map(|n| (Prefix::V6(n.prefix), n.path_id));
                self.withdraw_all(peer, w, delta)
            }
            MpNlri::Raw(_) => {}
        }
    }

    /// Announcements sharing one attribute set and next hop.
    fn reach(
        &mut self,
        peer: PeerId,
        attrs: &Attrs,
        nh: Option<NextHop>,
        taw: bool,
        items: impl Iterator<Item = (Prefix, u32)>,
        delta: &mut Delta,
    ) {
        if taw {
            return self.withdraw_all(peer, items, delta);
        }
        let Some(ps) = self.peers.get(&peer) else {
            return;
        };
        let (ra, reject) = import(&self.cfg, ps, attrs, nh);
        if let (Filter::Policy(pol), Reject::None) = (&ps.info.import, reject) {
            let (pol, ibgp) = (pol.clone(), ps.info.ibgp);
            return self.reach_policy(peer, &pol, ibgp, ra, items, delta);
        }
        let id = self.attrs.intern(ra);
        self.insert_all(peer, id, reject, items, delta);
        self.attrs.dec(id);
    }

    /// [`Rib::reach`] through an import policy: decided per prefix. A rejected path is
    /// kept with its received attributes (ineligible, like BIRD's filtered routes); an
    /// accepted one gets the policy's changes.
    fn reach_policy(
        &mut self,
        peer: PeerId,
        pol: &Policy,
        ibgp: bool,
        ra: RouteAttrs,
        items: impl Iterator<Item = (Prefix, u32)>,
        delta: &mut Delta,
    ) {
        let base = self.attrs.intern(ra.clone());
        let pt = if ibgp { PeerType::Ibgp } else { PeerType::Ebgp };
        let nh = super::flush::nh_addr(ra.nh.as_ref());
        for item in items {
            let ctx = RouteCtx::of(item.0.net(), nh, RouteSource::Bgp, Some(pt), &ra.attrs);
            let d = pol.decide(&ctx);
            let (id, reject) = match (d.accept, d.changes.is_empty()) {
                (false, _) => (base, Reject::Policy),
                (true, true) => (base, Reject::None),
                (true, false) => {
                    let mut changed = ra.clone();
                    d.changes.apply(&mut changed.attrs);
                    (self.attrs.intern(changed), Reject::None)
                }
            };
            self.insert_all(peer, id, reject, std::iter::once(item), delta);
            if id != base {
                self.attrs.dec(id);
            }
            if self.peers.get(&peer).is_some_and(|ps| ps.stopped) {
                break;
            }
        }
        self.attrs.dec(base);
    }

    /// Store the paths; stops at the prefix limit.
    fn insert_all(
        &mut self,
        peer: PeerId,
        attr: AttrId,
        reject: Reject,
        items: impl Iterator<Item = (Prefix, u32)>,
        delta: &mut Delta,
    ) {
        let Some(ps) = self.peers.get(&peer) else {
            return;
        };
        let limit = ps.info.max_prefix.map(u64::from);
        let base = ps.accepted;
        let ok = reject == Reject::None;
        // First find (or make) every dest, then fill them: the hash-table probes of one
        // UPDATE run back to back and their cache misses overlap.
        let mut ids = std::mem::take(&mut self.scratch);
        ids.clear();
        ids.extend(items.map(|(p, id)| (self.table.get_or_create(p), id)));
        for (n, &(di, path_id)) in ids.iter().enumerate() {
            let Some(d) = self.table.get_mut(di) else {
                continue;
            };
            let idx = d.find(peer, path_id);
            let gains = ok && idx.is_none_or(|i| !d.paths[i].eligible());
            let accepted = (base as i64 + delta.accepted) as u64;
            if gains && limit.is_some_and(|l| accepted >= l) {
                let prefix = d.prefix();
                for &(rest, _) in &ids[n..] {
                    self.table.gc(rest);
                }
                self.trip_max_prefix(peer, prefix);
                break;
            }
            match idx {
                Some(i) => {
                    if let Some(old) = replace(&mut d.paths[i], attr, reject, delta) {
                        self.attrs.inc(attr);
                        self.attrs.dec(old);
                        self.table.mark(di);
                    }
                }
                None => {
                    let local_id = d.next_local_id();
                    d.paths.push(Path {
                        peer,
                        path_id,
                        attr,
                        local_id,
                        flags: 0,
                        reject,
                    });
                    delta.received += 1;
                    delta.accepted += ok as i64;
                    self.attrs.inc(attr);
                    self.table.mark(di);
                }
            }
        }
        self.scratch = ids;
    }

    fn withdraw_all(
        &mut self,
        peer: PeerId,
        items: impl Iterator<Item = (Prefix, u32)>,
        delta: &mut Delta,
    ) {
        for (prefix, path_id) in items {
            let Some(di) = self.table.lookup(&prefix) else {
                continue;
            };
            let Some(d) = self.table.get_mut(di) else {
                continue;
            };
            let Some(i) = d.find(peer, path_id) else {
                continue;
            };
            let p = d.paths.remove(i);
            count_removed(&p, delta);
            self.attrs.dec(p.attr);
            self.table.mark(di);
        }
    }

    /// RFC 4486 §4: Cease, "Maximum Number of Prefixes Reached", data AFI, SAFI and the
    /// limit. The peer's further input is ignored until the session is down.
    fn trip_max_prefix(&mut self, peer: PeerId, prefix: Prefix) {
        let Some(ps) = self.peers.get_mut(&peer) else {
            return;
        };
        let f = family(matches!(prefix, Prefix::V6(_)));
        let mut data = Vec::with_capacity(7);
        data.extend_from_slice(&f.afi.to_be_bytes());
        data.push(f.safi);
        data.extend_from_slice(&ps.info.max_prefix.unwrap_or(0).to_be_bytes());
        ps.stopped = true;
        let n = NotificationMsg::new(code::CEASE, cease_sub::MAX_PREFIXES, data);
        self.stop.push((peer, n));
    }

    fn apply_delta(&mut self, peer: PeerId, d: Delta) {
        if let Some(ps) = self.peers.get_mut(&peer) {
            ps.received = (ps.received as i64 + d.received).max(0) as u64;
            ps.accepted = (ps.accepted as i64 + d.accepted).max(0) as u64;
            ps.stale = (ps.stale as i64 + d.stale).max(0) as u64;
        }
    }

    /// Remove the peer's paths that match `pred` (a scan of the whole table).
    pub(super) fn drop_paths(&mut self, peer: PeerId, pred: impl Fn(&Path, bool) -> bool) {
        let mut delta = Delta::default();
        for di in 0..self.table.end() {
            let Some(d) = self.table.get_mut(di) else {
                continue;
            };
            let before = d.paths.len();
            let mut gone = smallvec::SmallVec::<[Path; 2]>::new();
            let v6 = d.is_v6();
            d.paths.retain(|p| {
                let drop = p.peer == peer && pred(p, v6);
                if drop {
                    gone.push(*p);
                }
                !drop
            });
            if d.paths.len() == before {
                continue;
            }
            for p in &gone {
                count_removed(p, &mut delta);
                self.attrs.dec(p.attr);
            }
            self.table.mark(di);
        }
        self.apply_delta(peer, delta);
    }

    /// RFC 4724 §4.2: keep the peer's paths, marked stale.
    pub(super) fn mark_stale(&mut self, peer: PeerId) {
        let mut n = 0;
        for d in self.table.iter_mut() {
            for p in d.paths.iter_mut().filter(|p| p.peer == peer) {
                if !p.has(flag::STALE) {
                    p.flags |= flag::STALE;
                    n += 1;
                }
            }
        }
        self.apply_delta(
            peer,
            Delta {
                stale: n,
                ..Delta::default()
            },
        );
    }

    /// Originate `prefix` (or change its blackhole flag).
    pub(super) fn add_local(&mut self, prefix: Prefix, blackhole: bool) {
        let attr = self.local_attr();
        let di = self.table.get_or_create(prefix);
        let Some(d) = self.table.get_mut(di) else {
            return;
        };
        let bh = if blackhole { flag::BLACKHOLE } else { 0 };
        match d.find(LOCAL, 0) {
            Some(i) if d.paths[i].flags & flag::BLACKHOLE == bh => return,
            Some(i) => d.paths[i].flags = (d.paths[i].flags & !flag::BLACKHOLE) | bh,
            None => {
                let local_id = d.next_local_id();
                d.paths.push(Path {
                    peer: LOCAL,
                    path_id: 0,
                    attr,
                    local_id,
                    flags: bh,
                    reject: Reject::None,
                });
                self.attrs.inc(attr);
            }
        }
        self.table.mark(di);
    }

    pub(super) fn remove_local(&mut self, prefix: Prefix) {
        let mut delta = Delta::default();
        self.withdraw_all(LOCAL, std::iter::once((prefix, 0)), &mut delta);
    }

    /// The interned attributes of originated routes (one reference kept for good).
    fn local_attr(&mut self) -> AttrId {
        if let Some(id) = self.local_attr {
            return id;
        }
        let ra = RouteAttrs {
            attrs: Attrs {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::default()),
                ..Attrs::default()
            },
            nh: None,
        };
        let id = self.attrs.intern(ra);
        self.local_attr = Some(id);
        id
    }
}

// ===== helper functions =====

/// Replace a path's attributes. `None`: nothing changed; `Some(old)`: the old attribute
/// id to release.
fn replace(p: &mut Path, attr: AttrId, reject: Reject, delta: &mut Delta) -> Option<AttrId> {
    if p.has(flag::STALE) {
        // RFC 4724 §4.2: a path received again after the restart is no longer stale.
        p.flags &= !flag::STALE;
        delta.stale -= 1;
    }
    if p.attr == attr && p.reject == reject {
        return None;
    }
    delta.accepted += (reject == Reject::None) as i64 - p.eligible() as i64;
    let old = p.attr;
    p.attr = attr;
    p.reject = reject;
    Some(old)
}

fn count_removed(p: &Path, delta: &mut Delta) {
    if p.peer == LOCAL {
        return;
    }
    delta.received -= 1;
    delta.accepted -= p.eligible() as i64;
    delta.stale -= p.has(flag::STALE) as i64;
}

/// The import side of one attribute set: normalised attributes and next hop, and
/// whether the path may be a candidate.
fn import(
    cfg: &super::RibCfg,
    ps: &PeerState,
    attrs: &Attrs,
    nh: Option<NextHop>,
) -> (RouteAttrs, Reject) {
    let info = &ps.info;
    let mut a = attrs.clone();
    a.next_hop = None;
    if !info.neg.as4 {
        // RFC 6793 §4.2.3: the real path of a 2-octet ("OLD") speaker.
        let path = a.effective_as_path().map(|p| p.into_owned());
        a.aggregator = a.effective_aggregator();
        a.as_path = path;
    }
    a.as4_path = None;
    a.as4_aggregator = None;
    if !info.ibgp {
        // RFC 7606 §7.5: LOCAL_PREF from an external peer is disregarded; §7.9, §7.10:
        // ORIGINATOR_ID and CLUSTER_LIST from an external peer are discarded.
        a.local_pref = None;
        a.originator_id = None;
        a.cluster_list = None;
    }
    let reject = check(cfg, ps, &a, nh.as_ref());
    (RouteAttrs { attrs: a, nh }, reject)
}

/// The checks that make a path ineligible (kept, but not a candidate).
pub(super) fn check(
    cfg: &super::RibCfg,
    ps: &PeerState,
    a: &Attrs,
    nh: Option<&NextHop>,
) -> Reject {
    let info = &ps.info;
    let in_path = |asn: u32| {
        a.as_path
            .iter()
            .flat_map(|p| p.segments.iter())
            .any(|s| s.asns.contains(&asn))
    };
    if info.import == Filter::RejectAll {
        Reject::Filter
    } else if in_path(cfg.local_as) {
        // RFC 4271 §9.1.2: a route whose AS_PATH contains our AS is not used.
        Reject::AsLoop
    } else if info.ibgp && a.originator_id == Some(cfg.router_id) {
        Reject::Originator
    } else if info.ibgp
        && a.cluster_list
            .iter()
            .flatten()
            .any(|&c| c == cfg.cluster_id)
    {
        Reject::Cluster
    } else if !usable(nh, info) {
        Reject::NextHop
    } else {
        Reject::None
    }
}

/// RFC 4271 §5.1.3 / RFC 7606 §7.3: a next hop that is one of our own addresses on the
/// session, unspecified, or of a kind wren cannot forward to, makes the route unusable.
fn usable(nh: Option<&NextHop>, info: &super::PeerInfo) -> bool {
    match nh {
        Some(NextHop::V4(a)) => !a.is_unspecified() && std::net::IpAddr::V4(*a) != info.local,
        Some(NextHop::V6 { global, link_local }) => {
            let g = std::net::IpAddr::V6(*global);
            (!global.is_unspecified() && g != info.local) || link_local.is_some()
        }
        _ => false,
    }
}
