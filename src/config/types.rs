//! Config types. Every table uses `deny_unknown_fields`, so a misspelt key is an error
//! that names it, never a silently ignored setting.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use ipnet::IpNet;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use crate::wire::Family;

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Required in file mode; with `[datastore] kind = "etcd"` the AS and router ID come
    /// from the datastore and a missing table reads as [`RouterCfg::from_datastore`].
    #[serde(default = "RouterCfg::from_datastore")]
    pub router: RouterCfg,
    #[serde(default, rename = "peer")]
    pub peers: Vec<PeerCfg>,
    #[serde(default)]
    pub originate: Vec<OriginateCfg>,
    #[serde(default)]
    pub fib: FibCfg,
    #[serde(default)]
    pub datastore: DatastoreCfg,
    #[serde(default)]
    pub control: ControlCfg,
    #[serde(default)]
    pub metrics: MetricsCfg,
    /// `[[policy]]`: named import/export/kernel policies (src/policy).
    #[serde(default, rename = "policy")]
    pub policies: Vec<PolicyCfg>,
    #[serde(default)]
    pub log: LogCfg,
}

/// `[router]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterCfg {
    /// Local AS, 4-octet; asdot ("1.10") accepted.
    pub asn: Asn,
    /// Default: the node's first IPv4 address (resolved at start).
    #[serde(default)]
    pub router_id: Option<Ipv4Addr>,
    /// Sockets to listen on; `[]` = do not listen.
    #[serde(default = "default_listen")]
    pub listen: Vec<SocketAddr>,
    /// RFC 4456 cluster ID when acting as a route reflector (default: the router ID).
    #[serde(default)]
    pub cluster_id: Option<Ipv4Addr>,
}

/// `[[peer]]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerCfg {
    /// Shown by the CLI; default is the address.
    #[serde(default)]
    pub name: Option<String>,
    /// A single address, or a prefix for a passive listen range.
    pub address: PeerAddress,
    pub asn: PeerAs,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub passive: bool,
    #[serde(default = "default_families")]
    pub families: Vec<Family>,
    /// Seconds; 0 disables keepalives and the hold timer (RFC 4271 §4.2).
    #[serde(default = "default_hold_time")]
    pub hold_time: u16,
    /// Seconds; default hold_time / 3.
    #[serde(default)]
    pub keepalive: Option<u16>,
    /// IP TTL for outgoing packets (1 = directly connected).
    #[serde(default)]
    pub multihop: Option<u8>,
    /// RFC 5082 GTSM: require incoming TTL >= 256 - multihop.
    #[serde(default)]
    pub ttl_security: bool,
    #[serde(default)]
    pub source_address: Option<IpAddr>,
    /// TCP-MD5 (RFC 2385) key file. The key itself is never logged.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    #[serde(default)]
    pub route_reflector_client: bool,
    #[serde(default)]
    pub next_hop: NextHopMode,
    #[serde(default)]
    pub add_path: AddPathMode,
    #[serde(default = "default_true")]
    pub graceful_restart: bool,
    /// RFC 9494 long-lived graceful restart: seconds (at most 2^24 - 1) the peer should
    /// keep our routes, and the most we keep its routes, as long-lived stale after the
    /// graceful-restart time; 0 (default) turns LLGR off for the peer.
    #[serde(default)]
    pub long_lived_stale_time: u32,
    /// A `[[policy]]` name or the built-ins "accept-all" / "reject-all".
    #[serde(default)]
    pub import: Option<String>,
    #[serde(default)]
    pub export: Option<String>,
    /// Cease 6/1 once more prefixes than this are received (RFC 4486).
    #[serde(default)]
    pub max_prefix: Option<u32>,
}

/// Largest `long_lived_stale_time` (RFC 9494 §3: a 24-bit field).
pub const LLST_MAX: u32 = (1 << 24) - 1;

/// `[[originate]]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginateCfg {
    pub prefix: IpNet,
    /// Also install a blackhole route in the kernel, before advertising the prefix.
    #[serde(default)]
    pub blackhole: bool,
}

