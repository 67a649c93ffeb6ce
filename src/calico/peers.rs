//! The peer set (calico.md §2.4, §2.6; confd `processMeshPeers`, `buildPeerFromData`):
//! the node-to-node mesh, then global BGPPeers, then node-scoped ones. Names are BIRD's
//! protocol names (`Mesh_10_0_0_2`, `Global_…`, `Node_…[_port_N]`), which the
//! BIRD-compatible socket shows and Calico's tools parse back.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

use super::model::{BgpPeerSpec, NodeBgp, Password};
use super::{node_addr, Ctx, Selector, EXPORT_POLICY, SECRETS_DIR};
use crate::config::{AddPathMode, Asn, NextHopMode, PeerAddress, PeerAs, PeerCfg};
use crate::wire::Family;

/// BIRD 1.6's hold time (the Calico template does not set one).
const HOLD_TIME: u16 = 240;
/// BIRD's `multihop;` without a number.
const MULTIHOP_TTL: u8 = 64;

/// Which list a peering comes from; the name prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mesh,
    Global,
    Node,
}

/// One peering before it becomes a [`PeerCfg`].
struct Want<'a> {
    kind: Kind,
    ip: IpAddr,
    /// A port that is part of the name (`_port_N`).
    named_port: Option<u16>,
    port: u16,
    asn: u32,
    /// The remote side is a Calico node (its cluster ID below is meaningful).
    calico_node: bool,
    rr_cluster_id: String,
    spec: Option<&'a BgpPeerSpec>,
}

// ===== impl Kind =====

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Mesh => "Mesh",
            Kind::Global => "Global",
            Kind::Node => "Node",
        }
    }
}

/// Every peer of this node, sorted by name.
pub(super) fn peers(cx: &Ctx) -> Vec<PeerCfg> {
    let mut wants = mesh(cx);
    let mut globals = Vec::new();
    let mut nodes = Vec::new();
    for bp in cx.snap.bgp_peers.values() {
        match scope(cx, &bp.spec) {
            Some(Kind::Global) => globals.extend(remote(cx, &bp.spec, Kind::Global)),
            Some(_) => nodes.extend(remote(cx, &bp.spec, Kind::Node)),
            None => {}
        }
    }
    // §2.6: a node-scoped peering to an address a global one covers is dropped.
    let covered: BTreeSet<(IpAddr, u16)> = globals.iter().map(|w| (w.ip, w.port)).collect();
    nodes.retain(|w| !covered.contains(&(w.ip, w.port)));
    wants.extend(globals);
    wants.extend(nodes);
    // §2.6 step 3: reverse peerings come last, so forward ones win.
    for bp in cx.snap.bgp_peers.values() {
        wants.extend(reverse(cx, &bp.spec));
    }
    let mut out: Vec<PeerCfg> = Vec::new();
    let mut seen = BTreeSet::new();
    for w in wants {
        // A node never peers with itself, nor over a family it has no address in (BIRD6
        // would run passive sessions without a source that never come up); one session
        // per address and port (the first of mesh, global, node, reverse wins; BIRD would
        // run a second, failing protocol).
        let mine = cx.my_ip(w.ip.is_ipv4());
        if mine.is_none() || mine == Some(w.ip) || !seen.insert((w.ip, w.port)) {
            continue;
        }
        out.push(build(cx, &w));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

// ===== helper functions =====

/// §2.6 step 1: every other non-RR node, unless the mesh is off or we are an RR.
fn mesh<'a>(cx: &Ctx<'a>) -> Vec<Want<'a>> {
    let enabled = cx
        .global
        .and_then(|g| g.node_to_node_mesh_enabled)
        .unwrap_or(true);
    if !enabled || !cx.cluster_id.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, node) in &cx.snap.nodes {
        let Some(bgp) = node.spec.bgp.as_ref() else {
            continue;
        };
        if name == &cx.local.node_name || !rr_id(bgp).is_empty() {
            continue;
        }
        for ip in node_ips(bgp) {
            out.push(Want {
                kind: Kind::Mesh,
                ip,
                named_port: None,
                port: cx.listen_port(name).unwrap_or(179),
                // confd: the peer's AS, else ours.
                asn: bgp.as_number.map_or(cx.asn, |a| a.0),
                calico_node: true,
                rr_cluster_id: String::new(),
                spec: None,
            });
        }
    }
    out
}

