//! The kernel's initial sync after a (re)start.
//!
//! The FIB adopts the routes wren left in the kernel as stale and keeps them until the
//! speaker says the initial sync is done: every peer that came up has sent End-of-RIB
//! for each family it negotiated (RFC 4724 §4.1 uses the same signal). The wait is bounded
//! per peer, never by one long global timer:
//!
//! - a configured peer that is not Established within [`PEER_UP_WAIT`] of the start, or
//!   whose first connection attempts fail (refused, unreachable, timed out), is not
//!   waited for (calico#7144, bird#115: a peer that is down must not hold everyone's
//!   routes for minutes);
//! - a peer that came up is waited for at most [`EOR_WAIT`] after it came up, not at all
//!   once it went down again, and not at all without graceful restart negotiated (only
//!   then is an End-of-RIB promised);
//! - [`INITIAL_SYNC_MAX`] is only a safety net.
//!
//! Until then an unchanged route costs no kernel write and a route of a peer that is slow
//! to come back is not removed in between.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::rib::PeerId;
use crate::wire::Family;

/// Configured peers not Established this long after the start are not waited for.
pub const PEER_UP_WAIT: Duration = Duration::from_secs(10);
/// The longest a peer that came up is waited for (its End-of-RIB), from when it came up.
pub const EOR_WAIT: Duration = Duration::from_secs(30);
/// The longest the initial sync can take whatever happens (safety net).
pub const INITIAL_SYNC_MAX: Duration = Duration::from_secs(60);

/// Which configured peers still owe their initial End-of-RIBs.
#[derive(Debug, Default)]
pub struct InitialSync {
    done: bool,
    /// Configured peers that have not come up yet (and are still waited for).
    never_up: BTreeSet<PeerId>,
    /// Peers that came up, with the families whose End-of-RIB is still missing.
    owed: BTreeMap<PeerId, Vec<Family>>,
}

// ===== impl InitialSync =====

impl InitialSync {
    /// Wait for these configured peers (dynamic peers from ranges are not waited for).
    pub fn new(peers: impl IntoIterator<Item = PeerId>) -> InitialSync {
        InitialSync {
            done: false,
            never_up: peers.into_iter().collect(),
            owed: BTreeMap::new(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The peer is Established with these families. True when it is waited for (the
    /// caller then bounds the wait with [`EOR_WAIT`]).
    pub fn up(&mut self, peer: PeerId, families: &[Family]) -> bool {
        if !self.done && self.never_up.remove(&peer) {
            self.owed.insert(peer, families.to_vec());
            return true;
        }
        false
    }

    /// The peer sent End-of-RIB for `family`.
    pub fn end_of_rib(&mut self, peer: PeerId, family: Family) {
        if let Some(f) = self.owed.get_mut(&peer) {
            f.retain(|x| *x != family);
        }
    }

    /// While the sync is pending: how many configured peers are still waited for (not up
    /// yet, or up and owing End-of-RIB). `None` once done.
    pub fn waiting_count(&self) -> Option<usize> {
        if self.done {
            return None;
        }
        let (never_up, owing) = self.waiting();
        Some(never_up.len() + owing.len())
    }

    /// The peer's connection failed before it ever came up (refused, unreachable): it is
    /// not waited for.
    pub fn unreachable(&mut self, peer: PeerId) {
        self.never_up.remove(&peer);
    }

    /// The peer went down, or [`EOR_WAIT`] passed since it came up: it is not waited for.
    pub fn forget(&mut self, peer: PeerId) {
        self.never_up.remove(&peer);
        self.owed.remove(&peer);
    }

    /// [`PEER_UP_WAIT`] passed: the peers that have not come up are not waited for.
    pub fn absent_timeout(&mut self) -> Vec<PeerId> {
        std::mem::take(&mut self.never_up).into_iter().collect()
    }

    /// The peers still waited for: (not up yet, up but owing End-of-RIB).
    pub fn waiting(&self) -> (Vec<PeerId>, Vec<PeerId>) {
        let owing = self
            .owed
            .iter()
            .filter(|(_, f)| !f.is_empty())
            .map(|(p, _)| *p);
        (self.never_up.iter().copied().collect(), owing.collect())
    }

    /// True once, when everything owed has arrived (or `timeout` is set): the caller then
    /// tells the FIB.
    pub fn take_ready(&mut self, timeout: bool) -> bool {
        if self.done {
            return false;
        }
        let complete = self.never_up.is_empty() && self.owed.values().all(Vec::is_empty);
        if complete || timeout {
            self.done = true;
            return true;
        }
        false
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    const V4: Family = Family::IPV4_UNICAST;
    const V6: Family = Family::IPV6_UNICAST;

    #[test]
    fn no_peers_is_ready_at_once() {
        let mut s = InitialSync::new([]);
        assert!(s.take_ready(false));
        assert!(s.is_done());
        assert!(!s.take_ready(false), "only once");
        assert!(!s.take_ready(true), "not even on the timeout");
    }

    #[test]
    fn waits_for_every_peer_and_every_family() {
        let mut s = InitialSync::new([1, 2]);
        assert!(s.up(1, &[V4, V6]));
        s.end_of_rib(1, V4);
        s.end_of_rib(1, V6);
        assert!(!s.take_ready(false), "peer 2 never came up");
        assert_eq!(s.waiting(), (vec![2], vec![]));
        s.up(2, &[V4]);
        assert!(!s.take_ready(false), "peer 2 owes IPv4");
        assert_eq!(s.waiting(), (vec![], vec![2]));
        s.end_of_rib(2, V6);
        assert!(
            !s.take_ready(false),
            "a family it did not negotiate does not count"
        );
        assert_eq!(s.waiting_count(), Some(1));
        s.end_of_rib(2, V4);
        assert!(s.take_ready(false));
        assert_eq!(s.waiting_count(), None);
        assert!(!s.up(1, &[V4]), "after the sync nobody is waited for");
    }

    #[test]
    fn timeout_ends_the_wait() {
        let mut s = InitialSync::new([1, 2]);
        s.up(1, &[V4]);
        assert!(!s.take_ready(false));
        assert!(s.take_ready(true));
    }

    #[test]
    fn an_unreachable_peer_is_not_waited_for() {
        let mut s = InitialSync::new([1, 2]);
        s.unreachable(2);
        s.up(1, &[V4]);
        s.end_of_rib(1, V4);
        assert!(s.take_ready(false));
    }

    #[test]
    fn absent_peers_are_given_up_after_the_up_wait() {
        let mut s = InitialSync::new([1, 2, 3]);
        s.up(1, &[V4]);
        s.end_of_rib(1, V4);
        assert!(!s.take_ready(false));
        assert_eq!(s.absent_timeout(), vec![2, 3]);
        assert!(s.take_ready(false));
    }

    #[test]
    fn a_peer_that_went_down_or_is_slow_is_forgotten() {
        let mut s = InitialSync::new([1, 2]);
        s.up(1, &[V4]);
        s.up(2, &[V4, V6]);
        s.end_of_rib(2, V4);
        s.forget(1);
        assert!(!s.take_ready(false), "peer 2 still owes IPv6");
        s.forget(2);
        assert!(s.take_ready(false));
    }
}
