//! The session task: one per peer. It owns the [`fsm::Session`], its timers and the
//! connection, and carries out the FSM's actions.
//!
//! ```text
//!   speaker ──SessionCmd (unbounded)──> session task ──(PeerEvent, credit)──> forwarder ──> speaker
//!                                        ^   │ Out                           (the only part that
//!                 reader task ─ConnEvent─┘   v                                awaits the events channel)
//!                 (frame + decode,       writer task
//!                  waits for credits)    (batches, reports progress)
//! ```
//!
//! The session task never awaits the speaker: keepalives and the hold timer keep running
//! when the speaker is busy. Backpressure applies to the reader only: it takes a credit
//! for each UPDATE / ROUTE-REFRESH, released once the speaker has received it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::conn;
use super::frame::{read_loop, write_loop, ConnEvent, FrameReader, Out, ReadError};
use super::{PeerEvent, SessionCmd, SessionHandle, Transport};
use crate::fsm::{self, Action, ConnDirection, Event, Negotiated, SessionCfg, State, Timer};
use crate::rib::PeerId;
use crate::wire::{self, Ctx, Finding, Message, Treatment, UpdateMsg, WireError};

/// UPDATE / ROUTE-REFRESH messages read but not yet taken by the speaker.
const READ_CREDITS: usize = 64;
/// How long a closing connection may take to flush its last messages (a NOTIFICATION).
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Events on their way to the speaker, with the reader credit they hold.
pub(super) type Outbox = mpsc::UnboundedSender<(PeerEvent, Option<OwnedSemaphorePermit>)>;

/// One transport connection: its reader and writer tasks.
pub(super) struct Conn {
    pub id: u64,
    pub dir: ConnDirection,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// Decode context the reader uses; set once the OPENs are exchanged.
    ctx: watch::Sender<Ctx>,
    /// Encode context for the FSM's messages, once negotiated.
    pub enc: Option<Ctx>,
    out: mpsc::UnboundedSender<Out>,
    reader: JoinHandle<()>,
    writer: Option<JoinHandle<()>>,
}

/// The session task's state.
pub(super) struct Task {
    pub peer: PeerId,
    pub cfg: SessionCfg,
    pub t: Transport,
    pub fsm: fsm::Session,
    timers: [Option<Instant>; 4],
    pub conn: Option<Conn>,
    /// A second connection while OPENs are exchanged (RFC 4271 §6.8).
    pub shadow: Option<super::collision::Shadow>,
    connecting: Option<(u64, JoinHandle<()>)>,
    next_id: u64,
    established: bool,
    /// The reader waits for the speaker: the hold timer must not blame the peer.
    stalled: bool,
    /// When the current connection last brought a message.
    pub last_rx: Instant,
    outbox: Outbox,
    conn_tx: mpsc::UnboundedSender<(u64, ConnEvent)>,
    credits: Arc<Semaphore>,
}

// ===== impl Conn =====

impl Conn {
    /// Split `stream` into reader and writer tasks that report to `tx` as `id`.
    pub fn open(
        stream: TcpStream,
        dir: ConnDirection,
        id: u64,
        tx: &mpsc::UnboundedSender<(u64, ConnEvent)>,
        credits: &Arc<Semaphore>,
    ) -> std::io::Result<Conn> {
        let local = stream.local_addr()?;
        let remote = stream.peer_addr()?;
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let (ctx, ctx_rx) = watch::channel(Ctx::default());
        let (out, out_rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_loop(
            FrameReader::new(rd, ctx_rx),
            id,
            tx.clone(),
            credits.clone(),
        ));
        let writer = tokio::spawn(write_loop(wr, out_rx, id, tx.clone()));
        Ok(Conn {
            id,
            dir,
            local,
            remote,
            ctx,
            enc: None,
            out,
            reader,
            writer: Some(writer),
        })
    }

    /// Queue bytes for the writer.
    pub fn write(&self, b: Bytes) {
        let _ = self.out.send(Out::Data(b));
    }

    /// Queue several runs of bytes, written together.
    pub fn write_all(&self, runs: Vec<Arc<[u8]>>) {
        let _ = self.out.send(Out::Runs(runs));
    }

