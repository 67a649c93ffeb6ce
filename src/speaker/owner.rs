//! The owner loop: every input is handled here, in order, without awaiting I/O.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use super::gate::{Gate, Held};
use super::host::Host;
use super::io::{SessionTx, Sessions};
use super::peer::{self, SessionAddrs};
use super::restart::{hard_reset_if_n, Restart};
use super::stats::{Dir, PeerStats, Stats, TICK};
use super::sync::{InitialSync, INITIAL_SYNC_MAX};
use super::ControlMsg;
use crate::config::{Config, PeerAddress, PeerCfg};
use crate::control::{Request, Response};
use crate::fib::FibSink;
use crate::fsm::{DownReason, Negotiated, State};
use crate::net::{PeerEvent, SessionCmd};
use crate::rib::{FibChange, FibKind, Prefix, Rib, RibCfg};
use crate::wire::{Family, NotificationMsg, Prefix4, Prefix6};

pub use crate::rib::PeerId;

/// Events handled before a flush, so control replies stay prompt under load.
const DRAIN: usize = 256;
/// Prefixes (announced + withdrawn) handled before a flush, for the same reason.
const DRAIN_PREFIXES: usize = 16_384;
/// After a session is stopped for too many prefixes, start it again after this long.
const MAX_PREFIX_RESTART: Duration = Duration::from_secs(60);
/// How long a stop waits for the connections' writers to send their Cease.
const WRITER_FLUSH: Duration = Duration::from_millis(200);

/// Timers fire as events back into the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerEvent {
    /// The graceful-restart time of the peer's `gen`-th down ran out.
    StaleExpired { peer: PeerId, gen: u64 },
    /// The long-lived stale time of one family ran out (RFC 9494); `gen`: its timer's token.
    LlgrExpired {
        peer: PeerId,
        gen: u64,
        family: Family,
    },
    /// Start the session again (after a `max_prefix` stop).
    Restart { peer: PeerId },
    /// The initial kernel sync waited long enough, whatever happened (safety net).
    InitialSyncTimeout,
    /// The configured peers not up by now are not waited for by the initial sync.
    PeersAbsent,
    /// The initial sync waited long enough for this peer's End-of-RIB.
    EorWait { peer: PeerId },
    /// Other programs' kernel routes changed (`[fib] learn`; not a timer).
    Learned(Vec<crate::fib::netlink::Learned>),
}

/// The loop's input channels.
pub struct Inputs {
    pub events: mpsc::Receiver<PeerEvent>,
    pub control: mpsc::Receiver<ControlMsg>,
    pub timers: mpsc::UnboundedReceiver<TimerEvent>,
    /// Stop; `true`: withdraw (Cease, kernel routes removed unless `persist`).
    pub stop: oneshot::Receiver<bool>,
}

/// One peer as the speaker knows it.
pub struct Peer {
    pub cfg: PeerCfg,
    pub name: String,
    pub address: IpAddr,
    /// Created for a connection from a passive range.
    pub dynamic: bool,
    pub session: Box<dyn SessionTx>,
    pub state: State,
    pub since: Instant,
    /// The last down: the sentence and when; how many downs so far.
    pub last_down: Option<(String, Instant)>,
    /// Why the session was lost (it was Established, or a NOTIFICATION went either way),
    /// kept until it is up again so that later failed attempts do not hide it.
    cause: Option<String>,
    pub down_count: u64,
    /// Set while Established.
    pub neg: Option<Negotiated>,
    /// The Established session's addresses and our GR flags (`show peers --detail`).
    pub up: Option<super::detail::UpInfo>,
    /// Between peer_up and peer_down in the RIB.
    pub in_rib: bool,
    /// The RIB has heard of this peer (its counts and paths are meaningful).
    pub known: bool,
    /// Generation of the graceful-restart timer; `stale` while one is running.
    pub stale_gen: u64,
    pub stale: bool,
    /// Long-lived graceful restart as the peer's helper (src/speaker/llgr.rs).
    pub llgr: super::llgr::Llgr,
    /// A down reason not yet logged with its state change.
    pending_reason: Option<String>,
    /// Why the speaker itself stopped the session (max_prefix): shown as the down
    /// reason instead of the session's plain "stopped".
    pub(super) stop_reason: Option<String>,
    /// `wren peer disable`: the message sent; the session stays down until enabled.
    pub disabled: Option<String>,
    /// Its counters for `/metrics` (src/speaker/stats.rs).
    pub stats: Arc<PeerStats>,
}

