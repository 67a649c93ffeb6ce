//! The difference between two configs, as the changes the speaker applies one by one.
//!
//! Pure: [`diff`] compares, it changes nothing. Peers are matched by address (a passive
//! range by its prefix), originated prefixes by prefix, policies by name. A peer change
//! says which fields changed and whether any of them needs the session reset: what the
//! OPEN negotiates or the transport uses cannot change on a running session; the rest
//! (name, policies, next hop, route reflection, prefix limit) is applied live.

use std::fmt;

use super::types::*;

/// One change between the running config and a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigDelta {
    PeerAdded(PeerCfg),
    PeerRemoved(PeerCfg),
    PeerChanged {
        old: Box<PeerCfg>,
        new: Box<PeerCfg>,
        changes: Vec<FieldChange>,
    },
    OriginateAdded(OriginateCfg),
    OriginateRemoved(OriginateCfg),
    /// Same prefix, other settings (the blackhole flag).
    OriginateChanged {
        old: OriginateCfg,
        new: OriginateCfg,
    },
    /// `[router]` changed. `asn` and `router_id` reset every session; `cluster_id` is
    /// applied live (not negotiated); `listen` needs a restart (the sockets are opened
    /// at start).
    RouterChanged(Vec<FieldChange>),
    /// A `[[policy]]` was added, removed or changed; `peers` are the peers (by display
    /// name) whose import or export names it, re-evaluated live.
    PolicyChanged {
        name: String,
        peers: Vec<String>,
    },
    /// A section applied only at start (`fib`, `control`, `metrics`, `datastore`, `log`):
    /// the running daemon keeps the old settings until it is restarted.
    NeedsRestart {
        section: &'static str,
        changes: Vec<FieldChange>,
    },
}

/// One changed field, with its old and new value as shown in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
    /// The change needs the session (or, for `[router]`, every session) reset.
    pub reset: bool,
}

// ===== impl ConfigDelta =====

impl ConfigDelta {
    /// For a peer change: does it need the session reset?
    pub fn needs_reset(&self) -> bool {
        match self {
            ConfigDelta::PeerChanged { changes, .. } | ConfigDelta::RouterChanged(changes) => {
                changes.iter().any(|c| c.reset)
            }
            _ => false,
        }
    }
}

impl fmt::Display for ConfigDelta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigDelta::PeerAdded(p) => write!(f, "peer {} added", p.display_name()),
            ConfigDelta::PeerRemoved(p) => write!(f, "peer {} removed", p.display_name()),
            ConfigDelta::PeerChanged { old, changes, .. } => {
                write!(f, "peer {}: {}", old.display_name(), list(changes))
            }
            ConfigDelta::OriginateAdded(o) => write!(f, "originate {} added", o.prefix),
            ConfigDelta::OriginateRemoved(o) => write!(f, "originate {} removed", o.prefix),
            ConfigDelta::OriginateChanged { old, new } => write!(
                f,
                "originate {}: blackhole {} → {}",
                new.prefix, old.blackhole, new.blackhole
            ),
            ConfigDelta::RouterChanged(c) => {
                write!(f, "router: {}", list(c))?;
                if c.iter().any(|c| c.field == "listen") {
                    write!(f, " (listen: applied at the next restart)")?;
                }
                Ok(())
            }
            ConfigDelta::PolicyChanged { name, peers } if peers.is_empty() => {
                write!(f, "policy {name} changed (no peer uses it)")
            }
            ConfigDelta::PolicyChanged { name, peers } => {
                write!(f, "policy {name} changed (peers {})", peers.join(", "))
            }
            ConfigDelta::NeedsRestart { section, changes } => write!(
                f,
                "[{section}]: {} (applied at the next restart)",
                list(changes)
            ),
        }
    }
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} → {}", self.field, self.old, self.new)
    }
}

// ===== helper functions =====

/// Everything that differs between `old` and `new`, in a stable order: router, peers
/// (removed, changed, added), originate, policies, sections applied at start.
pub fn diff(old: &Config, new: &Config) -> Vec<ConfigDelta> {
    let mut out = Vec::new();
    let router = router_changes(&old.router, &new.router);
    if !router.is_empty() {
        out.push(ConfigDelta::RouterChanged(router));
    }
    peer_deltas(&old.peers, &new.peers, &mut out);
    originate_deltas(&old.originate, &new.originate, &mut out);
    policy_deltas(old, new, &mut out);
    restart_deltas(old, new, &mut out);
    out
}

