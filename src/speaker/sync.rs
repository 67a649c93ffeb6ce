//! The kernel's initial sync after a (re)start.
//!
//! The FIB adopts the routes wren left in the kernel as stale and keeps them until the
//! speaker says the initial sync is done: every configured peer has come up and sent
//! End-of-RIB for each family it negotiated (RFC 4724 §4.1 uses the same signal), or
//! [`INITIAL_SYNC_MAX`] has passed. Until then an unchanged route costs no kernel write and
//! a route of a peer that is slow to come back is not removed in between.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::rib::PeerId;
use crate::wire::Family;

/// The longest the initial sync waits for slow or absent peers.
pub const INITIAL_SYNC_MAX: Duration = Duration::from_secs(120);

/// Which configured peers still owe their initial End-of-RIBs.
#[derive(Debug, Default)]
pub struct InitialSync {
    done: bool,
    /// Configured peers that have not come up yet.
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

    /// The peer is Established with these families.
    pub fn up(&mut self, peer: PeerId, families: &[Family]) {
        if !self.done && self.never_up.remove(&peer) {
            self.owed.insert(peer, families.to_vec());
        }
    }

    /// The peer was removed from the config: it owes nothing any more.
    pub fn forget(&mut self, peer: PeerId) {
        self.never_up.remove(&peer);
        self.owed.remove(&peer);
    }

    /// The peer sent End-of-RIB for `family`.
    pub fn end_of_rib(&mut self, peer: PeerId, family: Family) {
        if let Some(f) = self.owed.get_mut(&peer) {
            f.retain(|x| *x != family);
        }
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
        assert!(!s.take_ready(false), "only once");
        assert!(!s.take_ready(true), "not even on the timeout");
    }

    #[test]
    fn waits_for_every_peer_and_every_family() {
        let mut s = InitialSync::new([1, 2]);
        s.up(1, &[V4, V6]);
        s.end_of_rib(1, V4);
        s.end_of_rib(1, V6);
        assert!(!s.take_ready(false), "peer 2 never came up");
        s.up(2, &[V4]);
        assert!(!s.take_ready(false), "peer 2 owes IPv4");
        s.end_of_rib(2, V6);
        assert!(
            !s.take_ready(false),
            "a family it did not negotiate does not count"
        );
        s.end_of_rib(2, V4);
        assert!(s.take_ready(false));
    }

    #[test]
    fn timeout_ends_the_wait() {
        let mut s = InitialSync::new([1, 2]);
        s.up(1, &[V4]);
        assert!(!s.take_ready(false));
        assert!(s.take_ready(true));
    }
}
