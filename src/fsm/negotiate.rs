//! OPEN validation (RFC 4271 §6.2, RFC 6286) and capability negotiation (RFC 5492).

use std::net::Ipv4Addr;

use super::{Negotiated, PeerGr, RemoteAs, SessionCfg};
use crate::wire::capability::{AddPathMode, ExtNextHop};
use crate::wire::error::{code, open_sub};
use crate::wire::{Capability, Family, NotificationMsg, OpenMsg, OptParam};

/// RFC 6793 §9: the 2-octet AS used in place of a 4-octet one.
pub const AS_TRANS: u16 = 23456;

/// The OPEN we send (RFC 4271 §4.2): a 4-octet AS goes in the capability, AS_TRANS here.
pub fn our_open(cfg: &SessionCfg) -> OpenMsg {
    let my_as = u16::try_from(cfg.local_as).unwrap_or(AS_TRANS);
    OpenMsg {
        version: 4,
        my_as,
        hold_time: cfg.hold_time,
        bgp_id: cfg.local_id,
        params: vec![OptParam::Capabilities(cfg.capabilities.clone())],
        extended_params: false,
    }
}

/// Check the peer's OPEN; on error, the NOTIFICATION and one sentence for the operator.
pub fn check_open(cfg: &SessionCfg, open: &OpenMsg) -> Result<(), (NotificationMsg, String)> {
    let fail = |sub: u8, data: Vec<u8>, why: String| {
        Err((
            NotificationMsg {
                code: code::OPEN,
                subcode: sub,
                data,
            },
            why,
        ))
    };
    // RFC 4271 §6.2: data = the largest locally supported version number.
    if open.version != 4 {
        let why = format!("unsupported BGP version {} (we speak 4)", open.version);
        return fail(open_sub::UNSUPPORTED_VERSION, vec![0, 4], why);
    }
    let peer_as = peer_asn(open);
    let as_ok = match cfg.remote_as {
        RemoteAs::Exact(a) => peer_as == a,
        RemoteAs::Internal => peer_as == cfg.local_as,
        RemoteAs::External => peer_as != cfg.local_as,
    };
    if !as_ok {
        let expected = match cfg.remote_as {
            RemoteAs::Exact(a) => a.to_string(),
            RemoteAs::Internal => format!("{} (internal)", cfg.local_as),
            RemoteAs::External => format!("anything but {} (external)", cfg.local_as),
        };
        let why = format!("bad peer AS: expected {expected}, got {peer_as}");
        return fail(open_sub::BAD_PEER_AS, Vec::new(), why);
    }
    // RFC 4271 §6.2: a Hold Time of one or two seconds MUST be rejected.
    if open.hold_time == 1 || open.hold_time == 2 {
        let why = format!(
            "unacceptable hold time {} s (must be 0 or at least 3)",
            open.hold_time
        );
        return fail(open_sub::UNACCEPTABLE_HOLD_TIME, Vec::new(), why);
    }
    // RFC 6286 §2.2: the identifier is non-zero, and differs from ours on iBGP sessions.
    let ibgp = peer_as == cfg.local_as;
    if open.bgp_id == Ipv4Addr::UNSPECIFIED || (ibgp && open.bgp_id == cfg.local_id) {
        let why = format!(
            "bad BGP identifier {} (zero, or equal to ours on iBGP)",
            open.bgp_id
        );
        return fail(open_sub::BAD_BGP_IDENTIFIER, Vec::new(), why);
    }
    Ok(())
}

/// The peer's AS: the 4-octet AS capability when present (RFC 6793 §3), else My AS.
pub fn peer_asn(open: &OpenMsg) -> u32 {
    caps(&open.params)
        .find_map(|c| match c {
            Capability::FourOctetAs(a) => Some(*a),
            _ => None,
        })
        .unwrap_or(u32::from(open.my_as))
}