/// `[fib]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FibCfg {
    pub enabled: bool,
    /// Kernel rtm_protocol of wren's routes (186 "bgp"; 12 "bird" in Calico mode).
    pub protocol: u8,
    pub table: u32,
    pub metric: Option<u32>,
    pub ecmp: bool,
    /// Most next hops in one ECMP route (1..=256); with `ecmp = false` it is 1.
    pub ecmp_max: u16,
    /// Leave routes in the kernel when wren exits (like BIRD's `persist`).
    pub persist: bool,
    /// Keep the FIB in memory only (`wren show fib` shows what would be installed) and
    /// never write the kernel. Needs no privileges.
    pub dry_run: bool,
    /// `[[fib.device_route]]`: routes within a prefix go via a device, onlink (IPIP). First
    /// match wins.
    pub device_route: Vec<DeviceRouteCfg>,
    /// A `[[policy]]` deciding which best routes go into the kernel (default: all).
    pub export: Option<String>,
    /// Learn other programs' routes of `table` (BIRD's `learn`) as `source = "kernel"`
    /// routes for export policy: not `proto kernel` ones (unless `learn_all`), never
    /// written back, exported only through an export policy that accepts them.
    pub learn: bool,
    /// Also learn `proto kernel` routes (BIRD's `learn all`).
    pub learn_all: bool,
    /// Routes through devices matching these names (`*` matches any run) are not learned,
    /// e.g. Calico's tunnel devices `*.calico`, `*.cali`, `tunl0`.
    pub learn_ignore: Vec<String>,
    /// Blackholes through one shared kernel blackhole nexthop object (Linux 5.3+): the
    /// kernel installs them faster, but `ip route` shows `blackhole P nhid N dev lo`
    /// rather than `blackhole P` (off in Calico mode, whose operators expect the latter).
    pub blackhole_nexthop: bool,
}

/// `[[fib.device_route]]`: install routes within `prefix` as `via <next hop> dev <device>
/// onlink`, e.g. Calico's IPIP pools through `tunl0`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRouteCfg {
    pub prefix: IpNet,
    pub device: String,
    /// Only when the next hop is outside our connected subnets (Calico CrossSubnet);
    /// next hops on a connected subnet are routed directly.
    #[serde(default)]
    pub cross_subnet: bool,
}

/// Where the desired config comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatastoreKind {
    #[default]
    File,
    Etcd,
}

/// `[datastore]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatastoreCfg {
    pub kind: DatastoreKind,
    /// Default from ETCD_ENDPOINTS.
    pub endpoints: Vec<String>,
    /// Default from NODENAME, then the hostname.
    pub node_name: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// `[control]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlCfg {
    pub socket: PathBuf,
    /// BIRD-compatible sockets, e.g. `/var/run/calico/bird.ctl`.
    pub bird_compat: Vec<PathBuf>,
}

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsCfg {
    /// `None` (`listen = ""`) disables the HTTP endpoint.
    #[serde(deserialize_with = "opt_socket")]
    pub listen: Option<SocketAddr>,
    /// One series per peer (default). `false` folds the peers into counts by state: per-peer
    /// series grow with N² across a full mesh of N nodes.
    pub per_peer: bool,
    /// `/readyz` needs this many Established peers: a number, or a share such as `"50%"`
    /// of the configured peers. Unset: at least one, if any peer is configured.
    pub ready_min_established: Option<ReadyMin>,
}

/// `[metrics] ready_min_established`: a count (`2`) or a share of the configured peers
/// (`"50%"`, rounded up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyMin {
    Count(u32),
    Percent(u8),
}

/// An AS number: `64512`, or asdot `"1.10"` (RFC 5396).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Asn(pub u32);

/// A peer's AS: a number, or "internal" (same as ours) / "external" (any other).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", untagged)]
pub enum PeerAs {
    Asn(Asn),
    #[serde(serialize_with = "ser_internal")]
    Internal,
    #[serde(serialize_with = "ser_external")]
    External,
}

/// A peer's address: one address, or a prefix of addresses accepted passively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PeerAddress {
    Addr(IpAddr),
    Range(IpNet),
}

/// Next-hop handling on export (RFC 4271 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NextHopMode {
    /// Self for eBGP, unchanged for iBGP (the RFC 4271 default).
    #[default]
    Auto,
    #[serde(rename = "self")]
    SelfAddr,
    Keep,
}

/// ADD-PATH (RFC 7911) per peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AddPathMode {
    #[default]
    Off,
    Receive,
    Send,
    Both,
}

/// `[[policy]]`: a named, ordered list of rules. The first rule that matches and whose
/// `action` is `accept` or `reject` decides; a matching `next` rule applies its changes
/// and goes on. `default` decides when no rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyCfg {
    pub name: String,
    #[serde(default)]
    pub default: PolicyVerdict,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleCfg>,
}

