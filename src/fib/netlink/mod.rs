//! The kernel FIB through rtnetlink (Linux), IPv4 and IPv6.
//!
//! [`NetlinkFib`] is the FIB sink of the speaker: [`NetlinkFib::apply`] records the
//! changes and hands them to a worker thread over a channel, so the speaker never waits
//! for the kernel. The worker owns one request socket and one event socket:
//!
//! ```text
//!  apply(changes) ──channel──> worker: desired routes ──┐
//!                                                       ├─ reconcile ─> batches of requests,
//!  kernel events (links, addresses, neighbours,         │   about 64 KiB per sendmsg, only the
//!  routes, nexthops) ─────────────> topology ───────────┘   last one ACKed (errors come anyway)
//! ```
//!
//! Why not the rtnetlink crate's `Handle`: it sends one message per request and waits for
//! each ACK; even with 256 requests in flight it measured about 60k routes/s here. One
//! datagram of a thousand requests is handled by the kernel inside one `sendmsg`, so the
//! cost per route is the kernel's own work. Messages are encoded by hand (`encode.rs`)
//! and read with netlink-packet-route (`decode.rs`).
//!
//! - Only routes with our protocol id in our table are ever written or deleted; a route
//!   of another program at the same key is left alone (new routes are created with
//!   NLM_F_EXCL, deletes carry our protocol, which the kernel matches).
//! - A changed route is one NLM_F_REPLACE, never a delete and an add.
//! - On start the routes with our protocol id are adopted as stale: unchanged ones cost no
//!   write; the rest are removed at [`NetlinkFib::sync_done`] or after `sync_timeout`.
//! - Events drive everything: a route of ours deleted by someone else is put back, a link
//!   or address change re-resolves next hops, an overrun (ENOBUFS) dumps and reconciles
//!   everything. A slow periodic reconciliation (`reconcile_every`) catches the rest.
//! - Next-hop resolution (device rules for IPIP `onlink`, link-local next hops,
//!   connected, recursive through other programs' routes): see `topo.rs`.
//! - Unicast routes go through kernel nexthop objects where the kernel has them: the
//!   change of one ECMP member (or of the gateway) of many routes is one message, and
//!   installing costs the kernel about half as much. See `nh.rs`.
//! - Our own notifications never reach our event socket: a socket filter drops messages
//!   whose nlmsg_pid is our request socket's port id.

mod decode;
mod diff;
mod dump;
mod encode;
mod learn;
mod nh;
mod reconcile;
mod sock;
mod topo;
mod worker;

#[cfg(test)]
mod tests;

use std::io;
use std::net::Ipv6Addr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ipnet::IpNet;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::config::FibCfg;
use crate::fib::{FibSink, MemFib};
use crate::rib::{FibChange, FibRoute, Prefix};
use worker::Cmd;

/// "For prefixes within `prefix`, install via `device` with onlink": Calico's IPIP form
/// `10.x.y.0/26 via <node> dev tunl0 onlink`. With `cross_subnet_only`, only next hops
/// outside our connected subnets take the device (Calico CrossSubnet); the others are
/// routed directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    pub prefix: IpNet,
    pub device: String,
    pub cross_subnet_only: bool,
}

/// Kernel options of the netlink FIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlinkFibCfg {
    /// rtm_protocol of our routes: 186 ("bgp"), or 12 ("bird") in Calico mode.
    pub protocol: u8,
    pub table: u32,
    /// RTA_PRIORITY; None: the kernel's default (0 for IPv4, 1024 for IPv6).
    pub metric: Option<u32>,
    /// Leave our routes in the kernel when wren stops (BIRD's `persist`).
    pub persist: bool,
    /// First match wins.
    pub rules: Vec<DeviceRule>,
    /// Adopted routes not re-announced are removed this long after start if
    /// [`NetlinkFib::sync_done`] has not come: a safety net only, the speaker's bounded
    /// initial sync (at most a minute) ends first (BIRD's fixed wait is 240 s).
    pub sync_timeout: Duration,
    /// Period of the full dump-and-compare that catches drift (no 2-second rescan).
    pub reconcile_every: Duration,
    /// ECMP through kernel nexthop objects when the kernel has them (5.3+), so that the
    /// change of one member of many routes is one message. Off: RTA_MULTIPATH routes.
    pub nexthop_objects: bool,
    /// Blackhole routes through one shared blackhole nexthop object per family (Linux
    /// 5.3+; plain routes when the kernel refuses it). Cheaper for the kernel, but `ip
    /// route` shows `blackhole P nhid N dev lo proto X` instead of `blackhole P proto X`.
    pub blackhole_nexthop: bool,
    /// Receive buffer of the event socket, bytes (root can exceed net.core.rmem_max). A
    /// burst larger than this overruns it (ENOBUFS), which costs a full resync.
    pub event_buffer: usize,
    /// Report other programs' routes of `table` (see `learn.rs`) through
    /// [`NetlinkFib::take_learned`].
    pub learn: bool,
    /// Learn `proto kernel` routes too.
    pub learn_all: bool,
    /// Device name patterns (`*`) whose routes are not learned.
    pub learn_ignore: Vec<String>,
}