fn list(changes: &[FieldChange]) -> String {
    let v: Vec<String> = changes.iter().map(ToString::to_string).collect();
    v.join(", ")
}

/// A value as shown in a change (as in the config; `-` when unset).
fn show<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Null) => "-".to_string(),
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_string(),
    }
}

fn field<T: PartialEq + serde::Serialize>(
    out: &mut Vec<FieldChange>,
    name: &'static str,
    old: &T,
    new: &T,
    reset: bool,
) {
    if old != new {
        out.push(FieldChange {
            field: name,
            old: show(old),
            new: show(new),
            reset,
        });
    }
}

fn router_changes(o: &RouterCfg, n: &RouterCfg) -> Vec<FieldChange> {
    let mut c = Vec::new();
    field(&mut c, "asn", &o.asn.0, &n.asn.0, true);
    field(&mut c, "router_id", &o.router_id, &n.router_id, true);
    // RFC 4456 §7: the CLUSTER_ID is in no OPEN; the RIB takes a new one live.
    field(&mut c, "cluster_id", &o.cluster_id, &n.cluster_id, false);
    field(&mut c, "listen", &o.listen, &n.listen, false);
    c
}

/// Which fields of a peer changed. `reset`: negotiated in the OPEN or used by the
/// transport (RFC 4271 §4.2 hold time, RFC 5492 capabilities, TCP-MD5, TTL).
pub fn peer_changes(o: &PeerCfg, n: &PeerCfg) -> Vec<FieldChange> {
    let mut c = Vec::new();
    field(&mut c, "address", &o.address, &n.address, true);
    field(&mut c, "asn", &o.asn, &n.asn, true);
    field(&mut c, "port", &o.port, &n.port, true);
    field(&mut c, "passive", &o.passive, &n.passive, true);
    field(&mut c, "families", &o.families, &n.families, true);
    field(&mut c, "hold_time", &o.hold_time, &n.hold_time, true);
    field(&mut c, "keepalive", &o.keepalive, &n.keepalive, true);
    field(&mut c, "multihop", &o.multihop, &n.multihop, true);
    field(
        &mut c,
        "ttl_security",
        &o.ttl_security,
        &n.ttl_security,
        true,
    );
    field(
        &mut c,
        "source_address",
        &o.source_address,
        &n.source_address,
        true,
    );
    field(
        &mut c,
        "password_file",
        &o.password_file,
        &n.password_file,
        true,
    );
    field(&mut c, "add_path", &o.add_path, &n.add_path, true);
    let gr = (&o.graceful_restart, &n.graceful_restart);
    field(&mut c, "graceful_restart", gr.0, gr.1, true);
    let ll = (&o.long_lived_stale_time, &n.long_lived_stale_time);
    field(&mut c, "long_lived_stale_time", ll.0, ll.1, true);
    field(&mut c, "name", &o.name, &n.name, false);
    field(&mut c, "import", &o.import, &n.import, false);
    field(&mut c, "export", &o.export, &n.export, false);
    field(&mut c, "next_hop", &o.next_hop, &n.next_hop, false);
    let rr = (&o.route_reflector_client, &n.route_reflector_client);
    field(&mut c, "route_reflector_client", rr.0, rr.1, false);
    field(&mut c, "max_prefix", &o.max_prefix, &n.max_prefix, false);
    c
}

/// Pair peers by address; several peers on one address (other ports) pair in order.
fn peer_deltas(old: &[PeerCfg], new: &[PeerCfg], out: &mut Vec<ConfigDelta>) {
    let mut used = vec![false; new.len()];
    let mut changed = Vec::new();
    for o in old {
        let found = (0..new.len()).find(|&i| !used[i] && new[i].address == o.address);
        match found {
            None => out.push(ConfigDelta::PeerRemoved(o.clone())),
            Some(i) => {
                used[i] = true;
                let n = &new[i];
                if n != o {
                    changed.push(ConfigDelta::PeerChanged {
                        old: Box::new(o.clone()),
                        new: Box::new(n.clone()),
                        changes: peer_changes(o, n),
                    });
                }
            }
        }
    }
    out.extend(changed);
    let added = new.iter().zip(&used).filter(|(_, u)| !**u);
    out.extend(added.map(|(n, _)| ConfigDelta::PeerAdded(n.clone())));
}

