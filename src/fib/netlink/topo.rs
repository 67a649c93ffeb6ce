//! What the kernel knows apart from our routes (links, addresses, other programs' routes)
//! and next-hop resolution through it.
//!
//! Resolution of one BGP next hop, in order (the first that applies wins):
//! 1. A device rule (`super::DeviceRule`) covers the prefix (and, with `cross_subnet_only`, the next hop is
//!    not in a connected subnet): `via NH dev D onlink`. The device must exist and be up,
//!    otherwise the route waits (it is not sent through the underlay instead).
//! 2. An IPv6 link-local next hop: the device from a hint, else the one device whose
//!    neighbour table holds the address, else the only up link with IPv6.
//! 3. The next hop is in a connected subnet of an up link: `via NH dev D`.
//! 4. Recursive: the longest-prefix kernel route of another program (main table and ours)
//!    that covers the next hop. Its gateways become ours (`via G dev D`); a device route
//!    gives `via NH dev D`. The kernel itself accepts only directly reachable gateways, so
//!    a multihop BGP next hop (iBGP over an IGP or static route) is installed through the
//!    immediate gateway, as BIRD's `gateway recursive` does.
//!
//! Nothing resolves: the route is not installed and waits for a link, address or route event.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use super::decode::{Addr, KRoute, Link, Neigh};
use super::encode::{Hop, RTN_UNICAST};
use crate::hash::FastMap;
use crate::rib::Prefix;

/// Links, addresses and foreign routes, as last dumped or announced.
#[derive(Debug, Default)]
pub(crate) struct Topo {
    pub links: HashMap<u32, Link>,
    pub addrs: Vec<Addr>,
    /// Other programs' routes in the tables we watch, by prefix (several tables/metrics).
    pub foreign: FastMap<Prefix, Vec<KRoute>>,
    /// IPv6 link-local next hop -> device name, from [`super::NetlinkFib::link_local_device`].
    pub ll_hints: HashMap<Ipv6Addr, String>,
    /// Neighbour table entries of link-local addresses -> interfaces (filled on demand).
    pub ll_neigh: HashMap<Ipv6Addr, Vec<u32>>,
}

/// A [`super::DeviceRule`] with its prefix in the RIB's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub prefix: Prefix,
    pub device: String,
    pub cross_subnet_only: bool,
}

/// Cache key: the next hop, and the index of the device rule that applies to the prefix.
pub(crate) type NhKey = (IpAddr, Option<usize>);

// ===== impl Topo =====

