//! Reconciliation: the routes we want against the routes of ours the kernel holds, and
//! the fewest writes between them (none for a route that is already right).

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;

use super::decode::{Addr, KRoute, Link, Neigh};
use super::encode::{
    Batch, Form, Mode, RouteKey, AF_INET, AF_INET6, AF_UNSPEC, RTM_GETADDR, RTM_GETLINK,
    RTM_GETNEIGH,
};
use super::hash::FastMap;
use super::sock::Refused;
use super::topo::{is_link_local, NhKey, Rule, Topo};
use super::worker::{fmt_prefix, Worker};
use crate::rib::{FibKind, Prefix};

/// Bytes of requests per datagram (well under the default 208 KiB socket send buffer).
const BATCH_BYTES: usize = 64 * 1024;
/// Dumps the kernel marks inconsistent (changed while dumping) are retried this often.
const DUMP_TRIES: usize = 5;
const MAIN_TABLE: u32 = 254;

#[derive(Debug, Clone)]
enum Op {
    Create(Form),
    Replace(Form),
    /// Delete our route with this metric.
    Delete(u32),
}

/// What a full dump found.
#[derive(Default)]
struct Dumped {
    links: Vec<Link>,
    addrs: Vec<Addr>,
    routes: Vec<KRoute>,
}

// ===== impl Worker =====

impl Worker {
    /// Reconcile the dirty prefixes and write the difference.
    pub async fn flush(&mut self) -> io::Result<()> {
        let mut ops = Vec::with_capacity(self.dirty.len());
        let dirty: Vec<Prefix> = self.dirty.drain().collect();
        for p in dirty {
            if let Some(op) = self.plan(p) {
                ops.push((p, op));
            }
        }
        if self.synced {
            for e in std::mem::take(&mut self.extras) {
                ops.push((e.prefix, Op::Delete(e.metric)));
            }
        }
        self.stats.unresolved = self.unresolved.len() as u64;
        ops.sort_unstable_by_key(|(p, op)| write_order(*p, op));
        for chunk in self.batches(&ops) {
            let mut b = self.req.batch();
            for (p, op) in &ops[chunk.clone()] {
                self.encode(&mut b, *p, op);
            }
            let res = self.req.send_batch(&mut b).await?;
            self.stats.batches += 1;
            if res.lost {
                tracing::warn!("fib: netlink replies lost; dumping our routes again");
                self.redump = true;
                self.failed
                    .extend(ops[chunk.clone()].iter().map(|(p, _)| *p));
            }
            self.settle(&ops[chunk], &res.refused);
        }
        Ok(())
    }

    /// The write that takes prefix `p` from what the kernel holds to what we want.
    fn plan(&mut self, p: Prefix) -> Option<Op> {
        let want = self
            .desired
            .get(&p)
            .map(|k| want_form(&self.topo, &self.rules, &mut self.cache, p, k));
        let have = self.installed.get(&p);
        match (&want, have) {
            (Some(None), _) => self.unresolved.insert(p),
            _ => self.unresolved.remove(&p),
        };
        let metric = self.metric(p);
        match (want, have) {
            (Some(Some(f)), Some(Some(h))) if *h == f => {
                self.repair.remove(&p);
                None
            }
            (Some(Some(f)), Some(_)) => Some(Op::Replace(f)),
            (Some(Some(f)), None) => {
                if self.topo.occupied(p, self.cfg.table, metric) {
                    if self.conflicts.insert(p) {
                        tracing::warn!(prefix = %fmt_prefix(p),
                            "fib: a route of another program holds this prefix; not touching it");
                    }
                    return None;
                }
                self.conflicts.remove(&p);
                Some(Op::Create(f))
            }
            (Some(None), Some(_)) => Some(Op::Delete(metric)),
            (None, Some(_)) if self.synced || !self.stale.contains(&p) => Some(Op::Delete(metric)),
            _ => None,
        }
    }

