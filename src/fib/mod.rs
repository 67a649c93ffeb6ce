//! The forwarding table: where the RIB's best routes go.
//!
//! The FIB is an export consumer like a peer: the speaker hands it the RIB's
//! [`FibChange`]s in order, and it owns the kernel side. [`FibSink::apply`] must not block
//! the speaker: a kernel implementation queues the changes to its own worker.
//!
//! ```text
//!  rib.flush() ──fib──> FibSink::apply ──> (kernel worker | MemFib)
//!              ──sends──> peers
//!              ──fib_after──> FibSink::apply
//! ```
//!
//! [`MemFib`] is the in-memory FIB of tests and the quick start; [`netlink::NetlinkFib`]
//! writes the kernel through rtnetlink behind the same trait.

pub mod netlink;

use crate::hash::FastMap;

use crate::rib::{FibChange, FibKind, FibRoute, Prefix};

/// Where the speaker's route changes go. Owned by the speaker task.
pub trait FibSink: Send {
    /// Apply these changes, in order. Never blocks on I/O.
    fn apply(&mut self, changes: &[FibChange]);

    /// The routes the FIB holds (or has been asked to hold), prefixes in order.
    fn routes(&self) -> Vec<FibRoute>;

    /// How many routes [`FibSink::routes`] would list (cheaper: `/metrics` asks each second).
    fn route_count(&self) -> usize {
        self.routes().len()
    }

    /// The route held for `prefix`, if any (`wren explain`: one lookup, not a listing).
    fn route(&self, prefix: &Prefix) -> Option<FibRoute> {
        self.routes().into_iter().find(|r| r.prefix == *prefix)
    }

    /// The kernel FIB's counters (writes, refused writes, …); `None` for in-memory FIBs.
    fn kernel_stats(&self) -> Option<netlink::FibStats> {
        None
    }

    /// The initial sync after a start is complete: routes adopted from an earlier run that
    /// nobody re-announced can go.
    fn sync_done(&mut self) {}

    /// A future that completes once everything applied so far is in the kernel; `None`
    /// when `apply` is already complete on return (the in-memory FIB).
    fn barrier(&mut self) -> Option<crate::speaker::Barrier> {
        None
    }

    /// The speaker stops: finish the queued writes (and without `persist`, remove our
    /// routes) before returning.
    fn close(&mut self) {}

    /// The speaker stops gracefully: finish the queued writes and leave every route of
    /// ours in the kernel, whatever `persist` says (RFC 4724 forwarding state).
    fn close_keep(&mut self) {}

    /// The families of which routes of ours were found in the kernel at start (adopted):
    /// their forwarding state survived the previous run.
    fn preserved(&self) -> Vec<crate::wire::Family> {
        Vec::new()
    }

    /// Ask the kernel's side where it differs from what was applied (`show fib --diff`);
    /// answered once the writes queued so far are done. `None` for in-memory FIBs.
    fn kernel_diff(&self) -> Option<tokio::sync::oneshot::Receiver<KernelDiff>> {
        None
    }

    /// Other programs' kernel routes (`[fib] learn`), as changes; taken once by the
    /// speaker. None when the FIB does not learn.
    fn take_learned(&mut self) -> Option<LearnedRx> {
        None
    }
}

/// Where [`FibSink::take_learned`] changes arrive.
pub type LearnedRx = tokio::sync::mpsc::UnboundedReceiver<Vec<netlink::Learned>>;

/// The kernel's side of `show fib --diff`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelDiff {
    /// Routes of ours the kernel holds.
    pub installed: usize,
    /// Prefixes where the kernel differs from what was applied, in no order.
    pub rows: Vec<KernelDiffRow>,
}

/// One prefix of [`KernelDiff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelDiffRow {
    pub prefix: Prefix,
    /// A code of [`crate::control::FibDiffRow::reason`].
    pub reason: &'static str,
    pub detail: String,
}

impl FibSink for netlink::NetlinkFib {
    fn apply(&mut self, changes: &[FibChange]) {
        netlink::NetlinkFib::apply(self, changes)
    }

    fn routes(&self) -> Vec<FibRoute> {
        netlink::NetlinkFib::routes(self)
    }

    fn route_count(&self) -> usize {
        netlink::NetlinkFib::route_count(self)
    }

    fn route(&self, prefix: &Prefix) -> Option<FibRoute> {
        netlink::NetlinkFib::route(self, prefix)
    }

    fn kernel_stats(&self) -> Option<netlink::FibStats> {
        Some(self.stats())
    }

