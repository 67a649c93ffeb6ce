//! `show fib --diff`, the kernel's side: the prefixes where what the speaker applied is
//! not what the kernel holds, each with its reason. Asked after a flush, so what is left
//! is what the worker cannot (or may not) fix by itself.

use super::worker::Worker;
use crate::fib::{KernelDiff, KernelDiffRow};
use crate::rib::{FibKind, Prefix};

/// Rows listed at most (the count of the rest is still right).
const MAX_ROWS: usize = 10_000;

// ===== impl Worker =====

impl Worker {
    /// The difference between `desired` and `installed`, with reasons.
    pub fn diff(&self) -> KernelDiff {
        let mut rows = Vec::new();
        for (p, kind) in &self.desired {
            if rows.len() >= MAX_ROWS {
                break;
            }
            if let Some(r) = self.desired_row(*p, kind) {
                rows.push(r);
            }
        }
        for p in self.installed.keys() {
            if rows.len() >= MAX_ROWS {
                break;
            }
            if self.desired.contains_key(p) {
                continue;
            }
            let (reason, detail) = if self.stale.contains(p) {
                (
                    "stale",
                    "ours from the previous run; kept until the initial sync ends".to_string(),
                )
            } else {
                ("pending", "removal not done yet".to_string())
            };
            rows.push(KernelDiffRow {
                prefix: *p,
                reason,
                detail,
            });
        }
        KernelDiff {
            installed: self.installed.len(),
            rows,
        }
    }

    fn desired_row(&self, p: Prefix, kind: &FibKind) -> Option<KernelDiffRow> {
        let (reason, detail) = if self.unresolved.contains(&p) {
            ("unresolved", unresolved_sentence(kind))
        } else if self.conflicts.contains(&p) {
            ("conflict", self.conflict_sentence(p))
        } else if self.failed.contains(&p) {
            (
                "refused",
                "the kernel refused the write (see the log); retried after the next link or address change"
                    .to_string(),
            )
        } else {
            match self.installed.get(&p) {
                None => ("pending", "write not done yet".to_string()),
                Some(None) => (
                    "modified",
                    "our route was changed by someone else; it is being put back".to_string(),
                ),
                Some(Some(_)) => return None,
            }
        };
        Some(KernelDiffRow {
            prefix: p,
            reason,
            detail,
        })
    }

    /// Which program holds the prefix at our key.
    fn conflict_sentence(&self, p: Prefix) -> String {
        let metric = self.metric(p);
        let other = self.topo.foreign.get(&p).and_then(|v| {
            v.iter()
                .find(|o| o.table == self.cfg.table && o.metric == metric)
        });
        match other {
            Some(o) => format!(
                "a route of protocol {} ({}) holds it in table {} metric {}; wren leaves it alone",
                o.protocol,
                protocol_name(o.protocol),
                o.table,
                o.metric
            ),
            None => "a route of another program holds it; wren leaves it alone".to_string(),
        }
    }
}

// ===== helper functions =====

fn unresolved_sentence(kind: &FibKind) -> String {
    match kind {
        FibKind::Unicast(nh) => {
            let hops: Vec<String> = nh.iter().map(|a| a.to_string()).collect();
            format!(
                "next hop {} does not resolve (no connected subnet, link or route reaches it)",
                hops.join(", ")
            )
        }
        FibKind::Blackhole => "does not resolve".to_string(),
    }
}

/// Names of common rtm_protocol values (iproute2's rt_protos).
fn protocol_name(p: u8) -> &'static str {
    match p {
        2 => "kernel",
        3 => "boot",
        4 => "static",
        12 => "bird",
        16 => "dhcp",
        186 => "bgp",
        188 => "ospf",
        _ => "unknown",
    }
}
