//! Incoming connections and connection collisions (RFC 4271 §6.8).
//!
//! The FSM knows one connection. When the peer connects while our own connection is
//! in OpenSent or OpenConfirm, the new one becomes a *shadow*: we read the peer's OPEN
//! on it (the peer sends it as soon as it is connected) without sending ours, then
//! [`fsm::resolve_collision`] decides which connection survives. The loser is closed
//! with a Cease, subcode 7 "Connection Collision Resolution" (RFC 4486). When the
//! shadow wins it takes the place of the old connection and the FSM continues on it.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::conn;
use super::frame::{ConnEvent, ReadError};
use super::session::{Conn, Task};
use crate::fsm::{self, ConnDirection, Event, State};
use crate::wire::error::{cease_sub, code};
use crate::wire::{Message, NotificationMsg, OpenMsg};

/// How long a second connection may take to bring the peer's OPEN.
const SHADOW_OPEN_WAIT: Duration = Duration::from_secs(30);
/// A peer that restarted without the R bit has been silent on the old connection at
/// least this long (its process or host went away); a crossing connection attempt of a
/// live peer arrives while the old connection still carries its OPEN, KEEPALIVE or routes.
const RESTART_QUIET: Duration = Duration::from_secs(5);

/// A second connection from the peer, waiting for its OPEN.
pub(super) struct Shadow {
    pub conn: Conn,
    pub open: Option<OpenMsg>,
    pub deadline: Instant,
    /// The peer closed our other connection with a collision Cease: this one wins.
    pub chosen: bool,
    /// Accepted while the session was Established (a restart, or a late crossing attempt).
    pub established: bool,
}

// ===== impl Task =====

impl Task {
    /// An accepted connection from the peer (the speaker routed it here).
    pub(super) fn on_incoming(&mut self, stream: TcpStream) {
        if let Err(e) = conn::apply_ttl(&stream, &self.t) {
            warn!(
                peer = self.peer,
                "cannot set TTL / GTSM on an accepted connection: {e}"
            );
        }
        let id = self.new_id();
        let conn = match self.open_conn(stream, ConnDirection::Inbound, id) {
            Ok(c) => c,
            Err(e) => return debug!(peer = self.peer, "accepted connection failed: {e}"),
        };
        match self.fsm.state() {
            // RFC 4271 §8.2.2: "In this state, BGP FSM refuses all incoming BGP connections".
            State::Idle => debug!(peer = self.peer, "refusing a connection: session is idle"),
            // No OPEN sent yet: no collision, the incoming connection simply wins.
            State::Connect | State::Active => {
                self.shadow = None;
                self.attach(conn);
            }
            State::OpenSent | State::OpenConfirm => self.set_shadow(conn, false),
            State::Established => self.incoming_while_established(conn),
        }
    }

    fn set_shadow(&mut self, conn: Conn, established: bool) {
        self.shadow = Some(Shadow {
            conn,
            open: None,
            deadline: Instant::now() + SHADOW_OPEN_WAIT,
            chosen: false,
            established,
        });
    }

    /// Events of the shadow connection.
    pub(super) fn on_shadow_event(&mut self, ev: ConnEvent) {
        match ev {
            ConnEvent::Msg {
                msg: Message::Open(open),
                ..
            } => {
                if self.fsm.state() == State::Established {
                    return self.open_while_established(open);
                }
                if let Some(s) = self.shadow.as_mut() {
                    s.open = Some(open);
                }
                self.resolve_shadow();
            }
            ConnEvent::Msg {
                msg: Message::Notification(n),
                ..
            } => self.lose_shadow(&format!("the peer sent NOTIFICATION {n}")),
            ConnEvent::ReadFailed(ReadError::Wire(e)) => self.lose_shadow(&e.reason),
            ConnEvent::ReadFailed(ReadError::Transport(why)) | ConnEvent::WriteFailed(why) => {
                self.lose_shadow(&why)
            }
            // Nothing else is expected before our OPEN; it is ignored.
            ConnEvent::Msg { .. }
            | ConnEvent::Progress
            | ConnEvent::Stalled(_)
            | ConnEvent::Connected(_) => {}
        }
    }

    /// After every FSM step: a shadow only makes sense next to OpenSent / OpenConfirm.
    pub(super) fn reconcile_shadow(&mut self) {
        if self.shadow.is_none() {
            return;
        }
        match self.fsm.state() {
            State::OpenSent | State::OpenConfirm => {}
            // Our connection failed first: the peer's connection carries on alone.
            State::Connect | State::Active => {
                if let Some(s) = self.shadow.take() {
                    debug!(peer = self.peer, "continuing on the peer's connection");
                    self.attach(s.conn);
                    if let Some(open) = s.open {
                        self.feed(Event::Recv(Message::Open(open)));
                    }
                }
            }
            State::Established if self.shadow.as_ref().is_some_and(|s| s.established) => {}
            State::Idle | State::Established => self.shadow = None,
        }
    }

    /// A NOTIFICATION on the main connection: a collision Cease while a shadow exists
    /// means the peer kept the shadow. True when handled here.
    pub(super) fn peer_chose_shadow(&mut self, n: &NotificationMsg) -> bool {
        if (n.code, n.subcode) != (code::CEASE, cease_sub::CONNECTION_COLLISION)
            || !matches!(self.fsm.state(), State::OpenSent | State::OpenConfirm)
        {
            return false;
        }
        let Some(s) = self.shadow.as_mut() else {
            return false;
        };
        debug!(
            peer = self.peer,
            "the peer resolved the collision for its connection"
        );
        s.chosen = true;
        self.conn = None;
        self.resolve_shadow();
        true
    }

