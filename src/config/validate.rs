//! Semantic checks that serde cannot express. Every error names its key.

use std::collections::HashMap;
use std::path::Path;

use super::types::*;
use super::ConfigError;
use crate::wire::Family;

/// AS_TRANS (RFC 6793 §9): never a real AS.
const AS_TRANS: u32 = 23456;
/// Built-in policy names.
const BUILTIN_POLICIES: [&str; 2] = ["accept-all", "reject-all"];

/// A legal but doubtful setting, printed by `wren check` and logged at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub key: String,
    pub message: String,
}

/// Collects errors with the file name.
struct Checker<'a> {
    file: &'a Path,
    errors: Vec<ConfigError>,
    warnings: Vec<Warning>,
}

impl Checker<'_> {
    fn error(&mut self, key: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.to_path_buf(),
            line_col: None,
            key: key.into(),
            reason: reason.into(),
        });
    }

    fn warn(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning {
            key: key.into(),
            message: message.into(),
        });
    }
}

/// Check `cfg`; all errors are returned together, or the warnings if there are none.
pub fn validate(cfg: &Config, file: &Path) -> Result<Vec<Warning>, Vec<ConfigError>> {
    let mut c = Checker {
        file,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    if cfg.datastore.kind == DatastoreKind::File || cfg.router != RouterCfg::from_datastore() {
        check_router(&mut c, &cfg.router);
    }
    if cfg.datastore.kind == DatastoreKind::Etcd && !cfg.peers.is_empty() {
        c.warn(
            "peer",
            "with [datastore] kind = \"etcd\" the peers come from the datastore; these are ignored",
        );
    }
    let names = check_policy_defs(&mut c, &cfg.policies);
    let mut seen_addr: HashMap<(PeerAddress, u16), usize> = HashMap::new();
    let mut seen_name: HashMap<String, usize> = HashMap::new();
    for (i, p) in cfg.peers.iter().enumerate() {
        let key = format!("peer[{i}]");
        if let Some(j) = seen_addr.insert((p.address, p.port), i) {
            c.error(
                format!("{key}.address"),
                format!("{} is already peer[{j}]", p.address),
            );
        }
        if let Some(j) = seen_name.insert(p.display_name(), i) {
            c.error(
                format!("{key}.name"),
                format!("name {:?} is already used by peer[{j}]", p.display_name()),
            );
        }
        check_peer(&mut c, &key, p, cfg.router.asn, &names);
    }
    check_originate(&mut c, &cfg.originate);
    check_fib(&mut c, &cfg.fib);
    check_metrics_log(&mut c, cfg);
    if let Some(name) = &cfg.fib.export {
        if !names.contains(&name.as_str()) {
            c.error("fib.export", unknown_policy(name));
        }
    }
    if c.errors.is_empty() {
        Ok(c.warnings)
    } else {
        Err(c.errors)
    }
}

fn check_router(c: &mut Checker, r: &RouterCfg) {
    if r.asn.0 == 0 || r.asn.0 == AS_TRANS {
        c.error(
            "router.asn",
            format!(
                "{} is reserved and cannot be a local AS (RFC 7607, RFC 6793)",
                r.asn
            ),
        );
    }
    if let Some(id) = r.router_id {
        // RFC 6286 §2.1: the BGP Identifier is a non-zero 4-octet value.
        if id.is_unspecified() {
            c.error(
                "router.router_id",
                "0.0.0.0 is not a valid BGP identifier (RFC 6286)",
            );
        }
    }
}

fn check_peer(c: &mut Checker, key: &str, p: &PeerCfg, local: Asn, names: &[&str]) {
    check_peer_address(c, key, p);
    check_timers(c, key, p);
    if p.families.is_empty() {
        c.error(
            format!("{key}.families"),
            "at least one family is needed (ipv4, ipv6)",
        );
    }
    for (i, f) in p.families.iter().enumerate() {
        if *f != Family::IPV4_UNICAST && *f != Family::IPV6_UNICAST {
            c.error(
                format!("{key}.families[{i}]"),
                format!("{f} is not supported (ipv4, ipv6)"),
            );
        }
    }
    let ibgp = match p.asn {
        PeerAs::Asn(a) if a.0 == 0 || a.0 == AS_TRANS => {
            c.error(
                format!("{key}.asn"),
                format!("{a} is reserved and cannot be a peer AS"),
            );
            false
        }
        PeerAs::Asn(a) => a == local,
        PeerAs::Internal => true,
        PeerAs::External => false,
    };
    if p.route_reflector_client && !ibgp {
        c.error(
            format!("{key}.route_reflector_client"),
            "route reflection applies only to iBGP peers (RFC 4456)",
        );
    }
    if p.ttl_security && p.multihop.is_none() && ibgp {
        c.warn(
            format!("{key}.ttl_security"),
            "GTSM with the default TTL of 1 requires the iBGP peer to be directly connected",
        );
    }
    if p.multihop == Some(0) {
        c.error(
            format!("{key}.multihop"),
            "a TTL of 0 cannot reach any peer (use 1 for directly connected)",
        );
    }
    check_policies(c, key, p, ibgp, names);
    if let Some(path) = &p.password_file {
        if let Err(e) = std::fs::metadata(path) {
            c.error(
                format!("{key}.password_file"),
                format!("cannot read {}: {e}", path.display()),
            );
        }
    }
    if p.max_prefix == Some(0) {
        c.error(
            format!("{key}.max_prefix"),
            "0 would reset the session on the first route; omit it for no limit",
        );
    }
}

fn check_peer_address(c: &mut Checker, key: &str, p: &PeerCfg) {
    let family_v4 = match p.address {
        PeerAddress::Addr(a) => {
            if a.is_unspecified() || a.is_multicast() {
                c.error(
                    format!("{key}.address"),
                    format!("{a} cannot be a BGP peer"),
                );
            }
            a.is_ipv4()
        }
        PeerAddress::Range(n) => {
            if !p.passive {
                c.error(
                    format!("{key}.passive"),
                    format!("a peer range ({n}) can only be passive: set passive = true"),
                );
            }
            matches!(n, ipnet::IpNet::V4(_))
        }
    };
    if let Some(src) = p.source_address {
        if src.is_ipv4() != family_v4 {
            c.error(
                format!("{key}.source_address"),
                format!(
                    "{src} is not of the same family as the peer address {}",
                    p.address
                ),
            );
        }
    }
    if p.port == 0 {
        c.error(format!("{key}.port"), "port 0 is not valid");
    }
}

fn check_timers(c: &mut Checker, key: &str, p: &PeerCfg) {
    // RFC 9494 §3: the Long-lived Stale Time is a 24-bit field.
    if p.long_lived_stale_time > LLST_MAX {
        c.error(
            format!("{key}.long_lived_stale_time"),
            format!("at most {LLST_MAX} seconds (24 bits, RFC 9494 §3)"),
        );
    }
    // RFC 9494 §4.1: the LLGR capability is only advertised with the GR capability.
    if p.long_lived_stale_time > 0 && !p.graceful_restart {
        c.error(
            format!("{key}.long_lived_stale_time"),
            "needs graceful_restart = true (RFC 9494 §4.1: LLGR goes with graceful restart)",
        );
    }
    // RFC 4271 §4.2: the Hold Time MUST be either zero or at least three seconds.
    if p.hold_time == 1 || p.hold_time == 2 {
        c.error(
            format!("{key}.hold_time"),
            "must be 0 or at least 3 seconds (RFC 4271 §4.2)",
        );
    }
    if let Some(k) = p.keepalive {
        if p.hold_time != 0 && k >= p.hold_time {
            c.error(
                format!("{key}.keepalive"),
                format!("{k} s must be less than hold_time ({} s)", p.hold_time),
            );
        }
        if p.hold_time != 0 && k == 0 {
            c.error(
                format!("{key}.keepalive"),
                "0 disables keepalives, but the peer's hold timer would expire",
            );
        }
    }
}

/// `[[policy]]` definitions: unique names that are not built-ins, rules that compile.
/// Returns every usable policy name (the built-ins included).
fn check_policy_defs<'a>(c: &mut Checker, list: &'a [PolicyCfg]) -> Vec<&'a str> {
    let mut names: Vec<&str> = BUILTIN_POLICIES.to_vec();
    for (i, p) in list.iter().enumerate() {
        let key = format!("policy[{i}]");
        if p.name.is_empty() {
            c.error(format!("{key}.name"), "a policy needs a name");
        } else if BUILTIN_POLICIES.contains(&p.name.as_str()) {
            c.error(
                format!("{key}.name"),
                format!("{:?} is a built-in policy and cannot be redefined", p.name),
            );
        } else if let Some(j) = list[..i].iter().position(|q| q.name == p.name) {
            c.error(
                format!("{key}.name"),
                format!("name {:?} is already used by policy[{j}]", p.name),
            );
        } else {
            names.push(&p.name);
        }
        if let Err(errs) = crate::policy::compile(p) {
            for (k, why) in errs {
                c.error(format!("{key}.{k}"), why);
            }
        }
    }
    names
}

