//! [`Session`]: one peer's state machine (RFC 4271 §8.2.2).

use std::time::{Duration, Instant};

use super::negotiate::{check_open, negotiate, our_open};
use super::{Action, DownReason, Event, Negotiated, SessionCfg, State, Timer};
use crate::wire::error::{cease_sub, code, fsm_sub};
use crate::wire::{Message, NotificationMsg};

/// RFC 4271 §8.2.2: "the HoldTimer is set to a large value ... A HoldTimer value of 4
/// minutes is suggested" while waiting for the peer's OPEN.
const LARGE_HOLD: Duration = Duration::from_secs(240);
/// RFC 9687 §3: the send hold time is at least 8 minutes, or twice the hold time.
const MIN_SEND_HOLD: Duration = Duration::from_secs(480);

/// One peer's session state. Owned by one task; every input goes through [`Session::handle`].
#[derive(Debug, Clone)]
pub struct Session {
    cfg: SessionCfg,
    state: State,
    /// Stopped by configuration: no automatic restart.
    stopped: bool,
    /// Consecutive failures, for the connect-retry backoff.
    failures: u32,
    rng: u64,
    negotiated: Option<Negotiated>,
    since: Option<Instant>,
    last_down: Option<(Instant, DownReason)>,
}

impl Session {
    pub fn new(cfg: SessionCfg) -> Session {
        let rng = cfg.jitter_seed | 1;
        Session {
            cfg,
            state: State::Idle,
            stopped: true,
            failures: 0,
            rng,
            negotiated: None,
            since: None,
            last_down: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The negotiated parameters while OpenConfirm or Established.
    /// Announce these capabilities from the next OPEN on (the current session, if any,
    /// keeps what it negotiated). The speaker clears the Restart State bit this way once
    /// its restart is over (RFC 4724 §3).
    pub fn set_capabilities(&mut self, caps: Vec<crate::wire::Capability>) {
        self.cfg.capabilities = caps;
    }

    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// When the current state was entered.
    pub fn since(&self) -> Option<Instant> {
        self.since
    }

    /// The last reason the session went down, and when.
    pub fn last_down(&self) -> Option<&(Instant, DownReason)> {
        self.last_down.as_ref()
    }

    /// Feed one event; returns what to do, in order.
    pub fn handle(&mut self, now: Instant, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Start => self.on_start(now, &mut out),
            Event::Stop(n) => self.on_stop(now, n, &mut out),
            Event::TcpConnected => self.on_tcp_connected(now, &mut out),
            Event::TcpFailed(why) => self.on_tcp_failed(now, why, &mut out),
            Event::Recv(msg) => self.on_message(now, msg, &mut out),
            Event::RecvError(e) => {
                // Like any message, a malformed one can only arrive on an open transport
                // session (OpenSent and later); before that there is no one to answer.
                if matches!(
                    self.state,
                    State::OpenSent | State::OpenConfirm | State::Established
                ) {
                    let why = format!("received a malformed message: {}", e.reason);
                    self.fail_with(now, e.notification, why, &mut out);
                }
            }
            Event::TimerFired(t) => self.on_timer(now, t, &mut out),
            Event::SendProgress => {
                if self.state == State::Established {
                    self.restart_send_hold(&mut out);
                }
            }
        }
        out
    }

    // ===== event handlers =====

    fn on_start(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.stopped = false;
        if self.state == State::Idle {
            // RFC 4271 §8.2.2 Idle, ManualStart/AutomaticStart: "sets ConnectRetryCounter
            // to zero". (The automatic restart after a failure is the ConnectRetryTimer in
            // Idle, which keeps the count and so the backoff.)
            self.failures = 0;
            self.begin_connecting(now, out);
        }
    }

    fn on_stop(&mut self, now: Instant, n: Option<NotificationMsg>, out: &mut Vec<Action>) {
        self.stopped = true;
        if self.state == State::Idle {
            out.push(Action::Disarm(Timer::ConnectRetry));
            return;
        }
        // RFC 4271 §8.2.2 ManualStop: send a Cease NOTIFICATION when a session exists.
        // Without one (graceful restart, RFC 4724 §4), the TCP connection just closes.
        if let Some(n) = n {
            if matches!(
                self.state,
                State::OpenSent | State::OpenConfirm | State::Established
            ) {
                out.push(Action::Send(Message::Notification(n)));
            }
        }
        self.go_idle(now, DownReason::Stopped, out);
    }

    fn on_tcp_connected(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            State::Connect | State::Active => {
                out.push(Action::Disarm(Timer::ConnectRetry));
                out.push(Action::Send(Message::Open(our_open(&self.cfg))));
                out.push(Action::Arm(Timer::Hold, LARGE_HOLD));
                self.set_state(now, State::OpenSent, out);
            }
            // Idle refuses connections (RFC 4271 §8.2.2, Idle state); a second
            // connection in a later state is the caller's collision to resolve.
            _ => out.push(Action::CloseTcp),
        }
    }