    /// Index ranges of `ops` that fit one datagram each.
    fn batches(&self, ops: &[(Prefix, Op)]) -> Vec<std::ops::Range<usize>> {
        let mut out = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, (_, op)) in ops.iter().enumerate() {
            let size = match op {
                Op::Create(Form::Hops(h)) | Op::Replace(Form::Hops(h)) => 64 + 24 * h.len(),
                _ => 64,
            };
            if bytes + size > BATCH_BYTES && i > start {
                out.push(start..i);
                (start, bytes) = (i, 0);
            }
            bytes += size;
        }
        if start < ops.len() {
            out.push(start..ops.len());
        }
        out
    }

    fn encode(&mut self, b: &mut Batch, p: Prefix, op: &Op) {
        let mut key = RouteKey {
            prefix: p,
            table: self.cfg.table,
            protocol: self.cfg.protocol,
            metric: self.metric(p),
        };
        match op {
            Op::Create(f) => b.route(Mode::Create, &key, f),
            Op::Replace(f) => b.route(Mode::Replace, &key, f),
            Op::Delete(m) => {
                key.metric = *m;
                b.del_route(&key)
            }
        };
        self.stats.writes += 1;
    }

    /// Record the outcome of a batch.
    fn settle(&mut self, ops: &[(Prefix, Op)], refused: &[Refused]) {
        let refused: HashMap<usize, &Refused> = refused.iter().map(|r| (r.index, r)).collect();
        let mut errors: HashMap<i32, (usize, Prefix, Option<String>)> = HashMap::new();
        for (i, (p, op)) in ops.iter().enumerate() {
            if let Some(r) = refused.get(&i) {
                if self.refused(*p, op, r) {
                    let e = errors.entry(r.errno).or_insert((0, *p, r.msg.clone()));
                    e.0 += 1;
                }
                continue;
            }
            self.failed.remove(p);
            match op {
                Op::Create(f) | Op::Replace(f) => {
                    if matches!(op, Op::Create(_)) {
                        self.stats.creates += 1;
                    } else {
                        self.stats.replaces += 1;
                    }
                    if self.repair.remove(p) {
                        self.stats.repairs += 1;
                        tracing::warn!(prefix = %fmt_prefix(*p),
                            "fib: a route of ours was deleted or changed by someone else; put it back");
                    }
                    self.installed.insert(*p, Some(f.clone()));
                }
                Op::Delete(m) => {
                    self.stats.deletes += 1;
                    if *m == self.metric(*p) {
                        self.installed.remove(p);
                    }
                }
            }
        }
        for (errno, (n, p, msg)) in errors {
            let err = io::Error::from_raw_os_error(errno);
            tracing::warn!(count = n, first = %fmt_prefix(p), error = %err, detail = msg.unwrap_or_default(),
                "fib: the kernel refused route writes");
        }
    }

    /// A refused write. Returns false when it is not an error worth logging.
    fn refused(&mut self, p: Prefix, op: &Op, r: &Refused) -> bool {
        match (op, r.errno) {
            (Op::Delete(_), libc::ESRCH) => {
                self.installed.remove(&p);
                false
            }
            (Op::Create(_), libc::EEXIST) => {
                self.conflicts.insert(p);
                tracing::warn!(prefix = %fmt_prefix(p),
                    "fib: a route we did not know holds this prefix; not touching it");
                false
            }
            _ => {
                self.stats.refused += 1;
                self.failed.insert(p);
                true
            }
        }
    }

    /// Dump links, addresses, neighbours and routes, and reconcile everything.
    pub async fn resync(&mut self) -> io::Result<()> {
        let d = self.dump_all().await?;
        self.topo.links = d.links.into_iter().map(|l| (l.index, l)).collect();
        self.topo.addrs = d.addrs;
        self.topo.foreign.clear();
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
        let mut d = Dumped::default();
        self.dump_each(
            |b| {
                b.dump(RTM_GETLINK, AF_UNSPEC, 16);
            },
            |p| d.links.extend(Link::parse(p)),
        )
        .await?;
        self.dump_each(
            |b| {
                b.dump(RTM_GETADDR, AF_UNSPEC, 8);
            },
            |p| d.addrs.extend(Addr::parse(p)),
        )
        .await?;
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
        let mut v = Vec::new();
        self.dump_each(
            |b| {
                b.dump_routes(family, table, proto);
            },
            |p| v.extend(KRoute::parse(p).filter(|r| r.table == table)),
        )
        .await?;
        Ok(v)
    }

    /// IPv6 neighbours with a link-local address, for link-local next hops.
    async fn dump_neigh(&mut self) -> io::Result<()> {
        let mut seen: HashMap<std::net::Ipv6Addr, Vec<u32>> = HashMap::new();
        self.dump_each(
            |b| {
                b.dump(RTM_GETNEIGH, AF_INET6, 12);
            },
            |p| {
                if let Some(Neigh {
                    index,
                    dst: IpAddr::V6(a),
                    seen: true,
                }) = Neigh::parse(p)
                {
                    if is_link_local(a) {
                        seen.entry(a).or_default().push(index);
                    }
                }
            },
        )
        .await?;
        self.topo.ll_neigh = seen;
        Ok(())
    }

    /// One dump, retried while the kernel says it was inconsistent; `visit` sees the
    /// messages of the consistent try only.
    async fn dump_each(
        &mut self,
        req: impl Fn(&mut Batch),
        mut visit: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        for _ in 0..DUMP_TRIES {
            let mut msgs: Vec<Vec<u8>> = Vec::new();
            match self.req.dump(&req, |_, p| msgs.push(p.to_vec())).await {
                Ok(()) => {
                    msgs.iter().for_each(|m| visit(m));
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("netlink dump kept being interrupted"))
    }
}

// ===== helper functions =====

/// Writes in prefix order, deletes last and most specific first: the IPv4 trie rescans a
/// node's children (update_suffix) when the leaf with its longest suffix goes, so
/// deleting the shorter prefixes last keeps those rescans rare (measured: 2x faster).
fn write_order(p: Prefix, op: &Op) -> (bool, u8, Prefix) {
    match op {
        Op::Delete(_) => (true, 128 - super::topo::prefix_len(p), p),
        _ => (false, 0, p),
    }
}

/// The kernel form we want for a desired route; None: its next hops do not resolve now.
fn want_form(
    topo: &Topo,
    rules: &[Rule],
    cache: &mut FastMap<NhKey, Vec<super::encode::Hop>>,
    p: Prefix,
    kind: &FibKind,
) -> Option<Form> {
    let nhs = match kind {
        FibKind::Blackhole => return Some(Form::Blackhole),
        FibKind::Unicast(nhs) => nhs,
    };
    let rule = Topo::rule_for(rules, p);
    let v6 = matches!(p, Prefix::V6(_));
    let mut hops = Vec::with_capacity(nhs.len());
    for nh in nhs {
        if v6 && nh.is_ipv4() {
            continue;
        }
        let key = (*nh, rule);
        let r = cache.entry(key).or_insert_with(|| topo.resolve(rules, key));
        hops.extend(r.iter().filter(|h| !(v6 && h.gw.is_ipv4())).copied());
    }
    hops.sort();
    hops.dedup();
    (!hops.is_empty()).then_some(Form::Hops(hops))
}
