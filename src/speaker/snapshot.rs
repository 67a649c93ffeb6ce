//! Replies that need no RIB walk (`show status`, `show peers [NAME] [--detail]`, BIRD's
//! `show status` / `show protocols`), answered without a round trip through the owner
//! loop (issue 6: replies come from state that long RIB work cannot block).
//!
//! ```text
//!  owner loop ── end of every turn: publish() ──> ViewCell (RwLock<Arc<View>>)
//!                 O(peers) marks compared,                 │  read(): clone the Arc,
//!                 only changed peers' rows rebuilt         v  stamp the times
//!                                            control socket thread / BIRD socket
//! ```
//!
//! The view holds the rows as the owner builds them ([`Owner::peer_detail`],
//! [`Owner::status_row`]) minus the fields that depend on the clock, which
//! [`stamp_peer`] / [`stamp_status`] fill in at read time, exactly as the owner's own
//! answer does: replies are the same bytes whichever side answers. A reply reflects the
//! owner's state at the end of its last turn; a request that changes state (reload, peer
//! disable, ...) is answered by the owner after it published, so a read that follows
//! sees the change. Between requests the owner publishes at most every [`PUBLISH_EVERY`]
//! (a due publish is never dropped: the loop wakes for it), so a busy loop of many short
//! turns does not rebuild rows it will rebuild again a millisecond later.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::detail::{llst_at, llst_running};
use super::owner::{Owner, Peer, PeerId};
use super::view::{stamp_peer, stamp_status};
use crate::control::{PeerDetail, Request, Response, StatusRow};
use crate::fsm::State;
use crate::rib::PeerCounts;
use crate::wire::Family;

/// Least time between two publishes that no control request asked for: how old a
/// reply read from the view may be. The rows cost O(peers) per publish (rr-fanout with
/// 1000 clients: hundreds of short loop turns a second).
pub(super) const PUBLISH_EVERY: Duration = Duration::from_millis(20);

/// Where the owner publishes its [`View`] and readers take it (cheap to share).
#[derive(Debug, Default)]
pub struct ViewCell {
    view: RwLock<Arc<View>>,
}

/// The owner's state as the control socket shows it, at the end of one loop turn.
#[derive(Debug, Default)]
pub struct View {
    /// `None` until the owner published once.
    status: Option<StatusRow>,
    started: Option<Instant>,
    /// In [`PeerId`] order, like the owner's map; the counts apart, as they change on
    /// most turns while the rest of the row seldom does.
    peers: Vec<(Arc<PeerEntry>, PeerCounts)>,
}

/// One peer's `show peers --detail` row and the instants its times are computed from.
#[derive(Debug)]
struct PeerEntry {
    detail: PeerDetail,
    since: Instant,
    last_down: Option<Instant>,
    /// Long-lived stale periods running: family and end (RFC 9494 §4.2).
    llst: Vec<(Family, Instant)>,
}

/// The owner's side: what it published last, to rebuild only what changed.
#[derive(Debug, Default)]
pub(super) struct Publisher {
    cell: Arc<ViewCell>,
    /// In [`PeerId`] order.
    last: Vec<Row>,
    status: Option<StatusRow>,
    /// When the last publish ran (the loop's clock), and whether a turn ended since.
    at: Option<tokio::time::Instant>,
    pending: bool,
}

/// A peer's published row and what it was built from.
#[derive(Debug)]
struct Row {
    id: PeerId,
    mark: Mark,
    counts: PeerCounts,
    entry: Arc<PeerEntry>,
}

/// Everything about a peer but its counts that changes without a control request
/// (sessions, restarts): when it is equal, the peer's row is too, but for the counts.
/// Config changes come with a request, after which everything is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    state: State,
    since: Instant,
    down_count: u64,
    last_down: Option<Instant>,
    neg: bool,
    up: bool,
    known: bool,
    /// Graceful-restart (and long-lived) stale periods: they change no count.
    in_gr: bool,
    llst: Vec<(Family, Instant)>,
}

// ===== impl ViewCell =====

impl ViewCell {
    /// The last published view.
    pub fn get(&self) -> Arc<View> {
        match self.view.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, view: View) {
        let view = Arc::new(view);
        match self.view.write() {
            Ok(mut v) => *v = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
    }

    /// Answer `req` from the last published view; `None` for requests it cannot answer
    /// (they go to the owner), or before the owner published anything.
    pub fn answer(&self, req: &Request) -> Option<Result<Response, String>> {
        self.get().answer(req)
    }
}

// ===== impl View =====

impl View {
    /// `show status`, `show peers`, `show peers [NAME] --detail`; `None` for the rest.
    pub fn answer(&self, req: &Request) -> Option<Result<Response, String>> {
        let status = self.status.as_ref()?;
        let started = self.started?;
        let now = Instant::now();
        Some(match req {
            Request::ShowStatus => {
                let mut s = status.clone();
                stamp_status(&mut s, started, now);
                Ok(Response::Status(s))
            }
            Request::ShowPeers => Ok(Response::Peers(
                self.peers
                    .iter()
                    .map(|(e, c)| e.detail_at(*c, now).row)
                    .collect(),
            )),
            Request::ShowPeersDetail { name } => self.details(name.as_deref(), now),
            _ => return None,
        })
    }

