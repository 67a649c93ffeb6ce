//! Export rules: who may receive a path (RFC 4271 §9.1.3, RFC 4456 §6, RFC 1997
//! well-known communities) and how its attributes change on the way out (RFC 4271 §5.1,
//! RFC 4456 §8, RFC 6793 §4.2.2, RFC 2545 §3, RFC 8950).
//!
//! Everything here depends only on the path and the update group's [`GroupKey`], never on
//! one member peer: that is what lets a group share one encoding.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::intern::{wk, Keys, RouteAttrs};
use super::{Filter, PeerInfo, RibCfg};
use crate::config::NextHopMode;
use crate::wire::{AsPath, AsSegment, Ctx, Family, NextHop, Origin, SegmentKind};

/// What peers of one update group have in common: everything that changes the bytes we
/// send them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    pub export: Filter,
    pub ibgp: bool,
    pub rr_client: bool,
    /// 0 auto, 1 self, 2 keep.
    pub next_hop: u8,
    pub local: IpAddr,
    pub local_v4: Option<Ipv4Addr>,
    pub local_v6: Option<Ipv6Addr>,
    pub link_local: Option<Ipv6Addr>,
    pub as4: bool,
    pub add_path_tx: Vec<Family>,
    pub ext_msg: bool,
    pub ext_next_hop: Vec<Family>,
    pub families: Vec<Family>,
    /// The peers sent the long-lived graceful-restart capability (RFC 9494 §4.3).
    pub llgr: bool,
}

/// Where a path came from, as far as export cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrcKind {
    /// Originated by us.
    Local,
    Ebgp,
    /// iBGP from a route-reflector client.
    IbgpClient,
    /// iBGP from a non-client.
    IbgpNonClient,
}

/// The source of a path: its kind and BGP identifier (for ORIGINATOR_ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Src {
    pub kind: SrcKind,
    pub bgp_id: Ipv4Addr,
}

// ===== impl GroupKey =====

impl GroupKey {
    pub fn of(p: &PeerInfo) -> GroupKey {
        let sorted = |v: &[Family]| {
            let mut v = v.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        };
        GroupKey {
            export: p.export.clone(),
            ibgp: p.ibgp,
            rr_client: p.rr_client,
            next_hop: match p.next_hop {
                NextHopMode::Auto => 0,
                NextHopMode::SelfAddr => 1,
                NextHopMode::Keep => 2,
            },
            local: p.local,
            local_v4: p.local_v4,
            local_v6: p.local_v6,
            link_local: p.link_local,
            as4: p.neg.as4,
            add_path_tx: sorted(&p.neg.add_path_tx),
            ext_msg: p.neg.ext_msg,
            ext_next_hop: sorted(&p.neg.ext_next_hop),
            families: sorted(&p.neg.families),
            llgr: p.neg.peer_llgr.is_some(),
        }
    }

    /// The codec context of the group's messages.
    pub fn ctx(&self) -> Ctx {
        Ctx {
            as4: self.as4,
            add_path: self.add_path_tx.clone(),
            ext_msg: self.ext_msg,
        }
    }

    pub fn has_family(&self, v6: bool) -> bool {
        self.families.contains(&family(v6))
    }

    pub fn add_path(&self, v6: bool) -> bool {
        self.add_path_tx.contains(&family(v6))
    }

    /// Our own next hop for prefixes of this family (RFC 4271 §5.1.3 "self"; RFC 2545 §3
    /// global plus link-local; RFC 8950 IPv6 for IPv4 NLRI when there is no IPv4 address).
    pub fn self_next_hop(&self, v6: bool) -> Option<NextHop> {
        let v6_self = || match self.local {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => self.local_v6,
        };
        let with_ll = |global| NextHop::V6 {
            global,
            link_local: self.link_local,
        };
        if v6 {
            return v6_self().map(with_ll);
        }
        let v4 = match self.local {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => self.local_v4,
        };
        match v4 {
            Some(a) => Some(NextHop::V4(a)),
            None if self.ext_next_hop.contains(&Family::IPV4_UNICAST) => v6_self().map(with_ll),
            None => None,
        }
    }
}

// ===== impl Src =====

impl Src {
    pub fn of(p: &PeerInfo) -> Src {
        let kind = match (p.ibgp, p.rr_client) {
            (false, _) => SrcKind::Ebgp,
            (true, true) => SrcKind::IbgpClient,
            (true, false) => SrcKind::IbgpNonClient,
        };
        Src {
            kind,
            bgp_id: p.neg.peer_id,
        }
    }

    pub fn local(cfg: &RibCfg) -> Src {
        Src {
            kind: SrcKind::Local,
            bgp_id: cfg.router_id,
        }
    }
}

// ===== helper functions =====

pub fn family(v6: bool) -> Family {
    if v6 {
        Family::IPV6_UNICAST
    } else {
        Family::IPV4_UNICAST
    }
}

