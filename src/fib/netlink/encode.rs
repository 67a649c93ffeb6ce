//! rtnetlink requests, encoded by hand into one buffer so that many of them go to the
//! kernel in one `sendmsg` (the kernel handles every message of a datagram in order).
//!
//! ```text
//!  nlmsghdr (16)                       rtmsg (12)
//!  +--------+------+-------+----------+  +------+-------+-------+-----+-------+-------+-------+------+----------+
//!  | len u32|type16|flags16|seq u32   |  |family|dst_len|src_len| tos | table | proto | scope | type | flags u32|
//!  +--------+------+-------+----------+  +------+-------+-------+-----+-------+-------+-------+------+----------+
//!  | pid u32 |                            then attributes: len u16, type u16, value, padded to 4
//!  +---------+
//! ```
//!
//! Only the last message of a batch asks for an ACK: the kernel answers a failed request
//! with an error whatever the flags say, so a batch costs one reply plus one per failure.

use std::net::IpAddr;

use crate::rib::Prefix;

// ----- netlink and rtnetlink numbers (linux/netlink.h, linux/rtnetlink.h, linux/nexthop.h)

pub(crate) const NLMSG_HDRLEN: usize = 16;
pub(crate) const NLMSG_NOOP: u16 = 1;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLMSG_OVERRUN: u16 = 4;

pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_DELLINK: u16 = 17;
pub(crate) const RTM_GETLINK: u16 = 18;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_DELADDR: u16 = 21;
pub(crate) const RTM_GETADDR: u16 = 22;
pub(crate) const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTM_DELROUTE: u16 = 25;
pub(crate) const RTM_GETROUTE: u16 = 26;
pub(crate) const RTM_NEWNEIGH: u16 = 28;
pub(crate) const RTM_DELNEIGH: u16 = 29;
pub(crate) const RTM_GETNEIGH: u16 = 30;
pub(crate) const RTM_NEWNEXTHOP: u16 = 104;
pub(crate) const RTM_DELNEXTHOP: u16 = 105;
pub(crate) const RTM_GETNEXTHOP: u16 = 106;

pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
pub(crate) const NLM_F_REPLACE: u16 = 0x100;
pub(crate) const NLM_F_EXCL: u16 = 0x200;
pub(crate) const NLM_F_CREATE: u16 = 0x400;

pub(crate) const AF_UNSPEC: u8 = 0;
pub(crate) const AF_INET: u8 = 2;
pub(crate) const AF_INET6: u8 = 10;

pub(crate) const RTN_UNICAST: u8 = 1;
pub(crate) const RTN_BLACKHOLE: u8 = 6;
pub(crate) const RT_SCOPE_UNIVERSE: u8 = 0;
pub(crate) const RT_SCOPE_NOWHERE: u8 = 255;
pub(crate) const RTNH_F_ONLINK: u8 = 4;
/// rtm_table holds only 8 bits; larger ids go in RTA_TABLE with rtm_table = RT_TABLE_UNSPEC.
const RT_TABLE_UNSPEC: u8 = 0;

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;
const RTA_NH_ID: u16 = 30;

pub(crate) const NHA_ID: u16 = 1;
pub(crate) const NHA_GROUP: u16 = 2;
pub(crate) const NHA_BLACKHOLE: u16 = 4;
pub(crate) const NHA_OIF: u16 = 5;
pub(crate) const NHA_GATEWAY: u16 = 6;

/// One next hop as the kernel holds it: gateway, output interface (0: let the kernel
/// choose), and the onlink flag (RTNH_F_ONLINK: the gateway is on the link even though no
/// connected prefix says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Hop {
    pub gw: IpAddr,
    pub oif: u32,
    pub onlink: bool,
}

/// What one of our kernel routes does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Form {
    Blackhole,
    /// Sorted, deduplicated, at least one. Two or more = RTA_MULTIPATH.
    Hops(Vec<Hop>),
    /// Through a nexthop object (RTA_NH_ID), here a group.
    Nhid(u32),
}

