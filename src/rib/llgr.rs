//! Long-lived graceful restart as the receiving speaker (RFC 9494 §4.2, §4.3): the data
//! side. The speaker owns the timers and calls in here when a peer's graceful-restart
//! time runs out (or at once when there was none) and when a long-lived stale time ends.
//!
//! ```text
//!  session down ──> stale (RFC 4724) ──GR time over──> llgr_begin: per LLGR family,
//!                                                       LLGR_STALE attached, least preferred,
//!                                                       sent only to LLGR peers (export.rs)
//!   other families, NO_LLGR paths: removed <────────────┘     │
//!                      End-of-RIB / llgr_expired(family) ─────┴──> removed
//! ```
//!
//! A long-lived stale path is marked with the LLGR_STALE community in its attributes (so
//! the decision process and the export rules see it like a received one, through
//! [`Keys::wk`](super::intern::Keys)); it keeps the `STALE` flag, so End-of-RIB, a fresh
//! announcement and the timers treat it as a stale path.

use super::export::family;
use super::intern::{wk, AttrId};
use super::table::flag;
use super::{PeerId, Rib};
use crate::hash::FastSet;
use crate::wire::Family;

/// RFC 9494 §3.2: the LLGR_STALE well-known community, 65535:6.
pub const LLGR_STALE: u32 = 0xFFFF_0006;
/// RFC 9494 §3.3: the NO_LLGR well-known community, 65535:7.
pub const NO_LLGR: u32 = 0xFFFF_0007;

// ===== impl Rib =====

impl Rib {
    /// RFC 9494 §4.2: the peer's graceful-restart time is over (or there was none): its
    /// stale paths of `families` (those with LLGR negotiated and a long-lived stale time)
    /// stay as long-lived stale, with LLGR_STALE attached; its stale paths of other
    /// families, and those carrying NO_LLGR (§3.3), are removed.
    pub fn llgr_begin(&mut self, peer: PeerId, families: &[Family]) {
        let no_llgr = self.stale_attrs_with(peer, wk::NO_LLGR);
        self.drop_paths(peer, |p, v6| {
            p.has(flag::STALE) && (!families.contains(&family(v6)) || no_llgr.contains(&p.attr))
        });
        for di in 0..self.table.end() {
            let Some(d) = self.table.get_mut(di) else {
                continue;
            };
            let mut changed = false;
            for p in d.paths.iter_mut() {
                if p.peer != peer || !p.has(flag::STALE) {
                    continue;
                }
                if self.attrs.keys(p.attr).wk & wk::LLGR_STALE != 0 {
                    continue; // already long-lived stale (or received so)
                }
                let mut ra = self.attrs.get(p.attr).clone();
                ra.attrs
                    .communities
                    .get_or_insert_with(Vec::new)
                    .push(LLGR_STALE);
                let id = self.attrs.intern(ra);
                self.attrs.dec(p.attr);
                p.attr = id;
                changed = true;
            }
            if changed {
                self.table.mark(di);
            }
        }
    }

    /// RFC 9494 §4.2: the long-lived stale time of `family` ran out: the peer's stale
    /// paths of that family are removed. A peer that is down and has no stale path left
    /// is forgotten.
    pub fn llgr_expired(&mut self, peer: PeerId, fam: Family) {
        if self.peers.get(&peer).is_some_and(|ps| ps.stale > 0) {
            self.drop_paths(peer, |p, v6| p.has(flag::STALE) && family(v6) == fam);
        }
        if self
            .peers
            .get(&peer)
            .is_some_and(|ps| !ps.up && ps.stale == 0)
        {
            self.peers.remove(&peer);
        }
    }

    /// The attribute sets of the peer's stale paths that carry a well-known community.
    fn stale_attrs_with(&self, peer: PeerId, bit: u8) -> FastSet<AttrId> {
        let mut out = FastSet::default();
        for d in self.table.iter() {
            for p in d.paths.iter() {
                if p.peer == peer && p.has(flag::STALE) && self.attrs.keys(p.attr).wk & bit != 0 {
                    out.insert(p.attr);
                }
            }
        }
        out
    }
}
