//! Routing decisions: Adj-RIB-In per peer, Loc-RIB best path and ECMP set, route
//! reflection, Adj-RIB-Out through update groups, and the FIB deltas.
//!
//! Pure: no I/O, no tokio, no clock, never panics on what peers send. The speaker owns
//! the one [`Rib`] and drives it:
//!
//! ```text
//!  peer_up / peer_down / update / stale_expired / refresh / originate   (inputs, any number)
//!                                   │
//!                                   v
//!                               flush() ──> RibOutput { fib (before), sends (framed bytes
//!                                                        per update group), fib_after, stop }
//! ```
//!
//! Inputs only record what changed; [`Rib::flush`] decides best paths for the changed
//! prefixes and encodes the exports once per update group. The speaker calls `flush` when
//! its input queue is drained, so a burst of UPDATEs leaves as few, full UPDATEs.

mod adj_in;
mod decision;
mod explain;
mod export;
mod flush;
mod index;
mod intern;
mod learn;
mod llgr;
mod out;
mod reconfig;
mod table;
#[cfg(test)]
mod tests;
mod view;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use serde::Serialize;

use crate::config::NextHopMode;
use crate::fsm::Negotiated;
use crate::wire::{Attrs, Family, NotificationMsg, Prefix4, Prefix6};

use crate::hash::FastMap;
use crate::policy::Policy;
pub use explain::{Explained, ExportExplain, KernelExplain, PathExplain};
use export::Src;
use intern::{AttrId, Interner, NhSets};
pub use learn::KERNEL_PATH;
pub use llgr::{LLGR_STALE, NO_LLGR};
use out::Group;
use table::Table;

/// A peer's handle inside the RIB. [`LOCAL`] stands for routes wren originates.
pub type PeerId = u32;

/// The pseudo-peer of originated routes (`[[originate]]`).
pub const LOCAL: PeerId = 0;

/// Settings of the RIB as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibCfg {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// RFC 4456 §7 CLUSTER_ID: the router ID unless configured.
    pub cluster_id: Ipv4Addr,
    /// Most next hops in one ECMP set installed in the FIB; 1 turns multipath off.
    pub multipath: usize,
    /// Compute FIB changes. Off when no FIB consumes them (`[fib] enabled = false`): a
    /// route reflector or relay then keeps no forwarding state at all. (`dry_run` keeps
    /// them, in memory.)
    pub fib: bool,
}

/// Import, export or kernel filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Filter {
    AcceptAll,
    RejectAll,
    /// A `[[policy]]` (src/policy): decides per route and may change its attributes.
    /// Peers with different export policies are in different update groups.
    #[serde(serialize_with = "ser_policy")]
    Policy(Arc<Policy>),
}

fn ser_policy<S: serde::Serializer>(p: &Arc<Policy>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.name)
}

/// Everything the RIB needs to know about an Established peer.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerInfo {
    pub id: PeerId,
    /// Shown to operators.
    pub name: String,
    /// The peer's address on this session.
    pub remote: IpAddr,
    /// Our address on this session: the next hop for `next_hop = self`.
    pub local: IpAddr,
    /// Our IPv4 / IPv6 addresses to use as next hop for the other family (e.g. IPv6 routes
    /// over an IPv4 session). `None`: such routes cannot be sent with next hop self.
    pub local_v4: Option<Ipv4Addr>,
    pub local_v6: Option<Ipv6Addr>,
    /// Our link-local address on the session's interface, sent beside a global IPv6 next
    /// hop (RFC 2545 §3) when the peer is directly connected.
    pub link_local: Option<Ipv6Addr>,
    /// The peer's AS (as negotiated).
    pub asn: u32,
    /// Same AS as ours.
    pub ibgp: bool,
    /// RFC 4456: this peer is our route-reflector client.
    pub rr_client: bool,
    pub next_hop: NextHopMode,
    pub import: Filter,
    pub export: Filter,
    /// Most prefixes accepted from the peer; more stops the session with Cease subcode 1
    /// (RFC 4486 §4).
    pub max_prefix: Option<u32>,
    /// What the session negotiated: families, ADD-PATH per direction, 4-octet AS,
    /// extended message, extended next hop.
    pub neg: Negotiated,
}

/// A unicast prefix of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Prefix {
    V4(Prefix4),
    V6(Prefix6),
}

/// One route for the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FibRoute {
    pub prefix: Prefix,
    pub kind: FibKind,
}

/// What the kernel route does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FibKind {
    /// Forward to these BGP next hops (one = plain route, several = ECMP), sorted.
    /// An IPv6 next hop that is link-local needs the session's interface: the FIB
    /// adapter resolves it.
    /// Shared with every route through the same set (the RIB interns them).
    Unicast(std::sync::Arc<[IpAddr]>),
    /// An originated block: drop what no more specific route claims.
    Blackhole,
}

/// A change for the kernel, in the order to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FibChange {
    /// Add or replace the route for its prefix.
    Upsert(FibRoute),
    Remove(Prefix),
}

/// Framed BGP messages (headers included, back to back) for some peers. One encoding is
/// shared by every peer of an update group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub peers: Vec<PeerId>,
    pub bytes: Arc<[u8]>,
}

