//! `wren explain PREFIX`: everything about one prefix, with reasons, as
//! `Response::Json` in the schema below (also used by the CLI's text form).
//!
//! ```text
//! {
//!   "prefix": "198.51.100.0/24",
//!   "paths": [                         // best first, then other candidates, then ineligible
//!     { "peer": "tor1" | "local", "path_id": 0, "next_hop": "198.18.0.2" | null,
//!       "best": true, "multipath": false, "stale": false, "eligible": true,
//!       "reason": "best: ...",          // decision step (RFC 4271 §9.1.2.2) or why ineligible
//!       "import": "accepted by policy \"edge\" rule[1] (...)" | null,   // policy peers only
//!       "attrs": { ...as in show routes... } } ],
//!   "exports": [                       // every configured peer, by name
//!     { "peer": "tor2", "sent": true, "path_ids": [0],
//!       "reason": "sent" | "not sent: ..." } ],
//!   "kernel": {
//!     "wanted": true,                  // the RIB's FIB state for the prefix
//!     "installed": true,               // the FIB adapter holds the route now
//!     "kind": "unicast" | "blackhole" | null, "next_hops": ["198.18.0.2"],
//!     "policy": "kernel" | null,       // [fib] export
//!     "reason": "installed: best path" | "not installed: ..." }
//! }
//! ```

use serde::{Deserialize, Serialize};

use super::owner::{name, prefix_str, Owner, PeerId};
use crate::control::Response;
use crate::fib::FibSink;
use crate::rib::{FibKind, Filter, Prefix, LOCAL};
use crate::wire::{Attrs, Prefix4, Prefix6};

/// The answer of `explain` (schema in the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    pub prefix: String,
    pub paths: Vec<ExplainPath>,
    pub exports: Vec<ExplainExport>,
    pub kernel: ExplainKernel,
}

/// One path of the prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainPath {
    pub peer: String,
    pub path_id: u32,
    pub next_hop: Option<std::net::IpAddr>,
    pub best: bool,
    pub multipath: bool,
    pub stale: bool,
    /// Carries LLGR_STALE (RFC 9494): long-lived stale, least preferred.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub llgr_stale: bool,
    pub eligible: bool,
    pub reason: String,
    pub import: Option<String>,
    pub attrs: Attrs,
}

/// What one peer is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainExport {
    pub peer: String,
    pub sent: bool,
    pub path_ids: Vec<u32>,
    pub reason: String,
}

/// The kernel's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainKernel {
    pub wanted: bool,
    pub installed: bool,
    pub kind: Option<String>,
    pub next_hops: Vec<std::net::IpAddr>,
    pub policy: Option<String>,
    pub reason: String,
}

// ===== impl Owner =====

impl Owner {
    /// Answer `Request::Explain`.
    pub fn explain(&self, prefix: &str) -> Result<Response, String> {
        let p = parse_prefix(prefix)?;
        let e = self.explain_prefix(p);
        serde_json::to_value(e)
            .map(Response::Json)
            .map_err(|e| format!("cannot encode the answer: {e}"))
    }

    fn explain_prefix(&self, p: Prefix) -> Explain {
        let x = self.rib.explain_all(p);
        let peer_name = |id: PeerId| match id {
            LOCAL => "local".to_string(),
            id => self
                .peers
                .get(&id)
                .map_or_else(|| format!("#{id}"), |q| q.name.clone()),
        };
        let paths = x
            .paths
            .into_iter()
            .map(|pe| ExplainPath {
                peer: peer_name(pe.view.peer),
                path_id: pe.view.path_id,
                next_hop: pe.view.next_hop,
                best: pe.view.best,
                multipath: pe.view.multipath,
                stale: pe.view.stale,
                llgr_stale: pe.view.llgr_stale,
                eligible: !pe.view.reason.starts_with("not eligible"),
                reason: pe.view.reason,
                import: pe.import,
                attrs: pe.view.attrs,
            })
            .collect();
        let mut exports: Vec<ExplainExport> = Vec::new();
        for (id, peer) in &self.peers {
            let rib = x.exports.iter().find(|e| e.peer == *id);
            exports.push(match rib {
                Some(e) => ExplainExport {
                    peer: peer.name.clone(),
                    sent: e.sent,
                    path_ids: e.path_ids.clone(),
                    reason: e.reason.clone(),
                },
                None => ExplainExport {
                    peer: peer.name.clone(),
                    sent: false,
                    path_ids: Vec::new(),
                    reason: format!("not sent: the session is {}", name(peer.state)),
                },
            });
        }
        Explain {
            prefix: prefix_str(&p),
            paths,
            exports,
            kernel: self.kernel_part(p, x.kernel),
        }
    }

    fn kernel_part(&self, p: Prefix, k: crate::rib::KernelExplain) -> ExplainKernel {
        let held = FibSink::route(self.fib.as_ref(), &p);
        let route = held.clone().or(k.route);
        let (kind, next_hops) = match route.map(|r| r.kind) {
            Some(FibKind::Unicast(nh)) => (Some("unicast".to_string()), nh.to_vec()),
            Some(FibKind::Blackhole) => (Some("blackhole".to_string()), Vec::new()),
            None => (None, Vec::new()),
        };
        let policy = match self.rib.kernel_filter() {
            Filter::AcceptAll => None,
            Filter::RejectAll => Some("reject-all".to_string()),
            Filter::Policy(pol) => Some(pol.name.clone()),
        };
        let mut reason = k.reason;
        if k.installed && held.is_none() {
            reason = format!("{reason}; the FIB adapter does not hold it yet (pending or failed)");
        }
        if self.cfg.fib.dry_run && k.installed {
            reason = format!("{reason} (dry run: in memory only)");
        }
        ExplainKernel {
            wanted: k.installed,
            installed: held.is_some(),
            kind,
            next_hops,
            policy,
            reason,
        }
    }
}

// ===== helper functions =====

/// A prefix, or a single address as a host prefix; host bits are an error.
fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let net: ipnet::IpNet = match s.parse() {
        Ok(n) => n,
        Err(_) => match s.parse::<std::net::IpAddr>() {
            Ok(a) => ipnet::IpNet::from(a),
            Err(_) => return Err(format!("{s:?} is neither a prefix nor an address")),
        },
    };
    if net != net.trunc() {
        return Err(format!(
            "{s} has host bits set (did you mean {}?)",
            net.trunc()
        ));
    }
    let bad = |_| format!("{s:?} is not a prefix");
    match net {
        ipnet::IpNet::V4(n) => n
            .to_string()
            .parse::<Prefix4>()
            .map(Prefix::V4)
            .map_err(bad),
        ipnet::IpNet::V6(n) => n
            .to_string()
            .parse::<Prefix6>()
            .map(Prefix::V6)
            .map_err(bad),
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_addresses_parse() {
        assert_eq!(
            parse_prefix("198.51.100.0/24").unwrap().to_string(),
            "198.51.100.0/24"
        );
        assert_eq!(
            parse_prefix("198.51.100.7").unwrap().to_string(),
            "198.51.100.7/32"
        );
        assert_eq!(
            parse_prefix("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        let e = parse_prefix("198.51.100.7/24").unwrap_err();
        assert!(e.contains("did you mean 198.51.100.0/24"), "{e}");
        assert!(parse_prefix("tor1").is_err());
    }
}