/// Where a route lives: its prefix, table, protocol and metric (RTA_PRIORITY). With the
/// TOS (always 0 here) this is the kernel's identity of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteKey {
    pub prefix: Prefix,
    pub table: u32,
    pub protocol: u8,
    pub metric: u32,
}

/// How a route write treats an existing route with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// NLM_F_CREATE | NLM_F_EXCL: fails with EEXIST rather than touch a route that is there
    /// (one of another protocol that we did not know of).
    Create,
    /// NLM_F_CREATE | NLM_F_REPLACE: atomically swaps our route (never delete then add).
    Replace,
}

/// A buffer of requests with consecutive sequence numbers.
#[derive(Debug)]
pub(crate) struct Batch {
    buf: Vec<u8>,
    first_seq: u32,
    count: u32,
    last_hdr: Option<usize>,
}

/// One message being written into a batch.
struct Msg<'a> {
    buf: &'a mut Vec<u8>,
    start: usize,
}

// ===== impl Batch =====

impl Batch {
    pub fn new(first_seq: u32) -> Batch {
        Batch {
            buf: Vec::with_capacity(64 * 1024),
            first_seq,
            count: 0,
            last_hdr: None,
        }
    }

    pub fn first_seq(&self) -> u32 {
        self.first_seq
    }

    /// Sequence number the next message will get.
    pub fn next_seq(&self) -> u32 {
        self.first_seq.wrapping_add(self.count)
    }

    /// The datagram so far (tests).
    #[cfg(test)]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Index in the batch of the message with this sequence number.
    pub fn index_of(&self, seq: u32) -> Option<usize> {
        let i = seq.wrapping_sub(self.first_seq);
        (i < self.count).then_some(i as usize)
    }

    /// Ask for an ACK on the last message and return the datagram to send.
    pub fn seal(&mut self) -> &[u8] {
        if let Some(h) = self.last_hdr {
            let flags = u16::from_ne_bytes([self.buf[h + 6], self.buf[h + 7]]) | NLM_F_ACK;
            self.buf[h + 6..h + 8].copy_from_slice(&flags.to_ne_bytes());
        }
        &self.buf
    }

    /// RTM_NEWROUTE for one of our routes. Returns its sequence number.
    pub fn route(&mut self, mode: Mode, key: &RouteKey, form: &Form) -> u32 {
        let flags = match mode {
            Mode::Create => NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL,
            Mode::Replace => NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE,
        };
        let (kind, rtm_flags) = match form {
            Form::Blackhole => (RTN_BLACKHOLE, 0),
            Form::Hops(h) if h.len() == 1 && h[0].onlink => (RTN_UNICAST, RTNH_F_ONLINK),
            _ => (RTN_UNICAST, 0),
        };
        let mut m = self.begin(RTM_NEWROUTE, flags);
        rtmsg(
            &mut m,
            key,
            key.protocol,
            RT_SCOPE_UNIVERSE,
            kind,
            rtm_flags,
        );
        route_key_attrs(&mut m, key);
        match form {
            Form::Blackhole => {}
            Form::Nhid(id) => m.attr(RTA_NH_ID, &id.to_ne_bytes()),
            Form::Hops(hops) if hops.len() == 1 => hop_attrs(&mut m, key.prefix, &hops[0]),
            Form::Hops(hops) => multipath(&mut m, key.prefix, hops),
        }
        m.end()
    }

    /// RTM_DELROUTE for one of our routes: the protocol is in the request, so the kernel
    /// deletes only a route with our protocol id (never another program's).
    pub fn del_route(&mut self, key: &RouteKey) -> u32 {
        let mut m = self.begin(RTM_DELROUTE, NLM_F_REQUEST);
        rtmsg(&mut m, key, key.protocol, RT_SCOPE_NOWHERE, 0, 0);
        route_key_attrs(&mut m, key);
        m.end()
    }