/// The speaker's state.
pub struct Owner {
    pub cfg: Config,
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    pub host: Host,
    pub rib: Rib,
    pub(super) dirty: bool,
    pub fib: Box<dyn FibSink>,
    pub(super) sessions: Box<dyn Sessions>,
    pub peers: BTreeMap<PeerId, Peer>,
    /// Passive ranges (`address = "prefix"`): connections from them create dynamic peers.
    pub(super) ranges: Vec<(IpNet, PeerCfg)>,
    next_id: PeerId,
    pub(super) timers: mpsc::UnboundedSender<TimerEvent>,
    pub started: Instant,
    /// End-of-RIBs still owed before the FIB drops the routes it adopted at start.
    pub(super) sync: InitialSync,
    /// What this start inherited (R and F bits, kernel changes held until the sync).
    pub(super) restart: Restart,
    /// Told `true` once the initial sync is done (systemd READY=1).
    pub(super) synced: Option<watch::Sender<bool>>,
    /// Outputs held until the kernel has a new blackhole.
    gate: Gate,
    /// The config file `wren reload` (and SIGHUP) re-reads, if any.
    pub config_path: Option<std::path::PathBuf>,
    /// What `/metrics` and the health endpoints read.
    pub stats: Arc<Stats>,
    /// Repeated state-change lines, summarised (src/speaker/logs.rs).
    pub(super) state_log: super::logs::StateLog,
    /// When the next flush may run (src/speaker/send.rs).
    pub(super) pace: super::send::Pace,
    /// What the control socket answers without asking (src/speaker/snapshot.rs).
    pub(super) snap: super::snapshot::Publisher,
}

// ===== impl Owner: setup and loop =====

impl Owner {
    pub fn new(
        cfg: Config,
        host: Host,
        fib: Box<dyn FibSink>,
        sessions: Box<dyn Sessions>,
        timers: mpsc::UnboundedSender<TimerEvent>,
    ) -> std::io::Result<Owner> {
        let local_as = cfg.router.asn.0;
        let router_id = cfg.router.router_id.unwrap_or_else(|| host.router_id());
        let mut rib = Rib::new(RibCfg {
            local_as,
            router_id,
            cluster_id: cfg.router.cluster_id.unwrap_or(router_id),
            multipath: cfg.fib.multipath(),
            fib: cfg.fib.enabled,
        });
        rib.set_kernel_filter(peer::kernel_filter(&cfg));
        let mut owner = Owner {
            cfg,
            local_as,
            router_id,
            host,
            rib,
            dirty: false,
            restart: Restart::detect(fib.as_ref()),
            synced: None,
            fib,
            sessions,
            peers: BTreeMap::new(),
            ranges: Vec::new(),
            next_id: 1,
            timers,
            started: Instant::now(),
            sync: InitialSync::default(),
            gate: Gate::default(),
            config_path: None,
            stats: Arc::new(Stats::new()),
            state_log: super::logs::new_state_log(),
            pace: Default::default(),
            snap: Default::default(),
        };
        owner.add_configured_peers()?;
        owner.sync = InitialSync::new(owner.peers.keys().copied());
        Ok(owner)
    }

    pub(super) fn add_configured_peers(&mut self) -> std::io::Result<()> {
        for p in self.cfg.peers.clone() {
            match p.address {
                PeerAddress::Addr(a) => {
                    if let Some(f) = &p.password_file {
                        let key = peer::read_md5_key(f)?;
                        self.sessions.set_md5(a, Some(key));
                    }
                    self.add_peer(p, a, false)?;
                }
                PeerAddress::Range(net) => {
                    if p.password_file.is_some() {
                        warn!("peer range {net}: TCP-MD5 on ranges is not supported yet; connections from it are accepted without a key");
                    }
                    self.ranges.push((net, p));
                }
            }
        }
        Ok(())
    }

