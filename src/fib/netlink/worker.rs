//! The worker thread: one owner of the kernel-side state, driven by commands from the
//! speaker, kernel events and two timers (first sync, slow reconciliation).

use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};

use super::decode::{Addr, KRoute, Link, Neigh, Nexthop};
use super::encode::{
    Form, Hop, RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELNEXTHOP, RTM_DELROUTE, RTM_NEWADDR,
    RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWNEXTHOP, RTM_NEWROUTE,
};
use super::nh::Nh;
use super::sock::{self, NlSock};
use super::topo::{NhKey, Rule, Topo};
use super::{FibStats, KernelRoute, NetlinkFibCfg};
use crate::hash::{FastMap, FastSet};
use crate::rib::{FibChange, FibKind, Prefix};

/// Requests from [`super::NetlinkFib`].
pub(crate) enum Cmd {
    Apply(Vec<FibChange>),
    SyncDone,
    WithdrawAll,
    LinkLocal(Ipv6Addr, Option<String>),
    Barrier(oneshot::Sender<FibStats>),
    /// `show fib --diff`: answered after the next flush.
    Diff(oneshot::Sender<crate::fib::KernelDiff>),
    Learned(oneshot::Sender<Vec<KernelRoute>>),
    Close {
        withdraw: bool,
        done: oneshot::Sender<FibStats>,
    },
}

/// A kernel notification, parsed.
enum Event {
    Route(bool, KRoute),
    Link(bool, Link),
    Addr(bool, Addr),
    Neigh(bool, Neigh),
    Nexthop(Nexthop),
}

/// What the loop should do after a command.
enum Flow {
    Go,
    Stop(bool, oneshot::Sender<FibStats>),
}

pub(crate) struct Worker {
    pub cfg: NetlinkFibCfg,
    pub rules: Vec<Rule>,
    pub req: NlSock,
    ev: NlSock,
    pub topo: Topo,
    /// What the speaker wants.
    pub desired: FastMap<Prefix, FibKind>,
    /// Our routes in the kernel (our table, protocol and metric). None: a route of ours
    /// that is not in a form we write (changed by hand): it is replaced.
    pub installed: FastMap<Prefix, Option<Form>>,
    /// Routes with our protocol id and another metric (an old config): removed at sync.
    pub extras: Vec<KRoute>,
    /// Adopted at start and not yet re-announced: kept until the first sync.
    pub stale: FastSet<Prefix>,
    /// The stale routes the first sync is removing (for the `stale_removed` counter).
    pub sweeping: FastSet<Prefix>,
    pub synced: bool,
    /// Prefixes to reconcile at the next flush.
    pub dirty: FastSet<Prefix>,
    /// Refused writes, retried after the next topology change.
    pub failed: FastSet<Prefix>,
    /// Deleted by someone else: a successful write puts them back (and is logged).
    pub repair: FastSet<Prefix>,
    /// Wanted, but the next hops do not resolve now.
    pub unresolved: FastSet<Prefix>,
    /// Held by another program's route at our key.
    pub conflicts: FastSet<Prefix>,
    pub cache: FastMap<NhKey, Vec<Hop>>,
    /// Nexthop objects and groups (ECMP).
    pub nh: Nh,
    /// A route left a group: look for groups and objects nobody uses after the flush.
    pub nh_gc: bool,
    pub stats: FibStats,
    shared: Arc<Mutex<FibStats>>,
    /// Debounced topology refresh (re-resolve, re-dump our routes).
    refresh_at: Option<Instant>,
    /// The refresh also dumps our routes again: a link went down or an address went away,
    /// and the kernel drops IPv4 routes through it without telling anyone.
    pub redump: bool,
    barriers: Vec<oneshot::Sender<FibStats>>,
    diffs: Vec<oneshot::Sender<crate::fib::KernelDiff>>,
    /// When the first sync happens at the latest.
    sync_deadline: Instant,
    /// Other programs' routes reported to the speaker (`learn`).
    pub learn: super::learn::Learn,
}

const REFRESH_DELAY: Duration = Duration::from_millis(100);
/// Event datagrams read in one go before reconciling.
const EVENT_BURST: usize = 1024;
const GROUPS: [u32; 7] = [
    sock::RTNLGRP_NEXTHOP,
    sock::RTNLGRP_LINK,
    sock::RTNLGRP_NEIGH,
    sock::RTNLGRP_IPV4_IFADDR,
    sock::RTNLGRP_IPV6_IFADDR,
    sock::RTNLGRP_IPV4_ROUTE,
    sock::RTNLGRP_IPV6_ROUTE,
];

// ===== impl Worker =====

