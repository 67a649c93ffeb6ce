//! Long-lived graceful restart (RFC 9494) in the speaker: our capability, and the timers
//! of the receiving speaker (helper). The RIB keeps the paths (src/rib/llgr.rs).
//!
//! ```text
//!  Established ──down (kept: RFC 4724 §4.2 / RFC 8538)──> stale, GR timer
//!       │                                                     │ StaleExpired
//!       │  no GR, or GR time 0 ──────────────────────────────>│
//!       │                                                     v
//!       │                          LLGR families: long-lived stale, one timer per family
//!       │                          (the peer's time, at most ours); others dropped
//!       v                                                     │ LlgrExpired(family)
//!  re-established: End-of-RIB drops what was not refreshed    v  dropped
//! ```

use std::time::{Duration, Instant};

use tracing::info;

use super::owner::{arm, Owner, PeerId, TimerEvent};
use super::peer;
use crate::config::PeerCfg;
use crate::fsm::{DownReason, Negotiated};
use crate::wire::capability::LlgrFamily;
use crate::wire::error::cease_sub;
use crate::wire::{Capability, Family};

use crate::config::LLST_MAX;

/// One peer's long-lived graceful restart as its helper.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Llgr {
    /// What to keep as long-lived stale, per family, once the GR time of the current
    /// down runs out.
    pub pending: Vec<(Family, Duration)>,
    /// Families in their long-lived stale period: when it ends, and the token of its timer.
    pub running: Vec<(Family, Instant, u64)>,
    /// The graceful-restart timer of the current down is running.
    pub in_gr: bool,
    /// Last timer token given out.
    next: u64,
}

// ===== impl Owner =====

impl Owner {
    /// The peer's session went down while in the RIB: keep its paths as stale (RFC 4724
    /// §4.2, RFC 9494 §4.2) and arm the timer, or withdraw them.
    pub(super) fn helper_down(
        &mut self,
        id: PeerId,
        neg: Option<&Negotiated>,
        reason: &DownReason,
        was_established: bool,
    ) {
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        let gr = peer::stale_time(&p.cfg, neg, reason).filter(|_| was_established);
        let ll = match was_established {
            true => llgr_times(&p.cfg, neg, reason),
            false => Vec::new(),
        };
        self.rib.peer_down(id, gr.is_some() || !ll.is_empty());
        p.in_rib = false;
        self.dirty = true;
        if gr.is_none() && ll.is_empty() {
            // Every path is gone; a GR timer still running clears `stale` when it fires.
            p.llgr.pending.clear();
            p.llgr.running.clear();
            p.stale = p.llgr.in_gr;
            return;
        }
        p.stale_gen += 1;
        p.stale = true;
        // RFC 9494 §4.2: a long-lived stale timer already running (consecutive restarts
        // before the peer synchronized) is neither restarted nor updated.
        let running: Vec<Family> = p.llgr.running.iter().map(|r| r.0).collect();
        p.llgr.pending = ll
            .into_iter()
            .filter(|(f, _)| !running.contains(f))
            .collect();
        p.llgr.in_gr = gr.is_some();
        let Some(d) = gr else {
            // RFC 9494 §4.2: with a restart time of 0 the long-lived stale period
            // begins at once.
            return self.begin_llgr(id);
        };
        info!(
            "peer {}: graceful restart, keeping its routes as stale for {} s",
            p.name,
            d.as_secs()
        );
        let ev = TimerEvent::StaleExpired {
            peer: id,
            gen: p.stale_gen,
        };
        arm(&self.timers, d, ev);
    }

