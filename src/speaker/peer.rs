//! From a `[[peer]]` config to what the session ([`SessionCfg`], [`Transport`]) and the
//! RIB ([`PeerInfo`]) need. Pure except for reading the TCP-MD5 key file.

use std::hash::{Hash, Hasher};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::host::Host;
use crate::config::{AddPathMode, Config, PeerAs, PeerCfg, PolicyCfg};
use crate::fsm::{DownReason, Negotiated, RemoteAs, SessionCfg};
use crate::net::Transport;
use crate::policy;
use crate::rib::{Filter, PeerId, PeerInfo};
use crate::wire::capability::{self as cap, AddPathFamily, ExtNextHop, GrFamily, GracefulRestart};
use crate::wire::error::cease_sub as cap_cease;
use crate::wire::family::{AFI_IPV4, AFI_IPV6};
use crate::wire::{Capability, Family};

/// First connect-retry interval (RFC 4271 §10 suggests 120 s; we start lower and back off).
pub const CONNECT_RETRY: Duration = Duration::from_secs(5);
pub const CONNECT_RETRY_MAX: Duration = Duration::from_secs(120);
/// Restart time we announce in our graceful-restart capability (RFC 4724 §3).
pub const GR_RESTART_TIME: u16 = 120;
/// Longest we keep a restarting peer's paths, whatever restart time it announced.
pub const STALE_MAX: Duration = Duration::from_secs(120);
/// TTL of iBGP sessions without `multihop` (they need not be directly connected).
pub const IBGP_TTL: u8 = 64;
/// Longest TCP-MD5 key the kernel accepts (TCP_MD5SIG_MAXKEYLEN).
const MD5_MAX_KEY: usize = 80;

/// Is this peer iBGP (same AS as ours)?
pub fn is_ibgp(p: &PeerCfg, local_as: u32) -> bool {
    match p.asn {
        PeerAs::Asn(a) => a.0 == local_as,
        PeerAs::Internal => true,
        PeerAs::External => false,
    }
}

/// The session settings of a peer at `remote`.
pub fn session_cfg(p: &PeerCfg, remote: IpAddr, local_as: u32, router_id: Ipv4Addr) -> SessionCfg {
    SessionCfg {
        local_as,
        local_id: router_id,
        remote_as: match p.asn {
            PeerAs::Asn(a) => RemoteAs::Exact(a.0),
            PeerAs::Internal => RemoteAs::Internal,
            PeerAs::External => RemoteAs::External,
        },
        passive: p.passive || p.address.addr().is_none(),
        hold_time: p.hold_time,
        keepalive: p.keepalive,
        connect_retry: CONNECT_RETRY,
        connect_retry_max: CONNECT_RETRY_MAX,
        capabilities: capabilities(p, local_as, remote.is_ipv6()),
        jitter_seed: jitter_seed(remote),
    }
}

/// The capabilities of our OPEN to this peer.
pub fn capabilities(p: &PeerCfg, local_as: u32, v6_session: bool) -> Vec<Capability> {
    let mut caps: Vec<Capability> = p
        .families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    caps.push(Capability::RouteRefresh);
    caps.push(Capability::EnhancedRouteRefresh);
    caps.push(Capability::FourOctetAs(local_as));
    let mode = match p.add_path {
        AddPathMode::Off => None,
        AddPathMode::Receive => Some(cap::AddPathMode::Receive),
        AddPathMode::Send => Some(cap::AddPathMode::Send),
        AddPathMode::Both => Some(cap::AddPathMode::Both),
    };
    if let Some(mode) = mode {
        let fams = p
            .families
            .iter()
            .map(|f| AddPathFamily { family: *f, mode });
        caps.push(Capability::AddPath(fams.collect()));
    }
    if p.graceful_restart {
        // R and F are set per start by the speaker (restart.rs); N: RFC 8538 §2.
        caps.push(Capability::GracefulRestart(GracefulRestart {
            restart: false,
            notification: true,
            reserved_flags: 0,
            time: GR_RESTART_TIME,
            families: p
                .families
                .iter()
                .map(|f| GrFamily {
                    family: *f,
                    forwarding: true,
                    reserved_flags: 0,
                })
                .collect(),
        }));
    }
    if let Some(c) = super::llgr::capability(p) {
        caps.push(c);
    }
    caps.push(Capability::ExtendedMessage);
    // RFC 8950: IPv4 routes over an IPv6 session carry IPv6 next hops.
    if v6_session && p.families.contains(&Family::IPV4_UNICAST) {
        caps.push(Capability::ExtendedNextHop(vec![ExtNextHop {
            nlri_afi: AFI_IPV4,
            nlri_safi: 1,
            next_hop_afi: AFI_IPV6,
        }]));
    }
    caps
}