    /// RTM_NEWNEXTHOP of one gateway next hop (kernel nexthop object).
    pub fn nexthop(&mut self, id: u32, protocol: u8, hop: &Hop, replace: bool) -> u32 {
        let mut m = self.begin(RTM_NEWNEXTHOP, nh_flags(replace));
        let flags = if hop.onlink { RTNH_F_ONLINK } else { 0 };
        nhmsg(&mut m, family_of(hop.gw), protocol, flags);
        m.attr(NHA_ID, &id.to_ne_bytes());
        m.attr(NHA_OIF, &hop.oif.to_ne_bytes());
        m.attr(NHA_GATEWAY, &addr_bytes(hop.gw));
        m.end()
    }

    /// RTM_NEWNEXTHOP of a blackhole object (NHA_BLACKHOLE, a flag): routes through it
    /// drop their packets, as RTN_BLACKHOLE routes do.
    pub fn blackhole_nexthop(&mut self, id: u32, protocol: u8, family: u8) -> u32 {
        let mut m = self.begin(RTM_NEWNEXTHOP, nh_flags(false));
        nhmsg(&mut m, family, protocol, 0);
        m.attr(NHA_ID, &id.to_ne_bytes());
        m.attr(NHA_BLACKHOLE, &[]);
        m.end()
    }

    /// RTM_NEWNEXTHOP of a multipath group of nexthop objects (equal weights).
    pub fn group(&mut self, id: u32, protocol: u8, members: &[u32], replace: bool) -> u32 {
        let mut m = self.begin(RTM_NEWNEXTHOP, nh_flags(replace));
        nhmsg(&mut m, AF_UNSPEC, protocol, 0);
        m.attr(NHA_ID, &id.to_ne_bytes());
        let mut grp = Vec::with_capacity(members.len() * 8);
        for id in members {
            // struct nexthop_grp { u32 id; u8 weight (kernel value + 1); u8; u16 }
            grp.extend_from_slice(&id.to_ne_bytes());
            grp.extend_from_slice(&[0, 0, 0, 0]);
        }
        m.attr(NHA_GROUP, &grp);
        m.end()
    }

    /// RTM_DELNEXTHOP by id.
    pub fn del_nexthop(&mut self, id: u32) -> u32 {
        let mut m = self.begin(RTM_DELNEXTHOP, NLM_F_REQUEST);
        nhmsg(&mut m, AF_UNSPEC, 0, 0);
        m.attr(NHA_ID, &id.to_ne_bytes());
        m.end()
    }

    /// A dump request of the routes of one family and table, filtered by the kernel
    /// (NETLINK_GET_STRICT_CHK) on table and, if not 0, protocol.
    pub fn dump_routes(&mut self, family: u8, table: u32, protocol: u8) -> u32 {
        let mut m = self.begin(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
        let t8 = u8::try_from(table).unwrap_or(RT_TABLE_UNSPEC);
        m.put(&[family, 0, 0, 0, t8, protocol, 0, 0]);
        m.put(&0u32.to_ne_bytes());
        m.attr(RTA_TABLE, &table.to_ne_bytes());
        m.end()
    }

    /// A dump request with an all-zero family header of `hdr_len` bytes (links 16,
    /// addresses 8, neighbours 12, nexthops 8).
    pub fn dump(&mut self, msg_type: u16, family: u8, hdr_len: usize) -> u32 {
        let mut m = self.begin(msg_type, NLM_F_REQUEST | NLM_F_DUMP);
        let mut hdr = vec![0u8; hdr_len];
        if let Some(f) = hdr.first_mut() {
            *f = family;
        }
        m.put(&hdr);
        m.end()
    }

    fn begin(&mut self, msg_type: u16, flags: u16) -> Msg<'_> {
        let seq = self.next_seq();
        self.count += 1;
        let start = self.buf.len();
        self.last_hdr = Some(start);
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&msg_type.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&seq.to_ne_bytes());
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        Msg {
            buf: &mut self.buf,
            start,
        }
    }
}

// ===== impl Msg =====

