//! Reconciliation: the routes we want against the routes of ours the kernel holds, and
//! the fewest writes between them (none for a route that is already right).

use std::collections::HashMap;
use std::io;

use super::encode::{Batch, Form, Hop, Mode, RouteKey};
use super::nh::{same_family, Nh, NhOp};
use super::sock::Refused;
use super::topo::{NhKey, Rule, Topo};
use super::worker::{fmt_prefix, Worker};
use crate::hash::{FastMap, FastSet};
use crate::rib::{FibKind, Prefix};

/// Bytes of requests per datagram (well under the default 208 KiB socket send buffer).
const BATCH_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone)]
enum Op {
    Create(Form),
    Replace(Form),
    /// Delete our route with this metric.
    Delete(u32),
}

/// What a dirty prefix should become: None = not wanted; Some(None) = wanted but its
/// next hops do not resolve now.
type Want = Option<Option<Form>>;

// ===== impl Worker =====

impl Worker {
    /// Reconcile the dirty prefixes and write the difference: nexthop objects first,
    /// then routes, then the objects no route uses any more.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.dirty.is_empty() && self.extras.is_empty() {
            return Ok(());
        }
        let t0 = std::time::Instant::now();
        let dirty: Vec<Prefix> = self.dirty.drain().collect();
        let wants: Vec<(Prefix, Want)> = dirty.into_iter().map(|p| (p, self.want(p))).collect();
        let mut pre = Vec::new();
        if self.nh.enabled {
            self.morph_groups(&wants, &mut pre);
        }
        let mut ops = Vec::with_capacity(wants.len());
        for (p, want) in wants {
            if let Some(op) = self.plan(p, want, &mut pre) {
                ops.push((p, op));
            }
        }
        if self.synced {
            for e in std::mem::take(&mut self.extras) {
                ops.push((e.prefix, Op::Delete(e.metric)));
            }
        }
        self.stats.unresolved = self.unresolved.len() as u64;
        let (planned, n) = (t0.elapsed(), ops.len());
        self.write_nh(pre).await?;
        self.write_routes(ops).await?;
        if n > 0 {
            tracing::debug!(
                writes = n,
                plan_ms = planned.as_millis() as u64,
                total_ms = t0.elapsed().as_millis() as u64,
                "fib: flushed"
            );
        }
        if self.nh.enabled && std::mem::take(&mut self.nh_gc) {
            let used: FastSet<u32> = self
                .installed
                .values()
                .filter_map(|f| match f {
                    Some(Form::Nhid(g)) => Some(*g),
                    _ => None,
                })
                .collect();
            let post = self.nh.unused(&used);
            self.write_nh(post).await?;
        }
        Ok(())
    }

    fn want(&mut self, p: Prefix) -> Want {
        let want = self
            .desired
            .get(&p)
            .map(|k| want_form(&self.topo, &self.rules, &mut self.cache, p, k));
        if matches!(want, Some(None)) {
            self.unresolved.insert(p);
            // Gone with its next hops (e.g. a downed link), not deleted by someone.
            self.repair.remove(&p);
        } else {
            self.unresolved.remove(&p);
        }
        want
    }

    /// The write that takes prefix `p` from what the kernel holds to what we want.
    fn plan(&mut self, p: Prefix, want: Want, pre: &mut Vec<NhOp>) -> Option<Op> {
        let have = self.installed.get(&p);
        let metric = self.metric(p);
        match (want, have) {
            (Some(Some(f)), Some(Some(h))) if self.nh.same(h, &f) => {
                self.repair.remove(&p);
                None
            }
            (Some(Some(f)), Some(_)) => Some(Op::Replace(self.kernel_form(p, f, pre))),
            (Some(Some(f)), None) => {
                if self.topo.occupied(p, self.cfg.table, metric) {
                    if self.conflicts.insert(p) {
                        tracing::warn!(prefix = %fmt_prefix(p),
                            "fib: a route of another program holds this prefix; not touching it");
                    }
                    return None;
                }
                self.conflicts.remove(&p);
                Some(Op::Create(self.kernel_form(p, f, pre)))
            }
            (Some(None), Some(_)) => Some(Op::Delete(metric)),
            (None, Some(_)) if self.synced || !self.stale.contains(&p) => Some(Op::Delete(metric)),
            _ => None,
        }
    }

    /// A multipath set becomes a reference to its nexthop group when groups are on.
    fn kernel_form(&mut self, p: Prefix, f: Form, pre: &mut Vec<NhOp>) -> Form {
        match f {
            Form::Hops(h) if self.nh.wants_group(p, &h) => Form::Nhid(self.nh.group_for(&h, pre)),
            Form::Blackhole if self.nh.enabled && self.nh.blackholes => {
                Form::Nhid(self.nh.blackhole_for(p, pre))
            }
            f => f,
        }
    }

    /// Groups all of whose routes move to one same new set are rewritten in place (see
    /// nh.rs): those routes then need no write at all.
    fn morph_groups(&mut self, wants: &[(Prefix, Want)], pre: &mut Vec<NhOp>) {
        // group -> (target set, routes moving there, every mover agrees)
        let mut moves: FastMap<u32, (Vec<Hop>, usize, bool)> = FastMap::default();
        for (p, want) in wants {
            let Some(Some(Form::Nhid(g))) = self.installed.get(p) else {
                continue;
            };
            let target = match want {
                Some(Some(Form::Hops(h))) if same_family(*p, h) => Some(h),
                _ => None,
            };
            if target.is_some_and(|h| self.nh.members(*g) == Some(h.as_slice())) {
                continue;
            }
            let e = moves
                .entry(*g)
                .or_insert_with(|| (target.cloned().unwrap_or_default(), 0, true));
            e.1 += 1;
            e.2 &= target.is_some_and(|h| *h == e.0);
        }
        moves.retain(|_, m| m.2);
        if moves.is_empty() {
            return;
        }
        let mut refs: FastMap<u32, usize> = FastMap::default();
        for f in self.installed.values() {
            if let Some(Form::Nhid(g)) = f {
                if moves.contains_key(g) {
                    *refs.entry(*g).or_default() += 1;
                }
            }
        }
        for (g, (to, n, _)) in moves {
            if refs.get(&g) == Some(&n) && self.nh.morph(g, &to, pre) {
                self.nh_gc = true;
                tracing::debug!(
                    group = g,
                    routes = n,
                    "fib: nexthop group rewritten in place"
                );
            }
        }
    }

    /// Send nexthop object writes in order.
    async fn write_nh(&mut self, ops: Vec<NhOp>) -> io::Result<()> {
        if !ops.is_empty() {
            tracing::trace!(?ops, "fib: nexthop writes");
        }

        for chunk in ops.chunks(512) {
            let mut b = self.req.batch();
            for op in chunk {
                Nh::encode(&mut b, op, self.cfg.protocol);
            }
            let res = self.req.send_batch(&mut b).await?;
            self.stats.batches += 1;
            self.stats.nexthop_writes += chunk.len() as u64;
            for r in &res.refused {
                let Some(op) = chunk.get(r.index) else {
                    continue;
                };
                if !matches!(op, NhOp::Del(_)) || r.errno != libc::ENOENT {
                    tracing::warn!(?op, error = %io::Error::from_raw_os_error(r.errno),
                        detail = r.msg.clone().unwrap_or_default(), "fib: nexthop object write refused");
                }
                self.nh.refused(op);
            }
            if res.lost {
                self.redump = true;
            }
        }
        Ok(())
    }

    /// Send route writes, in datagrams of about [`BATCH_BYTES`].
    async fn write_routes(&mut self, mut ops: Vec<(Prefix, Op)>) -> io::Result<()> {
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
            self.settle(&mut ops[chunk], &res.refused);
        }
        Ok(())
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

    /// Record the outcome of a batch (the forms move into `installed`).
    fn settle(&mut self, ops: &mut [(Prefix, Op)], refused: &[Refused]) {
        let refused: HashMap<usize, &Refused> = refused.iter().map(|r| (r.index, r)).collect();
        let mut errors: HashMap<i32, (usize, Prefix, Option<String>)> = HashMap::new();
        for (i, (p, op)) in ops.iter_mut().enumerate() {
            if let Some(r) = refused.get(&i) {
                if self.refused(*p, op, r) {
                    let e = errors.entry(r.errno).or_insert((0, *p, r.msg.clone()));
                    e.0 += 1;
                }
                continue;
            }
            if !self.failed.is_empty() {
                self.failed.remove(p);
            }
            let created = matches!(op, Op::Create(_));
            match op {
                Op::Create(f) | Op::Replace(f) => {
                    if created {
                        self.stats.creates += 1;
                    } else {
                        self.stats.replaces += 1;
                    }
                    if !self.repair.is_empty() && self.repair.remove(p) {
                        self.stats.repairs += 1;
                        tracing::warn!(prefix = %fmt_prefix(*p),
                            "fib: a route of ours was deleted or changed by someone else; put it back");
                    }
                    let f = std::mem::replace(f, Form::Blackhole);
                    let old = self.installed.insert(*p, Some(f));
                    self.nh_gc |= matches!(old, Some(Some(Form::Nhid(_))));
                }
                Op::Delete(m) => {
                    self.stats.deletes += 1;
                    if !self.sweeping.is_empty() && self.sweeping.remove(p) {
                        self.stats.stale_removed += 1;
                    }
                    if *m == self.metric(*p) {
                        let old = self.installed.remove(p);
                        self.nh_gc |= matches!(old, Some(Some(Form::Nhid(_))));
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
                if matches!(op, Op::Create(Form::Nhid(_)) | Op::Replace(Form::Nhid(_))) {
                    // Perhaps the kernel dropped the group (a link lost its carrier):
                    // read the objects again before the retry.
                    self.redump = true;
                    self.schedule_refresh();
                }
                true
            }
        }
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
    cache: &mut FastMap<NhKey, Vec<Hop>>,
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
    for nh in nhs.iter() {
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
