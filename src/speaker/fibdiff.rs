//! `show fib --diff`: what the RIB wants in the kernel (best routes passing `[fib]
//! export`) against what the FIB adapter holds and, for the kernel FIB, what the kernel
//! holds. Two levels:
//!
//! ```text
//!  rib.fib() ──(missing / extra / next-hops: held back by the initial sync or a barrier)──
//!  FIB adapter (fib.routes()) ──(kernel_diff: unresolved / conflict / refused / pending /
//!  stale / modified)── kernel
//! ```
//!
//! The kernel's side is asked from the netlink worker; the owner loop does not wait for
//! it: a task merges the two and replies.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::oneshot;

use super::owner::{prefix_str, Owner};
use crate::control::{FibDiff, FibDiffRow, Response};
use crate::fib::KernelDiff;
use crate::rib::{FibKind, FibRoute, Prefix};

/// How long the reply waits for the kernel's side.
const KERNEL_WAIT: Duration = Duration::from_secs(5);
/// Rows listed at most.
const MAX_ROWS: usize = 10_000;

/// The speaker's side of the answer, before the kernel's is merged in.
pub(super) struct Partial {
    wanted: BTreeMap<Prefix, FibKind>,
    held: BTreeMap<Prefix, FibKind>,
    rows: BTreeMap<Prefix, FibDiffRow>,
}

// ===== impl Owner =====

impl Owner {
    /// Answer `Request::ShowFibDiff` through `reply` (maybe later, from a task).
    pub(super) fn fib_diff(&self, reply: oneshot::Sender<Result<Response, String>>) {
        let part = self.fib_diff_partial();
        match self.fib.kernel_diff() {
            None => {
                let _ = reply.send(Ok(Response::FibDiff(part.finish(None))));
            }
            Some(rx) => {
                tokio::spawn(async move {
                    let k = tokio::time::timeout(KERNEL_WAIT, rx).await;
                    let k = k.ok().and_then(Result::ok);
                    let _ = reply.send(Ok(Response::FibDiff(part.finish(k))));
                });
            }
        }
    }

    /// The RIB against the FIB adapter.
    pub(super) fn fib_diff_partial(&self) -> Partial {
        let wanted: BTreeMap<Prefix, FibKind> = self
            .rib
            .fib()
            .into_iter()
            .map(|r| (r.prefix, r.kind))
            .collect();
        let held: BTreeMap<Prefix, FibKind> = self
            .fib
            .routes()
            .into_iter()
            .map(|r| (r.prefix, r.kind))
            .collect();
        let syncing = !self.sync.is_done();
        let why = if syncing {
            "held back until the initial sync after the restart ends"
        } else {
            "held back until a blackhole is in the kernel"
        };
        let mut rows = BTreeMap::new();
        for (p, w) in &wanted {
            let (reason, detail) = match held.get(p) {
                Some(h) if h == w => continue,
                Some(_) => ("next-hops", format!("the FIB holds other next hops: {why}")),
                None => ("missing", format!("not in the FIB yet: {why}")),
            };
            rows.insert(*p, row(*p, reason, detail, &wanted, &held));
        }
        for p in held.keys().filter(|p| !wanted.contains_key(p)) {
            let detail = format!("the RIB no longer wants it: {why}");
            rows.insert(*p, row(*p, "extra", detail, &wanted, &held));
        }
        Partial { wanted, held, rows }
    }
}

// ===== impl Partial =====

impl Partial {
    /// Merge the kernel's side (`None`: an in-memory FIB, or the kernel did not answer).
    pub(super) fn finish(mut self, k: Option<KernelDiff>) -> FibDiff {
        let kernel = k.is_some();
        let installed = k.as_ref().map_or(self.held.len(), |k| k.installed);
        for r in k.map(|k| k.rows).unwrap_or_default() {
            if !self.rows.contains_key(&r.prefix) {
                let x = row(r.prefix, r.reason, r.detail, &self.wanted, &self.held);
                self.rows.insert(r.prefix, x);
            }
        }
        let differing = self.rows.len();
        let rows: Vec<FibDiffRow> = self.rows.into_values().take(MAX_ROWS).collect();
        FibDiff {
            wanted: self.wanted.len(),
            installed,
            differing,
            kernel,
            truncated: differing - rows.len(),
            rows,
        }
    }
}

// ===== helper functions =====

fn row(
    p: Prefix,
    reason: &str,
    detail: String,
    wanted: &BTreeMap<Prefix, FibKind>,
    held: &BTreeMap<Prefix, FibKind>,
) -> FibDiffRow {
    let fib_row = |k: &FibKind| {
        super::view::fib_row(&FibRoute {
            prefix: p,
            kind: k.clone(),
        })
    };
    FibDiffRow {
        prefix: prefix_str(&p),
        reason: reason.to_string(),
        detail,
        wanted: wanted.get(&p).map(fib_row),
        held: held.get(&p).map(fib_row),
    }
}
