//! Calico mode: translate Calico's etcd datastore into a wren [`Config`], the way
//! confd + BIRD would have computed it (facts: shared/reference/calico.md §2, §3).
//!
//! Pure: no I/O. [`Snapshot::apply`] takes one etcd put/delete at a time and keeps the
//! parsed objects; [`translate`] turns a snapshot into a complete, deterministic config
//! (peers sorted by name, originations by prefix), so that diffing two translations
//! shows only real changes.
//!
//! - `model`: the resource JSON (Node, BGPConfiguration, BGPPeer, IPPool, affinities).
//! - `peers`: the peer set (§2.4, §2.6): mesh, route reflection, global/node peers.
//! - `policy`: originations (blocks), `calico_export_to_bgp_peers` and
//!   `calico_kernel_programming` as `[[policy]]`s, IPIP device routes (§2.3, §2.5).
//! - `selector`: Calico's label selectors.
//! - `filters`: BGPFilters as per-peer policies.
//!
//! Not translated (yet): some BGPFilter conditions (see `filters`), `localASNumber`,
//! `numAllowedLocalASNumbers` (the RIB always rejects its own AS in AS_PATH),
//! `maxRestartTime` / `nodeMeshMaxRestartTime` (wren's GR restart time is fixed),
//! `reachableBy`, local-workload peers, `ignoredInterfaces`, `logSeverityScreen`. The
//! interface-name rejects of §2.5 steps 2–3 are done by not learning kernel routes
//! through those devices at all (for eBGP peers too, where BIRD only rejects `bpf*.cali`).

mod filters;
mod model;
mod peers;
mod policy;
mod selector;
mod sha256;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipnet::IpNet;
use serde::de::DeserializeOwned;

use crate::config::{Asn, Config, FibCfg, RouterCfg};
use model::{Affinity, BgpConfigSpec, BgpConfiguration, BgpFilter, BgpPeer, IpPool, Node};
pub use selector::Selector;

/// Calico's default AS when no BGPConfiguration sets one (`client.go` `globalDefaults`).
pub const DEFAULT_AS: u32 = 64512;
/// Kubernetes Secrets named by `password.secretKeyRef {name, key}` are read from
/// `<SECRETS_DIR>/<name>/<key>` (mount the Secret there, as a volume).
pub const SECRETS_DIR: &str = "/etc/wren/calico-secrets";
/// The export policy every Calico peer uses (BIRD's function name).
pub const EXPORT_POLICY: &str = "calico_export_to_bgp_peers";
/// The kernel policy (`[fib] export`; BIRD's filter name).
pub const KERNEL_POLICY: &str = "calico_kernel_programming";
/// rtm_protocol of BIRD's routes (RTPROT_BIRD).
pub const RTPROT_BIRD: u8 = 12;

const RESOURCES: &str = "/calico/resources/v3/projectcalico.org/";
const AFFINITIES: &str = "/calico/ipam/v2/host/";

/// The parsed datastore (only the keys Calico's BGP side reads).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    nodes: BTreeMap<String, Node>,
    bgp_configs: BTreeMap<String, BgpConfiguration>,
    bgp_peers: BTreeMap<String, BgpPeer>,
    pools: BTreeMap<String, IpPool>,
    filters: BTreeMap<String, BgpFilter>,
    /// (host, block) → affinity.
    blocks: BTreeMap<(String, IpNet), Affinity>,
}

/// What this node knows about itself outside the datastore.
#[derive(Debug, Clone)]
pub struct Local {
    pub node_name: String,
    /// CALICO_ROUTER_ID: a literal IPv4 address, or "hash".
    pub router_id: Option<String>,
    /// Daemon-level settings from the file: control, metrics, fib, log, datastore.
    pub base: Config,
}

/// Everything the translation derives about this node first.
struct Ctx<'a> {
    snap: &'a Snapshot,
    local: &'a Local,
    /// Our addresses, with the node's subnets.
    v4: Option<IpNet>,
    v6: Option<IpNet>,
    /// Our AS: the node's, else the global one, else 64512.
    asn: u32,
    /// The global AS (BGPConfiguration `default`, else 64512).
    global_asn: u32,
    /// Our route reflector cluster ID ("" when not a route reflector).
    cluster_id: String,
    global: Option<&'a BgpConfigSpec>,
    /// BGPConfiguration `node.<us>`.
    node_cfg: Option<&'a BgpConfigSpec>,
}

// ===== impl Snapshot =====