    /// Create a peer and its session (not started yet).
    pub(super) fn add_peer(
        &mut self,
        cfg: PeerCfg,
        address: IpAddr,
        dynamic: bool,
    ) -> std::io::Result<PeerId> {
        let id = self.next_id;
        self.next_id += 1;
        let mut scfg = peer::session_cfg(&cfg, address, self.local_as, self.router_id);
        // RFC 4724 §3 R and F bits, RFC 8538 N bit.
        self.restart
            .flags(&mut scfg.capabilities, !self.sync.is_done());
        let transport = peer::transport(&cfg, address, self.local_as)?;
        let name = if dynamic {
            address.to_string()
        } else {
            cfg.display_name()
        };
        // The session task runs in the peer's span (per-peer log filters).
        let span = tracing::info_span!("peer", peer = %name);
        let session = span.in_scope(|| self.sessions.spawn(id, scfg, transport));
        let stats = self.stats.add_peer(id, &name, !dynamic);
        let peer = Peer {
            cfg,
            name,
            address,
            dynamic,
            session,
            state: State::Idle,
            since: Instant::now(),
            last_down: None,
            cause: None,
            down_count: 0,
            neg: None,
            up: None,
            in_rib: false,
            known: false,
            stale_gen: 0,
            stale: false,
            llgr: Default::default(),
            pending_reason: None,
            stop_reason: None,
            disabled: None,
            stats,
        };
        self.peers.insert(id, peer);
        Ok(id)
    }

    /// Originate the configured prefixes and start every session.
    fn start(&mut self) {
        for o in self.cfg.originate.clone() {
            if let Some(prefix) = prefix_of(o.prefix) {
                self.rib.originate(prefix, o.blackhole);
                self.dirty = true;
            }
        }
        for p in self.peers.values() {
            p.session.send(SessionCmd::Start);
        }
        arm(
            &self.timers,
            INITIAL_SYNC_MAX,
            TimerEvent::InitialSyncTimeout,
        );
        self.arm_sync_timers();
        info!(
            "speaker started: AS {}, router ID {}, {} peers, {} ranges, {} originated prefixes",
            self.local_as,
            self.router_id,
            self.peers.len(),
            self.ranges.len(),
            self.cfg.originate.len()
        );
    }

    pub async fn run(mut self, mut inp: Inputs) {
        self.start();
        self.flush();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let withdraw = loop {
            let mut barrier = self.gate.take_barrier();
            let mut opened = false;
            let paced = self.pace_due();
            let publish = self.snap.due();
            tokio::select! {
                biased;
                w = &mut inp.stop => break w.unwrap_or(false),
                _ = async {
                    if let Some(b) = barrier.as_mut() {
                        b.await;
                    }
                }, if barrier.is_some() => {
                    opened = true;
                }
                due = tick.tick() => self.on_tick(due),
                Some(t) = inp.timers.recv() => self.on_timer(t),
                Some(ev) = inp.events.recv() => {
                    self.on_event(ev);
                    self.drain(&mut inp.events, Some(&inp.control));
                }
                Some((req, reply)) = inp.control.recv() => {
                    self.flush();
                    if let Some(w) = self.dispatch(req, reply) {
                        break w;
                    }
                }
                _ = super::send::until(paced), if paced.is_some() => {}
                _ = super::send::until(publish), if publish.is_some() => {}
                else => break false,
            }
            if opened {
                self.release();
            } else if let Some(b) = barrier {
                self.gate.restore(b);
            }
            // Events never starve control requests: answer the waiting ones after each
            // batch, once the events queued before them are handled (a tick or a timer
            // may have woken the loop), so that a reply reflects them.
            if !inp.control.is_empty() {
                self.drain(&mut inp.events, None);
            }
            self.flush_paced(!inp.control.is_empty());
            let mut stop = None;
            while let Ok((req, reply)) = inp.control.try_recv() {
                stop = stop.or(self.dispatch(req, reply));
            }
            self.turn_ended();
            if let Some(w) = stop {
                break w;
            }
        };
        self.shutdown(&mut inp.events, withdraw).await;
    }

    /// Handle up to [`DRAIN`] events (and [`DRAIN_PREFIXES`] prefixes) that are already
    /// queued; with `control`, stop early once a request waits there, so that it waits for
    /// the flush of a partial batch at most (control-latency.sh: up to 0.5 s before).
    fn drain(
        &mut self,
        events: &mut mpsc::Receiver<PeerEvent>,
        control: Option<&mpsc::Receiver<ControlMsg>>,
    ) {
        let mut work = 0;
        for _ in 0..DRAIN {
            match events.try_recv() {
                Ok(ev) => {
                    work += super::stats::weight(&ev);
                    self.on_event(ev);
                }
                Err(_) => break,
            }
            if work >= DRAIN_PREFIXES || control.is_some_and(|c| !c.is_empty()) {
                break;
            }
        }
    }

