//! Kernel routes of other programs into the RIB (`[fib] learn`): the netlink worker
//! reports learnable prefixes as changes; a small task forwards them into the owner's
//! timer channel, and the owner feeds them to the RIB as `source = "kernel"` routes.
//!
//! ```text
//!  fib worker ──Vec<Learned>──> forwarder task ──TimerEvent::Learned──> owner ──> rib.learn
//! ```

use tracing::debug;

use super::owner::{Owner, TimerEvent};
use crate::fib::netlink::Learned;

// ===== impl Owner =====

impl Owner {
    /// Start forwarding the FIB's learned-route changes, if it learns. Inside a runtime.
    pub(super) fn start_learning(&mut self) {
        let Some(mut rx) = self.fib.take_learned() else {
            return;
        };
        let tx = self.timers.clone();
        tokio::spawn(async move {
            while let Some(v) = rx.recv().await {
                if tx.send(TimerEvent::Learned(v)).is_err() {
                    return;
                }
            }
        });
    }

    /// Learned-route changes from the kernel: into the RIB, decided at the next flush.
    pub(super) fn on_learned(&mut self, changes: Vec<Learned>) {
        debug!(changes = changes.len(), "kernel routes learned or gone");
        for c in changes {
            match c {
                Learned::Up(p) => self.rib.learn(p),
                Learned::Down(p) => self.rib.unlearn(p),
            }
        }
        self.dirty = true;
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::super::host::Host;
    use super::super::owner::Owner;
    use super::super::tests::FakeSessions;
    use crate::fib::netlink::Learned;
    use crate::fib::MemFib;
    use crate::rib::{Prefix, KERNEL_PATH, LOCAL};

    const CONFIG: &str = r#"
[router]
asn = 64512
router_id = "198.18.0.1"
[metrics]
listen = ""
"#;

    fn p(s: &str) -> Prefix {
        Prefix::V4(s.parse().unwrap())
    }

    #[test]
    fn learned_changes_reach_the_rib() {
        let cfg = crate::config::parse(CONFIG, std::path::Path::new("t.toml")).unwrap();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let sessions = Box::new(FakeSessions::default());
        let mut o = Owner::new(cfg, Host::read(), Box::new(MemFib::new()), sessions, tx).unwrap();
        o.on_learned(vec![Learned::Up(p("198.18.7.1/32"))]);
        o.flush();
        let paths = o.rib.paths(None);
        assert!(paths.iter().any(|v| v.prefix == p("198.18.7.1/32")
            && v.peer == LOCAL
            && v.path_id == KERNEL_PATH));
        // Learned routes never go to the FIB.
        assert!(o.fib.routes().is_empty());
        o.on_learned(vec![Learned::Down(p("198.18.7.1/32"))]);
        o.flush();
        assert!(o.rib.paths(None).is_empty());
    }
}
