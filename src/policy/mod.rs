//! Typed routing policy: `[[policy]]` tables compiled into a [`Policy`] and evaluated per
//! route.
//!
//! Pure: no I/O, no tokio, no logging, never panics. The RIB runs a policy on import
//! (before the decision process), on export (per update group) and on the way into the
//! kernel (`[fib] export`).
//!
//! ```text
//!  PolicyCfg ──compile──> Policy { rules, default }
//!                              │
//!  RouteCtx (prefix, next hop, source, peer type, communities, AS_PATH)
//!                              v
//!                          evaluate ──> Verdict { accept, changes, rule, reason }
//! ```
//!
//! Rules run in order. A rule matches when every condition it gives holds; all
//! conditions look at the route as it came in (changes of earlier `next` rules are not
//! seen by later conditions). A matching rule's changes are collected; its `action`
//! then accepts, rejects, or (`next`) goes on. When no rule decides, the policy's
//! `default` does, with the changes collected so far.

mod compile;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::config::{PeerType, PolicyCfg, RouteSource, RuleAction};
use crate::wire::{AsPath, AsSegment, Attrs, SegmentKind};

pub use compile::{compile, parse_community};

/// The built-in policy names.
pub const ACCEPT_ALL: &str = "accept-all";
pub const REJECT_ALL: &str = "reject-all";

/// RFC 1997 well-known communities.
pub const NO_EXPORT: u32 = 0xFFFF_FF01;
pub const NO_ADVERTISE: u32 = 0xFFFF_FF02;
pub const NO_EXPORT_SUBCONFED: u32 = 0xFFFF_FF03;

/// A compiled `[[policy]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    default_accept: bool,
    rules: Vec<Rule>,
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    m: Match,
    changes: Changes,
    action: RuleAction,
}

/// A rule's conditions; empty lists and `None` do not constrain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Match {
    prefix: Vec<IpNet>,
    prefix_in: Vec<IpNet>,
    prefix_not_in: Vec<IpNet>,
    min_len: Option<u8>,
    max_len: Option<u8>,
    next_hop_in: Vec<IpNet>,
    source: Option<RouteSource>,
    peer_type: Option<PeerType>,
    community: Vec<Community>,
    as_path_prefix: Vec<u32>,
}

/// A standard (RFC 1997) or large (RFC 8092) community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Community {
    Std(u32),
    Large([u32; 3]),
}

/// What a policy changes in an accepted route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Standard communities to add (kept once).
    pub communities: Vec<u32>,
    pub large_communities: Vec<[u32; 3]>,
    pub local_pref: Option<u32>,
    pub med: Option<u32>,
    /// ASNs to prepend, leftmost first.
    pub prepend: Vec<u32>,
}

/// The route a policy looks at.
#[derive(Debug, Clone, Copy)]
pub struct RouteCtx<'a> {
    pub prefix: IpNet,
    pub next_hop: Option<IpAddr>,
    pub source: RouteSource,
    /// The peer the route is exchanged with (import: from, export: to; kernel: the
    /// peer it came from). `None` for an originated route in the kernel policy.
    pub peer_type: Option<PeerType>,
    pub communities: &'a [u32],
    pub large_communities: &'a [[u32; 3]],
    pub as_path: Option<&'a AsPath>,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub accept: bool,
    /// Changes to apply when accepted (empty when rejected).
    pub changes: Changes,
    /// Index of the rule that decided; `None`: the default did.
    pub rule: Option<usize>,
    /// One sentence.
    pub reason: String,
}

/// A policy decision without the sentence: what the RIB's hot path uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub accept: bool,
    pub changes: Changes,
    pub rule: Option<usize>,
}

// ===== impl Policy =====

impl Policy {
    /// The built-in `accept-all` / `reject-all` as policies.
    pub fn builtin(name: &str) -> Option<Policy> {
        let default_accept = match name {
            ACCEPT_ALL => true,
            REJECT_ALL => false,
            _ => return None,
        };
        Some(Policy {
            name: name.to_string(),
            default_accept,
            rules: Vec::new(),
        })
    }

    pub fn rules(&self) -> usize {
        self.rules.len()
    }

    /// Run the rules over `r` (no sentence built).
    pub fn decide(&self, r: &RouteCtx<'_>) -> Decision {
        let mut changes = Changes::default();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.m.matches(r) {
                continue;
            }
            changes.merge(&rule.changes);
            let accept = match rule.action {
                RuleAction::Accept => true,
                RuleAction::Reject => false,
                RuleAction::Next => continue,
            };
            return Decision::new(accept, changes, Some(i));
        }
        Decision::new(self.default_accept, changes, None)
    }
}

impl std::hash::Hash for Policy {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h);
        self.rules.len().hash(h);
    }
}

impl serde::Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

// ===== impl Decision =====