    fn on_tcp_failed(&mut self, now: Instant, why: String, out: &mut Vec<Action>) {
        match self.state {
            State::Idle => {}
            // RFC 4271 §8.2.2 Connect/OpenSent + TcpConnectionFails: go to Active and
            // wait for the ConnectRetryTimer.
            State::Connect | State::Active | State::OpenSent => {
                self.failures = self.failures.saturating_add(1);
                self.last_down = Some((now, DownReason::Transport(why.clone())));
                out.push(Action::Down(DownReason::Transport(why)));
                out.push(Action::Disarm(Timer::Hold));
                out.push(Action::Arm(Timer::ConnectRetry, self.backoff()));
                self.set_state(now, State::Active, out);
            }
            // RFC 4271 §8.2.2 OpenConfirm/Established + TcpConnectionFails: "increments the
            // ConnectRetryCounter by 1" and goes to Idle.
            State::OpenConfirm | State::Established => {
                self.failures = self.failures.saturating_add(1);
                self.go_idle(now, DownReason::Transport(why), out);
            }
        }
    }

    fn on_timer(&mut self, now: Instant, t: Timer, out: &mut Vec<Action>) {
        match (self.state, t) {
            (State::Idle, Timer::ConnectRetry) if !self.stopped => self.begin_connecting(now, out),
            (State::Connect, Timer::ConnectRetry) | (State::Active, Timer::ConnectRetry) => {
                if self.cfg.passive {
                    out.push(Action::Arm(Timer::ConnectRetry, self.backoff()));
                } else {
                    // RFC 4271 §8.2.2: drop the attempt in progress and start a new one.
                    out.push(Action::CloseTcp);
                    out.push(Action::Connect);
                    out.push(Action::Arm(Timer::ConnectRetry, self.backoff()));
                    self.set_state(now, State::Connect, out);
                }
            }
            (State::OpenSent | State::OpenConfirm | State::Established, Timer::Hold) => {
                // RFC 4271 §6.5: Hold Timer Expired, code 4, no subcode.
                let n = NotificationMsg {
                    code: code::HOLD_TIMER,
                    subcode: 0,
                    data: Vec::new(),
                };
                let why = "hold timer expired: no message from the peer in time".to_string();
                self.fail_with(now, n, why, out);
            }
            (State::OpenConfirm | State::Established, Timer::Keepalive) => {
                out.push(Action::Send(Message::Keepalive));
                if let Some(k) = self.keepalive() {
                    out.push(Action::Arm(Timer::Keepalive, k));
                }
            }
            (State::Established, Timer::SendHold) => {
                // RFC 9687 §4: code 8 "Send Hold Timer Expired", then close.
                let n = NotificationMsg {
                    code: 8,
                    subcode: 0,
                    data: Vec::new(),
                };
                let why = "send hold timer expired: the peer is not reading".to_string();
                self.fail_with(now, n, why, out);
            }
            _ => {} // a stale timer for a state we already left
        }
    }