impl Topo {
    pub fn link_up(&self, index: u32) -> bool {
        self.links.get(&index).is_some_and(|l| l.up)
    }

    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.links
            .values()
            .find(|l| l.name == name)
            .map(|l| l.index)
    }

    pub fn name_of(&self, index: u32) -> Option<&str> {
        self.links.get(&index).map(|l| l.name.as_str())
    }

    /// Add or replace a foreign route (same table, prefix and metric = same route).
    pub fn put_foreign(&mut self, r: KRoute) {
        let v = self.foreign.entry(r.prefix).or_default();
        v.retain(|o| !(o.table == r.table && o.metric == r.metric));
        v.push(r);
    }

    pub fn del_foreign(&mut self, r: &KRoute) {
        if let Some(v) = self.foreign.get_mut(&r.prefix) {
            v.retain(|o| !(o.table == r.table && o.metric == r.metric));
            if v.is_empty() {
                self.foreign.remove(&r.prefix);
            }
        }
    }

    /// A neighbour entry appeared or went. True if it is a link-local next hop we use.
    pub fn neigh(&mut self, n: &Neigh, new: bool) -> bool {
        let IpAddr::V6(a) = n.dst else { return false };
        if !is_link_local(a) {
            return false;
        }
        let v = self.ll_neigh.entry(a).or_default();
        let had = v.contains(&n.index);
        if new && n.seen && !had {
            v.push(n.index);
        } else if (!new || !n.seen) && had {
            v.retain(|i| *i != n.index);
        } else {
            return false;
        }
        if v.is_empty() {
            self.ll_neigh.remove(&a);
        }
        true
    }

    /// A foreign route holds exactly this key (table, prefix, metric).
    pub fn occupied(&self, prefix: Prefix, table: u32, metric: u32) -> bool {
        self.foreign
            .get(&prefix)
            .is_some_and(|v| v.iter().any(|o| o.table == table && o.metric == metric))
    }

    /// The device rule for a prefix: the first whose `prefix` contains it.
    pub fn rule_for(rules: &[Rule], p: Prefix) -> Option<usize> {
        rules.iter().position(|r| prefix_contains(r.prefix, p))
    }

    /// Resolve one next hop (see the module comment). Empty: not resolvable now.
    pub fn resolve(&self, rules: &[Rule], key: NhKey) -> Vec<Hop> {
        let (nh, rule) = key;
        if let Some(rule) = rule.and_then(|i| rules.get(i)) {
            if !(rule.cross_subnet_only && self.connected(nh).is_some()) {
                return self.via_device(nh, &rule.device);
            }
        }
        if let IpAddr::V6(v6) = nh {
            if is_link_local(v6) {
                return self.link_local(v6).into_iter().collect();
            }
        }
        if self.addrs.iter().any(|a| a.local == nh) {
            return Vec::new();
        }
        if let Some(oif) = self.connected(nh) {
            return vec![Hop {
                gw: nh,
                oif,
                onlink: false,
            }];
        }
        self.recursive(nh)
    }

    /// Resolve again after a change. A link-local next hop that became ambiguous (a second
    /// IPv6 link appeared) keeps the device it had while that device is up.
    pub fn re_resolve(&self, rules: &[Rule], key: NhKey, old: &[Hop]) -> Vec<Hop> {
        let new = self.resolve(rules, key);
        let ll = matches!(key.0, IpAddr::V6(a) if is_link_local(a));
        if new.is_empty() && ll && !old.is_empty() && old.iter().all(|h| self.link_up(h.oif)) {
            return old.to_vec();
        }
        new
    }

    fn via_device(&self, nh: IpAddr, device: &str) -> Vec<Hop> {
        match self.index_of(device).filter(|i| self.link_up(*i)) {
            Some(oif) => vec![Hop {
                gw: nh,
                oif,
                onlink: true,
            }],
            None => Vec::new(),
        }
    }

    /// The up, non-loopback link with a connected subnet holding `nh`.
    pub fn connected(&self, nh: IpAddr) -> Option<u32> {
        self.addrs
            .iter()
            .filter(|a| {
                self.links
                    .get(&a.index)
                    .is_some_and(|l| l.up && !l.loopback)
            })
            .filter(|a| prefix_covers(a.subnet, nh))
            .max_by_key(|a| prefix_len(a.subnet))
            .map(|a| a.index)
    }

    fn link_local(&self, nh: Ipv6Addr) -> Option<Hop> {
        let hop = |oif| Hop {
            gw: IpAddr::V6(nh),
            oif,
            onlink: false,
        };
        if let Some(name) = self.ll_hints.get(&nh) {
            return self.index_of(name).filter(|i| self.link_up(*i)).map(hop);
        }
        let seen: Vec<u32> = self.ll_neigh.get(&nh).cloned().unwrap_or_default();
        if let [one] = seen.as_slice() {
            return self.link_up(*one).then(|| hop(*one));
        }
        let mut with_v6: Vec<u32> = self
            .addrs
            .iter()
            .filter(|a| matches!(a.local, IpAddr::V6(l) if is_link_local(l)))
            .map(|a| a.index)
            .filter(|i| self.links.get(i).is_some_and(|l| l.up && !l.loopback))
            .collect();
        with_v6.dedup();
        match with_v6.as_slice() {
            [one] => Some(hop(*one)),
            _ => None,
        }
    }

    /// Through the most specific foreign unicast route covering `nh` (lowest metric).
    fn recursive(&self, nh: IpAddr) -> Vec<Hop> {
        let max = if nh.is_ipv4() { 32 } else { 128 };
        for len in (0..=max).rev() {
            let Some(p) = super::decode::prefix_of(nh, len) else {
                continue;
            };
            let Some(best) = self.foreign.get(&p).and_then(|v| {
                v.iter()
                    .filter(|r| r.kind == RTN_UNICAST && !r.hops.is_empty())
                    .min_by_key(|r| r.metric)
            }) else {
                continue;
            };
            let hops: Vec<Hop> = best
                .hops
                .iter()
                .filter(|h| self.link_up(h.oif))
                .map(|h| Hop {
                    gw: h.gw.unwrap_or(nh),
                    oif: h.oif,
                    onlink: h.onlink,
                })
                .collect();
            return hops;
        }
        Vec::new()
    }
}

// ===== helper functions =====

pub(crate) fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

pub(crate) fn prefix_len(p: Prefix) -> u8 {
    match p {
        Prefix::V4(p) => p.len(),
        Prefix::V6(p) => p.len(),
    }
}

/// `outer` contains `inner` (same family, equal or more specific).
pub(crate) fn prefix_contains(outer: Prefix, inner: Prefix) -> bool {
    match (outer, inner) {
        (Prefix::V4(o), Prefix::V4(i)) => o.contains(&i),
        (Prefix::V6(o), Prefix::V6(i)) => o.contains(&i),
        _ => false,
    }
}

pub(crate) fn prefix_covers(p: Prefix, a: IpAddr) -> bool {
    let max = if a.is_ipv4() { 32 } else { 128 };
    super::decode::prefix_of(a, max).is_some_and(|host| prefix_contains(p, host))
}