/// May a path from `src` with these keys go to group `g`?
pub fn exportable(src: SrcKind, keys: &Keys, g: &GroupKey) -> bool {
    if g.export == Filter::RejectAll || keys.wk & wk::NO_ADVERTISE != 0 {
        return false;
    }
    // RFC 1997: NO_EXPORT and NO_EXPORT_SUBCONFED stay inside the AS (wren has no
    // confederation, so the two are the same here).
    if !g.ibgp && keys.wk & (wk::NO_EXPORT | wk::NO_EXPORT_SUBCONFED) != 0 {
        return false;
    }
    // RFC 9494 §4.3: LLGR_STALE paths are not sent to peers that did not send the LLGR
    // capability (withdrawn from them). The §4.6 option (to iBGP peers with NO_EXPORT
    // and LOCAL_PREF 0) is not taken.
    if !g.llgr && keys.wk & wk::LLGR_STALE != 0 {
        return false;
    }
    match src {
        SrcKind::Local | SrcKind::Ebgp => true,
        // RFC 4456 §6: from a client, reflect to all clients and non-clients.
        SrcKind::IbgpClient => true,
        // RFC 4271 §9.1.3 (iBGP routes are not sent to iBGP peers) and RFC 4456 §6: from
        // a non-client, reflect to clients only.
        SrcKind::IbgpNonClient => !g.ibgp || g.rr_client,
    }
}

/// The attributes and next hop to send a path with to group `g`; `None` when there is no
/// usable next hop for the family.
pub fn transform(
    ra: &RouteAttrs,
    src: Src,
    g: &GroupKey,
    v6: bool,
    cfg: &RibCfg,
) -> Option<RouteAttrs> {
    let nh = next_hop(ra, src.kind, g, v6)?;
    let mut a = ra.attrs.clone();
    a.next_hop = None;
    // RFC 4271 §5: optional transitive attributes we do not know pass with the Partial
    // bit; optional non-transitive ones are not passed on.
    if !a.unknown.is_empty() {
        a.unknown = a
            .unknown
            .iter()
            .filter_map(|r| r.for_readvertise())
            .collect();
    }
    if src.kind == SrcKind::Local {
        a.origin.get_or_insert(Origin::Igp);
        a.as_path.get_or_insert_with(AsPath::default);
    }
    if g.ibgp {
        // RFC 4271 §5.1.5: LOCAL_PREF in every UPDATE to an internal peer.
        a.local_pref = Some(a.local_pref.unwrap_or(100));
        if matches!(src.kind, SrcKind::IbgpClient | SrcKind::IbgpNonClient) {
            reflect(&mut a, src.bgp_id, cfg.cluster_id);
        }
    } else {
        // RFC 4271 §5.1.2 b: prepend our AS; §5.1.5: no LOCAL_PREF to external peers;
        // RFC 4456 §8: ORIGINATOR_ID and CLUSTER_LIST are internal; RFC 4271 §5.1.4: a
        // MED received from a neighbouring AS is not passed to another one.
        prepend(&mut a.as_path, cfg.local_as);
        a.local_pref = None;
        a.originator_id = None;
        a.cluster_list = None;
        if src.kind != SrcKind::Local {
            a.med = None;
        }
    }
    if !g.as4 {
        // RFC 6793 §4.2.2: AS_TRANS in AS_PATH/AGGREGATOR, real numbers in AS4_*.
        a = a.for_old_speaker();
    }
    Some(RouteAttrs {
        attrs: a,
        nh: Some(nh),
    })
}

/// RFC 4456 §8: set ORIGINATOR_ID (if absent) to the BGP identifier of the peer the
/// route came from, and prepend our CLUSTER_ID to CLUSTER_LIST.
fn reflect(a: &mut crate::wire::Attrs, source_id: Ipv4Addr, cluster_id: Ipv4Addr) {
    a.originator_id.get_or_insert(source_id);
    a.cluster_list
        .get_or_insert_with(Vec::new)
        .insert(0, cluster_id);
}

/// RFC 4271 §5.1.2: our AS as the first element of the leftmost AS_SEQUENCE.
pub fn prepend(p: &mut Option<AsPath>, asn: u32) {
    let p = p.get_or_insert_with(AsPath::default);
    match p.segments.first_mut() {
        Some(s) if s.kind == SegmentKind::Sequence => s.asns.insert(0, asn),
        _ => p.segments.insert(
            0,
            AsSegment {
                kind: SegmentKind::Sequence,
                asns: vec![asn],
            },
        ),
    }
}

/// RFC 4271 §5.1.3 with the `next_hop` mode: auto = self to eBGP and for our own routes;
/// self = always; keep = never, except for our own routes (they have no next hop).
fn next_hop(ra: &RouteAttrs, src: SrcKind, g: &GroupKey, v6: bool) -> Option<NextHop> {
    let local = src == SrcKind::Local;
    let use_self = match g.next_hop {
        1 => true,
        2 => local,
        _ => local || !g.ibgp,
    };
    if !use_self {
        if let Some(nh) = kept(ra.nh.as_ref(), g, v6) {
            return Some(nh);
        }
    }
    g.self_next_hop(v6)
}

/// The received next hop, if it can be sent as is: IPv4 for IPv4 NLRI, a global IPv6
/// address for IPv6 NLRI (or for IPv4 NLRI when RFC 8950 was negotiated). The link-local
/// address is only meaningful on the link it came from and is dropped (RFC 2545 §3).
fn kept(nh: Option<&NextHop>, g: &GroupKey, v6: bool) -> Option<NextHop> {
    match (nh?, v6) {
        (NextHop::V4(a), false) => Some(NextHop::V4(*a)),
        (NextHop::V6 { global, .. }, _)
            if !is_link_local(global) && (v6 || g.ext_next_hop.contains(&Family::IPV4_UNICAST)) =>
        {
            Some(NextHop::V6 {
                global: *global,
                link_local: None,
            })
        }
        _ => None,
    }
}

pub fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}
