//! Counters and gauges for `/metrics`, `/healthz` and `/readyz`.
//!
//! The owner loop writes them with relaxed atomics from tiny hooks (one store or add each);
//! the HTTP server reads a [`Snapshot`] at scrape time. A scrape never waits for the owner
//! loop and the owner never waits for a scrape: the only locks are the peer list (taken
//! for writing when a peer is added or removed) and a peer's NOTIFICATION tally (taken
//! when a NOTIFICATION goes either way), each held for a few instructions.
//!
//! ```text
//!  owner loop ── hooks ──> Arc<Stats> (atomics) <── snapshot() ── metrics HTTP task
//!  owner loop ── tick (1 s) ──> lag, RIB/FIB sizes, per-peer prefix counts, sync state
//!  reload / datastore code ──> reload_result(), set_datastore()
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::owner::{Owner, PeerId};
use crate::fsm::{DownReason, State};
use crate::wire::NotificationMsg;

/// How often the owner loop ticks (and refreshes the sampled gauges).
pub const TICK: Duration = Duration::from_secs(1);

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dir {
    Received,
    Sent,
}

/// The Calico datastore's state, as its code reports it ([`Stats::set_datastore`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatastoreState {
    /// No datastore: the config comes from the file.
    Unused = 0,
    /// Connecting or reading the first complete snapshot.
    Syncing = 1,
    /// The config follows the datastore.
    Synced = 2,
    /// The connection is lost or the data is unusable; the last good config stays.
    Error = 3,
}

/// Everything `/metrics` and the health endpoints read. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Stats {
    base: Instant,
    ticks: AtomicU64,
    /// Milliseconds since `base` when the last tick ran (0: none yet).
    last_tick_ms: AtomicU64,
    lag_last_us: AtomicU64,
    lag_sum_us: AtomicU64,
    config_applied: AtomicBool,
    sync_done: AtomicBool,
    datastore: AtomicU8,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    rib_paths: AtomicU64,
    rib_prefixes: AtomicU64,
    fib_routes: AtomicU64,
    /// Kernel FIB counters; `u64::MAX` when the FIB is not the kernel's.
    fib_installed: AtomicU64,
    fib_errors: AtomicU64,
    fib_writes: AtomicU64,
    peers: RwLock<BTreeMap<PeerId, Arc<PeerStats>>>,
}

/// One peer's counters.
#[derive(Debug)]
pub struct PeerStats {
    pub name: String,
    /// From the config (not a dynamic peer of a passive range).
    pub configured: bool,
    state: AtomicU8,
    /// Milliseconds since [`Stats`]' base when it became Established.
    established_ms: AtomicU64,
    flaps: AtomicU64,
    updates_in: AtomicU64,
    updates_out: AtomicU64,
    received: AtomicU64,
    accepted: AtomicU64,
    advertised: AtomicU64,
    notifications: Mutex<BTreeMap<(Dir, u8, u8), u64>>,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub ticks: u64,
    /// Time since the owner loop last ticked; `None` before the first tick.
    pub since_tick: Option<Duration>,
    pub lag_last: Duration,
    pub lag_sum: Duration,
    pub config_applied: bool,
    pub sync_done: bool,
    /// "unused" | "syncing" | "synced" | "error".
    pub datastore: &'static str,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    pub rib_paths: u64,
    pub rib_prefixes: u64,
    pub fib_routes: u64,
    /// `(installed, errors, writes)` of the kernel FIB.
    pub kernel: Option<(u64, u64, u64)>,
    pub peers: Vec<PeerSnapshot>,
}

/// One peer in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq)]
pub struct PeerSnapshot {
    pub name: String,
    pub configured: bool,
    pub state: State,
    /// Seconds since it became Established (0 when it is not).
    pub uptime_secs: u64,
    /// Established sessions lost.
    pub flaps: u64,
    pub updates_in: u64,
    pub updates_out: u64,
    /// Prefix counts, refreshed each tick; 0 while not Established.
    pub received: u64,
    pub accepted: u64,
    pub advertised: u64,
    /// `(direction, code, subcode) → count`.
    pub notifications: Vec<((Dir, u8, u8), u64)>,
}

// ===== impl Stats =====

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

