//! The parts of Calico's v3 resources (whole-object JSON in etcd, calico.md §3.2) that
//! BGP uses. Unknown fields are ignored: the objects carry much more than this.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Asn;

/// `metadata` of any resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub labels: BTreeMap<String, String>,
}

/// `projectcalico.org/v3` Node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    pub metadata: Meta,
    pub spec: NodeSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NodeSpec {
    pub bgp: Option<NodeBgp>,
}

/// `spec.bgp` of a Node. Addresses are CIDRs: "10.0.0.11/24" (IP and subnet).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NodeBgp {
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub as_number: Option<Asn>,
    #[serde(rename = "routeReflectorClusterID")]
    pub route_reflector_cluster_id: Option<String>,
}

/// `BGPConfiguration` (`default` is global, `node.<name>` per node).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BgpConfiguration {
    pub spec: BgpConfigSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BgpConfigSpec {
    pub node_to_node_mesh_enabled: Option<bool>,
    pub as_number: Option<Asn>,
    pub listen_port: Option<u16>,
    /// "None" or "NodeIP".
    pub bind_mode: Option<String>,
    #[serde(rename = "serviceClusterIPs")]
    pub service_cluster_ips: Option<Vec<CidrItem>>,
    #[serde(rename = "serviceExternalIPs")]
    pub service_external_ips: Option<Vec<CidrItem>>,
    #[serde(rename = "serviceLoadBalancerIPs")]
    pub service_load_balancer_ips: Option<Vec<CidrItem>>,
    /// "Enabled" (default) or "Disabled".
    pub service_load_balancer_aggregation: Option<String>,
    pub communities: Option<Vec<Community>>,
    pub prefix_advertisements: Option<Vec<PrefixAdvertisement>>,
    pub node_mesh_password: Option<Password>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CidrItem {
    pub cidr: String,
}

/// A named community: `value` is "a:b" or "a:b:c".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Community {
    pub name: String,
    pub value: String,
}

/// Communities (names or literal values) added to routes within `cidr`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PrefixAdvertisement {
    pub cidr: String,
    pub communities: Vec<String>,
}

/// `password: {secretKeyRef: {name, key}}`: a Kubernetes Secret.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Password {
    pub secret_key_ref: Option<SecretKeyRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// `BGPPeer`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BgpPeer {
    pub spec: BgpPeerSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BgpPeerSpec {
    pub node: Option<String>,
    pub node_selector: Option<String>,
    /// "ip" or "ip:port" ("[v6]:port").
    #[serde(rename = "peerIP")]
    pub peer_ip: Option<String>,
    pub peer_selector: Option<String>,
    pub as_number: Option<Asn>,
    #[serde(rename = "localASNumber")]
    pub local_as_number: Option<Asn>,
    pub keep_original_next_hop: bool,
    /// "Auto", "Self" or "Keep".
    pub next_hop_mode: Option<String>,
    pub password: Option<Password>,
    /// "UseNodeIP" (default) or "None".
    pub source_address: Option<String>,
    /// A Go duration, e.g. "120s".
    pub max_restart_time: Option<String>,
    pub keepalive_time: Option<String>,
    pub num_allowed_local_as_numbers: Option<u32>,
    pub ttl_security: Option<u8>,
    pub filters: Vec<String>,
    pub local_workload_selector: Option<String>,
    /// "Auto" (default) or "Manual".
    pub reverse_peering: Option<String>,
}

/// `IPPool`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IpPool {
    pub spec: IpPoolSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IpPoolSpec {
    pub cidr: String,
    /// "Never", "Always" or "CrossSubnet".
    pub ipip_mode: Option<String>,
    pub vxlan_mode: Option<String>,
    pub disabled: bool,
    #[serde(rename = "disableBGPExport")]
    pub disable_bgp_export: bool,
}

/// A block affinity value: `{"state": "confirmed"|"pending"|"pendingDeletion"}`; an
/// empty value is legacy and counts as confirmed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Affinity {
    pub state: Option<String>,
    pub deleted: bool,
}

