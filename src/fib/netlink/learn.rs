//! Learning other programs' routes (`[fib] learn`, BIRD's `kernel { learn; }`): the
//! worker already keeps every foreign route of our table (`Topo::foreign`, from dumps and
//! route events); this reports which prefixes have a learnable one, as changes, to the
//! speaker, which feeds them to the RIB as `source = "kernel"` routes.
//!
//! What is learned, as BIRD's `learn` does: routes of our table whose protocol is not
//! ours, of type unicast, blackhole, unreachable or prohibit. Not learned: `proto kernel`
//! routes (the kernel's connected and link routes) unless `learn_all` (BIRD's
//! `learn all`), `proto redirect` routes (BIRD deletes those), local, broadcast and other
//! types (they live in the local table anyway), IPv6 multicast and link-local prefixes,
//! and routes through a device of `learn_ignore`.

use tokio::sync::mpsc;

use super::decode::KRoute;
use super::encode::{RTN_BLACKHOLE, RTN_UNICAST};
use super::topo::Topo;
use super::worker::Worker;
use super::{Learned, NetlinkFibCfg};
use crate::hash::FastSet;
use crate::rib::Prefix;

const RTPROT_REDIRECT: u8 = 1;
const RTPROT_KERNEL: u8 = 2;
const RTN_UNREACHABLE: u8 = 7;
const RTN_PROHIBIT: u8 = 8;

/// The learning state of the worker.
#[derive(Default)]
pub(crate) struct Learn {
    /// Where the changes go; None: learning is off.
    tx: Option<mpsc::UnboundedSender<Vec<Learned>>>,
    /// Prefixes reported as learned.
    have: FastSet<Prefix>,
    /// Prefixes whose foreign routes changed since the last report.
    dirty: FastSet<Prefix>,
    /// Look at every prefix (after a dump).
    all: bool,
}

// ===== impl Learn =====

impl Learn {
    pub fn new(tx: Option<mpsc::UnboundedSender<Vec<Learned>>>) -> Learn {
        Learn {
            tx,
            all: true,
            ..Learn::default()
        }
    }

    pub fn mark(&mut self, p: Prefix) {
        if self.tx.is_some() {
            self.dirty.insert(p);
        }
    }

    pub fn mark_all(&mut self) {
        self.all = self.tx.is_some();
    }
}

impl Learned {
    pub fn prefix(&self) -> Prefix {
        match self {
            Learned::Up(p) | Learned::Down(p) => *p,
        }
    }
}

// ===== impl Worker =====

impl Worker {
    /// Report the prefixes that became (or stopped being) learnable since the last call.
    pub fn report_learned(&mut self) {
        let Some(tx) = &self.learn.tx else {
            return;
        };
        let check: Vec<Prefix> = if std::mem::take(&mut self.learn.all) {
            self.learn.dirty.clear();
            let mut v: Vec<Prefix> = self.topo.foreign.keys().copied().collect();
            v.extend(self.learn.have.iter().copied());
            v
        } else {
            self.learn.dirty.drain().collect()
        };
        let mut out = Vec::new();
        for p in check {
            let now = learnable_prefix(&self.cfg, &self.topo, p);
            let was = self.learn.have.contains(&p);
            if now && !was {
                self.learn.have.insert(p);
                out.push(Learned::Up(p));
            } else if !now && was {
                self.learn.have.remove(&p);
                out.push(Learned::Down(p));
            }
        }
        if !out.is_empty() {
            out.sort_by_key(|l| l.prefix());
            tracing::debug!(changes = out.len(), "fib: learned kernel routes changed");
            if tx.send(out).is_err() {
                self.learn.tx = None;
            }
        }
    }
}

// ===== helper functions =====

/// Some route of another program for `p` in our table is learnable.
fn learnable_prefix(cfg: &NetlinkFibCfg, topo: &Topo, p: Prefix) -> bool {
    topo.foreign
        .get(&p)
        .is_some_and(|v| v.iter().any(|r| learnable(cfg, topo, r)))
}

/// BIRD's `learn` rules (see the module comment).
pub(crate) fn learnable(cfg: &NetlinkFibCfg, topo: &Topo, r: &KRoute) -> bool {
    if r.table != cfg.table || r.protocol == cfg.protocol || r.prefix_is_local() {
        return false;
    }
    match r.protocol {
        RTPROT_REDIRECT => return false,
        RTPROT_KERNEL if !cfg.learn_all => return false,
        _ => {}
    }
    if ![RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT].contains(&r.kind) {
        return false;
    }
    !r.hops.iter().any(|h| {
        topo.name_of(h.oif)
            .is_some_and(|n| cfg.learn_ignore.iter().any(|g| glob(g, n)))
    })
}

