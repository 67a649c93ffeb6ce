//! Routes of other programs learned from the kernel (`[fib] learn`, BIRD's `kernel {
//! learn; }`): Felix's workload /32s, admin and DHCP routes, for export policy.
//!
//! A learned route is a path of the [`LOCAL`] pseudo-peer with path identifier
//! [`KERNEL_PATH`] and ORIGIN INCOMPLETE (RFC 4271 §5.1.1: learned by some other means).
//! It is never written back to the kernel (the FIB takes nothing from a local path that
//! is not a blackhole), it loses the decision to every other path (BIRD's kernel
//! preference 10 is below BGP's 100 and static's 200), and it is exported only through an
//! export policy that accepts `source = "kernel"` routes (no policy: not exported).

use super::intern::RouteAttrs;
use super::table::{Path, Reject};
use super::{Prefix, Rib, LOCAL};
use crate::wire::{AsPath, Attrs, Origin};

/// Path identifier of a kernel-learned path of [`LOCAL`] (originated paths have 0).
pub const KERNEL_PATH: u32 = u32::MAX;

// ===== impl Rib =====

impl Rib {
    /// A route of another program is in the kernel for `prefix` (idempotent).
    pub fn learn(&mut self, prefix: Prefix) {
        let di = self.table.get_or_create(prefix);
        let Some(d) = self.table.get_mut(di) else {
            return;
        };
        if d.find(LOCAL, KERNEL_PATH).is_some() {
            return;
        }
        let local_id = d.next_local_id();
        let attr = self.attrs.intern(RouteAttrs {
            attrs: Attrs {
                origin: Some(Origin::Incomplete),
                as_path: Some(AsPath::default()),
                ..Attrs::default()
            },
            nh: None,
        });
        d.paths.push(Path {
            peer: LOCAL,
            path_id: KERNEL_PATH,
            attr,
            local_id,
            flags: 0,
            reject: Reject::None,
        });
        self.table.mark(di);
    }

    /// The kernel no longer holds another program's route for `prefix`.
    pub fn unlearn(&mut self, prefix: Prefix) {
        let Some(di) = self.table.lookup(&prefix) else {
            return;
        };
        let Some(d) = self.table.get_mut(di) else {
            return;
        };
        let Some(i) = d.find(LOCAL, KERNEL_PATH) else {
            return;
        };
        let p = d.paths.remove(i);
        self.attrs.dec(p.attr);
        self.table.mark(di);
    }

    /// How many prefixes have a kernel-learned path.
    pub fn learned_count(&self) -> usize {
        self.all_paths(None)
            .iter()
            .filter(|p| p.peer == LOCAL && p.path_id == KERNEL_PATH)
            .count()
    }
}

// ===== helper functions =====

/// A kernel-learned path.
pub(super) fn is_kernel(p: &Path) -> bool {
    p.peer == LOCAL && p.path_id == KERNEL_PATH
}
