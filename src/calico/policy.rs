//! Routes and filters (calico.md §2.3, §2.5): this node's blocks as originations, BIRD's
//! `calico_export_to_bgp_peers()` and `filter calico_kernel_programming` as `[[policy]]`s,
//! and the IPIP pools as `[[fib.device_route]]`s (BIRD's `krt_tunnel = "tunl0"`).

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::model::{BgpConfigSpec, BlockState, CidrItem, IpPoolSpec};
use super::{Ctx, EXPORT_POLICY, KERNEL_POLICY};
use crate::config::{DeviceRouteCfg, OriginateCfg, PolicyCfg, PolicyVerdict, RuleAction, RuleCfg};

/// The IPIP device (Calico's `tunl0`).
const IPIP_DEVICE: &str = "tunl0";

/// How a pool's routes reach the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encap {
    None,
    IpipAlways,
    IpipCrossSubnet,
    /// Felix programs VXLAN routes; BIRD rejects them from the kernel.
    Vxlan,
}

/// §2.3 static protocol: a blackhole per block affine to this node (/32 and /128 blocks
/// skipped), `confirmed` and `pendingDeletion` ones (the export policy keeps the latter
/// from peers), none for `pending` ones. Blocks in VXLAN pools get no kernel blackhole
/// (BIRD's kernel filter rejects those pools; Felix owns them). Service CIDRs (§3.3
/// `updateGlobalRoutes`) are advertised without a kernel route (they are reject-CIDRs).
pub(super) fn originate(cx: &Ctx) -> Vec<OriginateCfg> {
    let vxlan = vxlan_pools(cx);
    let mut out: Vec<OriginateCfg> = Vec::new();
    for (net, state) in blocks(cx) {
        let felix = vxlan.iter().any(|p| p.contains(&net));
        if state == BlockState::Pending || (felix && state == BlockState::PendingDeletion) {
            continue;
        }
        out.push(OriginateCfg {
            prefix: net,
            blackhole: !felix,
        });
    }
    let have: BTreeSet<IpNet> = out.iter().map(|o| o.prefix).collect();
    for net in service_static(cx.global) {
        if !have.contains(&net) {
            out.push(OriginateCfg {
                prefix: net,
                blackhole: false,
            });
        }
    }
    out.sort_by_key(|o| o.prefix);
    out
}

/// Devices whose kernel routes are not learned: the tunnel-interface rejects of
/// `calico_export_to_bgp_peers()` steps 2–3 (§2.5: Felix's VXLAN, WireGuard and IPIP
/// routes, the eBPF dataplane's). BIRD rejects steps 2's only towards iBGP peers; not
/// learning them also keeps them from eBGP peers, which get those blocks over BGP anyway.
pub(super) fn learn_ignore() -> Vec<String> {
    ["*.cali", "*.calico", "tunl0", "bpf*.cali"]
        .map(String::from)
        .to_vec()
}

/// `calico_export_to_bgp_peers()` (§2.5), the same for iBGP and eBGP peers here: the
/// tunnel-interface steps 2–3 are [`learn_ignore`]. Kernel-learned routes (Felix's
/// workload /32s) go through the same prefix rules: borrowed /32s are in a pool and
/// exported, /32s inside this node's blocks are aggregated away.
pub(super) fn export_policy(cx: &Ctx) -> PolicyCfg {
    let pools = pools(cx);
    let mut rules = Vec::new();
    // 1. Pools with BGP export disabled.
    let disabled: Vec<IpNet> = pools
        .iter()
        .filter(|(_, s, _)| s.disable_bgp_export)
        .map(|p| p.0)
        .collect();
    push(&mut rules, within(disabled, RuleAction::Reject));
    // 4. apply_communities(): add, then go on.
    rules.extend(communities(cx));
    // 5. calico_aggr(): confirmed blocks are advertised whole, nothing beneath them;
    // blocks pending deletion are only blackholed.
    let state = |want: BlockState| -> Vec<IpNet> {
        blocks(cx)
            .into_iter()
            .filter(|(_, s)| *s == want)
            .map(|(n, _)| n)
            .collect()
    };
    push(
        &mut rules,
        exact(state(BlockState::PendingDeletion), RuleAction::Reject),
    );
    let confirmed = state(BlockState::Confirmed);
    push(&mut rules, exact(confirmed.clone(), RuleAction::Accept));
    push(&mut rules, within(confirmed, RuleAction::Reject));
    // 6. Service CIDRs advertised from every node.
    push(
        &mut rules,
        within(service_static(cx.global), RuleAction::Accept),
    );
    // 7. A route reflector passes on the LoadBalancer and external service IPs.
    if !cx.cluster_id.is_empty() {
        let g = cx.global;
        let lb = cidrs(g.and_then(|g| g.service_load_balancer_ips.as_ref()));
        let ext = cidrs(g.and_then(|g| g.service_external_ips.as_ref()));
        push(
            &mut rules,
            within(lb.into_iter().chain(ext).collect(), RuleAction::Accept),
        );
    }
    // 8. Everything within an exported pool (VXLAN pools included).
    let enabled: Vec<IpNet> = pools
        .iter()
        .filter(|(_, s, _)| !s.disable_bgp_export)
        .map(|p| p.0)
        .collect();
    push(&mut rules, within(enabled, RuleAction::Accept));
    PolicyCfg {
        name: EXPORT_POLICY.to_string(),
        default: PolicyVerdict::Reject,
        rules,
    }
}