/// `name` matches `pat`, where `*` matches any run of characters.
pub(crate) fn glob(pat: &str, name: &str) -> bool {
    let Some((head, rest)) = pat.split_once('*') else {
        return pat == name;
    };
    let Some(mut left) = name.strip_prefix(head) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    let (last, middle) = parts.split_last().unwrap_or((&"", &[]));
    for m in middle {
        match left.find(m) {
            Some(i) => left = &left[i + m.len()..],
            None => return false,
        }
    }
    left.len() >= last.len() && left.ends_with(last)
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fib::netlink::decode::{KHop, Link};

    fn route(p: &str, protocol: u8, kind: u8, oif: u32) -> KRoute {
        let net: ipnet::IpNet = p.parse().unwrap();
        KRoute {
            prefix: super::super::decode::prefix_of(net.network(), net.prefix_len()).unwrap(),
            table: 254,
            protocol,
            metric: 0,
            kind,
            nhid: None,
            hops: vec![KHop {
                gw: None,
                oif,
                onlink: false,
            }],
        }
    }

    fn topo() -> Topo {
        let mut t = Topo::default();
        for (index, name) in [(3, "cali12345"), (4, "vxlan.calico"), (5, "tunl0")] {
            t.links.insert(
                index,
                Link {
                    index,
                    name: name.into(),
                    up: true,
                    lower_up: true,
                    loopback: false,
                },
            );
        }
        t
    }

    fn cfg() -> NetlinkFibCfg {
        NetlinkFibCfg {
            protocol: 12,
            learn_ignore: vec!["*.calico".into(), "*.cali".into(), "tunl0".into()],
            ..NetlinkFibCfg::default()
        }
    }

    #[test]
    fn learns_alien_routes_like_bird() {
        let (c, t) = (cfg(), topo());
        // Felix's workload /32 (proto boot) and proto 80 blackhole.
        assert!(learnable(
            &c,
            &t,
            &route("198.18.0.5/32", 3, RTN_UNICAST, 3)
        ));
        assert!(learnable(
            &c,
            &t,
            &route("198.18.1.0/26", 80, RTN_BLACKHOLE, 0)
        ));
        assert!(learnable(&c, &t, &route("198.18.2.0/24", 4, 7, 0)));
        // Ours, proto kernel, redirect, local/broadcast types, other tables.
        assert!(!learnable(
            &c,
            &t,
            &route("198.18.0.6/32", 12, RTN_UNICAST, 3)
        ));
        assert!(!learnable(
            &c,
            &t,
            &route("198.18.3.0/24", 2, RTN_UNICAST, 3)
        ));
        assert!(!learnable(
            &c,
            &t,
            &route("198.18.3.0/24", 1, RTN_UNICAST, 3)
        ));
        assert!(!learnable(&c, &t, &route("198.18.3.1/32", 3, 2, 3)));
        assert!(!learnable(&c, &t, &route("198.18.3.255/32", 3, 3, 3)));
        let mut other = route("198.18.0.7/32", 3, RTN_UNICAST, 3);
        other.table = 100;
        assert!(!learnable(&c, &t, &other));
        assert!(!learnable(&c, &t, &route("ff00::/8", 3, RTN_UNICAST, 3)));
        // learn all: proto kernel too.
        let all = NetlinkFibCfg {
            learn_all: true,
            ..cfg()
        };
        assert!(learnable(
            &all,
            &t,
            &route("198.18.3.0/24", 2, RTN_UNICAST, 3)
        ));
    }

    #[test]
    fn ignored_devices_are_not_learned() {
        let (c, t) = (cfg(), topo());
        assert!(!learnable(
            &c,
            &t,
            &route("198.19.0.0/26", 80, RTN_UNICAST, 4)
        ));
        assert!(!learnable(
            &c,
            &t,
            &route("198.19.0.64/26", 3, RTN_UNICAST, 5)
        ));
        assert!(learnable(
            &c,
            &t,
            &route("198.19.0.128/26", 3, RTN_UNICAST, 3)
        ));
    }

    #[test]
    fn glob_matches_star_runs() {
        assert!(glob("*.calico", "vxlan.calico"));
        assert!(glob("bpf*.cali", "bpfout.cali"));
        assert!(glob("tunl0", "tunl0"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("*.calico", "vxlan.cali"));
        assert!(!glob("tunl0", "tunl01"));
        assert!(!glob("bpf*.cali", "cali1234"));
        assert!(!glob("a*bc", "abc2"));
        assert!(!glob("ab*ba", "aba"));
    }
}
