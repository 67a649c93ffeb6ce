//! Hash-consed attribute sets with reference counts.
//!
//! Every path points at one interned [`RouteAttrs`] (attributes plus next hop), and every
//! Adj-RIB-Out entry at one interned exported set. An UPDATE carries one attribute set for
//! all its NLRI, so it is hashed once per UPDATE, not once per prefix. The decision keys
//! ([`Keys`]) are computed once per set.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::hash::FastMap;
use crate::wire::{Attrs, NextHop, SegmentKind};

/// An interned attribute set: the path attributes (NEXT_HOP left out) and the next hop,
/// from NEXT_HOP or MP_REACH_NLRI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    pub attrs: Attrs,
    pub nh: Option<NextHop>,
}

/// What the decision process and the export rules read, computed once per set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// LOCAL_PREF, 100 when absent (RFC 4271 §9.1.1; eBGP-learned sets have it removed).
    pub local_pref: u32,
    /// RFC 4271 §9.1.2.2 a: AS_SET counts 1, confederation segments 0.
    pub as_path_len: u32,
    pub origin: u8,
    /// Missing MED counts as 0 (RFC 4271 §9.1.2.2 c).
    pub med: u32,
    /// The leftmost AS of the path; 0 for an empty path (our own AS).
    pub neighbor_as: u32,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_len: u32,
    /// Well-known communities, [`wk`] bits.
    pub wk: u8,
}

/// Well-known community bits in [`Keys::wk`] (RFC 1997, RFC 9494).
pub mod wk {
    pub const NO_EXPORT: u8 = 1;
    pub const NO_ADVERTISE: u8 = 2;
    pub const NO_EXPORT_SUBCONFED: u8 = 4;
    /// RFC 9494 §3.2 LLGR_STALE (65535:6).
    pub const LLGR_STALE: u8 = 8;
    /// RFC 9494 §3.3 NO_LLGR (65535:7).
    pub const NO_LLGR: u8 = 16;
}

/// Id of an interned set.
pub type AttrId = u32;

struct Slot {
    ra: Arc<RouteAttrs>,
    keys: Keys,
    refs: u32,
}

/// The attribute interner.
#[derive(Default)]
pub struct Interner {
    slots: Vec<Option<Slot>>,
    free: Vec<AttrId>,
    map: FastMap<Arc<RouteAttrs>, AttrId>,
}

/// A sorted set of FIB next hops.
/// Shared: every FIB route through the set holds the same allocation
/// ([`NhSets::shared`]), not a copy of its own.
pub type NhSet = std::sync::Arc<[IpAddr]>;

/// Interned next-hop sets, so a prefix's FIB state is one `u32` to compare.
#[derive(Default)]
pub struct NhSets {
    sets: Vec<(NhSet, u32)>,
    free: Vec<u32>,
    map: FastMap<NhSet, u32>,
    last: Option<(IpAddr, u32)>,
}

// ===== impl Keys =====

impl Keys {
    pub fn of(ra: &RouteAttrs) -> Keys {
        let a = &ra.attrs;
        let (as_path_len, neighbor_as) = match &a.as_path {
            Some(p) => (p.path_len() as u32, neighbor_as(p)),
            None => (0, 0),
        };
        let mut wk = 0;
        for &c in a.communities.iter().flatten() {
            wk |= match c {
                0xFFFF_FF01 => wk::NO_EXPORT,
                0xFFFF_FF02 => wk::NO_ADVERTISE,
                0xFFFF_FF03 => wk::NO_EXPORT_SUBCONFED,
                0xFFFF_0006 => wk::LLGR_STALE,
                0xFFFF_0007 => wk::NO_LLGR,
                _ => 0,
            };
        }
        Keys {
            local_pref: a.local_pref.unwrap_or(100),
            as_path_len,
            origin: a.origin.map_or(0, |o| o as u8),
            med: a.med.unwrap_or(0),
            neighbor_as,
            originator_id: a.originator_id,
            cluster_len: a.cluster_list.as_ref().map_or(0, |c| c.len() as u32),
            wk,
        }
    }
}

// ===== impl Interner =====

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Interner({} sets)", self.map.len())
    }
}

