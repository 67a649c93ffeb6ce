//! Live changes of an Established peer's settings (a config reload that needs no session
//! reset): the import side is re-checked against the paths already held (the Adj-RIB-In
//! keeps rejected paths, so no ROUTE-REFRESH is needed), and the export side is redone
//! by moving the peer to the update group of its new settings. What the peer held before
//! and no longer gets is withdrawn after its new table is sent.

use super::export::{GroupKey, Src};
use super::out::{encode_batch, Batch};
use super::table::Reject;
use super::{Outgoing, PeerId, PeerInfo, Prefix, Rib};

// ===== impl Rib =====

impl Rib {
    /// The settings the RIB holds for an Established peer.
    pub fn peer_info(&self, peer: PeerId) -> Option<&PeerInfo> {
        self.peers.get(&peer).filter(|ps| ps.up).map(|ps| &ps.info)
    }

    /// New settings for an Established peer (`info.id`), applied at the next flush:
    /// import re-checked, the paths it sent re-exported to others if route reflection
    /// changed, and its own exports redone when they differ (or when `reexport`: a policy
    /// it uses changed).
    pub fn reconfigure_peer(&mut self, info: PeerInfo, reexport: bool) {
        let id = info.id;
        let Some(ps) = self.peers.get_mut(&id).filter(|ps| ps.up) else {
            return;
        };
        let old_key = GroupKey::of(&ps.info);
        let reimport = reexport || ps.info.import != info.import;
        let src = Src::of(&info);
        let src_changed = src != ps.src;
        ps.src = src;
        ps.info = info;
        let new_key = GroupKey::of(&ps.info);
        if reimport {
            self.reimport(id);
        }
        if src_changed {
            self.mark_paths_of(id);
        }
        if reexport || old_key != new_key {
            let had = self.adj_out_keys(id);
            self.leave_group(id);
            self.join_group(id);
            self.rejoined.push((id, had));
        }
    }

    /// RFC 4456 §7: a new CLUSTER_ID (a node made or unmade a route reflector), applied
    /// at the next flush without a session reset: every peer's paths are re-checked
    /// against it (§8 loop detection) and every peer's exports redone (reflected routes
    /// carry it in their CLUSTER_LIST).
    pub fn set_cluster_id(&mut self, id: std::net::Ipv4Addr) {
        if self.cfg.cluster_id == id {
            return;
        }
        self.cfg.cluster_id = id;
        let up: Vec<PeerInfo> = self
            .peers
            .values()
            .filter(|ps| ps.up)
            .map(|ps| ps.info.clone())
            .collect();
        for info in up {
            self.reconfigure_peer(info, true);
        }
    }

    /// Re-run the import checks on every path of `peer`.
    fn reimport(&mut self, peer: PeerId) {
        let Some(ps) = self.peers.get(&peer) else {
            return;
        };
        let mut accepted: i64 = 0;
        let mut marks = Vec::new();
        for di in 0..self.table.end() {
            let Some(d) = self.table.get_mut(di) else {
                continue;
            };
            let mut changed = false;
            for p in d.paths.iter_mut().filter(|p| p.peer == peer) {
                let ra = self.attrs.get(p.attr);
                let r = super::adj_in::check(&self.cfg, ps, &ra.attrs, ra.nh.as_ref());
                if r != p.reject {
                    accepted += (r == Reject::None) as i64 - p.eligible() as i64;
                    p.reject = r;
                    changed = true;
                }
            }
            if changed {
                marks.push(di);
            }
        }
        for di in marks {
            self.table.mark(di);
        }
        if let Some(ps) = self.peers.get_mut(&peer) {
            ps.accepted = (ps.accepted as i64 + accepted).max(0) as u64;
        }
    }

    /// Queue every prefix `peer` sent for a new decision and export.
    fn mark_paths_of(&mut self, peer: PeerId) {
        let marks: Vec<_> = (0..self.table.end())
            .filter(|&di| {
                self.table
                    .get(di)
                    .is_some_and(|d| d.paths.iter().any(|p| p.peer == peer))
            })
            .collect();
        for di in marks {
            self.table.mark(di);
        }
    }

    /// The (prefix, path identifier) entries in the peer's Adj-RIB-Out.
    fn adj_out_keys(&self, peer: PeerId) -> Vec<(Prefix, u32)> {
        let Some(gi) = self.peers.get(&peer).and_then(|ps| ps.group) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for d in self.table.iter().filter(|d| d.has_entries(gi)) {
            for e in d.entries(gi).iter().filter(|e| !e.except.contains(&peer)) {
                out.push((d.prefix(), e.id));
            }
        }
        out
    }

    /// After the full table went to the peers that changed group (flush): withdraw what
    /// they held before and do not hold now.
    pub(super) fn withdraw_left_over(&mut self, sends: &mut Vec<Outgoing>) {
        for (peer, had) in std::mem::take(&mut self.rejoined) {
            let now: crate::hash::FastSet<(Prefix, u32)> =
                self.adj_out_keys(peer).into_iter().collect();
            let Some(g) = self
                .peers
                .get(&peer)
                .and_then(|ps| ps.group)
                .and_then(|gi| self.groups.get(gi as usize)?.as_ref())
            else {
                continue;
            };
            let mut b = Batch::default();
            for (prefix, id) in had.into_iter().filter(|k| !now.contains(k)) {
                b.add(prefix, id, None);
            }
            if b.is_empty() {
                continue;
            }
            let mut bytes = Vec::new();
            encode_batch(&self.attrs, &g.ctx, &b, &mut bytes);
            sends.push(Outgoing {
                peers: vec![peer],
                bytes: bytes.into(),
            });
        }
    }
}