/// Whether a BGPPeer applies to us: `Global` (no node, no nodeSelector), `Node` (ours
/// by name or selector) or not at all.
fn scope(cx: &Ctx, spec: &BgpPeerSpec) -> Option<Kind> {
    if spec
        .local_workload_selector
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return None; // local-workload peers need endpoint-status files: not supported
    }
    let node = spec.node.as_deref().filter(|s| !s.is_empty());
    let selector = spec
        .node_selector
        .as_deref()
        .filter(|s| !s.trim().is_empty());
    match (node, selector) {
        (None, None) => Some(Kind::Global),
        (Some(n), _) => (n == cx.local.node_name).then_some(Kind::Node),
        (None, Some(sel)) => {
            let labels = &cx.snap.nodes.get(&cx.local.node_name)?.metadata.labels;
            let sel = Selector::parse(sel).ok()?;
            sel.matches(labels).then_some(Kind::Node)
        }
    }
}

/// The remote side(s) of a BGPPeer: its `peerIP`, or every node its `peerSelector`
/// matches (each with its IPv4 and IPv6 address, AS, listen port and cluster ID).
fn remote<'a>(cx: &Ctx<'a>, spec: &'a BgpPeerSpec, kind: Kind) -> Vec<Want<'a>> {
    if let Some(sel) = spec
        .peer_selector
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        let Ok(sel) = Selector::parse(sel) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, node) in &cx.snap.nodes {
            let Some(bgp) = node.spec.bgp.as_ref() else {
                continue;
            };
            if !sel.matches(&node.metadata.labels) {
                continue;
            }
            let port = cx.listen_port(name);
            for ip in node_ips(bgp) {
                out.push(Want {
                    kind,
                    ip,
                    named_port: port,
                    port: port.unwrap_or(179),
                    asn: bgp.as_number.map_or(cx.global_asn, |a| a.0),
                    calico_node: true,
                    rr_cluster_id: rr_id(bgp).to_string(),
                    spec: Some(spec),
                });
            }
        }
        return out;
    }
    let Some((ip, port)) = spec.peer_ip.as_deref().and_then(parse_peer_ip) else {
        return Vec::new();
    };
    // Is the peer a Calico node? Without a port, a node with this IP and AS lends its
    // listen port. confd keeps no cluster ID for peerIP peers (only selector ones).
    let bgps = || {
        cx.snap
            .nodes
            .iter()
            .filter_map(|(n, node)| Some((n, node.spec.bgp.as_ref()?)))
    };
    let node = bgps()
        .find(|(_, b)| node_ips(b).contains(&ip))
        .map(|(_, b)| b);
    let port = port.or_else(|| {
        bgps()
            .find(|(n, b)| node_matches(cx, n, b, ip, spec.as_number, None))
            .and_then(|(n, _)| cx.listen_port(n))
    });
    let asn = spec
        .as_number
        .map(|a| a.0)
        .or_else(|| node.map(|b| b.as_number.map_or(cx.global_asn, |a| a.0)));
    let Some(asn) = asn else { return Vec::new() };
    vec![Want {
        kind,
        ip,
        named_port: port,
        port: port.unwrap_or(179),
        asn,
        calico_node: node.is_some(),
        rr_cluster_id: String::new(),
        spec: Some(spec),
    }]
}