/// `[[policy.rule]]`: every condition given must hold (an empty rule matches everything).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuleCfg {
    /// The route's prefix equals one of these.
    pub prefix: Vec<IpNet>,
    /// The route's prefix is within one of these (equal or longer).
    pub prefix_in: Vec<IpNet>,
    /// The route's prefix is within none of these.
    pub prefix_not_in: Vec<IpNet>,
    /// Prefix length bounds, inclusive.
    pub min_len: Option<u8>,
    pub max_len: Option<u8>,
    /// The BGP next hop is within one of these.
    pub next_hop_in: Vec<IpNet>,
    /// Where the route comes from.
    pub source: Option<RouteSource>,
    /// The peer the route is exchanged with (import: from, export: to).
    pub peer_type: Option<PeerType>,
    /// The route carries one of these communities ("65000:100") or large communities
    /// ("65000:1:2").
    pub community: Vec<String>,
    /// The AS_PATH starts with this sequence (leftmost = neighbour AS).
    pub as_path_prefix: Vec<u32>,
    // -- changes, applied when the rule matches --
    pub add_community: Vec<String>,
    pub set_local_pref: Option<u32>,
    pub set_med: Option<u32>,
    /// Prepended in order, so the first listed ends up leftmost.
    pub prepend: Vec<u32>,
    pub action: RuleAction,
}

/// What decides when no rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyVerdict {
    Accept,
    #[default]
    Reject,
}

/// What a matching rule does after its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    #[default]
    Accept,
    Reject,
    /// Apply the changes and go on with the next rule.
    Next,
}

/// Where a route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteSource {
    /// Learned from a BGP peer.
    Bgp,
    /// Originated here (`[[originate]]`, Calico blocks).
    Local,
    /// Another program's route learned from the kernel (`[fib] learn`).
    Kernel,
}

/// iBGP or eBGP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerType {
    Ibgp,
    Ebgp,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogCfg {
    /// "text" or "json".
    pub format: LogFormat,
    /// An EnvFilter directive, e.g. "info" or "info,wren::net=debug"; `WREN_LOG` wins.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogCfg {
    fn default() -> Self {
        LogCfg {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

// ===== impl Asn / PeerAs / PeerAddress =====

impl Asn {
    /// Parse `"65000"` or asdot `"1.10"`.
    pub fn parse(s: &str) -> Result<Asn, String> {
        let bad =
            || format!("{s:?} is not an AS number (want 1..4294967295 or asdot like \"1.10\")");
        match s.split_once('.') {
            Some((hi, lo)) => {
                let hi: u16 = hi.parse().map_err(|_| bad())?;
                let lo: u16 = lo.parse().map_err(|_| bad())?;
                Ok(Asn(u32::from(hi) << 16 | u32::from(lo)))
            }
            None => s.parse().map(Asn).map_err(|_| bad()),
        }
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl PeerAddress {
    /// The single address, if this is not a range.
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            PeerAddress::Addr(a) => Some(*a),
            PeerAddress::Range(_) => None,
        }
    }
}

impl fmt::Display for PeerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddress::Addr(a) => write!(f, "{a}"),
            PeerAddress::Range(n) => write!(f, "{n}"),
        }
    }
}

impl FibCfg {
    /// The RIB's multipath limit: `ecmp_max`, or 1 when ECMP is off.
    pub fn multipath(&self) -> usize {
        if self.ecmp {
            usize::from(self.ecmp_max.max(1))
        } else {
            1
        }
    }
}

impl PeerCfg {
    /// The name shown to operators: `name`, or the address.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.address.to_string())
    }

    /// Keepalive interval: configured, or hold_time / 3 (RFC 4271 §10).
    pub fn keepalive_secs(&self) -> u16 {
        self.keepalive.unwrap_or(self.hold_time / 3)
    }
}

// ===== serde helpers =====

/// Accept an integer or a string for AS numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum IntOrStr {
    Int(i64),
    Str(String),
}

impl<'de> Deserialize<'de> for Asn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match IntOrStr::deserialize(d)? {
            IntOrStr::Int(i) => u32::try_from(i)
                .map(Asn)
                .map_err(|_| de::Error::custom(format!("{i} is not an AS number (0..4294967295)"))),
            IntOrStr::Str(s) => Asn::parse(&s).map_err(de::Error::custom),
        }
    }
}