fn originate_deltas(old: &[OriginateCfg], new: &[OriginateCfg], out: &mut Vec<ConfigDelta>) {
    let find =
        |v: &[OriginateCfg], o: &OriginateCfg| v.iter().find(|x| x.prefix == o.prefix).cloned();
    for o in old {
        match find(new, o) {
            None => out.push(ConfigDelta::OriginateRemoved(o.clone())),
            Some(n) if n != *o => out.push(ConfigDelta::OriginateChanged {
                old: o.clone(),
                new: n,
            }),
            Some(_) => {}
        }
    }
    for n in new.iter().filter(|n| find(old, n).is_none()) {
        out.push(ConfigDelta::OriginateAdded(n.clone()));
    }
}

/// A policy whose definition differs (or that appeared or went), with the peers of the
/// new config that use it.
fn policy_deltas(old: &Config, new: &Config, out: &mut Vec<ConfigDelta>) {
    let def = |c: &Config, name: &str| c.policies.iter().find(|p| p.name == name).cloned();
    let mut names: Vec<&str> = old
        .policies
        .iter()
        .chain(&new.policies)
        .map(|p| p.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if def(old, name) == def(new, name) {
            continue;
        }
        let peers = new
            .peers
            .iter()
            .filter(|p| p.import.as_deref() == Some(name) || p.export.as_deref() == Some(name))
            .map(PeerCfg::display_name)
            .collect();
        out.push(ConfigDelta::PolicyChanged {
            name: name.to_string(),
            peers,
        });
    }
}

fn restart_deltas(old: &Config, new: &Config, out: &mut Vec<ConfigDelta>) {
    let mut push = |section, changes: Vec<FieldChange>| {
        if !changes.is_empty() {
            out.push(ConfigDelta::NeedsRestart { section, changes });
        }
    };
    push("fib", fib_changes(&old.fib, &new.fib));
    let mut c = Vec::new();
    field(
        &mut c,
        "socket",
        &old.control.socket,
        &new.control.socket,
        false,
    );
    let bc = (&old.control.bird_compat, &new.control.bird_compat);
    field(&mut c, "bird_compat", bc.0, bc.1, false);
    push("control", c);
    let mut c = Vec::new();
    field(
        &mut c,
        "listen",
        &old.metrics.listen,
        &new.metrics.listen,
        false,
    );
    push("metrics", c);
    let mut c = Vec::new();
    field(&mut c, "datastore", &old.datastore, &new.datastore, false);
    push("datastore", c);
    let mut c = Vec::new();
    field(&mut c, "format", &old.log.format, &new.log.format, false);
    field(&mut c, "level", &old.log.level, &new.log.level, false);
    push("log", c);
}

fn fib_changes(o: &FibCfg, n: &FibCfg) -> Vec<FieldChange> {
    let mut c = Vec::new();
    field(&mut c, "enabled", &o.enabled, &n.enabled, false);
    field(&mut c, "protocol", &o.protocol, &n.protocol, false);
    field(&mut c, "table", &o.table, &n.table, false);
    field(&mut c, "metric", &o.metric, &n.metric, false);
    field(&mut c, "ecmp", &o.ecmp, &n.ecmp, false);
    field(&mut c, "ecmp_max", &o.ecmp_max, &n.ecmp_max, false);
    field(&mut c, "persist", &o.persist, &n.persist, false);
    field(&mut c, "dry_run", &o.dry_run, &n.dry_run, false);
    field(
        &mut c,
        "device_route",
        &o.device_route,
        &n.device_route,
        false,
    );
    field(&mut c, "export", &o.export, &n.export, false);
    field(&mut c, "learn", &o.learn, &n.learn, false);
    field(&mut c, "learn_all", &o.learn_all, &n.learn_all, false);
    field(
        &mut c,
        "learn_ignore",
        &o.learn_ignore,
        &n.learn_ignore,
        false,
    );
    field(
        &mut c,
        "blackhole_nexthop",
        &o.blackhole_nexthop,
        &n.blackhole_nexthop,
        false,
    );
    c
}

// ===== tests =====

#[cfg(test)]
mod tests;
