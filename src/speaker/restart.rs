//! Graceful restart as the *restarting* speaker (RFC 4724 §4.1, RFC 8538), and how the
//! speaker stops.
//!
//! Stopping (see README "Restarts and upgrades"):
//!
//! - graceful (SIGTERM, `wren stop`): every session closes its TCP connection without a
//!   NOTIFICATION, so GR-capable peers keep our routes as stale for our restart time;
//!   our kernel routes stay where they are, whatever `[fib] persist` says.
//! - withdraw (`wren stop --withdraw`): Cease/Administrative Shutdown with an RFC 9003
//!   shutdown communication (inside a Cease/Hard Reset when both sides set the N bit,
//!   RFC 8538 §3), so peers drop our routes at once; the kernel routes go unless
//!   `[fib] persist`.
//!
//! Starting: routes of ours found in the kernel (adopted by the FIB) mean this start
//! follows a graceful stop or a crash, and that those families' forwarding state
//! survived. Our OPENs then carry the Restart State bit and, per family, the Forwarding
//! State bit only where kernel routes survived. Until the initial sync is done (see
//! sync.rs) kernel changes other than our own blackholes are held, last change per
//! prefix, and applied in one go at the end: an unchanged route costs no write, and a
//! route that changes twice on the way (one peer's path, then a better one) is written
//! once. A cold start (nothing in the kernel) holds nothing.

use std::collections::BTreeMap;

use tracing::info;

use super::owner::{arm, Owner, TimerEvent};
use super::peer;
use super::sync::{EOR_WAIT, PEER_UP_WAIT};
use crate::fib::FibSink;
use crate::fsm::{DownReason, Negotiated};
use crate::net::SessionCmd;
use crate::rib::{FibChange, FibKind, PeerId, Prefix};
use crate::wire::error::cease_sub;
use crate::wire::{Capability, Family, NotificationMsg};

/// What this start inherited from the previous run.
#[derive(Debug, Default)]
pub struct Restart {
    /// Routes of ours were in the kernel at start: we are restarting (R bit).
    pub restarting: bool,
    /// Families with routes of ours in the kernel at start (F bits).
    pub preserved: Vec<Family>,
    /// Kernel changes held until the initial sync is done, the last one per prefix.
    deferred: BTreeMap<Prefix, FibChange>,
}

// ===== impl Restart =====

impl Restart {
    /// What the FIB found at start.
    pub fn detect(fib: &dyn FibSink) -> Restart {
        let preserved = fib.preserved();
        Restart {
            restarting: !preserved.is_empty(),
            preserved,
            deferred: BTreeMap::new(),
        }
    }

    /// Set the flags of our graceful-restart capability (RFC 4724 §3, RFC 8538 §2) for a
    /// session created now; `syncing`: the initial sync is not done yet.
    pub fn flags(&self, caps: &mut [Capability], syncing: bool) {
        for c in caps.iter_mut() {
            if let Capability::GracefulRestart(gr) = c {
                gr.restart = self.restarting && syncing;
                gr.notification = true;
                for f in gr.families.iter_mut() {
                    f.forwarding = !syncing || self.preserved.contains(&f.family);
                }
            }
            // RFC 9494 §3: the same F bit per family in the LLGR capability.
            if let Capability::LongLivedGr(v) = c {
                for f in v.iter_mut() {
                    f.forwarding = !syncing || self.preserved.contains(&f.family);
                }
            }
        }
    }

    /// Of these changes, the ones to apply now (our blackholes, and everything outside a
    /// restart); the rest are held until [`Restart::release`].
    pub fn filter(&mut self, changes: Vec<FibChange>, syncing: bool) -> Vec<FibChange> {
        if !(self.restarting && syncing) {
            return changes;
        }
        let mut now = Vec::new();
        for c in changes {
            match &c {
                FibChange::Upsert(r) if r.kind == FibKind::Blackhole => {
                    self.deferred.remove(&r.prefix);
                    now.push(c);
                }
                FibChange::Upsert(r) => {
                    self.deferred.insert(r.prefix, c);
                }
                FibChange::Remove(p) => {
                    self.deferred.insert(*p, c);
                }
            }
        }
        now
    }

    /// The held changes, in prefix order.
    pub fn release(&mut self) -> Vec<FibChange> {
        std::mem::take(&mut self.deferred).into_values().collect()
    }
}

// ===== impl Owner: initial sync and stop =====

impl Owner {
    /// Arm the timers that bound the initial sync's wait for absent peers.
    pub(super) fn arm_sync_timers(&self) {
        arm(&self.timers, PEER_UP_WAIT, TimerEvent::PeersAbsent);
        if self.restart.restarting {
            info!(
                "restarting: routes of ours were in the kernel ({}); Restart State bit set, kernel changes held until the peers' End-of-RIB",
                fams(&self.restart.preserved)
            );
        }
    }