impl Stats {
    pub fn new() -> Stats {
        Stats {
            base: Instant::now(),
            ticks: AtomicU64::new(0),
            last_tick_ms: AtomicU64::new(0),
            lag_last_us: AtomicU64::new(0),
            lag_sum_us: AtomicU64::new(0),
            config_applied: AtomicBool::new(false),
            sync_done: AtomicBool::new(false),
            datastore: AtomicU8::new(DatastoreState::Unused as u8),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            rib_paths: AtomicU64::new(0),
            rib_prefixes: AtomicU64::new(0),
            fib_routes: AtomicU64::new(0),
            fib_installed: AtomicU64::new(u64::MAX),
            fib_errors: AtomicU64::new(0),
            fib_writes: AtomicU64::new(0),
            peers: RwLock::new(BTreeMap::new()),
        }
    }

    /// A config (re)load finished: counted in `wren_config_reloads_total{result}`.
    pub fn reload_result(&self, ok: bool) {
        let c = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Relaxed);
    }

    /// The datastore's state (`wren_datastore_state`, and `/readyz` while not synced).
    pub fn set_datastore(&self, s: DatastoreState) {
        self.datastore.store(s as u8, Relaxed);
    }

    /// Whether the speaker runs the current config (`/readyz`). The speaker sets it once
    /// it has started; a reload may clear it while it applies a new one.
    pub fn set_config_applied(&self, applied: bool) {
        self.config_applied.store(applied, Relaxed);
    }

    /// Copy everything out (no waiting on the owner loop).
    pub fn snapshot(&self) -> Snapshot {
        let tick_ms = self.last_tick_ms.load(Relaxed);
        let now_ms = self.now_ms();
        let fib_installed = self.fib_installed.load(Relaxed);
        Snapshot {
            ticks: self.ticks.load(Relaxed),
            since_tick: (tick_ms != 0)
                .then(|| Duration::from_millis(now_ms.saturating_sub(tick_ms))),
            lag_last: Duration::from_micros(self.lag_last_us.load(Relaxed)),
            lag_sum: Duration::from_micros(self.lag_sum_us.load(Relaxed)),
            config_applied: self.config_applied.load(Relaxed),
            sync_done: self.sync_done.load(Relaxed),
            datastore: datastore_name(self.datastore.load(Relaxed)),
            reloads_ok: self.reloads_ok.load(Relaxed),
            reloads_failed: self.reloads_failed.load(Relaxed),
            rib_paths: self.rib_paths.load(Relaxed),
            rib_prefixes: self.rib_prefixes.load(Relaxed),
            fib_routes: self.fib_routes.load(Relaxed),
            kernel: (fib_installed != u64::MAX).then(|| {
                (
                    fib_installed,
                    self.fib_errors.load(Relaxed),
                    self.fib_writes.load(Relaxed),
                )
            }),
            peers: self.peer_snapshots(now_ms),
        }
    }

    fn peer_snapshots(&self, now_ms: u64) -> Vec<PeerSnapshot> {
        let peers = match self.peers.read() {
            Ok(p) => p.values().cloned().collect::<Vec<_>>(),
            Err(_) => return Vec::new(),
        };
        peers.iter().map(|p| p.snapshot(now_ms)).collect()
    }

    pub(super) fn add_peer(&self, id: PeerId, name: &str, configured: bool) -> Arc<PeerStats> {
        let p = Arc::new(PeerStats::new(name, configured));
        if let Ok(mut peers) = self.peers.write() {
            peers.insert(id, p.clone());
        }
        p
    }

    pub(super) fn remove_peer(&self, id: PeerId) {
        if let Ok(mut peers) = self.peers.write() {
            peers.remove(&id);
        }
    }

    /// Drop the counters of peers the speaker no longer has (however they were removed).
    fn prune(&self, alive: impl Fn(PeerId) -> bool, count: usize) {
        let stale = self.peers.read().is_ok_and(|p| p.len() != count);
        if stale {
            if let Ok(mut peers) = self.peers.write() {
                peers.retain(|id, _| alive(*id));
            }
        }
    }

    fn now_ms(&self) -> u64 {
        // +1: a tick in the first millisecond is not "no tick yet".
        self.base.elapsed().as_millis() as u64 + 1
    }
}

// ===== impl PeerStats =====