    /// The shadow has the peer's OPEN (or not yet): decide which connection stays.
    fn resolve_shadow(&mut self) {
        let Some((open, chosen)) = self
            .shadow
            .as_ref()
            .and_then(|s| Some((s.open.clone()?, s.chosen)))
        else {
            return;
        };
        if let Err((n, why)) = fsm::check_open(&self.cfg, &open) {
            debug!(peer = self.peer, "second connection: {why}");
            if let Some(s) = self.shadow.take() {
                s.conn.send(&Message::Notification(n));
            }
            return self.lose_shadow(&why);
        }
        if !(chosen || self.shadow_wins(&open)) {
            debug!(
                peer = self.peer,
                "collision: keeping the existing connection"
            );
            if let Some(s) = self.shadow.take() {
                s.conn.send(&collision_cease());
            }
            return;
        }
        debug!(
            peer = self.peer,
            "collision: keeping the peer's new connection"
        );
        if let Some(old) = self.conn.take() {
            old.send(&collision_cease());
        }
        if let Some(s) = self.shadow.take() {
            self.promote(s.conn, open);
        }
    }

    /// RFC 4271 §6.8: compare the BGP Identifiers (RFC 6286 §2.3: then the AS numbers).
    fn shadow_wins(&self, open: &OpenMsg) -> bool {
        match self.conn.as_ref().map(|c| c.dir) {
            Some(ConnDirection::Outbound) => {
                let keep = fsm::resolve_collision(
                    self.cfg.local_id,
                    open.bgp_id,
                    self.cfg.local_as,
                    fsm::peer_asn(open),
                );
                keep == ConnDirection::Inbound
            }
            // Both from the peer (it gave up the older one), or the old one is gone.
            Some(ConnDirection::Inbound) | None => true,
        }
    }

    /// Continue the session on `conn`, whose OPEN is `open`.
    fn promote(&mut self, conn: Conn, open: OpenMsg) {
        let ours = Message::Open(fsm::our_open(&self.cfg));
        match self.fsm.state() {
            State::OpenSent => {
                conn.send(&ours);
                self.conn = Some(conn);
                self.feed(Event::Recv(Message::Open(open)));
            }
            State::OpenConfirm => {
                let same = self.fsm.negotiated() == Some(&fsm::negotiate(&self.cfg, &open));
                let mut conn = conn;
                conn.send(&ours);
                if let (true, Some(neg)) = (same, self.fsm.negotiated()) {
                    // The FSM already answered an identical OPEN with a KEEPALIVE.
                    conn.set_negotiated(neg);
                    conn.send(&Message::Keepalive);
                    self.conn = Some(conn);
                } else {
                    self.conn = Some(conn);
                    let why = "connection collision: the peer's OPEN differs between its \
                               two connections";
                    self.feed(Event::TcpFailed(why.to_string()));
                }
            }
            State::Connect | State::Active => {
                self.attach(conn);
                self.feed(Event::Recv(Message::Open(open)));
            }
            State::Idle | State::Established => {}
        }
    }

    /// Drop the shadow; if the peer already closed our other connection, that is a failure.
    pub(super) fn lose_shadow(&mut self, why: &str) {
        if self.shadow.take().is_none() {
            return;
        }
        debug!(peer = self.peer, "second connection closed: {why}");
        if self.conn.is_none() && matches!(self.fsm.state(), State::OpenSent | State::OpenConfirm) {
            self.feed(Event::TcpFailed(why.to_string()));
        }
    }

    /// A connection while Established.
    fn incoming_while_established(&mut self, conn: Conn) {
        if self.fsm.negotiated().is_some_and(|n| n.peer_gr.is_some()) {
            // RFC 4724 §4.2: the OPEN on this connection tells whether the peer restarted.
            self.set_shadow(conn, true);
        } else {
            // RFC 4271 §6.8: "a connection collision with an existing BGP connection that
            // is in the Established state causes closing of the newly created connection".
            debug!(
                peer = self.peer,
                "refusing a connection: session is established"
            );
            conn.send(&collision_cease());
        }
    }

    /// The peer's OPEN on a connection accepted while Established (graceful-restart peer).
    fn open_while_established(&mut self, open: OpenMsg) {
        let Some(s) = self.shadow.take() else {
            return;
        };
        if let Err((n, why)) = fsm::check_open(&self.cfg, &open) {
            debug!(peer = self.peer, "second connection: {why}");
            return s.conn.send(&Message::Notification(n));
        }
        let restarting = fsm::negotiate(&self.cfg, &open)
            .peer_gr
            .is_some_and(|g| g.restarting);
        if !restarting && self.last_rx.elapsed() < RESTART_QUIET {
            // A connection attempt that crossed ours and arrived late: the peer is alive
            // on the Established connection, which stays (RFC 4271 §6.8).
            debug!(
                peer = self.peer,
                "collision with the established connection: keeping it"
            );
            return s.conn.send(&collision_cease());
        }
        // RFC 4724 §4.2: the peer restarted; the old session is over (its routes become
        // stale) and the new connection starts the next one.
        let why = "the peer reconnected (graceful restart, RFC 4724 §4.2)";
        self.feed(Event::TcpFailed(why.to_string()));
        self.feed(Event::Start);
        self.cancel_connect();
        if matches!(self.fsm.state(), State::Connect | State::Active) {
            self.attach(s.conn);
            self.feed(Event::Recv(Message::Open(open)));
        }
    }
}

// ===== helper functions =====

/// RFC 4486 §4: Cease, subcode 7 "Connection Collision Resolution".
fn collision_cease() -> Message {
    Message::Notification(NotificationMsg {
        code: code::CEASE,
        subcode: cease_sub::CONNECTION_COLLISION,
        data: Vec::new(),
    })
}