impl Worker {
    async fn open(
        cfg: NetlinkFibCfg,
        shared: Arc<Mutex<FibStats>>,
        learn: super::learn::Learn,
    ) -> io::Result<Worker> {
        let cfg_sync = cfg.sync_timeout;
        let req = NlSock::open_request()?;
        // Subscribe before the dump so that no change falls between the two.
        let ev = NlSock::open_events(&GROUPS, req.portid(), cfg.event_buffer)?;
        let rules = cfg
            .rules
            .iter()
            .filter_map(|r| {
                let prefix = super::decode::prefix_of(r.prefix.network(), r.prefix.prefix_len())?;
                Some(Rule {
                    prefix,
                    device: r.device.clone(),
                    cross_subnet_only: r.cross_subnet_only,
                })
            })
            .collect();
        let mut w = Worker {
            cfg,
            rules,
            req,
            ev,
            topo: Topo::default(),
            desired: FastMap::default(),
            installed: FastMap::default(),
            extras: Vec::new(),
            stale: FastSet::default(),
            sweeping: FastSet::default(),
            synced: false,
            dirty: FastSet::default(),
            failed: FastSet::default(),
            repair: FastSet::default(),
            unresolved: FastSet::default(),
            conflicts: FastSet::default(),
            cache: FastMap::default(),
            nh: Nh::default(),
            nh_gc: false,
            stats: FibStats::default(),
            shared,
            refresh_at: None,
            redump: false,
            barriers: Vec::new(),
            diffs: Vec::new(),
            sync_deadline: Instant::now() + cfg_sync,
            learn,
        };
        w.probe_nexthops().await;
        w.resync().await?;
        w.stale = w.installed.keys().copied().collect();
        w.stats.adopted = w.installed.len() as u64;
        w.stats.adopted_v6 = w
            .installed
            .keys()
            .filter(|p| matches!(p, Prefix::V6(_)))
            .count() as u64;
        w.stats.resyncs = 0;
        w.report_learned();
        w.publish();
        tracing::info!(
            adopted = w.stats.adopted,
            protocol = w.cfg.protocol,
            table = w.cfg.table,
            "fib: netlink started; routes with our protocol id adopted as stale until the first sync"
        );
        Ok(w)
    }

