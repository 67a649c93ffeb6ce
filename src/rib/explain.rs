//! `explain`: everything the RIB knows about one prefix, with reasons: the paths and the
//! decision, what the import policies rejected, what each peer is sent (or why not), and
//! whether the kernel gets the route (or why not).

use serde::Serialize;

use super::export::{exportable, SrcKind};
use super::flush::{fib_kind, path_ctx};
use super::intern::wk;
use super::out::Group;
use super::table::{fib, flag, Dest, Path, Reject};
use super::{FibRoute, Filter, PathView, PeerId, PeerState, Prefix, Rib, LOCAL};
use crate::policy::{evaluate, reason};

/// One path with its import verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathExplain {
    #[serde(flatten)]
    pub view: PathView,
    /// The import policy's sentence (policy peers only).
    pub import: Option<String>,
}

/// What one Established peer gets for the prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportExplain {
    pub peer: PeerId,
    /// The peer holds the prefix in its Adj-RIB-Out.
    pub sent: bool,
    /// Path identifiers sent (ADD-PATH; `[0]` without).
    pub path_ids: Vec<u32>,
    /// One sentence: why sent or why not.
    pub reason: String,
}

/// Whether the kernel has the route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelExplain {
    pub installed: bool,
    pub route: Option<FibRoute>,
    pub reason: String,
}

/// The whole answer for one prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    pub prefix: Prefix,
    /// Best first, then the other candidates, then the ineligible paths.
    pub paths: Vec<PathExplain>,
    /// Per Established peer, by id.
    pub exports: Vec<ExportExplain>,
    pub kernel: KernelExplain,
}

// ===== impl Rib =====

impl Rib {
    /// Explain `prefix` (an empty answer when the RIB has no path for it).
    pub fn explain_all(&self, prefix: Prefix) -> Explained {
        let d = self.table.lookup(&prefix).and_then(|di| self.table.get(di));
        let paths = match d {
            Some(d) => self.path_explains(d),
            None => Vec::new(),
        };
        let mut ids: Vec<PeerId> = self.peers.keys().copied().collect();
        ids.sort_unstable();
        let exports = ids
            .into_iter()
            .filter_map(|id| self.export_explain(id, d))
            .collect();
        Explained {
            prefix,
            paths,
            exports,
            kernel: self.kernel_explain(d),
        }
    }

    fn path_explains(&self, d: &Dest) -> Vec<PathExplain> {
        let views = self.explain_dest(d);
        views
            .into_iter()
            .map(|v| {
                let p = d
                    .paths
                    .iter()
                    .find(|p| p.peer == v.peer && p.path_id == v.path_id);
                let import = p.and_then(|p| self.import_reason(d, p));
                PathExplain { view: v, import }
            })
            .collect()
    }

    /// The import policy's sentence for path `p` (stored attributes are the received ones
    /// when it rejected, so evaluating them again gives the same verdict).
    pub(super) fn import_reason(&self, d: &Dest, p: &Path) -> Option<String> {
        let ps = self.peers.get(&p.peer).filter(|_| p.peer != LOCAL)?;
        let Filter::Policy(pol) = &ps.info.import else {
            return None;
        };
        if p.reject != Reject::None && p.reject != Reject::Policy {
            return None;
        }
        let ctx = path_ctx(&self.attrs, &self.peers, d.prefix(), p);
        let mut v = evaluate(pol, &ctx);
        if p.reject == Reject::None && !v.accept {
            // Accepted with changes that the policy, run on the changed set, would not
            // accept again: say what happened on receipt.
            v.reason = format!("accepted by policy {:?}", pol.name);
        }
        Some(v.reason)
    }

    fn export_explain(&self, peer: PeerId, d: Option<&Dest>) -> Option<ExportExplain> {
        let ps = self.peers.get(&peer).filter(|ps| ps.up)?;
        let g = ps
            .group
            .and_then(|gi| Some((gi, self.groups.get(gi as usize)?.as_ref()?)));
        let mut e = ExportExplain {
            peer,
            sent: false,
            path_ids: Vec::new(),
            reason: String::new(),
        };
        let (Some((gi, g)), Some(d)) = (g, d) else {
            e.reason = "not sent: no path for the prefix".into();
            return Some(e);
        };
        if d.has_entries(gi) {
            e.path_ids = d
                .entries(gi)
                .iter()
                .filter(|x| !x.except.contains(&peer))
                .map(|x| x.id)
                .collect();
        }
        e.sent = !e.path_ids.is_empty();
        e.reason = match d.best() {
            _ if !g.member(peer).is_some_and(|m| m.synced) => {
                "not sent yet: the peer's initial table is pending".into()
            }
            None => "not sent: no eligible path".into(),
            Some(b) => self.export_reason(ps, g, d, b, e.sent),
        };
        Some(e)
    }