    /// Answer a control request; `Some(withdraw)` when it asks the speaker to stop.
    fn dispatch(
        &mut self,
        req: Request,
        reply: oneshot::Sender<Result<Response, String>>,
    ) -> Option<bool> {
        if let Request::Stop { withdraw } = req {
            let how = if withdraw {
                "stopping: withdrawing routes (Cease to every peer)"
            } else {
                "stopping gracefully: peers keep our routes as stale, kernel routes stay"
            };
            let _ = reply.send(Ok(Response::Done(how.to_string())));
            return Some(withdraw);
        }
        if matches!(req, Request::ShowFibDiff) {
            self.fib_diff(reply);
            return None;
        }
        let _ = reply.send(self.control_published(req));
        None
    }

    /// Stop every session, then wait (briefly) until they are all Idle. Graceful: no
    /// NOTIFICATION (RFC 4724 §4: the peers keep our routes as stale) and the kernel
    /// routes stay; `withdraw`: Cease (Administrative Shutdown) and the kernel routes go
    /// unless `persist`.
    async fn shutdown(&mut self, events: &mut mpsc::Receiver<PeerEvent>, withdraw: bool) {
        if withdraw {
            info!("shutting down: Cease (administrative shutdown) to every peer");
        } else {
            info!("shutting down gracefully: closing sessions without NOTIFICATION (graceful restart), kernel routes stay");
        }
        for (id, p) in &self.peers {
            let n = self.stop_notification(*id, withdraw);
            p.session.send(SessionCmd::Stop(n));
        }
        let deadline = tokio::time::Instant::now() + super::SHUTDOWN_GRACE;
        while self.peers.values().any(|p| p.state != State::Idle) {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(ev)) => self.on_event(ev),
                _ => break,
            }
        }
        // No flush here: the sessions going down withdraw their routes in the RIB, and
        // that must not reach the kernel (`persist` keeps them; without it `close` removes
        // them all below).
        // A session is Idle as soon as it has queued its Cease; the connection's writer
        // task sends it afterwards. Give the writers a moment before the runtime (and
        // they with it) goes away, or the peer sees the TCP close without the Cease
        // (interop `lifecycle` case: about one stop in seven lost it).
        tokio::time::sleep(WRITER_FLUSH).await;
        if withdraw {
            // Without `persist`, the kernel FIB removes our routes now.
            self.fib.close();
        } else {
            self.fib.close_keep();
        }
    }

    // ===== inputs =====

    pub fn on_event(&mut self, ev: PeerEvent) {
        match ev {
            PeerEvent::State { peer, from, to } => {
                let _g = self.peer_span(peer).entered();
                self.on_state(peer, from, to)
            }
            PeerEvent::Up {
                peer,
                neg,
                local,
                remote,
            } => {
                let _g = self.peer_span(peer).entered();
                self.on_up(peer, neg, SessionAddrs { local, remote })
            }
            PeerEvent::Update {
                peer,
                msg,
                findings,
            } => {
                if let Some(p) = self.peers.get(&peer) {
                    p.stats.update_in();
                }
                if self.peers.get(&peer).is_some_and(|p| p.in_rib) {
                    if let Some(family) = msg.end_of_rib() {
                        self.sync.end_of_rib(peer, family);
                        self.llgr_end_of_rib(peer, family);
                    }
                    self.rib.update(peer, msg, &findings);
                    self.dirty = true;
                }
            }
            PeerEvent::RouteRefresh { peer, msg } => {
                // RFC 7313 §4: only a normal request (subtype 0) asks for the routes.
                let request = msg.subtype == crate::wire::route_refresh::subtype::NORMAL;
                if request && self.peers.get(&peer).is_some_and(|p| p.in_rib) {
                    self.rib.refresh(peer, msg.family);
                    self.dirty = true;
                }
            }
            PeerEvent::Down {
                peer,
                reason,
                was_established,
            } => {
                let _g = self.peer_span(peer).entered();
                self.on_down(peer, reason, was_established)
            }
            PeerEvent::Inbound { stream, remote, .. } => self.on_inbound(stream, remote),
        }
    }

    fn on_state(&mut self, id: PeerId, from: State, to: State) {
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        p.state = to;
        p.since = Instant::now();
        p.stats.set_state(to, &self.stats);
        let why = p.pending_reason.take();
        super::logs::state_change(&mut self.state_log, &p.name, from, to, why);
    }

    fn on_up(&mut self, id: PeerId, neg: Negotiated, addrs: SessionAddrs) {
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        if p.in_rib {
            self.rib.peer_down(id, false);
        }
        let fams: Vec<String> = neg.families.iter().map(|f| f.to_string()).collect();
        info!(
            "peer {} established: AS {}, ID {}, {} -> {}, families {}",
            p.name,
            neg.peer_as,
            neg.peer_id,
            addrs.local,
            addrs.remote,
            fams.join(" ")
        );
        let info = peer::peer_info(
            id,
            &p.name,
            &p.cfg,
            neg.clone(),
            addrs,
            self.local_as,
            &self.host,
            &self.cfg.policies,
        );
        let families = neg.families.clone();
        // RFC 4724 §4.1: only graceful-restart peers promise an End-of-RIB.
        let gr = p.cfg.graceful_restart && neg.peer_gr.is_some();
        p.cause = None;
        p.up = Some(super::detail::up_info(
            &p.cfg,
            addrs,
            &self.restart,
            !self.sync.is_done(),
        ));
        p.neg = Some(neg);
        p.in_rib = true;
        p.known = true;
        self.rib.peer_up(info);
        self.dirty = true;
        self.sync_peer_up(id, &families, gr);
    }

    fn on_down(&mut self, id: PeerId, reason: DownReason, was_established: bool) {
        self.sync_peer_down(id, &reason, was_established);
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        let why = match (p.stop_reason.take(), &reason) {
            (Some(own), DownReason::Stopped) => own,
            _ => reason.to_string(),
        };
        tracing::debug!("peer {} down: {why}", p.name);
        let lost = was_established
            || matches!(
                reason,
                DownReason::NotificationReceived(_) | DownReason::NotificationSent(..)
            );
        let shown = match (&p.cause, lost) {
            (Some(cause), false) if *cause != why => format!("{cause}; since then: {why}"),
            _ => why.clone(),
        };
        if lost {
            p.cause = Some(why.clone());
        }
        p.last_down = Some((shown, Instant::now()));
        p.down_count += 1;
        p.stats.down(&reason, was_established);
        p.pending_reason = Some(why);
        let neg = p.neg.take();
        p.up = None;
        if p.in_rib {
            self.helper_down(id, neg.as_ref(), &reason, was_established);
        }
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        if p.dynamic && !p.stale {
            let why = p.pending_reason.take().unwrap_or_default();
            self.remove_peer(id, &why);
        }
    }

    fn on_inbound(&mut self, stream: tokio::net::TcpStream, remote: SocketAddr) {
        let ip = remote.ip().to_canonical();
        let found = self
            .peers
            .iter()
            .find(|(_, p)| p.address == ip)
            .map(|(id, _)| *id);
        let id = match found {
            Some(id) => Some(id),
            None => self.dynamic_peer(ip),
        };
        match id.and_then(|id| self.peers.get(&id)) {
            Some(p) => p.session.send(SessionCmd::Incoming(stream)),
            None => info!("refused a connection from {remote}: not a configured peer"),
        }
    }

    /// A connection from a passive range: create a peer named after its address.
    fn dynamic_peer(&mut self, ip: IpAddr) -> Option<PeerId> {
        let (_, range_cfg) = self.ranges.iter().find(|(net, _)| net.contains(&ip))?;
        let mut cfg = range_cfg.clone();
        cfg.address = PeerAddress::Addr(ip);
        cfg.passive = true;
        match self.add_peer(cfg, ip, true) {
            Ok(id) => {
                info!("peer {ip}: new dynamic peer from a passive range");
                if let Some(p) = self.peers.get(&id) {
                    p.session.send(SessionCmd::Start);
                }
                Some(id)
            }
            Err(e) => {
                warn!("peer {ip}: cannot create a dynamic peer: {e}");
                None
            }
        }
    }

    pub(super) fn remove_peer(&mut self, id: PeerId, why: &str) {
        if let Some(p) = self.peers.remove(&id) {
            self.stats.remove_peer(id);
            p.session.send(SessionCmd::Stop(None));
            info!(
                "peer {}: {} -> removed (dynamic peer): {why}",
                p.name,
                name(p.state)
            );
        }
    }

    pub fn on_timer(&mut self, t: TimerEvent) {
        match t {
            TimerEvent::InitialSyncTimeout => {
                if !self.sync.is_done() {
                    self.flush_now();
                    self.finish_sync(true);
                }
            }
            TimerEvent::PeersAbsent | TimerEvent::EorWait { .. } => self.on_sync_timer(t),
            TimerEvent::Learned(v) => self.on_learned(v),
            TimerEvent::StaleExpired { peer, gen } => self.on_stale_expired(peer, gen),
            TimerEvent::LlgrExpired { peer, gen, family } => {
                self.on_llgr_expired(peer, gen, family)
            }
            TimerEvent::Restart { peer } => {
                if let Some(p) = self.peers.get(&peer).filter(|p| p.disabled.is_none()) {
                    p.session.send(SessionCmd::Start);
                }
            }
        }
    }

    // ===== outputs =====

    /// Decide what changed and carry it out: FIB, sends, FIB after, stops.
    pub fn flush(&mut self) {
        if self.dirty {
            self.flush_now();
        }
        self.finish_sync(false);
    }

    pub(super) fn flush_now(&mut self) {
        self.dirty = false;
        let out = self.rib.flush();
        let fib = self.restart.filter(out.fib, !self.sync.is_done());
        if !fib.is_empty() {
            self.fib.apply(&fib);
            if fib.iter().any(is_blackhole) {
                // Advertise a block only once its blackhole is in the kernel.
                if let Some(b) = self.fib.barrier() {
                    self.gate.close(b);
                }
            }
        }
        let held = out.sends.into_iter().map(Held::Send);
        let after = (!out.fib_after.is_empty()).then_some(Held::FibAfter(out.fib_after));
        let stops = out.stop.into_iter().map(|(id, n)| Held::Stop(id, n));
        let all = held.chain(after).chain(stops);
        if self.gate.is_closed() {
            all.for_each(|h| self.gate.hold(h));
        } else {
            self.carry_out_all(all);
        }
    }

    /// The kernel caught up: carry out what was held, in order.
    fn release(&mut self) {
        let held = self.gate.opened();
        self.carry_out_all(held);
    }

    /// One output (sends go through [`Owner::carry_out_all`], gathered per peer).
    pub(super) fn carry_out(&mut self, h: Held) {
        match h {
            Held::Send(o) => self.carry_out_all([Held::Send(o)]),
            Held::FibAfter(changes) => {
                let now = self.restart.filter(changes, !self.sync.is_done());
                if !now.is_empty() {
                    self.fib.apply(&now);
                }
            }
            Held::Stop(id, n) => self.stop_for_max_prefix(id, n),
        }
    }

    fn stop_for_max_prefix(&mut self, id: PeerId, n: NotificationMsg) {
        if let Some(p) = self.peers.get_mut(&id) {
            p.stop_reason = Some(format!(
                "more than max_prefix = {} prefixes received (sent NOTIFICATION {}/{}: {n})",
                p.cfg.max_prefix.unwrap_or(0),
                n.code,
                n.subcode
            ));
            warn!(
                "peer {}: stopping the session (NOTIFICATION {}/{}); restart in {} s",
                p.name,
                n.code,
                n.subcode,
                MAX_PREFIX_RESTART.as_secs()
            );
            // RFC 8538 §5: Maximum Number of Prefixes Reached ends graceful restart.
            let n = hard_reset_if_n(n, p.cfg.graceful_restart, p.neg.as_ref());
            p.stats.notification(Dir::Sent, &n);
            p.session.send(SessionCmd::Stop(Some(n)));
            arm(
                &self.timers,
                MAX_PREFIX_RESTART,
                TimerEvent::Restart { peer: id },
            );
        }
    }
}