fn unknown_policy(name: &str) -> String {
    format!("no policy named {name:?} (define it in a [[policy]] table, or use the built-ins accept-all, reject-all)")
}

fn check_policies(c: &mut Checker, key: &str, p: &PeerCfg, ibgp: bool, names: &[&str]) {
    for (dir, v) in [("import", &p.import), ("export", &p.export)] {
        match v {
            Some(name) if !names.contains(&name.as_str()) => {
                c.error(format!("{key}.{dir}"), unknown_policy(name))
            }
            // RFC 8212: eBGP without an explicit policy neither accepts nor sends routes.
            None if !ibgp => c.warn(
                format!("{key}.{dir}"),
                format!("eBGP peer {} has no {dir} policy: all routes are rejected (RFC 8212); set {dir} = \"accept-all\" to allow them", p.display_name()),
            ),
            _ => {}
        }
    }
}

fn check_originate(c: &mut Checker, list: &[OriginateCfg]) {
    let mut seen = HashMap::new();
    for (i, o) in list.iter().enumerate() {
        if o.prefix != o.prefix.trunc() {
            c.error(
                format!("originate[{i}].prefix"),
                format!(
                    "{} has host bits set (did you mean {}?)",
                    o.prefix,
                    o.prefix.trunc()
                ),
            );
        }
        if let Some(j) = seen.insert(o.prefix.trunc(), i) {
            c.error(
                format!("originate[{i}].prefix"),
                format!("{} is already originate[{j}]", o.prefix),
            );
        }
    }
}