impl PeerStats {
    fn new(name: &str, configured: bool) -> PeerStats {
        PeerStats {
            name: name.to_string(),
            configured,
            state: AtomicU8::new(state_code(State::Idle)),
            established_ms: AtomicU64::new(0),
            flaps: AtomicU64::new(0),
            updates_in: AtomicU64::new(0),
            updates_out: AtomicU64::new(0),
            received: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            advertised: AtomicU64::new(0),
            notifications: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn set_state(&self, s: State, stats: &Stats) {
        self.state.store(state_code(s), Relaxed);
        if s == State::Established {
            self.established_ms.store(stats.now_ms(), Relaxed);
        }
    }

    /// The session went down: a flap if it was Established; its NOTIFICATION, if any.
    pub(super) fn down(&self, reason: &DownReason, was_established: bool) {
        if was_established {
            self.flaps.fetch_add(1, Relaxed);
        }
        match reason {
            DownReason::NotificationReceived(n) => self.notification(Dir::Received, n),
            DownReason::NotificationSent(n, _) => self.notification(Dir::Sent, n),
            _ => {}
        }
    }

    pub(super) fn notification(&self, dir: Dir, n: &NotificationMsg) {
        if let Ok(mut m) = self.notifications.lock() {
            *m.entry((dir, n.code, n.subcode)).or_insert(0) += 1;
        }
    }

    pub(super) fn update_in(&self) {
        self.updates_in.fetch_add(1, Relaxed);
    }

    /// `n` UPDATE messages were queued for the peer ([`count_updates`]).
    pub(super) fn sent(&self, n: u64) {
        if n > 0 {
            self.updates_out.fetch_add(n, Relaxed);
        }
    }

    fn set_counts(&self, c: &crate::rib::PeerCounts) {
        self.received.store(c.received, Relaxed);
        self.accepted.store(c.accepted, Relaxed);
        self.advertised.store(c.advertised, Relaxed);
    }

    fn snapshot(&self, now_ms: u64) -> PeerSnapshot {
        let state = state_of(self.state.load(Relaxed));
        let up = state == State::Established;
        let notifications = match self.notifications.lock() {
            Ok(m) => m.iter().map(|(k, v)| (*k, *v)).collect(),
            Err(_) => Vec::new(),
        };
        PeerSnapshot {
            name: self.name.clone(),
            configured: self.configured,
            state,
            uptime_secs: if up {
                now_ms.saturating_sub(self.established_ms.load(Relaxed)) / 1000
            } else {
                0
            },
            flaps: self.flaps.load(Relaxed),
            updates_in: self.updates_in.load(Relaxed),
            updates_out: self.updates_out.load(Relaxed),
            received: if up { self.received.load(Relaxed) } else { 0 },
            accepted: if up { self.accepted.load(Relaxed) } else { 0 },
            advertised: if up { self.advertised.load(Relaxed) } else { 0 },
            notifications,
        }
    }
}

// ===== impl Owner: the tick =====

impl Owner {
    /// The periodic tick, `due` when it was scheduled: how late it runs is the loop's lag.
    /// Refreshes the sampled gauges (O(peers), no walk over routes).
    pub(super) fn on_tick(&mut self, due: tokio::time::Instant) {
        self.log_summaries();
        let s = &self.stats;
        let lag = tokio::time::Instant::now().saturating_duration_since(due);
        let lag_us = lag.as_micros().min(u64::MAX as u128) as u64;
        s.lag_last_us.store(lag_us, Relaxed);
        s.lag_sum_us.fetch_add(lag_us, Relaxed);
        s.ticks.fetch_add(1, Relaxed);
        s.last_tick_ms.store(s.now_ms(), Relaxed);
        if s.ticks.load(Relaxed) == 1 {
            s.set_config_applied(true);
        }
        s.sync_done.store(self.sync.is_done(), Relaxed);
        s.prune(|id| self.peers.contains_key(&id), self.peers.len());
        let mut paths = self.cfg.originate.len() as u64;
        for (id, p) in &self.peers {
            if p.known {
                let c = self.rib.counts(*id);
                paths += c.accepted;
                p.stats.set_counts(&c);
            }
        }
        s.rib_paths.store(paths, Relaxed);
        s.rib_prefixes
            .store(self.rib.prefix_count() as u64, Relaxed);
        s.fib_routes.store(self.fib.route_count() as u64, Relaxed);
        if let Some(k) = self.fib.kernel_stats() {
            s.fib_installed.store(k.installed, Relaxed);
            s.fib_errors.store(k.refused, Relaxed);
            s.fib_writes.store(k.writes, Relaxed);
        }
    }

    /// A span naming the peer, for the owner's logs about it: `WREN_LOG` / `wren
    /// log-level --peer` directives such as `[{peer=n2}]=debug` match it.
    pub(super) fn peer_span(&self, id: PeerId) -> tracing::Span {
        match self.peers.get(&id) {
            Some(p) => tracing::info_span!("peer", peer = %p.name),
            None => tracing::Span::none(),
        }
    }
}

// ===== helper functions =====

/// The prefixes an event carries (1 for the others).
pub(super) fn weight(ev: &crate::net::PeerEvent) -> usize {
    match ev {
        crate::net::PeerEvent::Update { msg, .. } => 1 + msg.nlri.len() + msg.withdrawn.len(),
        _ => 1,
    }
}

/// The BGP FSM state number (RFC 4271 §8.2.2 order; as in the BGP4-MIB `bgpPeerState`).
pub fn state_code(s: State) -> u8 {
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

fn state_of(code: u8) -> State {
    match code {
        2 => State::Connect,
        3 => State::Active,
        4 => State::OpenSent,
        5 => State::OpenConfirm,
        6 => State::Established,
        _ => State::Idle,
    }
}

fn datastore_name(code: u8) -> &'static str {
    match code {
        1 => "syncing",
        2 => "synced",
        3 => "error",
        _ => "unused",
    }
}

/// UPDATE messages (type 2) among whole BGP messages (RFC 4271 §4.1 header: 16-byte
/// marker, 2-byte length, 1-byte type). Stops at a length that does not fit.
pub(super) fn count_updates(mut b: &[u8]) -> u64 {
    let mut n = 0;
    while b.len() >= 19 {
        let len = u16::from_be_bytes([b[16], b[17]]) as usize;
        if b[18] == 2 {
            n += 1;
        }
        if len < 19 || len > b.len() {
            break;
        }
        b = &b[len..];
    }
    n
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u8, len: usize) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&(len as u16).to_be_bytes());
        m.push(kind);
        m.resize(len, 0);
        m
    }

    #[test]
    fn counts_updates_among_messages() {
        let mut b = msg(2, 23);
        b.extend(msg(4, 19));
        b.extend(msg(2, 30));
        assert_eq!(count_updates(&b), 2);
        assert_eq!(count_updates(&b[..10]), 0);
        let mut bad = msg(2, 19);
        bad[17] = 3; // length 3: the rest cannot be walked
        bad.extend(msg(2, 19));
        assert_eq!(count_updates(&bad), 1);
    }

    #[test]
    fn snapshot_reports_what_the_hooks_counted() {
        let s = Stats::new();
        let p = s.add_peer(1, "n2", true);
        p.set_state(State::Established, &s);
        p.update_in();
        p.sent(count_updates(&msg(2, 23)));
        let n = NotificationMsg {
            code: 6,
            subcode: 2,
            data: Vec::new(),
        };
        p.down(&DownReason::NotificationReceived(n), true);
        p.set_state(State::Idle, &s);
        s.reload_result(false);
        s.set_datastore(DatastoreState::Synced);
        let snap = s.snapshot();
        assert_eq!(snap.since_tick, None, "no tick yet");
        assert_eq!((snap.reloads_ok, snap.reloads_failed), (0, 1));
        assert_eq!(snap.datastore, "synced");
        let ps = &snap.peers[0];
        assert_eq!((ps.state, ps.flaps), (State::Idle, 1));
        assert_eq!((ps.updates_in, ps.updates_out), (1, 1));
        assert_eq!(ps.notifications, vec![((Dir::Received, 6, 2), 1)]);
        s.add_peer(2, "n3", false);
        s.prune(|id| id == 2, 1);
        assert_eq!(s.snapshot().peers.len(), 1, "peer 1 is gone");
        s.remove_peer(2);
        assert!(s.snapshot().peers.is_empty());
    }
}