    /// A peer came up: wait for its End-of-RIB at most [`EOR_WAIT`]; not at all when
    /// graceful restart was not negotiated (`gr`: only then is End-of-RIB promised).
    pub(super) fn sync_peer_up(&mut self, id: PeerId, families: &[Family], gr: bool) {
        if !gr {
            self.sync.forget(id);
            return;
        }
        if self.sync.up(id, families) {
            arm(&self.timers, EOR_WAIT, TimerEvent::EorWait { peer: id });
        }
    }

    /// A peer went down: no longer waited for. A failed connection before it ever came
    /// up (refused, unreachable) gives up on it at once.
    pub(super) fn sync_peer_down(&mut self, id: PeerId, reason: &DownReason, was_up: bool) {
        if self.sync.is_done() {
            return;
        }
        if was_up {
            self.sync.forget(id);
        } else if matches!(reason, DownReason::Transport(_)) {
            self.sync.unreachable(id);
        }
    }

    /// A timer of the initial sync fired.
    pub(super) fn on_sync_timer(&mut self, t: TimerEvent) {
        if self.sync.is_done() {
            return;
        }
        match t {
            TimerEvent::PeersAbsent => {
                let absent = self.sync.absent_timeout();
                if !absent.is_empty() {
                    info!(
                        "initial sync: not waiting for peers not up after {} s: {}",
                        PEER_UP_WAIT.as_secs(),
                        self.names(&absent)
                    );
                }
            }
            TimerEvent::EorWait { peer } => {
                let (_, owing) = self.sync.waiting();
                if owing.contains(&peer) {
                    info!(
                        "initial sync: no End-of-RIB from {} within {} s; not waiting for it",
                        self.names(&[peer]),
                        EOR_WAIT.as_secs()
                    );
                    self.sync.forget(peer);
                }
            }
            _ => {}
        }
        self.finish_sync(false);
    }

    /// When the initial sync is complete (or `timeout`): apply the held kernel changes,
    /// then tell the FIB to drop the adopted routes nobody re-announced.
    pub(super) fn finish_sync(&mut self, timeout: bool) {
        if !self.sync.take_ready(timeout) {
            return;
        }
        if timeout {
            let (absent, owing) = self.sync.waiting();
            info!(
                "initial sync: gave up waiting (absent: [{}], owing End-of-RIB: [{}])",
                self.names(&absent),
                self.names(&owing)
            );
        }
        let held = self.restart.release();
        info!(
            "initial sync done: {} held kernel change(s) applied; adopted routes nobody re-announced go",
            held.len()
        );
        if !held.is_empty() {
            self.fib.apply(&held);
        }
        self.fib.sync_done();
        self.restart_over();
        if let Some(tx) = &self.synced {
            let _ = tx.send(true);
        }
    }

    /// Our restart is over: later OPENs carry no Restart State bit, and the Forwarding
    /// State bit for every family (the kernel holds our routes now), RFC 4724 §3.
    fn restart_over(&self) {
        for p in self.peers.values() {
            let mut caps = peer::capabilities(&p.cfg, self.local_as, p.address.is_ipv6());
            self.restart.flags(&mut caps, false);
            p.session.send(SessionCmd::Capabilities(caps));
        }
    }

    /// The stop's NOTIFICATION for a peer, or `None` for a graceful stop.
    pub(super) fn stop_notification(&self, id: PeerId, withdraw: bool) -> Option<NotificationMsg> {
        if !withdraw {
            return None;
        }
        // RFC 4486 §4 Administrative Shutdown, with an RFC 9003 shutdown communication.
        let cease = NotificationMsg::admin_shutdown("wren is shutting down");
        let p = self.peers.get(&id)?;
        Some(hard_reset_if_n(
            cease,
            p.cfg.graceful_restart,
            p.neg.as_ref(),
        ))
    }

    fn names(&self, ids: &[PeerId]) -> String {
        let n: Vec<&str> = ids
            .iter()
            .filter_map(|id| self.peers.get(id).map(|p| p.name.as_str()))
            .collect();
        n.join(", ")
    }
}

// ===== helper functions =====

/// RFC 8538 §3: when both sides set the N bit, a NOTIFICATION meant to end graceful
/// restart (our routes must go now) is sent as Cease/Hard Reset carrying the original
/// error code, subcode and data. Otherwise `n` as it is.
pub fn hard_reset_if_n(
    n: NotificationMsg,
    gr_on: bool,
    neg: Option<&Negotiated>,
) -> NotificationMsg {
    let peer_n = neg
        .and_then(|n| n.peer_gr.as_ref())
        .is_some_and(|g| g.notification);
    if !(gr_on && peer_n) || (n.code == 6 && n.subcode == cease_sub::HARD_RESET) {
        return n;
    }
    let mut data = Vec::with_capacity(2 + n.data.len());
    data.push(n.code);
    data.push(n.subcode);
    data.extend_from_slice(&n.data);
    NotificationMsg::new(6, cease_sub::HARD_RESET, data)
}