/// `filter calico_kernel_programming` (§2.5): service ranges and VXLAN pools never go to
/// the kernel (Felix owns those); everything else does. IPIP is done by device routes.
pub(super) fn kernel_policy(cx: &Ctx) -> PolicyCfg {
    let mut rules = Vec::new();
    push(
        &mut rules,
        within(reject_cidrs(cx.global), RuleAction::Reject),
    );
    push(&mut rules, within(vxlan_pools(cx), RuleAction::Reject));
    PolicyCfg {
        name: KERNEL_POLICY.to_string(),
        default: PolicyVerdict::Accept,
        rules,
    }
}

/// `krt_tunnel = "tunl0"` for IPIP pools (IPv4 only): Always, or CrossSubnet (only when
/// the next hop is off our subnet). Needs the node's subnet, as confd does.
pub(super) fn device_routes(cx: &Ctx) -> Vec<DeviceRouteCfg> {
    if cx.v4.is_none_or(|n| n.prefix_len() == 32) {
        return Vec::new();
    }
    let mut out: Vec<DeviceRouteCfg> = pools(cx)
        .into_iter()
        .filter(|(n, _, _)| matches!(n, IpNet::V4(_)))
        .filter_map(|(prefix, _, encap)| {
            let cross_subnet = match encap {
                Encap::IpipAlways => false,
                Encap::IpipCrossSubnet => true,
                _ => return None,
            };
            Some(DeviceRouteCfg {
                prefix,
                device: IPIP_DEVICE.to_string(),
                cross_subnet,
            })
        })
        .collect();
    // First match wins in the FIB: most specific first.
    out.sort_by(|a, b| {
        b.prefix
            .prefix_len()
            .cmp(&a.prefix.prefix_len())
            .then(a.prefix.cmp(&b.prefix))
    });
    out
}

// ===== helper functions =====

/// This node's blocks, sorted, without /32 and /128 ones.
fn blocks(cx: &Ctx) -> Vec<(IpNet, BlockState)> {
    cx.snap
        .blocks
        .iter()
        .filter(|((host, net), _)| {
            host == &cx.local.node_name && net.prefix_len() < net.max_prefix_len()
        })
        .filter_map(|((_, net), a)| Some((*net, a.block_state()?)))
        .collect()
}

/// Every pool with a valid CIDR, sorted by CIDR (disabled pools included, as confd does).
fn pools<'a>(cx: &Ctx<'a>) -> Vec<(IpNet, &'a IpPoolSpec, Encap)> {
    let mut out: Vec<_> = cx
        .snap
        .pools
        .values()
        .filter_map(|p| {
            let net = p.spec.cidr.parse::<IpNet>().ok()?.trunc();
            Some((net, &p.spec, encap(&p.spec)))
        })
        .collect();
    out.sort_by_key(|p| p.0);
    out.dedup_by_key(|p| p.0);
    out
}

fn vxlan_pools(cx: &Ctx) -> Vec<IpNet> {
    pools(cx)
        .into_iter()
        .filter(|p| p.2 == Encap::Vxlan)
        .map(|p| p.0)
        .collect()
}