// ===== helper functions =====

fn is_blackhole(c: &FibChange) -> bool {
    matches!(c, FibChange::Upsert(r) if r.kind == FibKind::Blackhole)
}

/// Send `ev` back into the loop after `after`.
pub(super) fn arm(timers: &mpsc::UnboundedSender<TimerEvent>, after: Duration, ev: TimerEvent) {
    let tx = timers.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let _ = tx.send(ev);
    });
}

/// The lowercase state names of `show peers`.
pub fn name(s: State) -> &'static str {
    match s {
        State::Idle => "idle",
        State::Connect => "connect",
        State::Active => "active",
        State::OpenSent => "opensent",
        State::OpenConfirm => "openconfirm",
        State::Established => "established",
    }
}

/// A config prefix as a RIB prefix (`None` cannot happen: ipnet lengths are in range).
pub fn prefix_of(n: IpNet) -> Option<Prefix> {
    match n {
        IpNet::V4(n) => Prefix4::new(u32::from(n.network()), n.prefix_len()).map(Prefix::V4),
        IpNet::V6(n) => Prefix6::new(u128::from(n.network()), n.prefix_len()).map(Prefix::V6),
    }
}

/// A RIB prefix as text, e.g. `10.65.0.0/26`.
pub fn prefix_str(p: &Prefix) -> String {
    match p {
        Prefix::V4(p) => p.to_string(),
        Prefix::V6(p) => p.to_string(),
    }
}