    /// Encode and queue one message.
    pub fn send(&self, msg: &Message) {
        let ctx = self.enc.clone().unwrap_or_default();
        match wire::encode_to_vec(msg, &ctx) {
            Ok(v) => self.write(Bytes::from(v)),
            Err(e) => warn!(remote = %self.remote, "cannot encode a message to send: {e}"),
        }
    }

    /// Use the negotiated contexts from now on.
    pub fn set_negotiated(&mut self, neg: &Negotiated) {
        self.ctx.send_replace(neg.decode_ctx());
        self.enc = Some(neg.encode_ctx());
    }
}

impl Drop for Conn {
    /// Stop reading, let the writer flush what is queued (a NOTIFICATION), then close.
    fn drop(&mut self) {
        self.reader.abort();
        let _ = self.out.send(Out::Close);
        if let (Some(w), Ok(rt)) = (self.writer.take(), tokio::runtime::Handle::try_current()) {
            // A peer that does not read must not keep the socket open for ever.
            rt.spawn(async move {
                tokio::time::sleep(CLOSE_GRACE).await;
                w.abort();
            });
        }
    }
}

// ===== impl Task =====

impl Task {
    /// Run until the speaker drops its handle.
    async fn run(
        mut self,
        mut cmds: mpsc::UnboundedReceiver<SessionCmd>,
        mut conn_rx: mpsc::UnboundedReceiver<(u64, ConnEvent)>,
    ) {
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(c) => self.on_cmd(c),
                    None => {
                        self.feed(Event::Stop(None));
                        return;
                    }
                },
                Some((id, ev)) = conn_rx.recv() => self.on_conn_event(id, ev),
                _ = sleep_until(deadline) => self.on_deadline(),
            }
        }
    }

    fn on_cmd(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Start => self.feed(Event::Start),
            SessionCmd::Stop(n) => {
                self.shadow = None;
                self.feed(Event::Stop(n));
            }
            SessionCmd::Send(bytes) => match &self.conn {
                Some(c) if self.established => c.write(Bytes::from_owner(bytes)),
                _ => debug!(peer = self.peer, "dropping output: no established session"),
            },
            SessionCmd::SendAll(runs) => match &self.conn {
                Some(c) if self.established => c.write_all(runs),
                _ => debug!(peer = self.peer, "dropping output: no established session"),
            },
            SessionCmd::Incoming(stream) => self.on_incoming(stream),
            SessionCmd::Capabilities(caps) => {
                self.cfg.capabilities = caps.clone();
                self.fsm.set_capabilities(caps);
            }
        }
    }

    /// Feed one event to the FSM and carry out its actions in order.
    pub fn feed(&mut self, ev: Event) {
        let actions = self.fsm.handle(Instant::now().into_std(), ev);
        // Before any action: the KEEPALIVE answering the peer's OPEN must only leave once
        // the reader decodes with the negotiated context.
        if let (Some(neg), Some(c)) = (self.fsm.negotiated(), self.conn.as_mut()) {
            if c.enc.is_none() {
                c.set_negotiated(neg);
            }
        }
        for a in actions {
            self.act(a);
        }
        self.reconcile_shadow();
    }

    fn act(&mut self, a: Action) {
        match a {
            Action::Connect => self.start_connect(),
            Action::Send(m) => match &self.conn {
                Some(c) => c.send(&m),
                None => debug!(peer = self.peer, "no connection for {m:?}"),
            },
            Action::CloseTcp => {
                self.conn = None;
                self.stalled = false;
                if let Some((_, h)) = self.connecting.take() {
                    h.abort();
                }
            }
            Action::Arm(t, d) => self.timers[slot(t)] = Some(Instant::now() + d),
            Action::Disarm(t) => self.timers[slot(t)] = None,
            Action::Established(neg) => self.on_established(neg),
            Action::Down(reason) => {
                let was_established = std::mem::take(&mut self.established);
                // A failed attempt is logged by the speaker (once per repeat window).
                if was_established {
                    info!(peer = self.peer, remote = %self.t.remote, "session down: {reason}");
                } else {
                    debug!(peer = self.peer, remote = %self.t.remote, "session down: {reason}");
                }
                self.emit(PeerEvent::Down {
                    peer: self.peer,
                    reason,
                    was_established,
                });
            }
            Action::StateChanged { from, to } => {
                debug!(peer = self.peer, "state {from:?} -> {to:?}");
                self.emit(PeerEvent::State {
                    peer: self.peer,
                    from,
                    to,
                });
            }
        }
    }

    fn on_established(&mut self, neg: Negotiated) {
        let Some(c) = &self.conn else { return };
        self.established = true;
        info!(peer = self.peer, local = %c.local, remote = %c.remote, "session established");
        let ev = PeerEvent::Up {
            peer: self.peer,
            neg,
            local: c.local,
            remote: c.remote,
        };
        self.emit(ev);
    }

    fn start_connect(&mut self) {
        if self.conn.is_some() {
            return;
        }
        if let Some((_, h)) = self.connecting.take() {
            h.abort();
        }
        let id = self.new_id();
        let t = self.t.clone();
        let tx = self.conn_tx.clone();
        let timeout = connect_timeout(&self.cfg);
        let h = tokio::spawn(async move {
            let r = conn::connect(&t, timeout).await;
            let _ = tx.send((id, ConnEvent::Connected(r)));
        });
        self.connecting = Some((id, h));
    }

    /// Reader and writer tasks for `stream`, reporting as `id`.
    pub fn open_conn(
        &self,
        stream: TcpStream,
        dir: ConnDirection,
        id: u64,
    ) -> std::io::Result<Conn> {
        Conn::open(stream, dir, id, &self.conn_tx, &self.credits)
    }

    /// Make `conn` the session's connection and tell the FSM.
    pub fn attach(&mut self, conn: Conn) {
        self.cancel_connect();
        self.conn = Some(conn);
        self.feed(Event::TcpConnected);
    }

    fn on_conn_event(&mut self, id: u64, ev: ConnEvent) {
        if let ConnEvent::Connected(r) = ev {
            if self.connecting.as_ref().map(|c| c.0) != Some(id) {
                return; // an attempt we gave up on; its stream is dropped
            }
            self.connecting = None;
            return match r {
                Ok(stream) => match self.open_conn(stream, ConnDirection::Outbound, id) {
                    Ok(c) => self.attach(c),
                    Err(e) => self.feed(Event::TcpFailed(conn::io_reason(&e))),
                },
                Err(why) => self.feed(Event::TcpFailed(why)),
            };
        }
        if self.shadow.as_ref().is_some_and(|s| s.conn.id == id) {
            return self.on_shadow_event(ev);
        }
        if self.conn.as_ref().map(|c| c.id) != Some(id) {
            return; // from a connection already closed
        }
        match ev {
            ConnEvent::Msg {
                msg,
                findings,
                credit,
            } => {
                self.last_rx = Instant::now();
                self.on_msg(msg, findings, credit)
            }
            ConnEvent::ReadFailed(ReadError::Wire(e)) => self.feed(Event::RecvError(e)),
            ConnEvent::ReadFailed(ReadError::Transport(why)) | ConnEvent::WriteFailed(why) => {
                self.feed(Event::TcpFailed(why))
            }
            ConnEvent::Progress if self.established => self.feed(Event::SendProgress),
            ConnEvent::Stalled(s) => self.stalled = s,
            ConnEvent::Progress | ConnEvent::Connected(_) => {}
        }
    }

    fn on_msg(
        &mut self,
        msg: Message,
        findings: Vec<Finding>,
        credit: Option<OwnedSemaphorePermit>,
    ) {
        match msg {
            Message::Update(u) => {
                // RFC 7606 §3: a session reset is a fatal error; the other treatments
                // (treat-as-withdraw, AFI/SAFI disable, attribute discard) are the RIB's.
                if let Some(f) = findings
                    .iter()
                    .find(|f| f.treatment == Treatment::SessionReset)
                {
                    let e = WireError {
                        offset: f.offset,
                        notification: f.notification.clone(),
                        reason: f.reason.clone(),
                    };
                    return self.feed(Event::RecvError(e));
                }
                // The FSM only looks at the message type (hold timer, or an error outside
                // Established), so it gets an empty UPDATE and the speaker the real one.
                if self.pass_to_fsm(Message::Update(UpdateMsg::default())) {
                    let peer = self.peer;
                    let ev = PeerEvent::Update {
                        peer,
                        msg: u,
                        findings,
                    };
                    let _ = self.outbox.send((ev, credit));
                }
            }
            Message::RouteRefresh(rr) => {
                if self.pass_to_fsm(Message::RouteRefresh(rr.clone())) {
                    let ev = PeerEvent::RouteRefresh {
                        peer: self.peer,
                        msg: rr,
                    };
                    let _ = self.outbox.send((ev, credit));
                }
            }
            Message::Notification(n) if self.peer_chose_shadow(&n) => {}
            other => self.feed(Event::Recv(other)),
        }
    }

    /// Feed a message; true when it arrived in Established and the session stayed up.
    fn pass_to_fsm(&mut self, msg: Message) -> bool {
        let was = self.fsm.state();
        self.feed(Event::Recv(msg));
        was == State::Established && self.fsm.state() == State::Established
    }

    fn on_deadline(&mut self) {
        let now = Instant::now();
        for t in [
            Timer::Hold,
            Timer::Keepalive,
            Timer::SendHold,
            Timer::ConnectRetry,
        ] {
            if self.timers[slot(t)].is_none_or(|d| d > now) {
                continue;
            }
            self.timers[slot(t)] = None;
            match (t, self.fsm.negotiated()) {
                // Unread messages wait in the socket because the speaker is behind, not
                // because the peer is silent: postpone the hold timer (RFC 4271 §4.4
                // counts time between messages *received*; these have arrived).
                (Timer::Hold, Some(neg)) if self.stalled && neg.hold_time > 0 => {
                    let hold = Duration::from_secs(u64::from(neg.hold_time));
                    self.timers[slot(t)] = Some(now + hold);
                }
                _ => self.feed(Event::TimerFired(t)),
            }
        }
        if self.shadow.as_ref().is_some_and(|s| s.deadline <= now) {
            self.lose_shadow("no OPEN on it in time");
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let shadow = self.shadow.as_ref().map(|s| s.deadline);
        self.timers.iter().flatten().copied().chain(shadow).min()
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn emit(&self, ev: PeerEvent) {
        let _ = self.outbox.send((ev, None));
    }

    /// Drop a pending outgoing connection attempt.
    pub fn cancel_connect(&mut self) {
        if let Some((_, h)) = self.connecting.take() {
            h.abort();
        }
    }
}

// ===== helper functions =====

/// Start the task for one peer; it stays idle until [`SessionCmd::Start`] (or an
/// incoming connection for a started passive peer) and runs until the handle is dropped.
///
/// Dropping every handle closes the connection without a NOTIFICATION (as a restart
/// would); send [`SessionCmd::Stop`] first to end the session with a Cease.
pub fn spawn_session(
    peer: PeerId,
    cfg: SessionCfg,
    transport: Transport,
    events: mpsc::Sender<PeerEvent>,
) -> SessionHandle {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (conn_tx, conn_rx) = mpsc::unbounded_channel();
    let (outbox, mut out_rx) =
        mpsc::unbounded_channel::<(PeerEvent, Option<OwnedSemaphorePermit>)>();
    // The forwarder: the only place that waits for the speaker.
    tokio::spawn(async move {
        while let Some((ev, credit)) = out_rx.recv().await {
            if events.send(ev).await.is_err() {
                return;
            }
            drop(credit);
        }
    });
    let task = Task {
        peer,
        fsm: fsm::Session::new(cfg.clone()),
        cfg,
        t: transport,
        timers: [None; 4],
        conn: None,
        shadow: None,
        last_rx: Instant::now(),
        connecting: None,
        next_id: 0,
        established: false,
        stalled: false,
        outbox,
        conn_tx,
        credits: Arc::new(Semaphore::new(READ_CREDITS)),
    };
    // The caller's span (the speaker's `peer{peer=NAME}`) goes with the task, so that
    // per-peer log filters match its events.
    let span = tracing::Span::current();
    tokio::spawn(tracing::Instrument::instrument(
        task.run(cmd_rx, conn_rx),
        span,
    ));
    SessionHandle { peer, tx: cmd_tx }
}

/// The connect timeout: shorter than the first connect-retry interval (which is at least
/// 3/4 of `connect_retry` with jitter), so a silent peer gives a reason before the retry.
fn connect_timeout(cfg: &SessionCfg) -> Duration {
    (cfg.connect_retry * 2 / 3).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

fn slot(t: Timer) -> usize {
    match t {
        Timer::ConnectRetry => 0,
        Timer::Hold => 1,
        Timer::Keepalive => 2,
        Timer::SendHold => 3,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
