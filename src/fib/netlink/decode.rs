//! What the kernel tells us (dump answers and notifications), as small plain values.
//! Route, link, address and neighbour messages are parsed by netlink-packet-route;
//! nexthop objects, which it does not know, by hand.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::Parseable;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteNextHop, RouteNextHopFlags,
    RouteVia,
};
use netlink_packet_route::AddressFamily;

use super::encode::{
    Form, Hop, NHA_BLACKHOLE, NHA_GATEWAY, NHA_GROUP, NHA_ID, NHA_OIF, RTNH_F_ONLINK,
    RTN_BLACKHOLE, RTN_UNICAST,
};
use super::sock::{u16_at, u32_at};
use crate::rib::Prefix;
use crate::wire::{Prefix4, Prefix6};

/// One next hop of a kernel route; `gw` is None for a device route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct KHop {
    pub gw: Option<IpAddr>,
    pub oif: u32,
    pub onlink: bool,
}

/// A kernel route (ours or another program's), normalised: hops sorted, flags other than
/// onlink dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KRoute {
    pub prefix: Prefix,
    pub table: u32,
    pub protocol: u8,
    pub metric: u32,
    /// rtm_type (RTN_UNICAST, RTN_BLACKHOLE, ...).
    pub kind: u8,
    pub nhid: Option<u32>,
    pub hops: Vec<KHop>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub index: u32,
    pub name: String,
    /// IFF_UP (administratively up).
    pub up: bool,
    /// IFF_LOWER_UP (carrier). Not used to resolve, but a change of it is a change: the
    /// kernel drops nexthop objects of a link that loses its carrier.
    pub lower_up: bool,
    pub loopback: bool,
}

/// An interface address and the connected prefix it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Addr {
    pub index: u32,
    pub local: IpAddr,
    pub subnet: Prefix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Neigh {
    pub index: u32,
    pub dst: IpAddr,
    /// The neighbour answered at some point (not INCOMPLETE or FAILED, which only say
    /// that we tried to reach it there).
    pub seen: bool,
}

/// A kernel nexthop object (RTM_NEWNEXTHOP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Nexthop {
    pub id: u32,
    /// nh_family: AF_INET / AF_INET6 for single objects, AF_UNSPEC for groups.
    pub family: u8,
    pub protocol: u8,
    pub hop: Option<Hop>,
    pub group: Vec<u32>,
    pub blackhole: bool,
}

// ===== impl KRoute =====

impl KRoute {
    /// Parse an RTM_NEWROUTE / RTM_DELROUTE payload. None for what wren never models:
    /// source-specific or TOS routes, cloned cache entries, other families.
    pub fn parse(payload: &[u8]) -> Option<KRoute> {
        let m = RouteMessage::parse(payload).ok()?;
        let h = &m.header;
        if h.source_prefix_length != 0 || h.tos != 0 || h.flags.contains(RouteFlags::Cloned) {
            return None;
        }
        let v6 = match h.address_family {
            AddressFamily::Inet => false,
            AddressFamily::Inet6 => true,
            _ => return None,
        };
        let mut r = KRoute {
            prefix: zero_prefix(v6, h.destination_prefix_length)?,
            table: u32::from(h.table),
            protocol: u8::from(h.protocol),
            metric: 0,
            kind: u8::from(h.kind),
            nhid: None,
            hops: Vec::new(),
        };
        let mut single = KHop {
            gw: None,
            oif: 0,
            onlink: h.flags.contains(RouteFlags::Onlink),
        };
        for a in &m.attributes {
            match a {
                RouteAttribute::Destination(d) => {
                    r.prefix = prefix_of(route_addr(d)?, h.destination_prefix_length)?
                }
                RouteAttribute::Table(t) => r.table = *t,
                RouteAttribute::Priority(p) => r.metric = *p,
                RouteAttribute::NhId(id) => r.nhid = Some(*id),
                RouteAttribute::Oif(i) => single.oif = *i,
                RouteAttribute::Gateway(g) => single.gw = route_addr(g),
                RouteAttribute::Via(v) => single.gw = via_addr(v),
                RouteAttribute::MultiPath(hops) => r.hops = hops.iter().map(khop).collect(),
                _ => {}
            }
        }
        if r.hops.is_empty() && (single.gw.is_some() || single.oif != 0) {
            r.hops.push(single);
        }
        r.hops.sort();
        Some(r)
    }

    /// The route as one of ours: None if it is not something wren writes (then a write
    /// puts it right).
    pub fn form(&self) -> Option<Form> {
        if let Some(id) = self.nhid.filter(|_| self.kind == RTN_BLACKHOLE) {
            // Through a blackhole nexthop object (`blackhole_nexthop`).
            return Some(Form::Nhid(id));
        }
        if self.kind == RTN_BLACKHOLE {
            return Some(Form::Blackhole);
        }
        if self.kind != RTN_UNICAST {
            return None;
        }
        if let Some(id) = self.nhid {
            return Some(Form::Nhid(id));
        }
        let hops: Option<Vec<Hop>> = self
            .hops
            .iter()
            .map(|h| {
                h.gw.map(|gw| Hop {
                    gw,
                    oif: h.oif,
                    onlink: h.onlink,
                })
            })
            .collect();
        hops.filter(|h| !h.is_empty()).map(Form::Hops)
    }
}