/// A change of the learned kernel routes (`[fib] learn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// Another program's learnable route is in the kernel for this prefix.
    Up(Prefix),
    /// No more.
    Down(Prefix),
}

/// Counters of the worker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FibStats {
    /// Routes the speaker wants in the kernel.
    pub desired: u64,
    /// Routes of ours the kernel holds (as far as we know).
    pub installed: u64,
    /// Wanted routes whose next hops do not resolve now.
    pub unresolved: u64,
    /// Wanted routes whose key another program's route holds (left alone).
    pub conflicts: u64,
    /// Routes with our protocol id found at start.
    pub adopted: u64,
    /// Of those, IPv6 routes.
    pub adopted_v6: u64,
    /// Adopted routes removed at the first sync because nobody re-announced them.
    pub stale_removed: u64,
    /// Netlink write requests sent (creates + replaces + deletes).
    pub writes: u64,
    pub creates: u64,
    pub replaces: u64,
    pub deletes: u64,
    /// Write requests the kernel refused.
    pub refused: u64,
    /// Routes of ours that someone else deleted or changed, and we put back.
    pub repairs: u64,
    /// Full dumps after start (overruns, periodic reconciliation, errors).
    pub resyncs: u64,
    /// Datagrams of write requests sent.
    pub batches: u64,
    /// Nexthop object writes (creates, group rewrites, deletes), not in `writes`.
    pub nexthop_writes: u64,
}

/// A route of another program, learned from the kernel (e.g. Felix's workload /32s), for
/// export policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelRoute {
    pub prefix: Prefix,
    pub protocol: u8,
    pub table: u32,
    pub metric: u32,
    /// rtm_type: 1 unicast, 6 blackhole, 7 unreachable, ...
    pub kind: u8,
    pub gateways: Vec<std::net::IpAddr>,
    pub devices: Vec<String>,
}

/// The kernel FIB. Create it with [`NetlinkFib::start`] (it starts its own thread).
pub struct NetlinkFib {
    tx: mpsc::UnboundedSender<Cmd>,
    /// What the speaker asked for, for [`NetlinkFib::routes`].
    mirror: MemFib,
    stats: Arc<Mutex<FibStats>>,
    thread: Option<JoinHandle<()>>,
    persist: bool,
    learned: Option<mpsc::UnboundedReceiver<Vec<Learned>>>,
}

// ===== impl NetlinkFibCfg =====

impl Default for NetlinkFibCfg {
    fn default() -> Self {
        NetlinkFibCfg {
            protocol: 186,
            table: 254,
            metric: None,
            persist: true,
            rules: Vec::new(),
            sync_timeout: Duration::from_secs(90),
            reconcile_every: Duration::from_secs(300),
            nexthop_objects: true,
            blackhole_nexthop: false,
            event_buffer: 32 << 20,
            learn: false,
            learn_all: false,
            learn_ignore: Vec::new(),
        }
    }
}

impl NetlinkFibCfg {
    /// The kernel options of a `[fib]` config section.
    pub fn from_config(c: &FibCfg) -> NetlinkFibCfg {
        NetlinkFibCfg {
            protocol: c.protocol,
            table: c.table,
            metric: c.metric,
            persist: c.persist,
            rules: c
                .device_route
                .iter()
                .map(|r| DeviceRule {
                    prefix: r.prefix,
                    device: r.device.clone(),
                    cross_subnet_only: r.cross_subnet,
                })
                .collect(),
            learn: c.learn,
            learn_all: c.learn_all,
            learn_ignore: c.learn_ignore.clone(),
            blackhole_nexthop: c.blackhole_nexthop,
            ..NetlinkFibCfg::default()
        }
    }
}

// ===== impl NetlinkFib =====

impl NetlinkFib {
    /// Open the netlink sockets, dump links, addresses and routes, adopt the routes with
    /// our protocol id as stale, and start the worker thread. Blocks for the initial dump
    /// (about 0.1 s per 100k routes). The thread inherits the caller's network namespace.
    pub fn start(cfg: NetlinkFibCfg) -> io::Result<NetlinkFib> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stats = Arc::new(Mutex::new(FibStats::default()));
        let shared = stats.clone();
        let persist = cfg.persist;
        let (learn_tx, learned) = match cfg.learn {
            true => {
                let (t, r) = mpsc::unbounded_channel();
                (Some(t), Some(r))
            }
            false => (None, None),
        };
        let thread = std::thread::Builder::new()
            .name("wren-fib".into())
            .spawn(move || worker::thread_main(cfg, rx, shared, ready_tx, learn_tx))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(NetlinkFib {
                tx,
                mirror: MemFib::new(),
                stats,
                thread: Some(thread),
                persist,
                learned,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(io::Error::other("fib worker thread died during start")),
        }
    }