/// confd `nodesWithIPPortAndAS`: the node has `ip`, its AS equals the BGPPeer's (both
/// default to the global AS), and a given port is not contradicted by its node or the
/// global listen port (confd checks both).
fn node_matches(
    cx: &Ctx,
    name: &str,
    b: &NodeBgp,
    ip: IpAddr,
    asn: Option<Asn>,
    port: Option<u16>,
) -> bool {
    let want_as = asn.map_or(cx.global_asn, |a| a.0);
    if !node_ips(b).contains(&ip) || b.as_number.map_or(cx.global_asn, |a| a.0) != want_as {
        return false;
    }
    let Some(p) = port else { return true };
    let node_port = cx
        .snap
        .bgp_configs
        .get(&format!("node.{name}"))
        .and_then(|c| c.spec.listen_port);
    let global_port = cx.global.and_then(|g| g.listen_port);
    node_port.is_none_or(|n| n == p) && global_port.is_none_or(|g| g == p)
}

/// §2.6 step 3: when a BGPPeer's remote side selects us (`peerSelector`, or `peerIP`
/// with a matching AS and port), we peer back with the nodes on its local side
/// (`node`, `nodeSelector`, default `all()`), unless `reversePeering: Manual`.
fn reverse<'a>(cx: &Ctx<'a>, spec: &'a BgpPeerSpec) -> Vec<Want<'a>> {
    if spec.reverse_peering.as_deref() == Some("Manual")
        || spec
            .local_workload_selector
            .as_deref()
            .is_some_and(|s| !s.is_empty())
    {
        return Vec::new();
    }
    let Some(me) = cx.snap.nodes.get(&cx.local.node_name) else {
        return Vec::new();
    };
    // Which of our families the remote side selects.
    let families: Vec<bool> = match spec
        .peer_selector
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(sel) => match Selector::parse(sel) {
            Ok(sel) if sel.matches(&me.metadata.labels) => vec![true, false],
            _ => return Vec::new(),
        },
        None => {
            let Some((ip, port)) = spec.peer_ip.as_deref().and_then(parse_peer_ip) else {
                return Vec::new();
            };
            let me_bgp = me.spec.bgp.as_ref();
            if !me_bgp
                .is_some_and(|b| node_matches(cx, &cx.local.node_name, b, ip, spec.as_number, port))
            {
                return Vec::new();
            }
            vec![ip.is_ipv4()]
        }
    };
    let node = spec.node.as_deref().filter(|s| !s.is_empty());
    let sel = match spec
        .node_selector
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(s) => match Selector::parse(s) {
            Ok(s) => s,
            Err(_) => return Vec::new(),
        },
        None => Selector::All,
    };
    let mut out = Vec::new();
    for (name, n) in &cx.snap.nodes {
        let Some(bgp) = n.spec.bgp.as_ref() else {
            continue;
        };
        let selected = match node {
            Some(only) => only == name,
            None => sel.matches(&n.metadata.labels),
        };
        if !selected || name == &cx.local.node_name {
            continue;
        }
        let port = cx.listen_port(name);
        for ip in node_ips(bgp)
            .into_iter()
            .filter(|ip| families.contains(&ip.is_ipv4()))
        {
            out.push(Want {
                kind: Kind::Node,
                ip,
                named_port: port,
                port: port.unwrap_or(179),
                asn: bgp.as_number.map_or(cx.global_asn, |a| a.0),
                calico_node: true,
                rr_cluster_id: rr_id(bgp).to_string(),
                spec: Some(spec),
            });
        }
    }
    out
}