/// What one [`Rib::flush`] produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RibOutput {
    /// Kernel changes to apply before the sends (new routes, blackholes of new blocks).
    pub fib: Vec<FibChange>,
    pub sends: Vec<Outgoing>,
    /// Kernel changes to apply after the sends (blackholes of blocks just withdrawn).
    pub fib_after: Vec<FibChange>,
    /// Sessions to stop with this NOTIFICATION (e.g. `max_prefix` exceeded).
    pub stop: Vec<(PeerId, NotificationMsg)>,
}

/// Per-peer prefix counts (RFC 4271 §3.2 Adj-RIB-In / Adj-RIB-Out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PeerCounts {
    /// Paths in the Adj-RIB-In, before import policy.
    pub received: u64,
    /// Paths the import policy accepted.
    pub accepted: u64,
    /// Prefixes in the Adj-RIB-Out.
    pub advertised: u64,
    /// Paths kept as stale during the peer's graceful restart.
    pub stale: u64,
}

/// One path as shown to operators (`show routes`, `explain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathView {
    pub prefix: Prefix,
    /// The peer it came from ([`LOCAL`] for originated).
    pub peer: PeerId,
    pub path_id: u32,
    /// The BGP next hop, after the import side (IPv4 or the IPv6 global/link-local).
    pub next_hop: Option<IpAddr>,
    pub attrs: Attrs,
    pub best: bool,
    /// Member of the ECMP set installed in the FIB.
    pub multipath: bool,
    pub stale: bool,
    /// Carries LLGR_STALE (RFC 9494 §3.2): kept as long-lived stale by us, or received so;
    /// least preferred (§4.3).
    pub llgr_stale: bool,
    /// Why this path won against the next one, or lost against the best (one sentence,
    /// naming the RFC 4271 §9.1.2.2 / RFC 4456 §9 step).
    pub reason: String,
}

/// The routing table of the whole speaker.
///
/// Inputs ([`Rib::peer_up`], [`Rib::update`], ...) only record changes; [`Rib::flush`]
/// decides and encodes. Module map: `adj_in` (import, Adj-RIB-In, stale paths, limits),
/// `decision` (RFC 4271 §9.1.2.2), `export` (RFC 4271 §9.1.3, RFC 4456 rules and
/// attribute changes), `out` (update groups, Adj-RIB-Out, encoding), `flush`, `view`,
/// `intern` (hash-consed attribute sets), `table` (prefix slab).
#[derive(Debug)]
pub struct Rib {
    cfg: RibCfg,
    attrs: Interner,
    nhs: NhSets,
    table: Table,
    peers: FastMap<PeerId, PeerState>,
    groups: Vec<Option<Group>>,
    stop: Vec<(PeerId, NotificationMsg)>,
    refresh: Vec<(PeerId, Family)>,
    /// Peers moved to another update group by a live reconfiguration, with what their
    /// Adj-RIB-Out held before (`reconfig`).
    rejoined: Vec<(PeerId, Vec<(Prefix, u32)>)>,
    local_attr: Option<AttrId>,
    /// `[fib] export`: which best routes go into the kernel.
    kernel: Filter,
    /// Reused buffer of one UPDATE's dests.
    scratch: Vec<(table::DestId, u32)>,
}

/// A peer known to the RIB: up, or down with stale paths kept (graceful restart).
#[derive(Debug, Clone)]
struct PeerState {
    info: PeerInfo,
    src: Src,
    up: bool,
    /// Stopped for exceeding `max_prefix`: input ignored until the session is down.
    stopped: bool,
    group: Option<u16>,
    received: u64,
    accepted: u64,
    stale: u64,
    /// Families disabled by RFC 7606 / RFC 4760 §7 for this session.
    disabled: Vec<Family>,
}

// ===== impl Rib =====

impl Rib {
    pub fn new(cfg: RibCfg) -> Rib {
        Rib {
            cfg,
            attrs: Interner::default(),
            nhs: NhSets::default(),
            table: Table::default(),
            peers: FastMap::default(),
            groups: Vec::new(),
            stop: Vec::new(),
            refresh: Vec::new(),
            rejoined: Vec::new(),
            local_attr: None,
            kernel: Filter::AcceptAll,
            scratch: Vec::new(),
        }
    }

    pub fn cfg(&self) -> &RibCfg {
        &self.cfg
    }

    /// The peer reached Established: its Adj-RIB-Out is filled with the current exports
    /// and End-of-RIB (RFC 4724 §2) follows for each negotiated family, at the next flush.
    /// If the peer still has stale paths (graceful restart), they stay until its
    /// End-of-RIB or [`Rib::stale_expired`].
    pub fn peer_up(&mut self, info: PeerInfo) {
        if info.id == LOCAL {
            return;
        }
        let id = info.id;
        self.leave_group(id);
        let src = Src::of(&info);
        let ps = self.peers.entry(id).or_insert_with(|| PeerState {
            info: info.clone(),
            src,
            up: true,
            stopped: false,
            group: None,
            received: 0,
            accepted: 0,
            stale: 0,
            disabled: Vec::new(),
        });
        ps.info = info;
        ps.src = src;
        ps.up = true;
        ps.stopped = false;
        ps.disabled.clear();
        self.join_group(id);
    }

