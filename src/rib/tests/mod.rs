//! RIB tests without a runtime: inputs in, flush, decode what was sent.

mod basic;
mod decision;
mod export;
mod groups;
mod learn;
mod lifecycle;
mod llgr;
mod policy;
mod random;
mod reconfig;

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::wire::{
    decode, frame_len, AsPath, Ctx, Message, MpNlri, MpReach, NextHop, Nlri4, Nlri6, Origin,
    UpdateMsg,
};

pub const AS: u32 = 65000;
pub const RID: Ipv4Addr = Ipv4Addr::new(198, 18, 255, 1);

pub fn cfg() -> RibCfg {
    RibCfg {
        local_as: AS,
        router_id: RID,
        cluster_id: RID,
        multipath: 1,
        fib: true,
    }
}

pub fn rib() -> Rib {
    Rib::new(cfg())
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn p4(s: &str) -> Prefix {
    Prefix::V4(s.parse().unwrap())
}

pub fn p6(s: &str) -> Prefix {
    Prefix::V6(s.parse().unwrap())
}

pub fn neg(peer_as: u32, peer_id: Ipv4Addr) -> Negotiated {
    Negotiated::plain(
        peer_as,
        peer_id,
        vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
    )
}

/// An eBGP peer `id` in AS `asn` at 198.18.<id>.2, we are 198.18.<id>.1.
pub fn ebgp(id: PeerId, asn: u32) -> PeerInfo {
    let n = id as u8;
    PeerInfo {
        id,
        name: format!("p{id}"),
        remote: IpAddr::V4(Ipv4Addr::new(198, 18, n, 2)),
        local: IpAddr::V4(Ipv4Addr::new(198, 18, n, 1)),
        local_v4: None,
        local_v6: None,
        link_local: None,
        asn,
        ibgp: false,
        rr_client: false,
        next_hop: NextHopMode::Auto,
        import: Filter::AcceptAll,
        export: Filter::AcceptAll,
        max_prefix: None,
        neg: neg(asn, Ipv4Addr::new(198, 19, n, 2)),
    }
}

/// An iBGP peer `id` (our AS); `client`: route-reflector client.
pub fn ibgp(id: PeerId, client: bool) -> PeerInfo {
    PeerInfo {
        ibgp: true,
        rr_client: client,
        ..ebgp(id, AS)
    }
}

/// Two peers that differ only in id and remote address: same update group.
pub fn twin(mut p: PeerInfo, id: PeerId, remote: &str) -> PeerInfo {
    p.id = id;
    p.remote = ip(remote);
    p.neg.peer_id = Ipv4Addr::new(198, 19, 100, id as u8);
    p
}

pub fn attrs(path: &[u32], nh: &str) -> Attrs {
    Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(path)),
        next_hop: Some(v4(nh)),
        ..Attrs::default()
    }
}

pub fn announce(a: Attrs, prefixes: &[&str]) -> UpdateMsg {
    UpdateMsg {
        attrs: a,
        nlri: prefixes
            .iter()
            .map(|p| Nlri4 {
                path_id: 0,
                prefix: p.parse().unwrap(),
            })
            .collect(),
        ..UpdateMsg::default()
    }
}

pub fn announce_ids(a: Attrs, prefixes: &[(&str, u32)]) -> UpdateMsg {
    UpdateMsg {
        attrs: a,
        nlri: prefixes
            .iter()
            .map(|(p, id)| Nlri4 {
                path_id: *id,
                prefix: p.parse().unwrap(),
            })
            .collect(),
        ..UpdateMsg::default()
    }
}

pub fn announce6(mut a: Attrs, nh: NextHop, prefixes: &[&str]) -> UpdateMsg {
    a.next_hop = None;
    UpdateMsg {
        attrs: a,
        mp_reach: Some(MpReach {
            family: Family::IPV6_UNICAST,
            next_hop: nh,
            nlri: MpNlri::V6(
                prefixes
                    .iter()
                    .map(|p| Nlri6 {
                        path_id: 0,
                        prefix: p.parse().unwrap(),
                    })
                    .collect(),
            ),
        }),
        ..UpdateMsg::default()
    }
}

pub fn withdraw(prefixes: &[&str]) -> UpdateMsg {
    UpdateMsg {
        withdrawn: prefixes
            .iter()
            .map(|p| Nlri4 {
                path_id: 0,
                prefix: p.parse().unwrap(),
            })
            .collect(),
        ..UpdateMsg::default()
    }
}

/// Decode back-to-back messages.
pub fn messages(bytes: &[u8], ctx: &Ctx) -> Vec<Message> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = frame_len(rest, ctx).unwrap().unwrap();
        let (m, f) = decode(&rest[..n], ctx).unwrap();
        assert!(f.is_empty(), "{f:?}");
        out.push(m);
        rest = &rest[n..];
    }
    out
}

/// Every UPDATE sent to `peer` in this output, in order.
pub fn sent(out: &RibOutput, peer: PeerId, ctx: &Ctx) -> Vec<UpdateMsg> {
    out.sends
        .iter()
        .filter(|o| o.peers.contains(&peer))
        .flat_map(|o| messages(&o.bytes, ctx))
        .filter_map(|m| match m {
            Message::Update(u) => Some(u),
            _ => None,
        })
        .collect()
}

/// The UPDATEs to `peer` without End-of-RIB markers.
pub fn routes(out: &RibOutput, peer: PeerId) -> Vec<UpdateMsg> {
    sent(out, peer, &Ctx::default())
        .into_iter()
        .filter(|u| u.end_of_rib().is_none())
        .collect()
}

/// IPv4 prefixes announced to `peer`, as strings.
pub fn announced4(out: &RibOutput, peer: PeerId) -> Vec<String> {
    routes(out, peer)
        .iter()
        .flat_map(|u| u.nlri.iter().map(|n| n.prefix.to_string()))
        .collect()
}

/// IPv4 prefixes withdrawn from `peer`.
pub fn withdrawn4(out: &RibOutput, peer: PeerId) -> Vec<String> {
    routes(out, peer)
        .iter()
        .flat_map(|u| u.withdrawn.iter().map(|n| n.prefix.to_string()))
        .collect()
}

/// Bring peers up and flush away their (empty) initial tables.
pub fn up(rib: &mut Rib, peers: &[PeerInfo]) {
    for p in peers {
        rib.peer_up(p.clone());
    }
    rib.flush();
}

pub fn best(rib: &Rib, prefix: &str) -> Option<PathView> {
    rib.explain(&p4(prefix)).into_iter().find(|v| v.best)
}
