//! Reading the kernel: full dumps (start, overruns, the slow periodic reconciliation)
//! and the cheaper re-dump of our own routes after link and address events.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;

use super::decode::{Addr, KRoute, Link, Neigh, Nexthop};
use super::encode::{
    Batch, AF_INET, AF_INET6, AF_UNSPEC, RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETNEXTHOP,
};
use super::topo::is_link_local;
use super::worker::Worker;
use crate::rib::{FibKind, Prefix};

/// Dumps the kernel marks inconsistent (changed while dumping) are retried this often.
const DUMP_TRIES: usize = 5;
const MAIN_TABLE: u32 = 254;

/// What a full dump found.
#[derive(Default)]
struct Dumped {
    links: Vec<Link>,
    addrs: Vec<Addr>,
    routes: Vec<KRoute>,
}

// ===== impl Worker =====

impl Worker {
    /// Dump links, addresses, neighbours and routes, and reconcile everything.
    pub async fn resync(&mut self) -> io::Result<()> {
        let d = self.dump_all().await?;
        self.topo.links = d.links.into_iter().map(|l| (l.index, l)).collect();
        self.topo.addrs = d.addrs;
        self.topo.foreign.clear();
        self.learn.mark_all();
        let mut ours = Vec::new();
        for r in d.routes {
            if r.protocol == self.cfg.protocol && r.table == self.cfg.table {
                ours.push(r);
            } else {
                self.topo.put_foreign(r);
            }
        }
        self.adopt(ours);
        self.dump_neigh().await?;
        self.dump_nexthops().await?;
        self.cache.clear();
        self.dirty.extend(self.desired.keys().copied());
        self.dirty.extend(self.installed.keys().copied());
        self.dirty.extend(self.failed.drain());
        self.stats.resyncs += 1;
        Ok(())
    }

    /// Take our routes from a dump as what the kernel holds.
    fn adopt(&mut self, ours: Vec<KRoute>) {
        self.installed.clear();
        self.extras.clear();
        for r in ours {
            if r.metric == self.metric(r.prefix) {
                self.installed.insert(r.prefix, r.form());
            } else {
                self.extras.push(r);
            }
        }
        if !self.synced {
            let unknown: Vec<Prefix> = self
                .installed
                .keys()
                .filter(|p| !self.desired.contains_key(p))
                .copied()
                .collect();
            self.stale.extend(unknown);
        }
    }

    /// After link, address or route events: dump our routes again if a link or address
    /// changed (the kernel removes IPv4 routes of a downed link silently), and re-resolve
    /// the next hops; routes whose next hops now resolve differently are reconciled.
    pub async fn refresh(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.redump) {
            let mut ours = Vec::new();
            for family in [AF_INET, AF_INET6] {
                let (t, proto) = (self.cfg.table, self.cfg.protocol);
                ours.extend(self.dump_routes(family, t, proto).await?);
            }
            let before = std::mem::take(&mut self.installed);
            self.adopt(ours);
            for (p, f) in &before {
                if self.installed.get(p) != Some(f) {
                    self.dirty.insert(*p);
                }
            }
            self.dirty
                .extend(self.installed.keys().filter(|p| !before.contains_key(p)));
            self.dump_neigh().await?;
            self.dump_nexthops().await?;
        }
        let mut changed: HashSet<IpAddr> = HashSet::new();
        for (k, hops) in self.cache.iter_mut() {
            let new = self.topo.re_resolve(&self.rules, *k, hops);
            if new != *hops {
                changed.insert(k.0);
                *hops = new;
            }
        }
        tracing::debug!(?changed, "fib: next hops re-resolved");
        if !changed.is_empty() {
            for (p, k) in &self.desired {
                if matches!(k, FibKind::Unicast(v) if v.iter().any(|nh| changed.contains(nh))) {
                    self.dirty.insert(*p);
                }
            }
        }
        self.dirty.extend(self.failed.drain());
        self.dirty.extend(self.unresolved.iter().copied());
        Ok(())
    }

    async fn dump_all(&mut self) -> io::Result<Dumped> {
        let mut d = Dumped {
            links: self
                .dump_each(|b| b.dump(RTM_GETLINK, AF_UNSPEC, 16), Link::parse)
                .await?,
            addrs: self
                .dump_each(|b| b.dump(RTM_GETADDR, AF_UNSPEC, 8), Addr::parse)
                .await?,
            routes: Vec::new(),
        };
        let mut tables = vec![self.cfg.table];
        if self.cfg.table != MAIN_TABLE {
            tables.push(MAIN_TABLE);
        }
        for family in [AF_INET, AF_INET6] {
            for t in &tables {
                d.routes.extend(self.dump_routes(family, *t, 0).await?);
            }
        }
        Ok(d)
    }

    async fn dump_routes(&mut self, family: u8, table: u32, proto: u8) -> io::Result<Vec<KRoute>> {
        let parse = |p: &[u8]| KRoute::parse(p).filter(|r| r.table == table);
        self.dump_each(|b| b.dump_routes(family, table, proto), parse)
            .await
    }

    /// IPv6 neighbours with a link-local address, for link-local next hops.
    async fn dump_neigh(&mut self) -> io::Result<()> {
        let parse = |p: &[u8]| match Neigh::parse(p) {
            Some(Neigh {
                index,
                dst: IpAddr::V6(a),
                seen: true,
            }) if is_link_local(a) => Some((a, index)),
            _ => None,
        };
        let mut seen: HashMap<std::net::Ipv6Addr, Vec<u32>> = HashMap::new();
        for (a, index) in self
            .dump_each(|b| b.dump(RTM_GETNEIGH, AF_INET6, 12), parse)
            .await?
        {
            seen.entry(a).or_default().push(index);
        }
        self.topo.ll_neigh = seen;
        Ok(())
    }

    /// Our nexthop objects (when they are on): the kernel drops objects of a downed
    /// link, and groups shrink, without a word to us.
    pub async fn dump_nexthops(&mut self) -> io::Result<()> {
        if !self.nh.enabled {
            return Ok(());
        }
        let v = self.dump_each(|b| b.dump(RTM_GETNEXTHOP, AF_UNSPEC, 8), Nexthop::parse);
        let v = v.await?;
        self.nh.adopt(v, self.cfg.protocol);
        self.nh_gc = true;
        Ok(())
    }

    /// Find out whether the kernel has nexthop objects.
    pub async fn probe_nexthops(&mut self) {
        self.nh.enabled = true;
        self.nh.create = self.cfg.nexthop_objects;
        self.nh.blackholes = self.cfg.blackhole_nexthop;
        if let Err(e) = self.dump_nexthops().await {
            self.nh.enabled = false;
            if self.cfg.nexthop_objects {
                tracing::info!(error = %e, "fib: no kernel nexthop objects; ECMP as multipath routes");
            }
        }
    }

    /// One dump, parsed, retried while the kernel says it was inconsistent.
    async fn dump_each<T>(
        &mut self,
        req: impl Fn(&mut Batch) -> u32,
        parse: impl Fn(&[u8]) -> Option<T>,
    ) -> io::Result<Vec<T>> {
        for _ in 0..DUMP_TRIES {
            let mut v = Vec::new();
            let r = self.req.dump(
                |b| {
                    req(b);
                },
                |_, p| v.extend(parse(p)),
            );
            match r.await {
                Ok(()) => return Ok(v),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("netlink dump kept being interrupted"))
    }
}