/// How to reach the peer at `remote`; reads the TCP-MD5 key file.
pub fn transport(p: &PeerCfg, remote: IpAddr, local_as: u32) -> io::Result<Transport> {
    let md5_key = match &p.password_file {
        Some(path) => Some(read_md5_key(path)?),
        None => None,
    };
    let default_ttl = if is_ibgp(p, local_as) && !p.ttl_security {
        IBGP_TTL
    } else {
        1
    };
    Ok(Transport {
        remote: SocketAddr::new(remote, p.port),
        local: p.source_address,
        passive: p.passive || p.address.addr().is_none(),
        ttl: p.multihop.unwrap_or(default_ttl),
        gtsm: p.ttl_security,
        md5_key,
    })
}

/// Read a TCP-MD5 key: the file's bytes without the trailing newline. Errors name the
/// file, never the key.
pub fn read_md5_key(path: &Path) -> io::Result<Vec<u8>> {
    let bad = |kind, why: String| io::Error::new(kind, format!("{}: {why}", path.display()));
    let mut key = std::fs::read(path).map_err(|e| bad(e.kind(), e.to_string()))?;
    while matches!(key.last(), Some(b'\n' | b'\r')) {
        key.pop();
    }
    if key.is_empty() {
        return Err(bad(
            io::ErrorKind::InvalidData,
            "the TCP-MD5 key is empty".into(),
        ));
    }
    if key.len() > MD5_MAX_KEY {
        let why = format!("the TCP-MD5 key is longer than {MD5_MAX_KEY} bytes");
        return Err(bad(io::ErrorKind::InvalidData, why));
    }
    Ok(key)
}

/// An import or export filter from its config name: a built-in or a `[[policy]]`.
/// RFC 8212: an eBGP peer without an explicit policy neither accepts nor sends routes.
/// A name that is not defined (the config validation refuses it) rejects everything.
pub fn filter(name: Option<&str>, ibgp: bool, policies: &[PolicyCfg]) -> Filter {
    match name {
        Some(policy::REJECT_ALL) => Filter::RejectAll,
        Some(policy::ACCEPT_ALL) => Filter::AcceptAll,
        Some(n) => policies
            .iter()
            .find(|p| p.name == n)
            .and_then(|p| policy::compile(p).ok())
            .map_or(Filter::RejectAll, |p| Filter::Policy(Arc::new(p))),
        None if ibgp => Filter::AcceptAll,
        None => Filter::RejectAll,
    }
}

/// The kernel filter (`[fib] export`): every best route when not set.
pub fn kernel_filter(cfg: &Config) -> Filter {
    match cfg.fib.export.as_deref() {
        None => Filter::AcceptAll,
        name => filter(name, true, &cfg.policies),
    }
}

/// The addresses of an Established session.
#[derive(Debug, Clone, Copy)]
pub struct SessionAddrs {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// What the RIB needs to know about an Established peer (`policies`: the `[[policy]]`
/// tables its import and export names refer to).
#[allow(clippy::too_many_arguments)]
pub fn peer_info(
    id: PeerId,
    name: &str,
    p: &PeerCfg,
    neg: Negotiated,
    addrs: SessionAddrs,
    local_as: u32,
    host: &Host,
    policies: &[PolicyCfg],
) -> PeerInfo {
    let local = addrs.local.ip().to_canonical();
    let remote = addrs.remote.ip().to_canonical();
    let ibgp = neg.peer_as == local_as;
    let local_v4 = match local {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => host.first_v4(),
    };
    let local_v6 = match local {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => host.first_v6(),
    };
    PeerInfo {
        id,
        name: name.to_string(),
        remote,
        local,
        local_v4,
        local_v6,
        link_local: host.link_local(local, remote),
        asn: neg.peer_as,
        ibgp,
        rr_client: p.route_reflector_client,
        next_hop: p.next_hop,
        import: filter(p.import.as_deref(), ibgp, policies),
        export: filter(p.export.as_deref(), ibgp, policies),
        max_prefix: p.max_prefix,
        neg,
    }
}

/// How long to keep the peer's paths as stale after this down (RFC 4724 §4.2), or `None`
/// to withdraw them now. We help only when graceful restart is on for the peer and the
/// peer announced it with a restart time. The session must have ended without a
/// NOTIFICATION, or, when both sides set the N bit (RFC 8538 §4; we always do), with
/// any NOTIFICATION but a Cease/Hard Reset.
pub fn stale_time(p: &PeerCfg, neg: Option<&Negotiated>, reason: &DownReason) -> Option<Duration> {
    if !p.graceful_restart {
        return None;
    }
    let gr = neg?.peer_gr.as_ref()?;
    if gr.restart_time == 0 {
        return None;
    }
    let keep = Some(Duration::from_secs(u64::from(gr.restart_time)).min(STALE_MAX));
    match reason {
        DownReason::Transport(_) | DownReason::FsmError(_) => keep,
        DownReason::NotificationReceived(n) | DownReason::NotificationSent(n, _) => {
            let hard = n.code == 6 && n.subcode == cap_cease::HARD_RESET;
            keep.filter(|_| gr.notification && !hard)
        }
        DownReason::Stopped => None,
    }
}

// ===== helper functions =====

fn jitter_seed(remote: IpAddr) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    remote.hash(&mut h);
    h.finish()
}

// ===== tests =====

#[cfg(test)]
mod tests;