/// Combine our capabilities and the peer's OPEN into the session's parameters.
pub fn negotiate(cfg: &SessionCfg, open: &OpenMsg) -> Negotiated {
    let ours: Vec<&Capability> = cfg.capabilities.iter().collect();
    let theirs: Vec<&Capability> = caps(&open.params).collect();
    let both =
        |f: fn(&Capability) -> bool| ours.iter().any(|c| f(c)) && theirs.iter().any(|c| f(c));
    // RFC 4271 §4.4: the smaller of the two hold times; keepalive a third of it unless set lower.
    let hold_time = cfg.hold_time.min(open.hold_time);
    let keepalive = match cfg.keepalive {
        Some(k) if hold_time != 0 => k.min(hold_time / 3).max(1),
        _ => hold_time / 3,
    };
    let fams_ours = families(&ours);
    let families = families(&theirs)
        .into_iter()
        .filter(|f| fams_ours.contains(f))
        .collect();
    Negotiated {
        peer_as: peer_asn(open),
        peer_id: open.bgp_id,
        hold_time,
        keepalive,
        as4: both(|c| matches!(c, Capability::FourOctetAs(_))),
        families,
        add_path_rx: add_path(&ours, &theirs, AddPathMode::Receive, AddPathMode::Send),
        add_path_tx: add_path(&ours, &theirs, AddPathMode::Send, AddPathMode::Receive),
        route_refresh: both(|c| matches!(c, Capability::RouteRefresh)),
        enhanced_route_refresh: both(|c| matches!(c, Capability::EnhancedRouteRefresh)),
        ext_msg: both(|c| matches!(c, Capability::ExtendedMessage)),
        ext_next_hop: ext_next_hop(&ours, &theirs),
        peer_gr: theirs.iter().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(PeerGr {
                restarting: gr.restart,
                notification: gr.notification,
                restart_time: gr.time,
                preserved: gr
                    .families
                    .iter()
                    .filter(|f| f.forwarding)
                    .map(|f| f.family)
                    .collect(),
            }),
            _ => None,
        }),
        // RFC 9494 §4.1, §4.5: an LLGR capability without the GR capability is ignored.
        peer_llgr: theirs
            .iter()
            .find_map(|c| match c {
                Capability::LongLivedGr(v) => Some(v.clone()),
                _ => None,
            })
            .filter(|_| {
                theirs
                    .iter()
                    .any(|c| matches!(c, Capability::GracefulRestart(_)))
            }),
    }
}

/// RFC 7911 §4: we receive path identifiers for a family when we announced Receive
/// (or Both) and the peer announced Send (or Both); the reverse for sending.
fn add_path(
    ours: &[&Capability],
    theirs: &[&Capability],
    we: AddPathMode,
    they: AddPathMode,
) -> Vec<Family> {
    let modes = |caps: &[&Capability]| -> Vec<(Family, AddPathMode)> {
        caps.iter()
            .filter_map(|c| match c {
                Capability::AddPath(v) => Some(v.iter().map(|e| (e.family, e.mode))),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let has = |m: AddPathMode, want: AddPathMode| m == want || m == AddPathMode::Both;
    let theirs = modes(theirs);
    modes(ours)
        .into_iter()
        .filter(|(f, m)| has(*m, we) && theirs.iter().any(|(g, n)| g == f && has(*n, they)))
        .map(|(f, _)| f)
        .collect()
}

/// RFC 8950 §3: a family may carry IPv6 next hops when both sides listed the same entry.
fn ext_next_hop(ours: &[&Capability], theirs: &[&Capability]) -> Vec<Family> {
    let entries = |caps: &[&Capability]| -> Vec<ExtNextHop> {
        caps.iter()
            .filter_map(|c| match c {
                Capability::ExtendedNextHop(v) => Some(v.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    };
    let theirs = entries(theirs);
    entries(ours)
        .into_iter()
        .filter(|e| theirs.contains(e))
        .filter_map(|e| {
            u8::try_from(e.nlri_safi)
                .ok()
                .map(|safi| Family::new(e.nlri_afi, safi))
        })
        .collect()
}

fn caps(params: &[OptParam]) -> impl Iterator<Item = &Capability> {
    params.iter().flat_map(|p| match p {
        OptParam::Capabilities(c) => c.as_slice(),
        OptParam::Unknown { .. } => &[],
    })
}

/// RFC 4760 §8: without any Multiprotocol capability only IPv4 unicast is carried.
fn families(caps: &[&Capability]) -> Vec<Family> {
    let mp: Vec<Family> = caps
        .iter()
        .filter_map(|c| match c {
            Capability::Multiprotocol(f) => Some(*f),
            _ => None,
        })
        .collect();
    if mp.is_empty() {
        vec![Family::IPV4_UNICAST]
    } else {
        mp
    }
}
