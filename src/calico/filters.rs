//! BGPFilters (calico.md §2.5 "BGPFilter functions") as `[[policy]]` rules. A BGPPeer with
//! `filters: [a, b]` gets its own policies: import = the filters' import rules, then
//! accept; export = the filters' export rules, then `calico_export_to_bgp_peers`. Rules
//! run in filter order; a rule that matches accepts or rejects (BIRD's filter functions
//! end the whole filter), otherwise the next one is tried.
//!
//! Rules this cannot express exactly are left out (not approximated): `interface`
//! (wren does not import kernel routes), `priority` matches, `matchOperator: NotEqual`,
//! `NotIn` with a `prefixLength`, and more than one community value.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::model::{BgpFilterSpec, FilterRule};
use super::{Ctx, EXPORT_POLICY};
use crate::config::{PeerType, PolicyCfg, PolicyVerdict, RouteSource, RuleAction, RuleCfg};

/// Import policy name prefix for peers with filters.
const IMPORT_POLICY: &str = "calico_import";
/// Calico's priority p is carried as LOCAL_PREF 2^31-1 - p.
const PRIORITY_BASE: u32 = 2_147_483_647;

/// Direction of a rule list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Import,
    Export,
}

/// `(import, export)` policy names for a peer with these filters: the shared ones when
/// none of them exists.
pub(super) fn names(cx: &Ctx, filters: &[String]) -> (String, String) {
    let found = existing(cx, filters);
    if found.is_empty() {
        return ("accept-all".to_string(), EXPORT_POLICY.to_string());
    }
    let list = found.join(",");
    (
        format!("{IMPORT_POLICY}[{list}]"),
        format!("{EXPORT_POLICY}[{list}]"),
    )
}

/// The policies of every filter list some peer uses (`used`: the names peers refer to).
/// `export` is the shared export policy the export side ends with.
pub(super) fn policies(cx: &Ctx, export: &PolicyCfg, used: &BTreeSet<String>) -> Vec<PolicyCfg> {
    let lists: BTreeSet<Vec<String>> = cx
        .snap
        .bgp_peers
        .values()
        .map(|p| existing(cx, &p.spec.filters))
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = Vec::new();
    for list in lists {
        let specs: Vec<&BgpFilterSpec> = list
            .iter()
            .filter_map(|n| cx.snap.filters.get(n).map(|f| &f.spec))
            .collect();
        let (import, export_name) = names(cx, &list);
        if used.contains(&import) {
            out.push(PolicyCfg {
                name: import,
                default: PolicyVerdict::Accept,
                rules: rules(&specs, Dir::Import),
            });
        }
        if used.contains(&export_name) {
            let mut r = rules(&specs, Dir::Export);
            r.extend(export.rules.iter().cloned());
            out.push(PolicyCfg {
                name: export_name,
                default: export.default,
                rules: r,
            });
        }
    }
    out
}

// ===== helper functions =====

/// The named filters that exist, in the peer's order, without repeats.
fn existing(cx: &Ctx, filters: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    filters
        .iter()
        .filter(|f| cx.snap.filters.contains_key(*f) && seen.insert(f.as_str()))
        .cloned()
        .collect()
}

fn rules(specs: &[&BgpFilterSpec], dir: Dir) -> Vec<RuleCfg> {
    let mut out = Vec::new();
    for s in specs {
        let (v4, v6) = match dir {
            Dir::Import => (&s.import_v4, &s.import_v6),
            Dir::Export => (&s.export_v4, &s.export_v6),
        };
        out.extend(v4.iter().filter_map(|r| rule(r, true)));
        out.extend(v6.iter().filter_map(|r| rule(r, false)));
    }
    out
}

/// One BGPFilter rule of family v4/v6 as a policy rule; `None` when it cannot be
/// expressed exactly.
fn rule(r: &FilterRule, v4: bool) -> Option<RuleCfg> {
    if r.interface.is_some() || r.priority.is_some() {
        return None;
    }
    let mut out = RuleCfg {
        action: match r.action.as_str() {
            "Accept" => RuleAction::Accept,
            "Reject" => RuleAction::Reject,
            _ => return None,
        },
        ..RuleCfg::default()
    };
    prefix_match(r, v4, &mut out)?;
    out.source = match r.source.as_deref() {
        None | Some("") => None,
        Some("RemotePeers") => Some(RouteSource::Bgp),
        Some(_) => return None,
    };
    out.peer_type = match r.peer_type.as_deref() {
        None | Some("") => None,
        Some("eBGP") => Some(PeerType::Ebgp),
        Some("iBGP") => Some(PeerType::Ibgp),
        Some(_) => return None,
    };
    if let Some(c) = &r.communities {
        match c.values.as_slice() {
            [] => {}
            [one] => out.community = vec![one.clone()],
            _ => return None,
        }
    }
    out.as_path_prefix = r.as_path_prefix.clone();
    for op in &r.operations {
        if let Some(c) = &op.add_community {
            out.add_community.push(c.value.clone());
        }
        if let Some(p) = &op.prepend_as_path {
            out.prepend.extend(&p.prefix);
        }
        if let Some(p) = &op.set_priority {
            out.set_local_pref = Some(PRIORITY_BASE.saturating_sub(p.value));
        }
    }
    Some(out)
}

/// `cidr` with `matchOperator` and `prefixLength`; rules without a CIDR still apply to
/// their family only.
fn prefix_match(r: &FilterRule, v4: bool, out: &mut RuleCfg) -> Option<()> {
    let all: IpNet = if v4 { "0.0.0.0/0" } else { "::/0" }.parse().ok()?;
    let (min, max) = r
        .prefix_length
        .as_ref()
        .map_or((None, None), |p| (p.min, p.max));
    out.min_len = min;
    out.max_len = max;
    let Some(cidr) = r.cidr.as_deref().filter(|c| !c.is_empty()) else {
        out.prefix_in = vec![all];
        return Some(());
    };
    let net = cidr.parse::<IpNet>().ok()?.trunc();
    if matches!(net, IpNet::V4(_)) != v4 {
        return None;
    }
    match r.match_operator.as_deref() {
        Some("Equal") => out.prefix = vec![net],
        None | Some("") | Some("In") => out.prefix_in = vec![net],
        Some("NotIn") if min.is_none() && max.is_none() => {
            out.prefix_in = vec![all];
            out.prefix_not_in = vec![net];
        }
        _ => return None,
    }
    Some(())
}