impl Snapshot {
    /// Apply one etcd put (`Some`) or delete (`None`). Unknown keys are ignored; bad JSON
    /// is an error naming the key, and the previous value stays.
    pub fn apply(&mut self, key: &str, value: Option<&[u8]>) -> Result<(), String> {
        if let Some(rest) = key.strip_prefix(RESOURCES) {
            let Some((plural, name)) = rest.split_once('/') else {
                return Ok(());
            };
            if name.is_empty() || name.contains('/') {
                return Ok(());
            }
            return match plural {
                "nodes" => put(&mut self.nodes, name, key, value),
                "bgpconfigurations" => put(&mut self.bgp_configs, name, key, value),
                "bgppeers" => put(&mut self.bgp_peers, name, key, value),
                "ippools" => put(&mut self.pools, name, key, value),
                "bgpfilters" => put(&mut self.filters, name, key, value),
                _ => Ok(()),
            };
        }
        if let Some(rest) = key.strip_prefix(AFFINITIES) {
            return self.apply_affinity(key, rest, value);
        }
        Ok(())
    }

    /// `<host>/ipv4/block/<a.b.c.d-26>` (or `ipv6`).
    fn apply_affinity(
        &mut self,
        key: &str,
        rest: &str,
        value: Option<&[u8]>,
    ) -> Result<(), String> {
        let parts: Vec<&str> = rest.split('/').collect();
        let [host, fam, "block", cidr] = parts[..] else {
            return Ok(());
        };
        if fam != "ipv4" && fam != "ipv6" {
            return Ok(());
        }
        let net: IpNet = match cidr.rsplit_once('-') {
            Some((ip, len)) => format!("{ip}/{len}")
                .parse()
                .map_err(|_| format!("{key}: {cidr:?} is not a block CIDR"))?,
            None => return Err(format!("{key}: {cidr:?} is not a block CIDR")),
        };
        let id = (host.to_string(), net.trunc());
        match value {
            None => {
                self.blocks.remove(&id);
            }
            // An empty value is a legacy affinity: parsed as `{}`.
            Some(v) if v.iter().all(u8::is_ascii_whitespace) => {
                self.blocks.insert(id, Affinity::default());
            }
            Some(v) => {
                let a = serde_json::from_slice(v).map_err(|e| format!("{key}: {e}"))?;
                self.blocks.insert(id, a);
            }
        }
        Ok(())
    }

    /// Number of objects held (for status lines).
    pub fn len(&self) -> usize {
        self.nodes.len()
            + self.bgp_configs.len()
            + self.bgp_peers.len()
            + self.pools.len()
            + self.filters.len()
            + self.blocks.len()
    }

    /// Nothing held yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ===== impl Ctx =====

impl<'a> Ctx<'a> {
    fn new(snap: &'a Snapshot, local: &'a Local) -> Result<Ctx<'a>, String> {
        let name = &local.node_name;
        let node = snap.nodes.get(name).ok_or_else(|| {
            format!("node {name:?} is not in the datastore ({RESOURCES}nodes/{name})")
        })?;
        let bgp =
            node.spec.bgp.as_ref().ok_or_else(|| {
                format!("node {name:?} has no spec.bgp (BGP is not enabled on it)")
            })?;
        let global = snap.bgp_configs.get("default").map(|c| &c.spec);
        let node_cfg = snap
            .bgp_configs
            .get(&format!("node.{name}"))
            .map(|c| &c.spec);
        let global_asn = global.and_then(|g| g.as_number).map_or(DEFAULT_AS, |a| a.0);
        Ok(Ctx {
            snap,
            local,
            v4: node_addr(bgp.ipv4_address.as_deref()),
            v6: node_addr(bgp.ipv6_address.as_deref()),
            asn: bgp.as_number.map_or(global_asn, |a| a.0),
            global_asn,
            cluster_id: bgp.route_reflector_cluster_id.clone().unwrap_or_default(),
            global,
            node_cfg,
        })
    }

    /// Our address of the family of `ip`.
    fn my_ip(&self, v4: bool) -> Option<IpAddr> {
        if v4 { self.v4 } else { self.v6 }.map(|n| n.addr())
    }

    /// A node's listen port: its `node.<name>` BGPConfiguration, else the global one.
    fn listen_port(&self, node: &str) -> Option<u16> {
        self.snap
            .bgp_configs
            .get(&format!("node.{node}"))
            .and_then(|c| c.spec.listen_port)
            .or_else(|| self.global.and_then(|g| g.listen_port))
    }

