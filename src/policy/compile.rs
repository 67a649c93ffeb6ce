//! `[[policy]]` config → [`Policy`]: parse communities, check the rules. Every error
//! names its key relative to the policy (`rule[0].add_community`); the config validation
//! puts `policy[N].` in front.

use ipnet::IpNet;

use super::{
    Changes, Community, Match, Policy, Rule, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED,
};
use crate::config::{PolicyCfg, PolicyVerdict, RuleCfg};

/// One compile error: relative key and reason.
pub type KeyError = (String, String);

// ===== helper functions =====

/// Compile one policy; all errors together.
pub fn compile(cfg: &PolicyCfg) -> Result<Policy, Vec<KeyError>> {
    let mut errors = Vec::new();
    let mut rules = Vec::with_capacity(cfg.rules.len());
    for (i, r) in cfg.rules.iter().enumerate() {
        if let Some(rule) = compile_rule(&format!("rule[{i}]"), r, &mut errors) {
            rules.push(rule);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Policy {
        name: cfg.name.clone(),
        default_accept: cfg.default == PolicyVerdict::Accept,
        rules,
    })
}

fn compile_rule(key: &str, r: &RuleCfg, errors: &mut Vec<KeyError>) -> Option<Rule> {
    let n = errors.len();
    for (k, v) in [
        ("prefix", &r.prefix),
        ("prefix_in", &r.prefix_in),
        ("prefix_not_in", &r.prefix_not_in),
        ("next_hop_in", &r.next_hop_in),
    ] {
        check_nets(&format!("{key}.{k}"), v, errors);
    }
    if let (Some(lo), Some(hi)) = (r.min_len, r.max_len) {
        if lo > hi {
            errors.push((
                format!("{key}.min_len"),
                format!("{lo} is above max_len {hi}: the rule could never match"),
            ));
        }
    }
    for (k, v) in [("min_len", r.min_len), ("max_len", r.max_len)] {
        if v.is_some_and(|l| l > 128) {
            errors.push((
                format!("{key}.{k}"),
                "a prefix length is at most 128".into(),
            ));
        }
    }
    let community = communities(&format!("{key}.community"), &r.community, errors);
    let added = communities(&format!("{key}.add_community"), &r.add_community, errors);
    if r.as_path_prefix.contains(&0) {
        errors.push((
            format!("{key}.as_path_prefix"),
            "AS 0 never appears in an AS_PATH (RFC 7607)".into(),
        ));
    }
    if r.prepend.contains(&0) || r.prepend.len() > 32 {
        errors.push((
            format!("{key}.prepend"),
            "want 1..=32 ASNs, none of them 0 (RFC 7607)".into(),
        ));
    }
    if errors.len() > n {
        return None;
    }
    let mut changes = Changes {
        local_pref: r.set_local_pref,
        med: r.set_med,
        prepend: r.prepend.clone(),
        ..Changes::default()
    };
    for c in added {
        match c {
            Community::Std(v) => changes.communities.push(v),
            Community::Large(l) => changes.large_communities.push(l),
        }
    }
    Some(Rule {
        m: Match {
            prefix: r.prefix.iter().map(IpNet::trunc).collect(),
            prefix_in: r.prefix_in.iter().map(IpNet::trunc).collect(),
            prefix_not_in: r.prefix_not_in.iter().map(IpNet::trunc).collect(),
            min_len: r.min_len,
            max_len: r.max_len,
            next_hop_in: r.next_hop_in.iter().map(IpNet::trunc).collect(),
            source: r.source,
            peer_type: r.peer_type,
            community,
            as_path_prefix: r.as_path_prefix.clone(),
        },
        changes,
        action: r.action,
    })
}

fn check_nets(key: &str, v: &[IpNet], errors: &mut Vec<KeyError>) {
    for (i, n) in v.iter().enumerate() {
        if *n != n.trunc() {
            errors.push((
                format!("{key}[{i}]"),
                format!("{n} has host bits set (did you mean {}?)", n.trunc()),
            ));
        }
    }
}

fn communities(key: &str, v: &[String], errors: &mut Vec<KeyError>) -> Vec<Community> {
    let mut out = Vec::with_capacity(v.len());
    for (i, s) in v.iter().enumerate() {
        match parse_community(s) {
            Ok(c) => out.push(c),
            Err(e) => errors.push((format!("{key}[{i}]"), e)),
        }
    }
    out
}

/// `"65000:100"` (RFC 1997), `"65000:1:2"` (RFC 8092 large), or a well-known name:
/// `no-export`, `no-advertise`, `no-export-subconfed`.
pub fn parse_community(s: &str) -> Result<Community, String> {
    let bad = || {
        format!(
            "{s:?} is not a community (want ASN:VALUE with 16-bit parts, \
             ASN:DATA1:DATA2 with 32-bit parts, no-export or no-advertise)"
        )
    };
    match s {
        "no-export" => return Ok(Community::Std(NO_EXPORT)),
        "no-advertise" => return Ok(Community::Std(NO_ADVERTISE)),
        "no-export-subconfed" => return Ok(Community::Std(NO_EXPORT_SUBCONFED)),
        _ => {}
    }
    let parts: Vec<&str> = s.split(':').collect();
    match parts[..] {
        [a, v] => {
            let a: u16 = a.parse().map_err(|_| bad())?;
            let v: u16 = v.parse().map_err(|_| bad())?;
            Ok(Community::Std(u32::from(a) << 16 | u32::from(v)))
        }
        [a, b, c] => {
            let n = |x: &str| x.parse::<u32>().map_err(|_| bad());
            Ok(Community::Large([n(a)?, n(b)?, n(c)?]))
        }
        _ => Err(bad()),
    }
}