    /// The loop. Returns when closed; an error means the sockets failed.
    async fn run(&mut self, rx: &mut mpsc::UnboundedReceiver<Cmd>) -> io::Result<()> {
        let mut reconcile_at = Instant::now() + self.cfg.reconcile_every;
        loop {
            let sync_at = self.sync_deadline;
            let refresh_at = self.refresh_at.unwrap_or(reconcile_at);
            let mut events = Vec::new();
            tokio::select! {
                biased;
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else {
                        let persist = self.cfg.persist;
                        return self.stop(!persist, None).await;
                    };
                    if let Flow::Stop(w, done) = self.commands(cmd, rx) {
                        return self.stop(w, Some(done)).await;
                    }
                }
                r = self.ev.recv_burst(EVENT_BURST, |h, p| events.extend(parse_event(h, p))) => match r {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        tracing::warn!("fib: netlink event overrun (ENOBUFS); dumping everything");
                        self.resync().await?;
                    }
                    Err(e) => return Err(e),
                },
                _ = sleep_until(refresh_at), if self.refresh_at.is_some() => {
                    self.refresh_at = None;
                    self.refresh().await?;
                }
                _ = sleep_until(sync_at), if !self.synced => {
                    tracing::info!("fib: sync timeout; removing adopted routes nobody re-announced");
                    self.sync();
                }
                _ = sleep_until(reconcile_at) => {
                    reconcile_at = Instant::now() + self.cfg.reconcile_every;
                    self.resync().await?;
                }
            }
            for e in events {
                self.event(e);
            }
            self.flush().await?;
            self.report_learned();
            self.publish();
            for b in self.barriers.drain(..) {
                let _ = b.send(self.stats);
            }
            for d in std::mem::take(&mut self.diffs) {
                let _ = d.send(self.diff());
            }
        }
    }

    /// Handle one command and every command already queued behind it.
    fn commands(&mut self, first: Cmd, rx: &mut mpsc::UnboundedReceiver<Cmd>) -> Flow {
        let mut next = Some(first);
        while let Some(cmd) = next {
            match cmd {
                Cmd::Apply(changes) => self.apply(changes),
                Cmd::SyncDone => self.sync(),
                Cmd::WithdrawAll => self.withdraw_all(),
                Cmd::LinkLocal(nh, dev) => self.link_local(nh, dev),
                Cmd::Barrier(tx) => self.barriers.push(tx),
                Cmd::Diff(tx) => self.diffs.push(tx),
                Cmd::Learned(tx) => {
                    let _ = tx.send(self.learned());
                }
                Cmd::Close { withdraw, done } => return Flow::Stop(withdraw, done),
            }
            next = rx.try_recv().ok();
        }
        Flow::Go
    }

    fn apply(&mut self, changes: Vec<FibChange>) {
        for c in changes {
            let p = match c {
                FibChange::Upsert(r) => {
                    self.desired.insert(r.prefix, r.kind);
                    r.prefix
                }
                FibChange::Remove(p) => {
                    self.desired.remove(&p);
                    p
                }
            };
            self.stale.remove(&p);
            self.dirty.insert(p);
        }
    }

    /// First sync: what was adopted and not re-announced goes.
    pub fn sync(&mut self) {
        if self.synced {
            return;
        }
        self.synced = true;
        let stale: Vec<Prefix> = self.stale.drain().collect();
        tracing::info!(stale = stale.len(), "fib: initial sync done");
        self.dirty.extend(stale.iter().copied());
        self.sweeping.extend(stale);
    }

    fn withdraw_all(&mut self) {
        self.desired.clear();
        self.stale.clear();
        self.synced = true;
        let ours: Vec<Prefix> = self.installed.keys().copied().collect();
        self.dirty.extend(ours);
    }

    fn link_local(&mut self, nh: Ipv6Addr, dev: Option<String>) {
        match dev {
            Some(d) => self.topo.ll_hints.insert(nh, d),
            None => self.topo.ll_hints.remove(&nh),
        };
        self.cache.retain(|k, _| k.0 != IpAddr::V6(nh));
        self.mark_nh(IpAddr::V6(nh));
    }

    /// Mark the desired routes through this next hop dirty.
    fn mark_nh(&mut self, nh: IpAddr) {
        for (p, k) in &self.desired {
            if matches!(k, FibKind::Unicast(v) if v.contains(&nh)) {
                self.dirty.insert(*p);
            }
        }
    }

    async fn stop(
        &mut self,
        withdraw: bool,
        done: Option<oneshot::Sender<FibStats>>,
    ) -> io::Result<()> {
        if withdraw {
            self.withdraw_all();
            let n = self.installed.len();
            self.flush().await?;
            tracing::info!(removed = n, "fib: routes withdrawn from the kernel");
        } else {
            tracing::info!(
                kept = self.installed.len(),
                "fib: persist: routes left in the kernel"
            );
        }
        self.publish();
        if let Some(d) = done {
            let _ = d.send(self.stats);
        }
        for b in self.barriers.drain(..) {
            let _ = b.send(self.stats);
        }
        Ok(())
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Route(new, r) => self.route_event(new, r),
            Event::Link(new, l) => {
                let changed = self.topo.links.get(&l.index) != Some(&l) || !new;
                if new {
                    self.topo.links.insert(l.index, l);
                } else {
                    self.topo.links.remove(&l.index);
                }
                if changed {
                    self.redump = true;
                    self.schedule_refresh();
                }
            }
            Event::Nexthop(n) => {
                // Someone else changed one of our objects: the kernel may have dropped
                // routes with it. Read ours again.
                if n.protocol == self.cfg.protocol {
                    tracing::warn!(
                        id = n.id,
                        "fib: a nexthop object of ours was changed by someone else"
                    );
                    self.redump = true;
                    self.schedule_refresh();
                }
            }
            Event::Neigh(new, n) => {
                if self.topo.neigh(&n, new) && self.cache.keys().any(|k| k.0 == n.dst) {
                    self.schedule_refresh();
                }
            }
            Event::Addr(new, a) => {
                self.topo.addrs.retain(|o| o != &a);
                if new {
                    self.topo.addrs.push(a);
                }
                self.redump = true;
                self.schedule_refresh();
            }
        }
    }

    fn route_event(&mut self, new: bool, r: KRoute) {
        tracing::trace!(new, ?r, "fib: route event");
        let watched = r.table == self.cfg.table || r.table == 254;
        if !watched || r.prefix_is_local() {
            return;
        }
        let ours = r.protocol == self.cfg.protocol && r.table == self.cfg.table;
        if !ours {
            self.learn.mark(r.prefix);
            let at_our_key = r.table == self.cfg.table && r.metric == self.metric(r.prefix);
            if new {
                if at_our_key && self.installed.remove(&r.prefix).is_some() {
                    tracing::warn!(prefix = %fmt_prefix(r.prefix), protocol = r.protocol,
                        "fib: another program replaced our route; leaving it alone");
                }
                self.topo.put_foreign(r.clone());
            } else {
                self.topo.del_foreign(&r);
            }
            if at_our_key {
                self.dirty.insert(r.prefix);
            }
            self.schedule_refresh();
            return;
        }
        if r.metric != self.metric(r.prefix) {
            if new {
                self.extras.push(r);
            }
            return;
        }
        // Someone else changed or deleted a route of ours: put it back after the next
        // refresh, which first takes in the link and address events that may have come
        // with it (the kernel flushing a downed link is no repair; see plan()).
        let known = if new {
            self.installed.insert(r.prefix, r.form());
            true
        } else {
            self.installed.remove(&r.prefix).is_some()
        };
        if known && self.desired.contains_key(&r.prefix) {
            self.repair.insert(r.prefix);
            self.failed.insert(r.prefix);
            self.schedule_refresh();
        }
    }

    pub fn schedule_refresh(&mut self) {
        if self.refresh_at.is_none() {
            self.refresh_at = Some(Instant::now() + REFRESH_DELAY);
        }
    }

    /// Metric of our route for this prefix.
    pub fn metric(&self, p: Prefix) -> u32 {
        match p {
            Prefix::V4(_) => self.cfg.metric.unwrap_or(0),
            Prefix::V6(_) => self.cfg.metric.unwrap_or(1024),
        }
    }

    fn learned(&self) -> Vec<KernelRoute> {
        let mut v: Vec<KernelRoute> = self
            .topo
            .foreign
            .values()
            .flatten()
            .map(|r| KernelRoute {
                prefix: r.prefix,
                protocol: r.protocol,
                table: r.table,
                metric: r.metric,
                kind: r.kind,
                gateways: r.hops.iter().filter_map(|h| h.gw).collect(),
                devices: r
                    .hops
                    .iter()
                    .filter_map(|h| self.topo.name_of(h.oif).map(str::to_string))
                    .collect(),
            })
            .collect();
        v.sort_by_key(|r| (r.prefix, r.table, r.metric));
        v
    }

    pub fn publish(&mut self) {
        self.stats.desired = self.desired.len() as u64;
        self.stats.installed = self.installed.len() as u64;
        self.stats.conflicts = self.conflicts.len() as u64;
        if let Ok(mut s) = self.shared.lock() {
            *s = self.stats;
        }
    }
}