/// §2.4: one `protocol bgp` of the template, as a wren peer.
fn build(cx: &Ctx, w: &Want) -> PeerCfg {
    let v4 = w.ip.is_ipv4();
    let my_ip = cx.my_ip(v4);
    let ibgp = w.asn == cx.asn;
    let spec = w.spec;
    // Mesh and global peers to Calico nodes: lexical `peerIP > myIP` (strings, as
    // confd compares them) makes one side passive. Node-scoped peers: never.
    let passive = w.kind != Kind::Node
        && w.calico_node
        && my_ip.is_some_and(|me| w.ip.to_string() > me.to_string());
    let source_address = match spec.and_then(|s| s.source_address.as_deref()) {
        Some("None") => None,
        _ => my_ip,
    };
    let (ttl_security, multihop) = match spec.and_then(|s| s.ttl_security) {
        Some(n) if n > 0 => (true, Some(n)),
        _ => (false, Some(MULTIHOP_TTL)),
    };
    let password = match spec {
        Some(s) => s.password.as_ref(),
        None => cx.global.and_then(|g| g.node_mesh_password.as_ref()),
    };
    let (import, export) = match spec {
        Some(s) => super::filters::names(cx, &s.filters),
        None => ("accept-all".to_string(), EXPORT_POLICY.to_string()),
    };
    PeerCfg {
        name: Some(name(w)),
        address: PeerAddress::Addr(w.ip),
        asn: PeerAs::Asn(Asn(w.asn)),
        port: w.port,
        passive,
        families: vec![if v4 {
            Family::IPV4_UNICAST
        } else {
            Family::IPV6_UNICAST
        }],
        hold_time: HOLD_TIME,
        keepalive: spec
            .and_then(|s| s.keepalive_time.as_deref())
            .and_then(|d| super::model::go_duration_secs(d).ok())
            .map(|s| u16::try_from(s).unwrap_or(u16::MAX)),
        multihop,
        ttl_security,
        source_address,
        password_file: password.and_then(secret_path),
        // rr client: we are an RR, the peer is iBGP and not in our cluster.
        route_reflector_client: ibgp
            && !cx.cluster_id.is_empty()
            && w.rr_cluster_id != cx.cluster_id,
        next_hop: next_hop(spec, ibgp),
        add_path: AddPathMode::Both,
        graceful_restart: true,
        long_lived_stale_time: 0,
        import: Some(import),
        export: Some(export),
        max_prefix: None,
    }
}

/// `nextHopMode` Self/Keep; legacy `keepOriginalNextHop` on eBGP peers only.
fn next_hop(spec: Option<&BgpPeerSpec>, ibgp: bool) -> NextHopMode {
    let Some(s) = spec else {
        return NextHopMode::Auto;
    };
    match s.next_hop_mode.as_deref() {
        Some("Self") => NextHopMode::SelfAddr,
        Some("Keep") => NextHopMode::Keep,
        _ if s.keep_original_next_hop && !ibgp => NextHopMode::Keep,
        _ => NextHopMode::Auto,
    }
}

/// `Mesh_10_0_0_2`, `Global_fd00__1_port_180`: `.` and `:` become `_`.
fn name(w: &Want) -> String {
    let ip = w.ip.to_string().replace(['.', ':'], "_");
    match w.named_port {
        Some(p) if w.kind != Kind::Mesh => format!("{}_{ip}_port_{p}", w.kind.prefix()),
        _ => format!("{}_{ip}", w.kind.prefix()),
    }
}

fn secret_path(p: &Password) -> Option<PathBuf> {
    let r = p.secret_key_ref.as_ref()?;
    if r.name.is_empty() || r.key.is_empty() || r.name.contains('/') || r.key.contains('/') {
        return None;
    }
    Some(PathBuf::from(SECRETS_DIR).join(&r.name).join(&r.key))
}

/// "10.0.0.1", "10.0.0.1:180", "fd00::1", "[fd00::1]:180".
fn parse_peer_ip(s: &str) -> Option<(IpAddr, Option<u16>)> {
    let s = s.trim();
    if let Ok(ip) = s.parse() {
        return Some((ip, None));
    }
    let (host, port) = s.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.parse().ok()?, Some(port.parse().ok()?)))
}

/// A node's BGP addresses, IPv4 first.
fn node_ips(b: &NodeBgp) -> Vec<IpAddr> {
    [b.ipv4_address.as_deref(), b.ipv6_address.as_deref()]
        .into_iter()
        .filter_map(|a| node_addr(a).map(|n| n.addr()))
        .collect()
}

fn rr_id(b: &NodeBgp) -> &str {
    b.route_reflector_cluster_id.as_deref().unwrap_or("")
}