fn fams(f: &[Family]) -> String {
    let v: Vec<String> = f.iter().map(|f| f.to_string()).collect();
    v.join(", ")
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::PeerGr;
    use crate::rib::FibRoute;
    use crate::wire::capability::{GrFamily, GracefulRestart};

    const V4: Family = Family::IPV4_UNICAST;
    const V6: Family = Family::IPV6_UNICAST;

    fn p(s: &str) -> Prefix {
        Prefix::V4(s.parse().unwrap())
    }

    fn unicast(s: &str, nh: &str) -> FibChange {
        FibChange::Upsert(FibRoute {
            prefix: p(s),
            kind: FibKind::Unicast(vec![nh.parse().unwrap()].into()),
        })
    }

    fn gr_cap() -> Vec<Capability> {
        let fam = |family| GrFamily {
            family,
            forwarding: true,
            reserved_flags: 0,
        };
        vec![
            Capability::RouteRefresh,
            Capability::GracefulRestart(GracefulRestart {
                restart: false,
                notification: false,
                reserved_flags: 0,
                time: 120,
                families: vec![fam(V4), fam(V6)],
            }),
        ]
    }

    fn gr_of(caps: &[Capability]) -> &GracefulRestart {
        caps.iter()
            .find_map(|c| match c {
                Capability::GracefulRestart(g) => Some(g),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn restart_sets_r_and_f_only_where_routes_survived() {
        let r = Restart {
            restarting: true,
            preserved: vec![V4],
            ..Restart::default()
        };
        let mut caps = gr_cap();
        r.flags(&mut caps, true);
        let g = gr_of(&caps);
        assert!(g.restart && g.notification);
        let f: Vec<(Family, bool)> = g
            .families
            .iter()
            .map(|f| (f.family, f.forwarding))
            .collect();
        assert_eq!(f, vec![(V4, true), (V6, false)]);
        // A session created after the initial sync: no R, forwarding state is ours.
        let mut caps = gr_cap();
        r.flags(&mut caps, false);
        let g = gr_of(&caps);
        assert!(!g.restart && g.notification);
        assert!(g.families.iter().all(|f| f.forwarding));
    }

    #[test]
    fn cold_start_sets_neither_r_nor_f() {
        let r = Restart::default();
        let mut caps = gr_cap();
        r.flags(&mut caps, true);
        let g = gr_of(&caps);
        assert!(!g.restart, "nothing survived: not restarting");
        assert!(g.families.iter().all(|f| !f.forwarding));
        assert!(g.notification, "RFC 8538 N bit always on");
    }

    #[test]
    fn a_restart_holds_kernel_changes_but_blackholes_and_keeps_the_last() {
        let mut r = Restart {
            restarting: true,
            preserved: vec![V4],
            ..Restart::default()
        };
        let bh = FibChange::Upsert(FibRoute {
            prefix: p("10.65.0.0/26"),
            kind: FibKind::Blackhole,
        });
        let now = r.filter(
            vec![
                unicast("10.65.1.0/26", "198.18.1.2"),
                bh.clone(),
                unicast("10.65.1.0/26", "198.18.1.3"),
                unicast("10.65.2.0/26", "198.18.1.2"),
                FibChange::Remove(p("10.65.2.0/26")),
            ],
            true,
        );
        assert_eq!(now, vec![bh]);
        assert_eq!(
            r.release(),
            vec![
                unicast("10.65.1.0/26", "198.18.1.3"),
                FibChange::Remove(p("10.65.2.0/26"))
            ]
        );
        assert!(r.release().is_empty());
        // After the sync everything passes.
        let c = vec![unicast("10.65.1.0/26", "198.18.1.2")];
        assert_eq!(r.filter(c.clone(), false), c);
        // A cold start holds nothing.
        let mut cold = Restart::default();
        assert_eq!(cold.filter(c.clone(), true), c);
    }

    #[test]
    fn withdraw_is_a_hard_reset_when_both_set_n() {
        let cease = NotificationMsg::admin_shutdown("bye");
        let mut neg = Negotiated {
            peer_gr: Some(PeerGr {
                restarting: false,
                notification: true,
                restart_time: 120,
                preserved: vec![],
            }),
            ..Negotiated::plain(65001, "198.18.0.2".parse().unwrap(), vec![V4])
        };
        let h = hard_reset_if_n(cease.clone(), true, Some(&neg));
        assert_eq!((h.code, h.subcode), (6, 9));
        assert_eq!(&h.data[..2], &[6, 2]);
        assert_eq!(&h.data[2..], &cease.data[..]);
        assert_eq!(hard_reset_if_n(cease.clone(), false, Some(&neg)), cease);
        neg.peer_gr.as_mut().unwrap().notification = false;
        assert_eq!(hard_reset_if_n(cease.clone(), true, Some(&neg)), cease);
        assert_eq!(hard_reset_if_n(cease.clone(), true, None), cease);
    }
}