impl Decision {
    fn new(accept: bool, changes: Changes, rule: Option<usize>) -> Decision {
        let changes = if accept { changes } else { Changes::default() };
        Decision {
            accept,
            changes,
            rule,
        }
    }
}

// ===== impl Match =====

impl Match {
    fn matches(&self, r: &RouteCtx<'_>) -> bool {
        let p = r.prefix;
        let len = p.prefix_len();
        (self.prefix.is_empty() || self.prefix.contains(&p))
            && (self.prefix_in.is_empty() || self.prefix_in.iter().any(|n| within(n, &p)))
            && !self.prefix_not_in.iter().any(|n| within(n, &p))
            && self.min_len.is_none_or(|m| len >= m)
            && self.max_len.is_none_or(|m| len <= m)
            && (self.next_hop_in.is_empty()
                || r.next_hop
                    .is_some_and(|a| self.next_hop_in.iter().any(|n| n.contains(&a))))
            && self.source.is_none_or(|s| s == r.source)
            && self.peer_type.is_none_or(|t| Some(t) == r.peer_type)
            && (self.community.is_empty() || self.community.iter().any(|c| c.carried_by(r)))
            && (self.as_path_prefix.is_empty() || path_starts_with(r.as_path, &self.as_path_prefix))
    }

    /// The conditions, for reasons: `prefix_in 10.0.0.0/8, community 65000:1`.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let nets = |k: &str, v: &[IpNet], parts: &mut Vec<String>| {
            if !v.is_empty() {
                let s: Vec<String> = v.iter().map(|n| n.to_string()).collect();
                parts.push(format!("{k} {}", s.join(" ")));
            }
        };
        nets("prefix", &self.prefix, &mut parts);
        nets("prefix_in", &self.prefix_in, &mut parts);
        nets("prefix_not_in", &self.prefix_not_in, &mut parts);
        if let Some(m) = self.min_len {
            parts.push(format!("min_len {m}"));
        }
        if let Some(m) = self.max_len {
            parts.push(format!("max_len {m}"));
        }
        nets("next_hop_in", &self.next_hop_in, &mut parts);
        if let Some(s) = self.source {
            parts.push(format!("source {}", source_name(s)));
        }
        if let Some(t) = self.peer_type {
            parts.push(format!("peer_type {}", peer_type_name(t)));
        }
        if !self.community.is_empty() {
            let s: Vec<String> = self.community.iter().map(|c| c.to_string()).collect();
            parts.push(format!("community {}", s.join(" ")));
        }
        if !self.as_path_prefix.is_empty() {
            let s: Vec<String> = self.as_path_prefix.iter().map(|a| a.to_string()).collect();
            parts.push(format!("as_path_prefix {}", s.join(" ")));
        }
        if parts.is_empty() {
            "any route".into()
        } else {
            parts.join(", ")
        }
    }
}

// ===== impl Community =====

impl Community {
    fn carried_by(&self, r: &RouteCtx<'_>) -> bool {
        match self {
            Community::Std(c) => r.communities.contains(c),
            Community::Large(l) => r.large_communities.contains(l),
        }
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Community::Std(NO_EXPORT) => f.write_str("no-export"),
            Community::Std(NO_ADVERTISE) => f.write_str("no-advertise"),
            Community::Std(NO_EXPORT_SUBCONFED) => f.write_str("no-export-subconfed"),
            Community::Std(c) => write!(f, "{}:{}", c >> 16, c & 0xFFFF),
            Community::Large([a, b, c]) => write!(f, "{a}:{b}:{c}"),
        }
    }
}