fn check_fib(c: &mut Checker, f: &FibCfg) {
    // rtm_protocol 0..=4 are the kernel's own (unspec, redirect, kernel, boot, static).
    if f.protocol <= 4 {
        c.error(
            "fib.protocol",
            format!(
                "{} belongs to the kernel or static routes; use e.g. 186 (bgp) or 12 (bird)",
                f.protocol
            ),
        );
    }
    if f.ecmp_max == 0 || f.ecmp_max > 256 {
        c.error(
            "fib.ecmp_max",
            format!("{} is out of range: 1..=256 next hops", f.ecmp_max),
        );
    }
    for (i, r) in f.device_route.iter().enumerate() {
        if r.prefix != r.prefix.trunc() {
            c.error(
                format!("fib.device_route[{i}].prefix"),
                format!(
                    "{} has host bits set (did you mean {}?)",
                    r.prefix,
                    r.prefix.trunc()
                ),
            );
        }
        // IFNAMSIZ is 16 including the terminating NUL.
        if r.device.is_empty() || r.device.len() > 15 || r.device.contains(['/', ' ']) {
            c.error(
                format!("fib.device_route[{i}].device"),
                format!(
                    "{:?} is not a Linux interface name (1-15 characters, no '/' or space)",
                    r.device
                ),
            );
        }
    }
    if f.table == 0 || f.table == 255 {
        c.error(
            "fib.table",
            format!("table {} is reserved (0 unspec, 255 local)", f.table),
        );
    }
}

/// `[log] level` must be a filter `wren run` can install; `/readyz` should be reachable.
fn check_metrics_log(c: &mut Checker, cfg: &Config) {
    if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&cfg.log.level) {
        c.error(
            "log.level",
            format!("{:?} is not a log filter: {e}", cfg.log.level),
        );
    }
    let configured = cfg
        .peers
        .iter()
        .filter(|p| matches!(p.address, PeerAddress::Addr(_)))
        .count();
    if let Some(ReadyMin::Count(n)) = cfg.metrics.ready_min_established {
        if n as usize > configured {
            c.warn(
                "metrics.ready_min_established",
                format!("{n} Established peers needed but {configured} configured: /readyz can never succeed"),
            );
        }
    }
}