    fn sync_done(&mut self) {
        netlink::NetlinkFib::sync_done(self)
    }

    fn close(&mut self) {
        netlink::NetlinkFib::close_in_place(self);
    }

    fn close_keep(&mut self) {
        netlink::NetlinkFib::close_keep_in_place(self);
    }

    fn preserved(&self) -> Vec<crate::wire::Family> {
        let s = netlink::NetlinkFib::stats(self);
        let mut f = Vec::new();
        if s.adopted > s.adopted_v6 {
            f.push(crate::wire::Family::IPV4_UNICAST);
        }
        if s.adopted_v6 > 0 {
            f.push(crate::wire::Family::IPV6_UNICAST);
        }
        f
    }

    fn kernel_diff(&self) -> Option<tokio::sync::oneshot::Receiver<KernelDiff>> {
        Some(netlink::NetlinkFib::diff(self))
    }

    fn take_learned(&mut self) -> Option<LearnedRx> {
        netlink::NetlinkFib::take_learned(self)
    }

    fn barrier(&mut self) -> Option<crate::speaker::Barrier> {
        let done = netlink::NetlinkFib::barrier(self);
        Some(Box::pin(async move {
            let _ = done.await;
        }))
    }
}

/// An in-memory FIB: a map prefix → what to do with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemFib {
    routes: FastMap<Prefix, FibKind>,
}

// ===== impl MemFib =====

impl MemFib {
    pub fn new() -> MemFib {
        MemFib::default()
    }

    /// The route of one prefix, if any.
    pub fn get(&self, prefix: &Prefix) -> Option<&FibKind> {
        self.routes.get(prefix)
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

impl FibSink for MemFib {
    fn route_count(&self) -> usize {
        MemFib::len(self)
    }

    fn route(&self, prefix: &Prefix) -> Option<FibRoute> {
        self.get(prefix).map(|k| FibRoute {
            prefix: *prefix,
            kind: k.clone(),
        })
    }

    fn apply(&mut self, changes: &[FibChange]) {
        for c in changes {
            match c {
                FibChange::Upsert(r) => {
                    self.routes.insert(r.prefix, r.kind.clone());
                }
                FibChange::Remove(p) => {
                    self.routes.remove(p);
                }
            }
        }
    }

    fn routes(&self) -> Vec<FibRoute> {
        let mut v: Vec<FibRoute> = self
            .routes
            .iter()
            .map(|(p, k)| FibRoute {
                prefix: *p,
                kind: k.clone(),
            })
            .collect();
        v.sort_by_key(|r| r.prefix);
        v
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn p(s: &str) -> Prefix {
        Prefix::V4(s.parse().unwrap())
    }

    fn nh(s: &str) -> FibKind {
        FibKind::Unicast(vec![s.parse::<IpAddr>().unwrap()].into())
    }

    #[test]
    fn applies_changes_in_order() {
        let mut fib = MemFib::new();
        fib.apply(&[
            FibChange::Upsert(FibRoute {
                prefix: p("10.65.0.64/26"),
                kind: nh("127.0.0.2"),
            }),
            FibChange::Upsert(FibRoute {
                prefix: p("10.65.0.0/26"),
                kind: FibKind::Blackhole,
            }),
            // Replace, then remove and add again: the last change wins.
            FibChange::Upsert(FibRoute {
                prefix: p("10.65.0.64/26"),
                kind: nh("127.0.0.3"),
            }),
            FibChange::Remove(p("10.65.0.0/26")),
        ]);
        assert_eq!(fib.len(), 1);
        assert_eq!(fib.get(&p("10.65.0.64/26")), Some(&nh("127.0.0.3")));
        assert_eq!(fib.get(&p("10.65.0.0/26")), None);
    }

    #[test]
    fn routes_are_sorted_by_prefix() {
        let mut fib = MemFib::new();
        for s in ["10.65.0.128/26", "10.65.0.0/26", "10.65.0.64/26"] {
            fib.apply(&[FibChange::Upsert(FibRoute {
                prefix: p(s),
                kind: FibKind::Blackhole,
            })]);
        }
        let got: Vec<Prefix> = fib.routes().iter().map(|r| r.prefix).collect();
        assert_eq!(
            got,
            vec![p("10.65.0.0/26"), p("10.65.0.64/26"), p("10.65.0.128/26")]
        );
        fib.apply(&[FibChange::Remove(p("10.65.0.0/26"))]);
        assert_eq!(fib.routes().len(), 2);
    }
}