    fn router(&self) -> Result<RouterCfg, String> {
        let router_id = match self.local.router_id.as_deref() {
            Some("hash") => hash_router_id(&self.local.node_name),
            Some(lit) => lit
                .parse()
                .map_err(|_| format!("CALICO_ROUTER_ID {lit:?} is neither an IPv4 address nor \"hash\""))?,
            None => match self.v4.map(|n| n.addr()) {
                Some(IpAddr::V4(a)) => a,
                _ => {
                    return Err(format!(
                        "node {:?} has no IPv4 address for the router ID; set CALICO_ROUTER_ID (an address or \"hash\")",
                        self.local.node_name
                    ))
                }
            },
        };
        let port = self.listen_port(&self.local.node_name).unwrap_or(179);
        let node_ip = self.global.and_then(|g| g.bind_mode.as_deref()) == Some("NodeIP");
        // §2.2: `listen bgp address <nodeIP>` with bindMode NodeIP, else every address.
        let listen = if node_ip {
            [self.v4, self.v6]
                .into_iter()
                .flatten()
                .map(|n| SocketAddr::new(n.addr(), port))
                .collect()
        } else {
            vec![
                SocketAddr::from(([0, 0, 0, 0], port)),
                SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)),
            ]
        };
        let cluster_id = match self.cluster_id.as_str() {
            "" => None,
            c => Some(c.parse().map_err(|_| {
                format!(
                    "routeReflectorClusterID {c:?} of node {:?} is not an IPv4 address",
                    self.local.node_name
                )
            })?),
        };
        Ok(RouterCfg {
            asn: Asn(self.asn),
            router_id: Some(router_id),
            listen,
            cluster_id,
        })
    }
}

/// The config confd + BIRD would have run for `local.node_name`. Errors when this node
/// is missing from the snapshot or has no BGP spec or usable router ID.
pub fn translate(snap: &Snapshot, local: &Local) -> Result<Config, String> {
    let cx = Ctx::new(snap, local)?;
    let mut cfg = local.base.clone();
    cfg.router = cx.router()?;
    cfg.peers = peers::peers(&cx);
    cfg.originate = policy::originate(&cx);
    let export = policy::export_policy(&cx);
    let used: BTreeSet<String> = cfg
        .peers
        .iter()
        .flat_map(|p| [p.import.clone(), p.export.clone()])
        .flatten()
        .collect();
    let mut mine = filters::policies(&cx, &export, &used);
    mine.extend([export, policy::kernel_policy(&cx)]);
    cfg.policies
        .retain(|p| !mine.iter().any(|m| m.name == p.name));
    cfg.policies.extend(mine);
    cfg.policies.sort_by(|a, b| a.name.cmp(&b.name));
    cfg.fib = FibCfg {
        protocol: RTPROT_BIRD,
        ecmp: true,
        device_route: policy::device_routes(&cx),
        export: Some(KERNEL_POLICY.to_string()),
        // BIRD's `kernel { learn; }`: Felix's workload /32s (borrowed IPs) are exported.
        learn: true,
        learn_ignore: policy::learn_ignore(),
        // `blackhole 10.x.y.0/26 proto bird`, as BIRD writes it (not `nhid N dev lo`).
        blackhole_nexthop: false,
        ..local.base.fib.clone()
    };
    Ok(cfg)
}

// ===== helper functions =====

fn put<T: DeserializeOwned>(
    map: &mut BTreeMap<String, T>,
    name: &str,
    key: &str,
    value: Option<&[u8]>,
) -> Result<(), String> {
    match value {
        None => {
            map.remove(name);
        }
        Some(v) => {
            let obj = serde_json::from_slice(v).map_err(|e| format!("{key}: {e}"))?;
            map.insert(name.to_string(), obj);
        }
    }
    Ok(())
}

/// A node's "10.0.0.11/24" (or a bare address, as a host prefix).
fn node_addr(s: Option<&str>) -> Option<IpNet> {
    let s = s?.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Calico's `HashToIPv4`: the first 4 bytes of SHA-256(node name), with 32 taken off a
/// first octet above 223 (keeps it out of multicast and class E).
pub fn hash_router_id(node_name: &str) -> Ipv4Addr {
    let d = sha256::digest(node_name.as_bytes());
    let first = if d[0] > 223 { d[0] - 32 } else { d[0] };
    Ipv4Addr::new(first, d[1], d[2], d[3])
}

// ===== tests =====

#[cfg(test)]
mod tests;
