//! Holding sends until the kernel has the blackholes they depend on.
//!
//! An originated block is advertised only after its blackhole is in the kernel, and its
//! blackhole is removed only after the withdrawal went out (DESIGN.md, issue 4). The FIB
//! writes from its own worker, so when a flush installs a blackhole the speaker asks the
//! FIB for a barrier and holds that flush's outputs, and every later one, in order, until
//! the barrier opens. The FIB applies in order, so the newest barrier covers the older
//! ones: one is enough.
//!
//! ```text
//!  flush: fib (blackhole) ──> barrier ──┐
//!         sends, fib_after, stops ──> held (in order) ──> released when the barrier opens
//! ```

use std::future::Future;
use std::pin::Pin;

use crate::rib::{FibChange, Outgoing, PeerId};
use crate::wire::NotificationMsg;

/// Completes when everything the FIB was given before it is in the kernel.
pub type Barrier = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One held output, released in order.
#[derive(Debug)]
pub enum Held {
    Send(Outgoing),
    FibAfter(Vec<FibChange>),
    Stop(PeerId, NotificationMsg),
}

/// The held outputs and the barrier they wait for.
#[derive(Default)]
pub struct Gate {
    /// Outputs are being held (a barrier is pending, perhaps taken out by the loop).
    closed: bool,
    barrier: Option<Barrier>,
    held: Vec<Held>,
}

// ===== impl Gate =====

impl Gate {
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Hold everything from now on until `barrier` opens.
    pub fn close(&mut self, barrier: Barrier) {
        self.closed = true;
        self.barrier = Some(barrier);
    }

    pub fn hold(&mut self, h: Held) {
        self.held.push(h);
    }

    /// The pending barrier, for the loop to await outside `self`.
    pub fn take_barrier(&mut self) -> Option<Barrier> {
        self.barrier.take()
    }

    /// A barrier the loop took out did not open yet: put it back unless a newer one
    /// replaced it.
    pub fn restore(&mut self, b: Barrier) {
        if self.barrier.is_none() {
            self.barrier = Some(b);
        }
    }

    /// A barrier the loop awaited opened. Unless a newer one is pending, everything held
    /// is released, in order.
    pub fn opened(&mut self) -> Vec<Held> {
        if self.barrier.is_some() {
            return Vec::new();
        }
        self.closed = false;
        std::mem::take(&mut self.held)
    }
}