    /// The session went down. `keep_stale`: we are the peer's graceful-restart helper
    /// (RFC 4724 §4.2): its paths stay as stale instead of being withdrawn.
    pub fn peer_down(&mut self, peer: PeerId, keep_stale: bool) {
        self.leave_group(peer);
        let Some(ps) = self.peers.get_mut(&peer) else {
            return;
        };
        ps.up = false;
        ps.stopped = false;
        self.refresh.retain(|(p, _)| *p != peer);
        self.rejoined.retain(|(p, _)| *p != peer);
        if keep_stale {
            self.mark_stale(peer);
        } else {
            self.drop_paths(peer, |_, _| true);
            self.peers.remove(&peer);
        }
    }

    /// One decoded UPDATE from an Established peer, with its RFC 7606 findings
    /// (treat-as-withdraw withdraws its NLRI; AFI/SAFI disable ignores the family).
    /// End-of-RIB is recognised here and ends the family's stale paths.
    pub fn update(
        &mut self,
        peer: PeerId,
        msg: crate::wire::UpdateMsg,
        findings: &[crate::wire::Finding],
    ) {
        self.apply_update(peer, msg, findings);
    }

    /// The graceful-restart time (or the stale-path time) ran out: drop the peer's stale paths.
    pub fn stale_expired(&mut self, peer: PeerId) {
        if self.peers.get(&peer).is_some_and(|ps| ps.stale > 0) {
            self.drop_paths(peer, |p, _| p.has(table::flag::STALE));
        }
        if self.peers.get(&peer).is_some_and(|ps| !ps.up) {
            self.peers.remove(&peer);
        }
    }

    /// ROUTE-REFRESH (RFC 2918 §4, RFC 7313 §4): re-advertise the family's Adj-RIB-Out to
    /// the peer (with BoRR/EoRR when enhanced route refresh was negotiated).
    pub fn refresh(&mut self, peer: PeerId, family: Family) {
        if self.peers.get(&peer).is_some_and(|ps| ps.up) {
            self.refresh.push((peer, family));
        }
    }

    /// Originate a prefix (`[[originate]]`), with a kernel blackhole if asked. The
    /// blackhole is in the FIB deltas of the same flush, before the export to any peer.
    pub fn originate(&mut self, prefix: Prefix, blackhole: bool) {
        self.add_local(prefix, blackhole);
    }

    /// Stop originating a prefix: withdrawn from peers first, blackhole removed after.
    pub fn unoriginate(&mut self, prefix: Prefix) {
        self.remove_local(prefix);
    }

    /// Set the kernel filter (`[fib] export`): best routes it rejects are not installed
    /// (and removed if they were), at the next flush.
    pub fn set_kernel_filter(&mut self, f: Filter) {
        if f != self.kernel {
            self.kernel = f;
            self.table.mark_all();
        }
    }

    pub fn kernel_filter(&self) -> &Filter {
        &self.kernel
    }

    /// Decide and encode everything that changed since the last flush.
    pub fn flush(&mut self) -> RibOutput {
        self.run_flush()
    }

    /// Paths of one prefix, best first, each with its reason.
    pub fn explain(&self, prefix: &Prefix) -> Vec<PathView> {
        self.explain_prefix(prefix)
    }

    /// Every path in the Loc-RIB candidates (all Adj-RIB-In paths and originated ones),
    /// prefixes in order. `peer` limits it to one peer's paths.
    pub fn paths(&self, peer: Option<PeerId>) -> Vec<PathView> {
        self.all_paths(peer)
    }

    /// Prefixes in one peer's Adj-RIB-Out, with the attributes as sent.
    pub fn advertised(&self, peer: PeerId) -> Vec<PathView> {
        self.adj_out(peer)
    }

    /// Prefixes in the table (with at least one path).
    pub fn prefix_count(&self) -> usize {
        self.table.len()
    }

    pub fn counts(&self, peer: PeerId) -> PeerCounts {
        self.peer_counts(peer)
    }

    /// The routes the FIB should hold now.
    pub fn fib(&self) -> Vec<FibRoute> {
        self.fib_routes()
    }
}

// ===== impl Prefix =====

impl Prefix {
    /// The prefix as an [`ipnet::IpNet`] (what policies match on).
    pub fn net(&self) -> ipnet::IpNet {
        match self {
            Prefix::V4(p) => ipnet::Ipv4Net::new(p.addr(), p.len())
                .map(ipnet::IpNet::V4)
                .unwrap_or_default(),
            Prefix::V6(p) => ipnet::Ipv6Net::new(p.addr(), p.len())
                .map(ipnet::IpNet::V6)
                .unwrap_or_default(),
        }
    }

    pub fn family(&self) -> Family {
        match self {
            Prefix::V4(_) => Family::IPV4_UNICAST,
            Prefix::V6(_) => Family::IPV6_UNICAST,
        }
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Prefix::V4(p) => p.fmt(f),
            Prefix::V6(p) => p.fmt(f),
        }
    }
}