    fn on_message(&mut self, now: Instant, msg: Message, out: &mut Vec<Action>) {
        if let Message::Notification(n) = msg {
            return self.on_notification(now, n, out);
        }
        match (self.state, msg) {
            (State::OpenSent, Message::Open(open)) => self.on_open(now, &open, out),
            (State::OpenConfirm, Message::Keepalive) => {
                self.restart_hold(out);
                self.restart_send_hold(out);
                self.failures = 0;
                if let Some(n) = &self.negotiated {
                    out.push(Action::Established(n.clone()));
                }
                self.set_state(now, State::Established, out);
            }
            (
                State::Established,
                Message::Keepalive | Message::Update(_) | Message::RouteRefresh(_),
            ) => {
                self.restart_hold(out);
            }
            (State::Idle | State::Connect | State::Active, _) => {
                // No transport session is open in these states: nothing to answer.
            }
            (state, m) => {
                // RFC 4271 §6.6 with RFC 6608 subcodes: an unexpected message for the state.
                let sub = match state {
                    State::OpenSent => fsm_sub::UNEXPECTED_IN_OPENSENT,
                    State::OpenConfirm => fsm_sub::UNEXPECTED_IN_OPENCONFIRM,
                    _ => fsm_sub::UNEXPECTED_IN_ESTABLISHED,
                };
                let n = NotificationMsg {
                    code: code::FSM,
                    subcode: sub,
                    data: Vec::new(),
                };
                let why = format!("unexpected {} in state {state:?}", msg_name(&m));
                self.fail_with(now, n, why, out);
            }
        }
    }

    fn on_open(&mut self, now: Instant, open: &crate::wire::OpenMsg, out: &mut Vec<Action>) {
        if let Err((n, why)) = check_open(&self.cfg, open) {
            return self.fail_with(now, n, why, out);
        }
        let neg = negotiate(&self.cfg, open);
        let hold = neg.hold_time;
        self.negotiated = Some(neg);
        out.push(Action::Send(Message::Keepalive));
        // RFC 4271 §4.4: a negotiated Hold Time of zero means no keepalives and no hold timer.
        if hold == 0 {
            out.push(Action::Disarm(Timer::Hold));
        } else {
            self.restart_hold(out);
            if let Some(k) = self.keepalive() {
                out.push(Action::Arm(Timer::Keepalive, k));
            }
        }
        self.set_state(now, State::OpenConfirm, out);
    }

    fn on_notification(&mut self, now: Instant, n: NotificationMsg, out: &mut Vec<Action>) {
        if matches!(self.state, State::Idle | State::Connect | State::Active) {
            return;
        }
        // RFC 4271 §6.4: no NOTIFICATION is sent in reply; the connection closes.
        // RFC 4271 §8.2.2 counts every NotifMsg; we do not count a Cease that only says
        // the peer's operator or configuration reset the session (RFC 4486 §4,
        // Administrative Reset / Other Configuration Change): the peer is not broken, so
        // the session comes back after the base connect-retry interval, not a doubled one.
        if !is_reset_by_peer_config(&n) {
            self.failures = self.failures.saturating_add(1);
        }
        self.go_idle(now, DownReason::NotificationReceived(n), out);
    }

    // ===== helper functions =====