fn encap(s: &IpPoolSpec) -> Encap {
    let on = |m: &Option<String>| m.as_deref().is_some_and(|m| !m.is_empty() && m != "Never");
    if on(&s.vxlan_mode) {
        Encap::Vxlan
    } else if s.ipip_mode.as_deref() == Some("CrossSubnet") {
        Encap::IpipCrossSubnet
    } else if on(&s.ipip_mode) {
        Encap::IpipAlways
    } else {
        Encap::None
    }
}

/// `prefixAdvertisements` (the node's BGPConfiguration wins over the global one), with
/// community names resolved through `communities` (likewise). Unknown names are skipped.
fn communities(cx: &Ctx) -> Vec<RuleCfg> {
    let pick = |f: fn(&BgpConfigSpec) -> bool| cx.node_cfg.filter(|c| f(c)).or(cx.global);
    let advs =
        pick(|c| c.prefix_advertisements.is_some()).and_then(|c| c.prefix_advertisements.as_ref());
    let named = pick(|c| c.communities.is_some()).and_then(|c| c.communities.as_ref());
    let mut out = Vec::new();
    for adv in advs.into_iter().flatten() {
        let Ok(net) = adv.cidr.parse::<IpNet>() else {
            continue;
        };
        let add: Vec<String> = adv
            .communities
            .iter()
            .filter_map(|c| {
                if is_community_value(c) {
                    return Some(c.clone());
                }
                named?
                    .iter()
                    .find(|n| &n.name == c)
                    .map(|n| n.value.clone())
            })
            .filter(|v| is_community_value(v))
            .collect();
        if !add.is_empty() {
            out.push(RuleCfg {
                prefix_in: vec![net.trunc()],
                add_community: add,
                action: RuleAction::Next,
                ..RuleCfg::default()
            });
        }
    }
    out
}

/// "a:b" or "a:b:c" with numbers.
fn is_community_value(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    (parts.len() == 2 || parts.len() == 3) && parts.iter().all(|p| p.parse::<u32>().is_ok())
}

/// Service CIDRs every node advertises (route generator `updateGlobalRoutes`):
/// cluster IPs, external IPs that are ranges, and LoadBalancer IPs while aggregation is
/// enabled (the default).
fn service_static(g: Option<&BgpConfigSpec>) -> Vec<IpNet> {
    let Some(g) = g else { return Vec::new() };
    let mut out = cidrs(g.service_cluster_ips.as_ref());
    out.extend(
        cidrs(g.service_external_ips.as_ref())
            .into_iter()
            .filter(|n| n.prefix_len() < n.max_prefix_len()),
    );
    if g.service_load_balancer_aggregation.as_deref() != Some("Disabled") {
        out.extend(cidrs(g.service_load_balancer_ips.as_ref()));
    }
    out.sort();
    out.dedup();
    out
}

/// Service ranges never programmed into the kernel (`/calico/rejectcidrs`).
fn reject_cidrs(g: Option<&BgpConfigSpec>) -> Vec<IpNet> {
    let Some(g) = g else { return Vec::new() };
    let mut out = cidrs(g.service_cluster_ips.as_ref());
    out.extend(cidrs(g.service_external_ips.as_ref()));
    out.extend(cidrs(g.service_load_balancer_ips.as_ref()));
    out.sort();
    out.dedup();
    out
}

fn cidrs(list: Option<&Vec<CidrItem>>) -> Vec<IpNet> {
    let mut out: Vec<IpNet> = list
        .into_iter()
        .flatten()
        .filter_map(|c| c.cidr.parse::<IpNet>().ok().map(|n| n.trunc()))
        .collect();
    out.sort();
    out
}

/// A rule matching routes within any of `nets` (none: no rule).
fn within(nets: Vec<IpNet>, action: RuleAction) -> Option<RuleCfg> {
    (!nets.is_empty()).then(|| RuleCfg {
        prefix_in: nets,
        action,
        ..RuleCfg::default()
    })
}

/// A rule matching routes whose prefix is one of `nets` (none: no rule).
fn exact(nets: Vec<IpNet>, action: RuleAction) -> Option<RuleCfg> {
    (!nets.is_empty()).then(|| RuleCfg {
        prefix: nets,
        action,
        ..RuleCfg::default()
    })
}

fn push(rules: &mut Vec<RuleCfg>, r: Option<RuleCfg>) {
    rules.extend(r);
}