impl Msg<'_> {
    fn put(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    fn attr(&mut self, ty: u16, val: &[u8]) {
        let len = (4 + val.len()) as u16;
        self.put(&len.to_ne_bytes());
        self.put(&ty.to_ne_bytes());
        self.put(val);
        self.pad();
    }

    /// Start a nested attribute (or any region whose u16 length is patched later).
    fn open(&mut self, ty: u16) -> usize {
        let at = self.buf.len();
        self.put(&[0, 0]);
        self.put(&ty.to_ne_bytes());
        at
    }

    fn close(&mut self, at: usize) {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        self.pad();
    }

    /// Write the total length; returns the sequence number.
    fn end(self) -> u32 {
        let len = (self.buf.len() - self.start) as u32;
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
        u32::from_ne_bytes([
            self.buf[self.start + 8],
            self.buf[self.start + 9],
            self.buf[self.start + 10],
            self.buf[self.start + 11],
        ])
    }
}

// ===== helper functions =====

pub(crate) fn family_of(a: IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

pub(crate) fn prefix_family(p: Prefix) -> u8 {
    match p {
        Prefix::V4(_) => AF_INET,
        Prefix::V6(_) => AF_INET6,
    }
}

pub(crate) fn prefix_parts(p: Prefix) -> (IpAddr, u8) {
    match p {
        Prefix::V4(p) => (IpAddr::V4(p.addr()), p.len()),
        Prefix::V6(p) => (IpAddr::V6(p.addr()), p.len()),
    }
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn nh_flags(replace: bool) -> u16 {
    if replace {
        NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE
    } else {
        NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL
    }
}

fn rtmsg(m: &mut Msg<'_>, key: &RouteKey, proto: u8, scope: u8, kind: u8, flags: u8) {
    let (_, len) = prefix_parts(key.prefix);
    let t8 = u8::try_from(key.table).unwrap_or(RT_TABLE_UNSPEC);
    let family = prefix_family(key.prefix);
    m.put(&[family, len, 0, 0, t8, proto, scope, kind]);
    m.put(&u32::from(flags).to_ne_bytes());
}

fn route_key_attrs(m: &mut Msg<'_>, key: &RouteKey) {
    let (addr, _) = prefix_parts(key.prefix);
    m.attr(RTA_TABLE, &key.table.to_ne_bytes());
    m.attr(RTA_DST, &addr_bytes(addr));
    m.attr(RTA_PRIORITY, &key.metric.to_ne_bytes());
}

/// The gateway of a hop: RTA_GATEWAY in the route's family, RTA_VIA for an IPv6 next hop
/// of an IPv4 route (RFC 8950 extended next hop).
fn gateway_attr(m: &mut Msg<'_>, prefix: Prefix, gw: IpAddr) {
    if family_of(gw) == prefix_family(prefix) {
        m.attr(RTA_GATEWAY, &addr_bytes(gw));
    } else {
        let mut v = u16::from(family_of(gw)).to_ne_bytes().to_vec();
        v.extend_from_slice(&addr_bytes(gw));
        m.attr(RTA_VIA, &v);
    }
}

fn hop_attrs(m: &mut Msg<'_>, prefix: Prefix, hop: &Hop) {
    gateway_attr(m, prefix, hop.gw);
    if hop.oif != 0 {
        m.attr(RTA_OIF, &hop.oif.to_ne_bytes());
    }
}

/// RTA_MULTIPATH: struct rtnexthop { u16 len; u8 flags; u8 hops; i32 ifindex } + attrs.
fn multipath(m: &mut Msg<'_>, prefix: Prefix, hops: &[Hop]) {
    let nest = m.open(RTA_MULTIPATH);
    for h in hops {
        let at = m.buf.len();
        m.put(&[0, 0]);
        m.put(&[if h.onlink { RTNH_F_ONLINK } else { 0 }, 0]);
        m.put(&h.oif.to_ne_bytes());
        gateway_attr(m, prefix, h.gw);
        let len = (m.buf.len() - at) as u16;
        m.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }
    m.close(nest);
}

fn nhmsg(m: &mut Msg<'_>, family: u8, protocol: u8, flags: u8) {
    // struct nhmsg { u8 family; u8 scope; u8 protocol; u8 resvd; u32 flags }
    m.put(&[family, 0, protocol, 0]);
    m.put(&u32::from(flags).to_ne_bytes());
}