    fn begin_connecting(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Arm(Timer::ConnectRetry, self.backoff()));
        if self.cfg.passive {
            // RFC 4271 §8.2.2 (PassiveTcpEstablishment): wait in Active.
            self.set_state(now, State::Active, out);
        } else {
            out.push(Action::Connect);
            self.set_state(now, State::Connect, out);
        }
    }

    /// Send `n`, close and go Idle; a restart follows after the backoff.
    fn fail_with(&mut self, now: Instant, n: NotificationMsg, why: String, out: &mut Vec<Action>) {
        self.failures = self.failures.saturating_add(1);
        out.push(Action::Send(Message::Notification(n.clone())));
        self.go_idle(now, DownReason::NotificationSent(n, why), out);
    }

    fn go_idle(&mut self, now: Instant, reason: DownReason, out: &mut Vec<Action>) {
        out.push(Action::CloseTcp);
        for t in [
            Timer::Hold,
            Timer::Keepalive,
            Timer::SendHold,
            Timer::ConnectRetry,
        ] {
            out.push(Action::Disarm(t));
        }
        self.negotiated = None;
        self.last_down = Some((now, reason.clone()));
        out.push(Action::Down(reason));
        let restart = !self.stopped;
        if restart && !self.cfg.passive {
            // Automatic restart after the (growing) connect-retry interval.
            out.push(Action::Arm(Timer::ConnectRetry, self.backoff()));
        }
        self.set_state(now, State::Idle, out);
        if restart && self.cfg.passive {
            // A passive peer costs nothing while it waits, and a peer that connects during
            // a backoff must not be refused: back to Active at once (RFC 4271 §8.2.2,
            // AutomaticStart_with_PassiveTcpEstablishment).
            self.begin_connecting(now, out);
        }
    }

    fn set_state(&mut self, now: Instant, to: State, out: &mut Vec<Action>) {
        if self.state != to {
            out.push(Action::StateChanged {
                from: self.state,
                to,
            });
            self.state = to;
            self.since = Some(now);
        }
    }

    fn restart_hold(&self, out: &mut Vec<Action>) {
        match self.negotiated.as_ref().map(|n| n.hold_time) {
            Some(0) | None => {}
            Some(h) => out.push(Action::Arm(Timer::Hold, Duration::from_secs(u64::from(h)))),
        }
    }

    fn keepalive(&self) -> Option<Duration> {
        let n = self.negotiated.as_ref()?;
        (n.keepalive > 0).then(|| Duration::from_secs(u64::from(n.keepalive)))
    }

    /// RFC 9687 §4.3, §6: (re)start the SendHoldTimer at max(8 min, 2 × hold time). Not
    /// with a negotiated hold time of zero: then neither side sends KEEPALIVEs (RFC 4271
    /// §4.4), and a quiet, healthy session would make no output progress at all.
    fn restart_send_hold(&self, out: &mut Vec<Action>) {
        match self.negotiated.as_ref().map(|n| n.hold_time) {
            Some(0) | None => {}
            Some(h) => {
                let d = MIN_SEND_HOLD.max(Duration::from_secs(2 * u64::from(h)));
                out.push(Action::Arm(Timer::SendHold, d));
            }
        }
    }

    /// Connect-retry interval: exponential in the failure count, capped, with the
    /// RFC 4271 §10 jitter (a random factor between 0.75 and 1.0).
    fn backoff(&mut self) -> Duration {
        let exp = self.failures.min(16);
        let base = self.cfg.connect_retry.saturating_mul(1u32 << exp);
        let capped = base.min(self.cfg.connect_retry_max);
        // xorshift64: deterministic for a given seed, good enough for jitter.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let frac = (self.rng % 1000) as u32; // 0..1000
        capped.mul_f64(0.75 + 0.25 * f64::from(frac) / 1000.0)
    }
}

/// Cease / Administrative Reset (6/4) or Cease / Other Configuration Change (6/6).
fn is_reset_by_peer_config(n: &NotificationMsg) -> bool {
    n.code == code::CEASE
        && matches!(
            n.subcode,
            cease_sub::ADMIN_RESET | cease_sub::OTHER_CONFIG_CHANGE
        )
}

fn msg_name(m: &Message) -> &'static str {
    match m {
        Message::Open(_) => "OPEN",
        Message::Update(_) => "UPDATE",
        Message::Notification(_) => "NOTIFICATION",
        Message::Keepalive => "KEEPALIVE",
        Message::RouteRefresh(_) => "ROUTE-REFRESH",
    }
}