    /// Why the best path `b` of `d` is (not) in the peer's Adj-RIB-Out, first rule that
    /// applies, in the order the export runs them.
    fn export_reason(&self, ps: &PeerState, g: &Group, d: &Dest, b: &Path, sent: bool) -> String {
        let peer = ps.info.id;
        let src = match self.peers.get(&b.peer).filter(|_| b.peer != LOCAL) {
            Some(s) => s.src.kind,
            None => SrcKind::Local,
        };
        let keys = self.attrs.keys(b.attr);
        let policy = match &g.key.export {
            Filter::Policy(pol) => {
                let ctx = path_ctx(&self.attrs, &self.peers, d.prefix(), b);
                let mut ctx = ctx;
                ctx.peer_type = Some(if g.key.ibgp {
                    crate::config::PeerType::Ibgp
                } else {
                    crate::config::PeerType::Ebgp
                });
                Some(pol.decide(&ctx)).map(|dec| (reason(pol, &dec), dec.accept))
            }
            _ => None,
        };
        if !g.key.has_family(d.is_v6()) {
            return "not sent: the family was not negotiated with this peer".into();
        }
        if b.peer == peer {
            return "not sent: the best path came from this peer (split horizon)".into();
        }
        if g.key.export == Filter::RejectAll {
            return "not sent: the export filter is reject-all (RFC 8212 default for eBGP)".into();
        }
        if keys.wk & wk::NO_ADVERTISE != 0 {
            return "not sent: the path carries NO_ADVERTISE (RFC 1997)".into();
        }
        if !g.key.ibgp && keys.wk & (wk::NO_EXPORT | wk::NO_EXPORT_SUBCONFED) != 0 {
            return "not sent: the path carries NO_EXPORT and the peer is external (RFC 1997)"
                .into();
        }
        if !g.key.llgr && keys.wk & wk::LLGR_STALE != 0 {
            return "not sent: the path is long-lived stale (LLGR_STALE) and the peer did not send the LLGR capability (RFC 9494 §4.3)".into();
        }
        if !exportable(src, &keys, &g.key) {
            return "not sent: learned from an iBGP non-client, and the peer is iBGP but not a route-reflector client (RFC 4271 §9.1.3, RFC 4456 §6)".into();
        }
        if g.key.ibgp
            && keys
                .originator_id
                .is_some_and(|o| Some(o) == self.rid(peer))
        {
            return "not sent: the peer is the path's ORIGINATOR_ID (RFC 4456 §8)".into();
        }
        match (policy, sent) {
            (Some((why, false)), _) => format!("not sent: {why}"),
            (Some((why, true)), true) => format!("sent: {why}"),
            (None, true) => "sent".into(),
            (_, false) if b.has(flag::BEST) => {
                "not sent: no usable next hop for the family on this session".into()
            }
            (_, false) => "not sent".into(),
        }
    }

    fn rid(&self, peer: PeerId) -> Option<std::net::Ipv4Addr> {
        self.peers.get(&peer).map(|ps| ps.src.bgp_id)
    }

    fn kernel_explain(&self, d: Option<&Dest>) -> KernelExplain {
        let route = d.filter(|d| d.fib != fib::NONE).map(|d| FibRoute {
            prefix: d.prefix(),
            kind: fib_kind(&self.nhs, d.fib),
        });
        let installed = route.is_some();
        let best = d.and_then(|d| Some((d, d.best()?)));
        let verdict = match (&self.kernel, best) {
            (Filter::Policy(pol), Some((d, b))) => Some(evaluate(
                pol,
                &path_ctx(&self.attrs, &self.peers, d.prefix(), b),
            )),
            _ => None,
        };
        let reason = match (best, &verdict) {
            _ if !self.cfg.fib => {
                "not installed: the FIB is disabled ([fib] enabled = false)".into()
            }
            (None, _) => "not installed: no eligible path".into(),
            _ if self.kernel == Filter::RejectAll => {
                "not installed: the kernel filter ([fib] export) is reject-all".into()
            }
            (_, Some(v)) if !v.accept => format!("not installed: {} ([fib] export)", v.reason),
            (Some((_, b)), _) if b.peer == LOCAL && !installed => {
                "not installed: originated without a blackhole".into()
            }
            (Some((_, b)), _) if b.peer == LOCAL => {
                "installed: blackhole of an originated block".into()
            }
            (_, _) if !installed => "not installed: the best path has no usable next hop".into(),
            (_, Some(v)) => format!("installed: best path; {} ([fib] export)", v.reason),
            (_, None) => "installed: best path".into(),
        };
        KernelExplain {
            installed,
            route,
            reason,
        }
    }
}