    fn details(&self, name: Option<&str>, now: Instant) -> Result<Response, String> {
        let rows = match name {
            None => self
                .peers
                .iter()
                .map(|(e, c)| e.detail_at(*c, now))
                .collect(),
            Some(n) => {
                let found = self.peers.iter().find(|(e, _)| e.detail.row.name == n);
                let (e, c) = found.ok_or_else(|| format!("no peer named {n:?}"))?;
                vec![e.detail_at(*c, now)]
            }
        };
        Ok(Response::PeersDetail(rows))
    }
}

// ===== impl PeerEntry =====

impl PeerEntry {
    fn detail_at(&self, counts: PeerCounts, now: Instant) -> PeerDetail {
        let mut d = self.detail.clone();
        stamp_peer(&mut d.row, self.since, self.last_down, now);
        set_counts(&mut d.row, counts);
        d.long_lived_stale = llst_at(&self.llst, now);
        d
    }
}

// ===== impl Publisher =====

impl Publisher {
    pub(super) fn cell(&self) -> Arc<ViewCell> {
        self.cell.clone()
    }

    /// When the loop must wake to publish the turns that ended since the last publish.
    pub(super) fn due(&self) -> Option<tokio::time::Instant> {
        let now = tokio::time::Instant::now;
        self.pending
            .then(|| self.at.map_or_else(now, |t| t + PUBLISH_EVERY))
    }
}

// ===== impl Owner: publishing =====

impl Owner {
    /// The end of a loop turn: publish when the last publish is [`PUBLISH_EVERY`] old,
    /// else remember that one is due ([`Publisher::due`]).
    pub(super) fn turn_ended(&mut self) {
        let now = tokio::time::Instant::now();
        match self.snap.at {
            Some(t) if now < t + PUBLISH_EVERY => self.snap.pending = true,
            _ => self.publish(false),
        }
    }

    /// Publish the view if anything in it changed since the last time (`force`: rebuild
    /// every row, after a request that may have changed the config). Costs O(peers)
    /// comparisons plus the rows of the peers that changed; never O(routes).
    pub(super) fn publish(&mut self, force: bool) {
        let mut p = std::mem::take(&mut self.snap);
        p.at = Some(tokio::time::Instant::now());
        p.pending = false;
        if force {
            p.last.clear();
            p.status = None;
        }
        let (next, mut changed, accepted) = self.rows(std::mem::take(&mut p.last));
        let status = self.status_row_with(accepted);
        changed |= p.status.as_ref() != Some(&status);
        if changed {
            p.cell.set(View {
                status: Some(status.clone()),
                started: Some(self.started),
                peers: next.iter().map(|r| (r.entry.clone(), r.counts)).collect(),
            });
        }
        p.last = next;
        p.status = Some(status);
        self.snap = p;
    }

    /// Every peer's row, reusing `old`'s where the [`Mark`] is unchanged (both in
    /// [`PeerId`] order: one merge walk); whether any row changed; the accepted paths.
    fn rows(&self, old: Vec<Row>) -> (Vec<Row>, bool, usize) {
        let mut old = old.into_iter().peekable();
        let mut next = Vec::with_capacity(self.peers.len());
        let (mut changed, mut accepted) = (false, 0);
        for (&id, peer) in &self.peers {
            while old.next_if(|r| r.id < id).is_some() {
                changed = true; // a peer went away
            }
            let mark = self.mark(peer);
            let counts = self.counts(id, peer);
            accepted += counts.accepted as usize;
            let entry = match old.next_if(|r| r.id == id) {
                Some(r) if r.mark == mark => {
                    changed |= r.counts != counts;
                    r.entry
                }
                _ => {
                    changed = true;
                    Arc::new(self.entry(id, peer))
                }
            };
            next.push(Row {
                id,
                mark,
                counts,
                entry,
            });
        }
        changed |= old.next().is_some();
        (next, changed, accepted)
    }

    /// Answer a control request, publishing first: a read after the owner's reply sees
    /// at least the state the reply saw. One that may change what the view shows (config,
    /// peer commands) is published again, fully, before the reply goes.
    pub(super) fn control_published(&mut self, req: Request) -> Result<Response, String> {
        let changes = changes_state(&req);
        if !changes {
            self.publish(false);
        }
        let r = self.control(req);
        if changes {
            self.publish(true);
        }
        r
    }

    fn mark(&self, p: &Peer) -> Mark {
        Mark {
            state: p.state,
            since: p.since,
            down_count: p.down_count,
            last_down: p.last_down.as_ref().map(|(_, t)| *t),
            neg: p.neg.is_some(),
            up: p.up.is_some(),
            known: p.known,
            in_gr: p.llgr.in_gr,
            llst: llst_running(p),
        }
    }

    fn entry(&self, id: PeerId, p: &Peer) -> PeerEntry {
        PeerEntry {
            detail: self.peer_detail(id, p),
            since: p.since,
            last_down: p.last_down.as_ref().map(|(_, t)| *t),
            llst: llst_running(p),
        }
    }
}

// ===== helper functions =====

fn set_counts(row: &mut crate::control::PeerRow, c: PeerCounts) {
    row.received = c.received;
    row.accepted = c.accepted;
    row.advertised = c.advertised;
    row.stale = c.stale;
}

/// Requests after which every row is rebuilt: they may change a peer's config, name or
/// disabled flag, which the [`Mark`] does not cover.
fn changes_state(req: &Request) -> bool {
    !matches!(
        req,
        Request::ShowPeers
            | Request::ShowPeersDetail { .. }
            | Request::ShowRoutes { .. }
            | Request::ShowFib
            | Request::ShowFibDiff
            | Request::ShowStatus
            | Request::Explain { .. }
            | Request::LogLevel { .. }
    )
}