impl KRoute {
    /// Kernel-made routes we never model: multicast and link-local IPv6 prefixes.
    pub(crate) fn prefix_is_local(&self) -> bool {
        match self.prefix {
            Prefix::V6(p) => {
                let a = p.addr().segments()[0];
                a & 0xff00 == 0xff00 || (a & 0xffc0 == 0xfe80 && p.len() >= 10)
            }
            Prefix::V4(_) => false,
        }
    }
}

// ===== helper functions =====

/// The worker thread: a current-thread runtime that runs the worker until it is closed,
/// reopening the sockets after an error.
pub(crate) fn thread_main(
    cfg: NetlinkFibCfg,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    shared: Arc<Mutex<FibStats>>,
    ready: std::sync::mpsc::Sender<io::Result<()>>,
    learn: Option<mpsc::UnboundedSender<Vec<super::Learned>>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    rt.block_on(async move {
        let learn = super::learn::Learn::new(learn);
        let mut w = match Worker::open(cfg.clone(), shared.clone(), learn).await {
            Ok(w) => w,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        loop {
            match w.run(&mut rx).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(error = %e, "fib: netlink failed; reopening in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if let Err(e) = w.reopen().await {
                        tracing::error!(error = %e, "fib: reopening netlink failed");
                    }
                }
            }
        }
    });
}

impl Worker {
    /// New sockets after an error, then a full resync (what we want is kept).
    async fn reopen(&mut self) -> io::Result<()> {
        self.req = NlSock::open_request()?;
        self.ev = NlSock::open_events(&GROUPS, self.req.portid(), self.cfg.event_buffer)?;
        self.resync().await
    }
}

fn parse_event(h: &sock::Hdr, p: &[u8]) -> Option<Event> {
    match h.ty {
        RTM_NEWROUTE | RTM_DELROUTE => {
            KRoute::parse(p).map(|r| Event::Route(h.ty == RTM_NEWROUTE, r))
        }
        RTM_NEWLINK | RTM_DELLINK => Link::parse(p).map(|l| Event::Link(h.ty == RTM_NEWLINK, l)),
        RTM_NEWADDR | RTM_DELADDR => Addr::parse(p).map(|a| Event::Addr(h.ty == RTM_NEWADDR, a)),
        RTM_NEWNEXTHOP | RTM_DELNEXTHOP => Nexthop::parse(p).map(Event::Nexthop),
        RTM_NEWNEIGH | RTM_DELNEIGH => {
            Neigh::parse(p).map(|n| Event::Neigh(h.ty == RTM_NEWNEIGH, n))
        }
        _ => None,
    }
}

pub(crate) fn fmt_prefix(p: Prefix) -> String {
    match p {
        Prefix::V4(p) => p.to_string(),
        Prefix::V6(p) => p.to_string(),
    }
}