// ===== impl Changes =====

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// Add `o`'s changes to these (later values win, communities add up).
    fn merge(&mut self, o: &Changes) {
        for &c in &o.communities {
            if !self.communities.contains(&c) {
                self.communities.push(c);
            }
        }
        for &c in &o.large_communities {
            if !self.large_communities.contains(&c) {
                self.large_communities.push(c);
            }
        }
        self.local_pref = o.local_pref.or(self.local_pref);
        self.med = o.med.or(self.med);
        self.prepend.extend_from_slice(&o.prepend);
    }

    /// Add the communities and set LOCAL_PREF and MED in `a` (not the prepend: see
    /// [`Changes::apply_prepend`], which export runs before its own AS is added).
    pub fn apply_values(&self, a: &mut Attrs) {
        if !self.communities.is_empty() {
            let v = a.communities.get_or_insert_with(Vec::new);
            for &c in &self.communities {
                if !v.contains(&c) {
                    v.push(c);
                }
            }
        }
        if !self.large_communities.is_empty() {
            let v = a.large_communities.get_or_insert_with(Vec::new);
            for &c in &self.large_communities {
                if !v.contains(&c) {
                    v.push(c);
                }
            }
        }
        if let Some(lp) = self.local_pref {
            a.local_pref = Some(lp);
        }
        if let Some(m) = self.med {
            a.med = Some(m);
        }
    }

    /// Prepend the ASNs to the leftmost AS_SEQUENCE (RFC 4271 §5.1.2 style), the first
    /// listed ending up leftmost.
    pub fn apply_prepend(&self, a: &mut Attrs) {
        if self.prepend.is_empty() {
            return;
        }
        let path = a.as_path.get_or_insert_with(AsPath::default);
        match path.segments.first_mut() {
            Some(s) if s.kind == SegmentKind::Sequence => {
                s.asns.splice(0..0, self.prepend.iter().copied());
            }
            _ => path.segments.insert(
                0,
                AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: self.prepend.clone(),
                },
            ),
        }
    }

    /// Both [`Changes::apply_prepend`] and [`Changes::apply_values`].
    pub fn apply(&self, a: &mut Attrs) {
        self.apply_prepend(a);
        self.apply_values(a);
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        let comms: Vec<String> = self
            .communities
            .iter()
            .map(|&c| Community::Std(c).to_string())
            .chain(
                self.large_communities
                    .iter()
                    .map(|&l| Community::Large(l).to_string()),
            )
            .collect();
        if !comms.is_empty() {
            parts.push(format!("adds community {}", comms.join(" ")));
        }
        if let Some(lp) = self.local_pref {
            parts.push(format!("sets LOCAL_PREF {lp}"));
        }
        if let Some(m) = self.med {
            parts.push(format!("sets MED {m}"));
        }
        if !self.prepend.is_empty() {
            let s: Vec<String> = self.prepend.iter().map(|a| a.to_string()).collect();
            parts.push(format!("prepends {}", s.join(" ")));
        }
        parts.join(", ")
    }
}

// ===== impl RouteCtx =====

impl<'a> RouteCtx<'a> {
    /// The context of a route with these attributes.
    pub fn of(
        prefix: IpNet,
        next_hop: Option<IpAddr>,
        source: RouteSource,
        peer_type: Option<PeerType>,
        a: &'a Attrs,
    ) -> RouteCtx<'a> {
        RouteCtx {
            prefix,
            next_hop,
            source,
            peer_type,
            communities: a.communities.as_deref().unwrap_or(&[]),
            large_communities: a.large_communities.as_deref().unwrap_or(&[]),
            as_path: a.as_path.as_ref(),
        }
    }
}

// ===== helper functions =====

/// Run `p` over `r` and say why in one sentence.
pub fn evaluate(p: &Policy, r: &RouteCtx<'_>) -> Verdict {
    let d = p.decide(r);
    let reason = reason(p, &d);
    Verdict {
        accept: d.accept,
        changes: d.changes,
        rule: d.rule,
        reason,
    }
}

/// The sentence of a decision of `p`.
pub fn reason(p: &Policy, d: &Decision) -> String {
    let verb = if d.accept { "accepted" } else { "rejected" };
    let mut s = match d.rule.and_then(|i| Some((i, p.rules.get(i)?))) {
        Some((i, r)) => format!(
            "{verb} by policy {:?} rule[{i}] ({})",
            p.name,
            r.m.describe()
        ),
        None if p.rules.is_empty() => format!("{verb} by policy {:?}", p.name),
        None => format!("{verb} by policy {:?}: no rule decided, default", p.name),
    };
    if d.accept && !d.changes.is_empty() {
        s.push_str("; ");
        s.push_str(&d.changes.describe());
    }
    s
}

/// Compile every `[[policy]]` of a config, by name (errors name only the policy; the
/// config validation gives the keys).
pub fn compile_all(cfgs: &[PolicyCfg]) -> Vec<Arc<Policy>> {
    cfgs.iter()
        .filter_map(|c| compile(c).ok())
        .map(Arc::new)
        .collect()
}

/// `net` contains `p` (equal or longer, same family).
fn within(net: &IpNet, p: &IpNet) -> bool {
    net.prefix_len() <= p.prefix_len() && net.contains(&p.network())
}

/// The AS_PATH's leading AS_SEQUENCE ASNs start with `want`.
fn path_starts_with(p: Option<&AsPath>, want: &[u32]) -> bool {
    let Some(p) = p else { return false };
    let mut lead = p
        .segments
        .iter()
        .take_while(|s| s.kind == SegmentKind::Sequence)
        .flat_map(|s| s.asns.iter().copied());
    want.iter().all(|&w| lead.next() == Some(w))
}

pub fn source_name(s: RouteSource) -> &'static str {
    match s {
        RouteSource::Bgp => "bgp",
        RouteSource::Local => "local",
        RouteSource::Kernel => "kernel",
    }
}

pub fn peer_type_name(t: PeerType) -> &'static str {
    match t {
        PeerType::Ibgp => "ibgp",
        PeerType::Ebgp => "ebgp",
    }
}