impl<'de> Deserialize<'de> for PeerAs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match IntOrStr::deserialize(d)? {
            IntOrStr::Str(s) if s == "internal" => Ok(PeerAs::Internal),
            IntOrStr::Str(s) if s == "external" => Ok(PeerAs::External),
            IntOrStr::Str(s) => Asn::parse(&s)
                .map(PeerAs::Asn)
                .map_err(|e| de::Error::custom(format!("{e}, \"internal\" or \"external\""))),
            IntOrStr::Int(i) => u32::try_from(i)
                .map(|a| PeerAs::Asn(Asn(a)))
                .map_err(|_| de::Error::custom(format!("{i} is not an AS number"))),
        }
    }
}

impl<'de> Deserialize<'de> for PeerAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Ok(a) = s.parse::<IpAddr>() {
            return Ok(PeerAddress::Addr(a));
        }
        match s.parse::<IpNet>() {
            Ok(n) if n == n.trunc() => Ok(PeerAddress::Range(n)),
            Ok(n) => Err(de::Error::custom(format!(
                "{s:?} has host bits set (did you mean {}?)",
                n.trunc()
            ))),
            Err(_) => Err(de::Error::custom(format!(
                "{s:?} is neither an IP address nor a prefix"
            ))),
        }
    }
}

fn ser_internal<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("internal")
}

fn ser_external<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("external")
}

fn opt_socket<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| de::Error::custom(format!("{s:?} is not an address:port")))
}

// ===== impl ReadyMin =====

impl ReadyMin {
    /// How many Established peers that means with `configured` peers.
    pub fn needed(self, configured: usize) -> usize {
        match self {
            ReadyMin::Count(n) => n as usize,
            ReadyMin::Percent(p) => (configured * p as usize).div_ceil(100),
        }
    }
}

impl Serialize for ReadyMin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ReadyMin::Count(n) => s.serialize_u32(*n),
            ReadyMin::Percent(p) => s.serialize_str(&format!("{p}%")),
        }
    }
}

impl<'de> Deserialize<'de> for ReadyMin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ReadyMin, D::Error> {
        let bad = |v: &dyn fmt::Display| {
            de::Error::custom(format!(
                "{v} is not a peer count or a share such as \"50%\""
            ))
        };
        match IntOrStr::deserialize(d)? {
            IntOrStr::Int(n) => u32::try_from(n).map(ReadyMin::Count).map_err(|_| bad(&n)),
            IntOrStr::Str(s) => s
                .strip_suffix('%')
                .and_then(|p| p.trim().parse::<u8>().ok())
                .filter(|p| *p <= 100)
                .map(ReadyMin::Percent)
                .ok_or_else(|| bad(&format!("{s:?}"))),
        }
    }
}

// ===== defaults =====

impl RouterCfg {
    /// The placeholder of a config without `[router]` (etcd mode): AS 0, which no
    /// translated or file config can have.
    pub fn from_datastore() -> RouterCfg {
        RouterCfg {
            asn: Asn(0),
            router_id: None,
            listen: default_listen(),
            cluster_id: None,
        }
    }
}

fn default_listen() -> Vec<SocketAddr> {
    vec![
        SocketAddr::from(([0, 0, 0, 0], 179)),
        SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 179)),
    ]
}

fn default_port() -> u16 {
    179
}

fn default_families() -> Vec<Family> {
    vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]
}

fn default_hold_time() -> u16 {
    90
}

fn default_true() -> bool {
    true
}

impl Default for FibCfg {
    fn default() -> Self {
        FibCfg {
            enabled: true,
            protocol: 186,
            table: 254,
            metric: None,
            ecmp: true,
            ecmp_max: 16,
            persist: true,
            dry_run: false,
            device_route: Vec::new(),
            export: None,
            learn: false,
            learn_all: false,
            learn_ignore: Vec::new(),
            blackhole_nexthop: false,
        }
    }
}

impl Default for ControlCfg {
    fn default() -> Self {
        ControlCfg {
            socket: PathBuf::from("/run/wren/wren.sock"),
            bird_compat: Vec::new(),
        }
    }
}

impl Default for MetricsCfg {
    fn default() -> Self {
        MetricsCfg {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9179))),
            per_peer: true,
            ready_min_established: None,
        }
    }
}