/// `BGPFilter`: rule lists per direction and family.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BgpFilter {
    pub spec: BgpFilterSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BgpFilterSpec {
    #[serde(rename = "exportV4")]
    pub export_v4: Vec<FilterRule>,
    #[serde(rename = "importV4")]
    pub import_v4: Vec<FilterRule>,
    #[serde(rename = "exportV6")]
    pub export_v6: Vec<FilterRule>,
    #[serde(rename = "importV6")]
    pub import_v6: Vec<FilterRule>,
}

/// One BGPFilter rule: every condition given must hold; then the operations, then the
/// action.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FilterRule {
    pub cidr: Option<String>,
    pub prefix_length: Option<PrefixLength>,
    /// "Equal", "NotEqual", "In", "NotIn".
    pub match_operator: Option<String>,
    /// "RemotePeers".
    pub source: Option<String>,
    pub interface: Option<String>,
    /// "eBGP" or "iBGP".
    pub peer_type: Option<String>,
    pub communities: Option<FilterCommunities>,
    #[serde(rename = "asPathPrefix")]
    pub as_path_prefix: Vec<u32>,
    pub priority: Option<u32>,
    /// "Accept" or "Reject".
    pub action: String,
    pub operations: Vec<FilterOperation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PrefixLength {
    pub min: Option<u8>,
    pub max: Option<u8>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FilterCommunities {
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FilterOperation {
    pub add_community: Option<ValueOf<String>>,
    #[serde(rename = "prependASPath")]
    pub prepend_as_path: Option<PrependAsPath>,
    pub set_priority: Option<ValueOf<u32>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ValueOf<T: Default> {
    pub value: T,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PrependAsPath {
    pub prefix: Vec<u32>,
}

/// The state of one of this node's blocks, as confd reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockState {
    Confirmed,
    Pending,
    PendingDeletion,
}

// ===== impl Affinity =====

impl Affinity {
    /// `None` for a deleted affinity; an unknown state counts as pending (not advertised).
    pub fn block_state(&self) -> Option<BlockState> {
        if self.deleted {
            return None;
        }
        Some(match self.state.as_deref() {
            None | Some("") | Some("confirmed") => BlockState::Confirmed,
            Some("pendingDeletion") => BlockState::PendingDeletion,
            Some(_) => BlockState::Pending,
        })
    }
}

// ===== helper functions =====

/// A Go `time.Duration` string ("90s", "1m30s", "2h", "1.5m", "500ms") in whole seconds,
/// rounded down.
pub fn go_duration_secs(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not a duration (like \"90s\" or \"1m30s\")");
    let mut rest = s.trim();
    if rest == "0" {
        return Ok(0);
    }
    let mut total_ms = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let num: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let ms = match &rest[..unit_end] {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1000.0,
            "ms" => 1.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return Err(bad()),
        };
        total_ms += num * ms;
        rest = &rest[unit_end..];
    }
    Ok((total_ms / 1000.0) as u64)
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, want) in [
            ("90s", 90),
            ("1m30s", 90),
            ("2h", 7200),
            ("1.5m", 90),
            ("500ms", 0),
            ("0", 0),
        ] {
            assert_eq!(go_duration_secs(s), Ok(want), "{s}");
        }
        for s in ["", "10", "5x", "s"] {
            assert!(go_duration_secs(s).is_err(), "{s}");
        }
    }

    #[test]
    fn affinity_states() {
        let st = |j: &str| serde_json::from_str::<Affinity>(j).unwrap().block_state();
        assert_eq!(st("{}"), Some(BlockState::Confirmed));
        assert_eq!(st(r#"{"state":"confirmed"}"#), Some(BlockState::Confirmed));
        assert_eq!(st(r#"{"state":"pending"}"#), Some(BlockState::Pending));
        assert_eq!(
            st(r#"{"state":"pendingDeletion"}"#),
            Some(BlockState::PendingDeletion)
        );
        assert_eq!(st(r#"{"state":"confirmed","deleted":true}"#), None);
    }
}