impl Interner {
    /// The id of `ra`, with one more reference (the caller's).
    pub fn intern(&mut self, ra: RouteAttrs) -> AttrId {
        if let Some(&id) = self.map.get(&ra) {
            self.inc(id);
            return id;
        }
        let keys = Keys::of(&ra);
        let ra = Arc::new(ra);
        let slot = Slot {
            ra: ra.clone(),
            keys,
            refs: 1,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(slot);
                id
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as AttrId
            }
        };
        self.map.insert(ra, id);
        id
    }

    #[inline]
    pub fn inc(&mut self, id: AttrId) {
        if let Some(Some(s)) = self.slots.get_mut(id as usize) {
            s.refs += 1;
        }
    }

    /// Drop one reference; the set is forgotten with its last one.
    pub fn dec(&mut self, id: AttrId) {
        let Some(Some(s)) = self.slots.get_mut(id as usize) else {
            return;
        };
        s.refs = s.refs.saturating_sub(1);
        if s.refs == 0 {
            if let Some(s) = self.slots[id as usize].take() {
                self.map.remove(&*s.ra);
            }
            self.free.push(id);
        }
    }

    #[inline]
    pub fn get(&self, id: AttrId) -> &RouteAttrs {
        static EMPTY: RouteAttrs = RouteAttrs {
            attrs: EMPTY_ATTRS,
            nh: None,
        };
        match self.slots.get(id as usize) {
            Some(Some(s)) => &s.ra,
            _ => &EMPTY,
        }
    }

    #[inline]
    pub fn keys(&self, id: AttrId) -> Keys {
        match self.slots.get(id as usize) {
            Some(Some(s)) => s.keys,
            _ => Keys::of(&RouteAttrs::default()),
        }
    }

    /// Number of live sets.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

// ===== impl NhSets =====

impl NhSets {
    /// Id of the set (ids start at [`NhSets::FIRST`]), with one more reference.
    pub fn intern(&mut self, set: &[IpAddr]) -> u32 {
        if let ([one], Some((a, id))) = (set, self.last) {
            if *one == a && self.sets[(id - Self::FIRST) as usize].1 > 0 {
                self.sets[(id - Self::FIRST) as usize].1 += 1;
                return id;
            }
        }
        let id = match self.map.get(set) {
            Some(&id) => {
                self.sets[(id - Self::FIRST) as usize].1 += 1;
                id
            }
            None => {
                let s: NhSet = NhSet::from(set);
                let id = match self.free.pop() {
                    Some(id) => {
                        self.sets[(id - Self::FIRST) as usize] = (s.clone(), 1);
                        id
                    }
                    None => {
                        self.sets.push((s.clone(), 1));
                        self.sets.len() as u32 - 1 + Self::FIRST
                    }
                };
                self.map.insert(s, id);
                id
            }
        };
        if let [one] = set {
            self.last = Some((*one, id));
        }
        id
    }

    /// Ids below this are not sets (none, blackhole).
    pub const FIRST: u32 = 2;

    pub fn dec(&mut self, id: u32) {
        let Some(i) = id.checked_sub(Self::FIRST) else {
            return;
        };
        let Some(e) = self.sets.get_mut(i as usize).filter(|e| e.1 > 0) else {
            return;
        };
        e.1 -= 1;
        if e.1 == 0 {
            let s = std::mem::take(&mut e.0);
            self.map.remove(&s);
            self.free.push(id);
            if self.last.is_some_and(|(_, l)| l == id) {
                self.last = None;
            }
        }
    }

    /// The set itself, shared (an empty one for ids that are not sets).
    pub fn shared(&self, id: u32) -> NhSet {
        id.checked_sub(Self::FIRST)
            .and_then(|i| self.sets.get(i as usize))
            .map_or_else(NhSet::default, |e| e.0.clone())
    }
}

impl std::fmt::Debug for NhSets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NhSets({} sets)", self.map.len())
    }
}

// ===== helper functions =====

const EMPTY_ATTRS: Attrs = Attrs {
    origin: None,
    as_path: None,
    next_hop: None,
    med: None,
    local_pref: None,
    atomic_aggregate: false,
    aggregator: None,
    communities: None,
    originator_id: None,
    cluster_list: None,
    ext_communities: None,
    as4_path: None,
    as4_aggregator: None,
    large_communities: None,
    otc: None,
    unknown: Vec::new(),
};

/// The neighbouring AS for the MED comparison (RFC 4271 §9.1.2.2 c): the leftmost AS of
/// the first AS_SEQUENCE, confederation segments skipped; 0 (our own AS) otherwise.
fn neighbor_as(p: &crate::wire::AsPath) -> u32 {
    p.segments
        .iter()
        .find(|s| !s.kind.is_confed())
        .filter(|s| s.kind == SegmentKind::Sequence)
        .and_then(|s| s.asns.first().copied())
        .unwrap_or(0)
}