    /// The graceful-restart time of the peer's `gen`-th down ran out: long-lived stale
    /// for the LLGR families (those pending while the peer is still down, and those
    /// whose period already runs), the other stale paths go.
    pub(super) fn on_stale_expired(&mut self, peer: PeerId, gen: u64) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if !p.stale || p.stale_gen != gen {
            return;
        }
        p.llgr.in_gr = false;
        if p.in_rib {
            // Back up: RFC 4724 applies to what was not long-lived stale already.
            p.llgr.pending.clear();
        }
        if !p.llgr.pending.is_empty() || !p.llgr.running.is_empty() {
            return self.begin_llgr(peer);
        }
        p.stale = false;
        info!(
            "peer {}: graceful restart time over, dropping its stale routes",
            p.name
        );
        self.rib.stale_expired(peer);
        self.dirty = true;
        if p.dynamic && !p.in_rib {
            self.remove_peer(peer, "graceful restart time over");
        }
    }

    /// The long-lived stale time of one family ran out (RFC 9494 §4.2): its stale paths
    /// go, whether the peer is down or back and not yet synchronized.
    pub(super) fn on_llgr_expired(&mut self, peer: PeerId, token: u64, family: Family) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let before = p.llgr.running.len();
        p.llgr
            .running
            .retain(|(f, _, t)| !(*f == family && *t == token));
        if p.llgr.running.len() == before {
            return; // ended by End-of-RIB, or by a down without stale paths
        }
        info!(
            "peer {}: long-lived stale time over for {family}, dropping those routes",
            p.name
        );
        self.rib.llgr_expired(peer, family);
        self.dirty = true;
        self.llgr_maybe_over(peer);
    }

    /// End-of-RIB for `family` from the peer: it is synchronized, its long-lived stale
    /// period is over (RFC 9494 §4.2; the RIB removed what it did not refresh).
    pub(super) fn llgr_end_of_rib(&mut self, peer: PeerId, family: Family) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.llgr.running.retain(|r| r.0 != family);
        }
        self.llgr_maybe_over(peer);
    }

    /// No long-lived stale period and no GR time left: the peer keeps no stale paths.
    fn llgr_maybe_over(&mut self, peer: PeerId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        if !p.stale || p.llgr.in_gr || !p.llgr.running.is_empty() {
            return;
        }
        if !p.llgr.pending.is_empty() {
            return;
        }
        p.stale = false;
        if !p.in_rib {
            self.rib.stale_expired(peer);
            if p.dynamic {
                self.remove_peer(peer, "long-lived stale time over");
            }
        }
    }

    /// RFC 9494 §4.2: the peer's stale paths of its LLGR families become long-lived
    /// stale (the rest go); one timer per newly started family.
    fn begin_llgr(&mut self, id: PeerId) {
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        let fams = std::mem::take(&mut p.llgr.pending);
        let mut keep: Vec<Family> = p.llgr.running.iter().map(|r| r.0).collect();
        keep.extend(fams.iter().map(|(f, _)| *f));
        self.rib.llgr_begin(id, &keep);
        self.dirty = true;
        let now = Instant::now();
        let mut shown = Vec::new();
        for (family, d) in fams {
            p.llgr.next += 1;
            let token = p.llgr.next;
            let ev = TimerEvent::LlgrExpired {
                peer: id,
                gen: token,
                family,
            };
            arm(&self.timers, d, ev);
            p.llgr.running.push((family, now + d, token));
        }
        for (family, until, _) in &p.llgr.running {
            let left = until.saturating_duration_since(now).as_secs();
            shown.push(format!("{family} {left} s"));
        }
        info!(
            "peer {}: long-lived graceful restart (RFC 9494), keeping its routes as long-lived stale (LLGR_STALE, least preferred): {}",
            p.name,
            shown.join(", ")
        );
    }
}

// ===== helper functions =====

/// Our LLGR capability (RFC 9494 §3) for a peer with `long_lived_stale_time` set: every
/// configured family with that time. The F bits are set per start (restart.rs), as for
/// graceful restart. Only beside the GR capability (§4.1).
pub fn capability(p: &PeerCfg) -> Option<Capability> {
    if p.long_lived_stale_time == 0 || !p.graceful_restart {
        return None;
    }
    let time = p.long_lived_stale_time.min(LLST_MAX);
    let fams = p.families.iter().map(|f| LlgrFamily {
        family: *f,
        forwarding: true,
        reserved_flags: 0,
        stale_time: time,
    });
    Some(Capability::LongLivedGr(fams.collect()))
}

/// RFC 9494 §4.2: the families whose paths stay as long-lived stale after this down,
/// each with its time (the peer's long-lived stale time, at most ours). None unless LLGR
/// is on for the peer and the peer sent the capability; the session must have ended as
/// graceful restart requires (no NOTIFICATION, or with the N bit any but a Hard Reset,
/// RFC 8538 §4).
pub fn llgr_times(
    p: &PeerCfg,
    neg: Option<&Negotiated>,
    reason: &DownReason,
) -> Vec<(Family, Duration)> {
    let Some(neg) = neg.filter(|_| p.long_lived_stale_time > 0) else {
        return Vec::new();
    };
    let Some(theirs) = &neg.peer_llgr else {
        return Vec::new();
    };
    let kept = match reason {
        DownReason::Transport(_) | DownReason::FsmError(_) => true,
        DownReason::NotificationReceived(n) | DownReason::NotificationSent(n, _) => {
            let n_bit = neg.peer_gr.as_ref().is_some_and(|g| g.notification);
            let hard = n.code == 6 && n.subcode == cease_sub::HARD_RESET;
            p.graceful_restart && n_bit && !hard
        }
        DownReason::Stopped => false,
    };
    if !kept {
        return Vec::new();
    }
    let ours = p.long_lived_stale_time.min(LLST_MAX);
    theirs
        .iter()
        .filter(|f| f.stale_time > 0 && neg.families.contains(&f.family))
        .map(|f| {
            let secs = f.stale_time.min(ours);
            (f.family, Duration::from_secs(u64::from(secs)))
        })
        .collect()
}

// ===== tests =====

#[cfg(test)]
#[path = "llgr_tests.rs"]
mod tests;
