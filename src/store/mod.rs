//! Config sources other than the file: the etcd datastore (Calico's etcd v3 layout).
//!
//! The store is an adapter (tokio, network). It knows nothing about BGP or Calico's JSON:
//! it delivers the raw keys under Calico's prefixes as [`StoreEvent`]s, and the pure
//! `calico` module turns them into a [`Config`](crate::config::Config).
//!
//! The contract every consumer relies on:
//! - a [`StoreEvent::Reset`] is always one complete, consistent list (all prefixes read at
//!   one revision), never a part of one;
//! - [`StoreEvent::Changes`] follow from the last Reset's revision, in revision order;
//! - when the connection is lost, nothing but a [`StoreEvent::Status`] is sent until the
//!   store is reachable again, and then a new Reset (the consumer keeps its last state
//!   meanwhile). A compacted watch also ends in a new Reset.

pub mod etcd;

use crate::config::DatastoreCfg;

/// Calico's v3 resources (IPPool, BGPConfiguration, BGPPeer, BGPFilter, Node).
pub const RESOURCES_PREFIX: &str = "/calico/resources/v3/projectcalico.org/";

/// What the datastore says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// Every key under the watched prefixes at `revision`: replaces all earlier state.
    Reset {
        revision: i64,
        kvs: Vec<(String, Vec<u8>)>,
    },
    /// Puts (`Some(value)`) and deletes (`None`) up to `revision`, in order.
    Changes {
        revision: i64,
        changes: Vec<(String, Option<Vec<u8>>)>,
    },
    /// A one-line connection state for the log: "connected …" or "lost …: <error>".
    Status(String),
}

// ===== helper functions =====

/// The prefixes of the keys this node needs (calico.md §3.1): all v3 resources and this
/// node's block affinities only.
pub fn prefixes(node: &str) -> Vec<String> {
    vec![
        RESOURCES_PREFIX.to_string(),
        format!("/calico/ipam/v2/host/{node}/"),
    ]
}

/// This node's Calico name: `[datastore] node_name`, else `NODENAME`, else the file
/// calico-node writes (`/var/lib/calico/nodename`), else the hostname.
pub fn node_name(cfg: &DatastoreCfg) -> Result<String, String> {
    let from_env = std::env::var("NODENAME").ok();
    let from_file = || std::fs::read_to_string("/var/lib/calico/nodename").ok();
    let from_host = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    [cfg.node_name.clone(), from_env]
        .into_iter()
        .flatten()
        .chain(std::iter::from_fn(from_file).take(1))
        .chain(std::iter::from_fn(from_host).take(1))
        .map(|n| n.trim().to_string())
        .find(|n| !n.is_empty())
        .ok_or_else(|| {
            "no node name: set [datastore] node_name or NODENAME (the hostname is unreadable)"
                .to_string()
        })
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_resources_and_own_affinities_only() {
        let p = prefixes("node-1");
        assert_eq!(
            p,
            [
                "/calico/resources/v3/projectcalico.org/",
                "/calico/ipam/v2/host/node-1/"
            ]
        );
    }

    #[test]
    fn node_name_from_config_wins() {
        let cfg = DatastoreCfg {
            node_name: Some(" n7 ".into()),
            ..DatastoreCfg::default()
        };
        assert_eq!(node_name(&cfg).unwrap(), "n7");
        // Without it, something non-empty is found (NODENAME or the hostname).
        let any = node_name(&DatastoreCfg::default()).unwrap();
        assert!(!any.is_empty());
    }
}
