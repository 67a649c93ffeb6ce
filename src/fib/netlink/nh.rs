//! Unicast routes through kernel nexthop objects (Linux 5.3+): one object per gateway,
//! one group per set of gateways (a group of one for a single next hop), and routes that
//! point at a group (RTA_NH_ID).
//!
//! Two gains, both measured (tests/fib_throughput.rs):
//! - The change of one member. When every route of group G moves to the same new set S
//!   (a peer went away, so all its ECMP routes lose that next hop; or every route of a
//!   next hop moves to another one) and no group has S yet, G itself is rewritten to S:
//!   one RTM_NEWNEXTHOP changes all those routes, instead of one RTM_NEWROUTE per route.
//! - Installing: the kernel shares the nexthop instead of building (and throwing away) a
//!   per-route copy with its per-CPU caches: about twice as many routes per second.
//!
//! Blackholes stay plain RTN_BLACKHOLE routes unless `blackhole_nexthop`: then they go
//! through one shared blackhole object per family (`ip route` then shows
//! `blackhole P nhid N dev lo proto X`, not BIRD's `blackhole P proto bird`). Sets with a next hop of the other
//! family (RFC 8950) stay plain routes too. The kernel is the truth: groups and objects
//! with our protocol id are dumped at start and after link events, and those no route
//! uses are deleted after each flush. `ip route` shows such routes with `nhid N` and,
//! as long as net.ipv4.nexthop_compat_mode is 1 (the default), their gateways too.

use super::decode::Nexthop;
use super::encode::{Batch, Form, Hop, AF_INET, AF_INET6};
use crate::hash::{FastMap, FastSet};
use crate::rib::Prefix;

/// A write of a nexthop object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NhOp {
    Hop(u32, Hop),
    /// A group and its member object ids; `true`: replace the members of an existing group.
    Group(u32, Vec<u32>, bool),
    Del(u32),
    /// A blackhole object of family AF_INET or AF_INET6.
    Blackhole(u32, u8),
}

#[derive(Debug, Default)]
pub(crate) struct Nh {
    /// The kernel has nexthop objects: ours are dumped, compared and collected.
    pub enabled: bool,
    /// New multipath routes use groups (config `nexthop_objects`). Off, the groups a
    /// previous run made still count as equal, so a restart rewrites nothing.
    pub create: bool,
    hops: FastMap<Hop, u32>,
    groups: FastMap<u32, Vec<Hop>>,
    by_set: FastMap<Vec<Hop>, u32>,
    /// Blackholes go through a shared blackhole object (config `blackhole_nexthop`;
    /// turned off when the kernel refuses the object).
    pub blackholes: bool,
    /// Our blackhole objects: [IPv4, IPv6].
    bh: [Option<u32>; 2],
    /// Every id the kernel has (ours or not), so that new ids never collide.
    taken: FastSet<u32>,
    next_id: u32,
}

/// First id tried for our objects (a fixed base makes them easy to spot: "WR").
const ID_BASE: u32 = 0x5752_0000;

// ===== impl Nh =====

impl Nh {
    /// Take the kernel's nexthop objects: ours (by protocol) become our state.
    pub fn adopt(&mut self, dump: Vec<Nexthop>, protocol: u8) {
        self.hops.clear();
        self.groups.clear();
        self.by_set.clear();
        self.bh = [None, None];
        self.taken = dump.iter().map(|n| n.id).collect();
        for n in dump
            .iter()
            .filter(|n| n.protocol == protocol && n.blackhole)
        {
            let slot = usize::from(n.family == AF_INET6);
            self.bh[slot] = self.bh[slot].or(Some(n.id));
        }
        let mut by_id: FastMap<u32, Hop> = FastMap::default();
        for n in dump.iter().filter(|n| n.protocol == protocol) {
            if let Some(h) = n.hop {
                by_id.insert(n.id, h);
                self.hops.insert(h, n.id);
            }
        }
        for n in dump
            .iter()
            .filter(|n| n.protocol == protocol && !n.group.is_empty())
        {
            let members: Option<Vec<Hop>> =
                n.group.iter().map(|id| by_id.get(id).copied()).collect();
            if let Some(mut m) = members {
                m.sort();
                self.by_set.entry(m.clone()).or_insert(n.id);
                self.groups.insert(n.id, m);
            }
        }
    }

    /// The kernel route form `have` does what `want` asks.
    pub fn same(&self, have: &Form, want: &Form) -> bool {
        match (have, want) {
            (Form::Nhid(g), Form::Hops(h)) => self.groups.get(g).is_some_and(|m| m == h),
            (Form::Nhid(g), Form::Blackhole) => self.blackholes && self.bh.contains(&Some(*g)),
            _ => have == want,
        }
    }

    /// The blackhole object of the prefix's family, created through `pre` if need be.
    pub fn blackhole_for(&mut self, p: Prefix, pre: &mut Vec<NhOp>) -> u32 {
        let v6 = matches!(p, Prefix::V6(_));
        if let Some(id) = self.bh[usize::from(v6)] {
            return id;
        }
        let id = self.alloc();
        self.bh[usize::from(v6)] = Some(id);
        pre.push(NhOp::Blackhole(id, if v6 { AF_INET6 } else { AF_INET }));
        id
    }

