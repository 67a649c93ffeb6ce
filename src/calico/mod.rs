//! Calico mode: translate Calico's etcd datastore into a wren [`Config`], the way
//! confd + BIRD would have computed it (facts: shared/reference/calico.md §2, §3).
//!
//! Pure: no I/O. [`Snapshot::apply`] takes one etcd put/delete at a time;
//! [`translate`] turns the current snapshot into a complete config.

use crate::config::Config;

/// The parsed datastore (only the keys Calico's BGP side reads).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {}

/// What this node knows about itself outside the datastore.
#[derive(Debug, Clone)]
pub struct Local {
    pub node_name: String,
    /// CALICO_ROUTER_ID: a literal IPv4 address, or "hash".
    pub router_id: Option<String>,
    /// Daemon-level settings from the file: control, metrics, fib, log, datastore.
    pub base: Config,
}

// ===== impl Snapshot =====

impl Snapshot {
    /// Apply one etcd put (`Some`) or delete (`None`). Unknown keys are ignored; bad JSON
    /// is an error naming the key, and the previous value stays.
    pub fn apply(&mut self, _key: &str, _value: Option<&[u8]>) -> Result<(), String> {
        Ok(())
    }
}

/// The config confd + BIRD would have run for `local.node_name`.
pub fn translate(_snap: &Snapshot, local: &Local) -> Result<Config, String> {
    Ok(local.base.clone())
}