// ===== impl Link / Addr / Neigh / Nexthop =====

impl Link {
    pub fn parse(payload: &[u8]) -> Option<Link> {
        let m = LinkMessage::parse(payload).ok()?;
        let name = m.attributes.iter().find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        });
        Some(Link {
            index: m.header.index,
            name: name.unwrap_or_default(),
            up: m.header.flags.contains(LinkFlags::Up),
            lower_up: m.header.flags.contains(LinkFlags::LowerUp),
            loopback: m.header.flags.contains(LinkFlags::Loopback),
        })
    }
}

impl Addr {
    pub fn parse(payload: &[u8]) -> Option<Addr> {
        let m = AddressMessage::parse(payload).ok()?;
        let (mut local, mut address) = (None, None);
        for a in &m.attributes {
            match a {
                AddressAttribute::Local(l) => local = Some(*l),
                AddressAttribute::Address(l) => address = Some(*l),
                _ => {}
            }
        }
        let address = address.or(local)?;
        Some(Addr {
            index: m.header.index,
            local: local.unwrap_or(address),
            subnet: prefix_of(address, m.header.prefix_len)?,
        })
    }
}

impl Neigh {
    pub fn parse(payload: &[u8]) -> Option<Neigh> {
        let m = NeighbourMessage::parse(payload).ok()?;
        let dst = m.attributes.iter().find_map(|a| match a {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => Some(IpAddr::V4(*a)),
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
            _ => None,
        })?;
        let seen = !matches!(
            m.header.state,
            NeighbourState::Incomplete | NeighbourState::Failed
        );
        Some(Neigh {
            index: m.header.ifindex,
            dst,
            seen,
        })
    }
}

impl Nexthop {
    /// struct nhmsg { u8 family; u8 scope; u8 protocol; u8 resvd; u32 flags } + NHA_*.
    pub fn parse(p: &[u8]) -> Option<Nexthop> {
        let family = *p.first()?;
        let protocol = *p.get(2)?;
        let onlink = u32_at(p, 4) & u32::from(RTNH_F_ONLINK) != 0;
        let mut nh = Nexthop {
            id: 0,
            family,
            protocol,
            hop: None,
            group: Vec::new(),
            blackhole: false,
        };
        let (mut oif, mut gw) = (0, None);
        let mut at = 8;
        while at + 4 <= p.len() {
            let len = usize::from(u16_at(p, at));
            let val = p.get(at + 4..at + len.max(4))?;
            match u16_at(p, at + 2) & 0x3fff {
                NHA_ID => nh.id = u32_at(val, 0),
                NHA_OIF => oif = u32_at(val, 0),
                NHA_GATEWAY => gw = addr_from(val),
                NHA_BLACKHOLE => nh.blackhole = true,
                NHA_GROUP => nh.group = val.chunks_exact(8).map(|c| u32_at(c, 0)).collect(),
                _ => {}
            }
            at += (len.max(4) + 3) & !3;
        }
        nh.hop = gw.map(|gw| Hop { gw, oif, onlink });
        (nh.id != 0).then_some(nh)
    }
}

// ===== helper functions =====

fn khop(n: &RouteNextHop) -> KHop {
    let gw = n.attributes.iter().find_map(|a| match a {
        RouteAttribute::Gateway(g) => route_addr(g),
        RouteAttribute::Via(v) => via_addr(v),
        _ => None,
    });
    KHop {
        gw,
        oif: n.interface_index,
        onlink: n.flags.contains(RouteNextHopFlags::Onlink),
    }
}

fn route_addr(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn via_addr(v: &RouteVia) -> Option<IpAddr> {
    match v {
        RouteVia::Inet(a) => Some(IpAddr::V4(*a)),
        RouteVia::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

fn addr_from(v: &[u8]) -> Option<IpAddr> {
    match v.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(v);
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// The prefix `addr/len` (host bits cleared).
pub(crate) fn prefix_of(addr: IpAddr, len: u8) -> Option<Prefix> {
    match addr {
        IpAddr::V4(a) => Prefix4::new(u32::from(a), len).map(Prefix::V4),
        IpAddr::V6(a) => Prefix6::new(u128::from(a), len).map(Prefix::V6),
    }
}

fn zero_prefix(v6: bool, len: u8) -> Option<Prefix> {
    if v6 {
        prefix_of(IpAddr::V6(Ipv6Addr::UNSPECIFIED), len)
    } else {
        prefix_of(IpAddr::V4(Ipv4Addr::UNSPECIFIED), len)
    }
}