    /// A set this module puts in a group.
    pub fn wants_group(&self, p: Prefix, hops: &[Hop]) -> bool {
        self.enabled && self.create && !hops.is_empty() && same_family(p, hops)
    }

    /// The group of this set, created (with missing member objects) through `pre`.
    pub fn group_for(&mut self, hops: &[Hop], pre: &mut Vec<NhOp>) -> u32 {
        if let Some(g) = self.by_set.get(hops) {
            return *g;
        }
        let ids = self.member_ids(hops, pre);
        let g = self.alloc();
        pre.push(NhOp::Group(g, ids, false));
        self.groups.insert(g, hops.to_vec());
        self.by_set.insert(hops.to_vec(), g);
        g
    }

    /// Rewrite group `g` to the set `to` (see the module comment), if no group has `to`.
    pub fn morph(&mut self, g: u32, to: &[Hop], pre: &mut Vec<NhOp>) -> bool {
        if self.by_set.contains_key(to) || !self.groups.contains_key(&g) {
            return false;
        }
        let ids = self.member_ids(to, pre);
        if let Some(old) = self.groups.insert(g, to.to_vec()) {
            if self.by_set.get(&old) == Some(&g) {
                self.by_set.remove(&old);
            }
        }
        self.by_set.insert(to.to_vec(), g);
        pre.push(NhOp::Group(g, ids, true));
        true
    }

    /// Members of group `g`, if it is ours.
    pub fn members(&self, g: u32) -> Option<&[Hop]> {
        self.groups.get(&g).map(Vec::as_slice)
    }

    /// Deletes for the groups no route uses, then the objects no group uses.
    pub fn unused(&mut self, used: &FastSet<u32>) -> Vec<NhOp> {
        let dead: Vec<u32> = self
            .groups
            .keys()
            .filter(|g| !used.contains(g))
            .copied()
            .collect();
        let mut ops: Vec<NhOp> = Vec::new();
        for g in dead {
            if let Some(m) = self.groups.remove(&g) {
                if self.by_set.get(&m) == Some(&g) {
                    self.by_set.remove(&m);
                }
            }
            self.taken.remove(&g);
            ops.push(NhOp::Del(g));
        }
        let live: FastSet<Hop> = self.groups.values().flatten().copied().collect();
        let orphans: Vec<(Hop, u32)> = self
            .hops
            .iter()
            .filter(|(h, _)| !live.contains(h))
            .map(|(h, id)| (*h, *id))
            .collect();
        for (h, id) in orphans {
            self.hops.remove(&h);
            self.taken.remove(&id);
            ops.push(NhOp::Del(id));
        }
        for slot in &mut self.bh {
            if let Some(id) = slot.filter(|id| !used.contains(id)) {
                *slot = None;
                self.taken.remove(&id);
                ops.push(NhOp::Del(id));
            }
        }
        ops
    }

    /// A write the kernel refused: forget what it would have made.
    pub fn refused(&mut self, op: &NhOp) {
        match op {
            NhOp::Hop(id, h) => {
                self.hops.remove(h);
                self.taken.remove(id);
            }
            NhOp::Group(g, _, _) => {
                if let Some(m) = self.groups.remove(g) {
                    self.by_set.remove(&m);
                }
                self.taken.remove(g);
            }
            NhOp::Blackhole(id, _) => {
                self.bh
                    .iter_mut()
                    .filter(|s| **s == Some(*id))
                    .for_each(|s| *s = None);
                self.taken.remove(id);
                if self.blackholes {
                    tracing::warn!(
                        "fib: no blackhole nexthop objects here; plain blackhole routes"
                    );
                    self.blackholes = false;
                }
            }
            NhOp::Del(_) => {}
        }
    }

    pub fn encode(b: &mut Batch, op: &NhOp, protocol: u8) {
        match op {
            NhOp::Hop(id, h) => b.nexthop(*id, protocol, h, false),
            NhOp::Group(g, ids, replace) => b.group(*g, protocol, ids, *replace),
            NhOp::Del(id) => b.del_nexthop(*id),
            NhOp::Blackhole(id, family) => b.blackhole_nexthop(*id, protocol, *family),
        };
    }

    fn member_ids(&mut self, hops: &[Hop], pre: &mut Vec<NhOp>) -> Vec<u32> {
        let mut ids = Vec::with_capacity(hops.len());
        for h in hops {
            let id = match self.hops.get(h) {
                Some(id) => *id,
                None => {
                    let id = self.alloc();
                    self.hops.insert(*h, id);
                    pre.push(NhOp::Hop(id, *h));
                    id
                }
            };
            ids.push(id);
        }
        ids
    }

    fn alloc(&mut self) -> u32 {
        if self.next_id < ID_BASE {
            self.next_id = ID_BASE;
        }
        while self.taken.contains(&self.next_id) || self.next_id == 0 {
            self.next_id = self.next_id.wrapping_add(1);
        }
        let id = self.next_id;
        self.taken.insert(id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }
}

// ===== helper functions =====

/// Every gateway is of the prefix's family (a group serves routes of one family).
pub(crate) fn same_family(p: Prefix, hops: &[Hop]) -> bool {
    let v6 = matches!(p, Prefix::V6(_));
    hops.iter().all(|h| h.gw.is_ipv6() == v6)
}
