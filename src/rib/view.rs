//! The read side: `explain`, `paths`, `advertised`, `counts`, `fib`.

use smallvec::SmallVec;

use super::decision::{lost_reason, rank, select, won_reason, Cand};
use super::flush::{cand, fib_kind, nh_addr};
use super::intern::RouteAttrs;
use super::table::{fib, flag, Dest, Path, Reject};
use super::{FibRoute, PathView, PeerCounts, PeerId, Prefix, Rib};
use crate::wire::NextHop;

// ===== impl Rib =====

impl Rib {
    /// Every path of `d`, best first, with its reason.
    pub(super) fn explain_dest(&self, d: &Dest) -> Vec<PathView> {
        let elig: SmallVec<[usize; 4]> = (0..d.paths.len())
            .filter(|&i| d.paths[i].eligible())
            .collect();
        let cands: SmallVec<[Cand; 4]> = elig
            .iter()
            .map(|&i| cand(&self.cfg, &self.attrs, &self.peers, &d.paths[i]))
            .collect();
        let mut views = Vec::with_capacity(d.paths.len());
        if !cands.is_empty() {
            let o = select(&cands);
            let order = rank(&cands);
            for (pos, &ci) in order.iter().enumerate() {
                let reason = if pos == 0 {
                    won_reason(&cands[ci], order.get(1).map(|&j| &cands[j]))
                } else {
                    match o.lost.iter().find(|(i, _)| *i == ci) {
                        Some(&(_, step)) => lost_reason(step, &cands[ci], &cands[o.best]),
                        None => "not preferred".into(),
                    }
                };
                views.push(self.view(d, &d.paths[elig[ci]], reason));
            }
        }
        for p in d.paths.iter().filter(|p| !p.eligible()) {
            let why = match p.reject {
                Reject::Policy => self.import_reason(d, p),
                _ => None,
            };
            let why = why.unwrap_or_else(|| p.reject.why().to_string());
            views.push(self.view(d, p, format!("not eligible: {why}")));
        }
        views
    }

    fn view(&self, d: &Dest, p: &Path, reason: String) -> PathView {
        let (next_hop, attrs) = shown(self.attrs.get(p.attr));
        PathView {
            prefix: d.prefix(),
            peer: p.peer,
            path_id: p.path_id,
            next_hop,
            attrs,
            best: p.has(flag::BEST),
            multipath: p.has(flag::MULTIPATH),
            stale: p.has(flag::STALE),
            llgr_stale: self.attrs.keys(p.attr).wk & super::intern::wk::LLGR_STALE != 0,
            reason,
        }
    }

    pub(super) fn explain_prefix(&self, prefix: &Prefix) -> Vec<PathView> {
        self.table
            .lookup(prefix)
            .and_then(|di| self.table.get(di))
            .map(|d| self.explain_dest(d))
            .unwrap_or_default()
    }

    /// Live dests in prefix order.
    fn sorted(&self) -> Vec<&Dest> {
        let mut v: Vec<&Dest> = self.table.iter().collect();
        v.sort_unstable_by_key(|d| d.prefix());
        v
    }

    pub(super) fn all_paths(&self, peer: Option<PeerId>) -> Vec<PathView> {
        let mut out = Vec::new();
        for d in self.sorted() {
            if d.paths.iter().all(|p| peer.is_some_and(|q| p.peer != q)) {
                continue;
            }
            let v = self.explain_dest(d);
            out.extend(v.into_iter().filter(|v| peer.is_none_or(|q| v.peer == q)));
        }
        out
    }

    pub(super) fn adj_out(&self, peer: PeerId) -> Vec<PathView> {
        let Some(gi) = self.peers.get(&peer).and_then(|ps| ps.group) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for d in self.sorted() {
            if !d.has_entries(gi) {
                continue;
            }
            for e in d.entries(gi).iter().filter(|e| !e.except.contains(&peer)) {
                let (next_hop, attrs) = shown(self.attrs.get(e.out));
                out.push(PathView {
                    prefix: d.prefix(),
                    peer,
                    path_id: e.id,
                    next_hop,
                    attrs,
                    best: true,
                    multipath: false,
                    stale: false,
                    llgr_stale: false,
                    reason: "advertised to this peer".into(),
                });
            }
        }
        out
    }

    pub(super) fn peer_counts(&self, peer: PeerId) -> PeerCounts {
        let Some(ps) = self.peers.get(&peer) else {
            return PeerCounts::default();
        };
        let advertised = ps
            .group
            .and_then(|gi| self.groups.get(gi as usize)?.as_ref())
            .and_then(|g| Some(g.entries.saturating_sub(g.member(peer)?.excepted)))
            .unwrap_or(0);
        PeerCounts {
            received: ps.received,
            accepted: ps.accepted,
            advertised,
            stale: ps.stale,
        }
    }

    pub(super) fn fib_routes(&self) -> Vec<FibRoute> {
        self.sorted()
            .into_iter()
            .filter(|d| d.fib != fib::NONE)
            .map(|d| FibRoute {
                prefix: d.prefix(),
                kind: fib_kind(&self.nhs, d.fib),
            })
            .collect()
    }

    /// Number of live prefixes and of interned attribute sets (for tests and metrics).
    pub fn sizes(&self) -> (usize, usize) {
        (self.table.len(), self.attrs.len())
    }
}

// ===== helper functions =====

/// The next hop and the attributes to show (NEXT_HOP filled in for an IPv4 next hop).
fn shown(ra: &RouteAttrs) -> (Option<std::net::IpAddr>, crate::wire::Attrs) {
    let mut attrs = ra.attrs.clone();
    if let Some(NextHop::V4(a)) = ra.nh {
        attrs.next_hop = Some(a);
    }
    (nh_addr(ra.nh.as_ref()), attrs)
}