    /// Apply changes in order. Never blocks: the worker writes them to the kernel.
    pub fn apply(&mut self, changes: &[FibChange]) {
        FibSink::apply(&mut self.mirror, changes);
        if !changes.is_empty() {
            self.send(Cmd::Apply(changes.to_vec()));
        }
    }

    /// The routes the speaker wants in the kernel, by prefix.
    pub fn routes(&self) -> Vec<FibRoute> {
        FibSink::routes(&self.mirror)
    }

    /// The route applied for `prefix`, if any.
    pub fn route(&self, prefix: &Prefix) -> Option<FibRoute> {
        FibSink::route(&self.mirror, prefix)
    }

    /// How many routes [`NetlinkFib::routes`] lists.
    pub fn route_count(&self) -> usize {
        self.mirror.len()
    }

    /// The initial sync is complete (End-of-RIB from the peers that came up): adopted
    /// routes that were not re-announced are removed now.
    pub fn sync_done(&self) {
        self.send(Cmd::SyncDone);
    }

    /// Remove every route of ours from the kernel now (and forget what was applied).
    pub fn withdraw_all(&mut self) {
        self.mirror = MemFib::new();
        self.send(Cmd::WithdrawAll);
    }

    /// Install routes through this IPv6 link-local next hop via `device` (None: forget).
    /// Without a hint the device is the one whose neighbour table holds the address, or
    /// the only up link with IPv6.
    pub fn link_local_device(&self, next_hop: Ipv6Addr, device: Option<&str>) {
        self.send(Cmd::LinkLocal(next_hop, device.map(str::to_string)));
    }

    /// The learned-route changes (`learn`), once: the first batch holds every learnable
    /// route of the initial dump. None without `learn` or after the first call.
    pub fn take_learned(&mut self) -> Option<mpsc::UnboundedReceiver<Vec<Learned>>> {
        self.learned.take()
    }

    /// Counters as of the last batch the worker finished.
    pub fn stats(&self) -> FibStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Wait until everything applied so far is in the kernel (or refused); the counters then.
    pub async fn flushed(&self) -> FibStats {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Barrier(tx));
        rx.await.unwrap_or_else(|_| self.stats())
    }

    /// Completes (with the counters) once everything applied so far is in the kernel.
    pub fn barrier(&self) -> oneshot::Receiver<FibStats> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Barrier(tx));
        rx
    }

    /// Where the kernel differs from what was applied, once the queued writes are done.
    pub fn diff(&self) -> oneshot::Receiver<crate::fib::KernelDiff> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Diff(tx));
        rx
    }

    /// [`NetlinkFib::flushed`] for callers outside an async context.
    pub fn wait_flushed(&self) -> FibStats {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Barrier(tx));
        rx.blocking_recv().unwrap_or_else(|_| self.stats())
    }

    /// Other programs' routes in the main table and ours (see [`KernelRoute`]).
    pub async fn learned(&self) -> Vec<KernelRoute> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Learned(tx));
        rx.await.unwrap_or_default()
    }

    /// Stop the worker: with `persist` our routes stay in the kernel, without it they are
    /// removed first. Returns the final counters.
    pub async fn close(mut self) -> FibStats {
        let rx = self.close_cmd();
        let s = rx.await.unwrap_or_else(|_| self.stats());
        self.join();
        s
    }

    /// [`NetlinkFib::close`] for callers outside an async context.
    pub fn close_blocking(mut self) -> FibStats {
        let rx = self.close_cmd();
        let s = rx.blocking_recv().unwrap_or_else(|_| self.stats());
        self.join();
        s
    }

    /// [`NetlinkFib::close`] through a reference, for the speaker's shutdown: waits for
    /// the worker thread to finish (it must not be a tokio `blocking_recv`, which would
    /// panic inside the runtime).
    pub fn close_in_place(&mut self) {
        if self.thread.is_some() {
            let _done = self.close_cmd();
            self.join();
        }
    }

    /// [`NetlinkFib::close_in_place`] leaving our routes in the kernel even without
    /// `persist` (a graceful stop).
    pub fn close_keep_in_place(&mut self) {
        if self.thread.is_some() {
            let _done = self.close_with(false);
            self.join();
        }
    }

    fn close_cmd(&self) -> oneshot::Receiver<FibStats> {
        self.close_with(!self.persist)
    }

    fn close_with(&self, withdraw: bool) -> oneshot::Receiver<FibStats> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Close { withdraw, done: tx });
        rx
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn send(&self, cmd: Cmd) {
        if self.tx.send(cmd).is_err() {
            tracing::error!("fib: the netlink worker is gone; kernel routes are not updated");
        }
    }
}

impl Drop for NetlinkFib {
    /// Without [`NetlinkFib::close`]: the worker stops (removing our routes first unless
    /// `persist`), and nobody waits for it.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let (tx, _rx) = oneshot::channel();
            let _ = self.tx.send(Cmd::Close {
                withdraw: !self.persist,
                done: tx,
            });
        }
    }
}

impl std::fmt::Debug for NetlinkFib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetlinkFib")
            .field("routes", &self.mirror.len())
            .field("stats", &self.stats())
            .finish()
    }
}
