//! Handing a flush's outputs to the sessions: one command per peer per flush, and
//! flushes paced while they are big.
//!
//! A flush of a busy route reflector yields one shared run of UPDATEs per source peer
//! (each reflected path has its own ORIGINATOR_ID, RFC 4456 §8), each for nearly every
//! member of the update group. Sent one by one that is one channel message, one wakeup
//! and one `write` per run and peer; gathered here it is one of each per peer, with the
//! runs still shared (reference counted) between the peers.
//!
//! ```text
//!  Held::Send { peers, bytes } ...  ──gather by peer──>  SessionCmd::SendAll([bytes, ...])
//!  Held::FibAfter / Held::Stop      ──after the sends gathered before them (order kept)
//! ```
//!
//! Pacing: after a flush that went to many peers, the next one waits until [`PACE`] has
//! passed (events are still taken in meanwhile; a control request flushes at once). A
//! lone change after a quiet spell is sent at once; while a reflector's clients come up
//! and advertise, each peer gets the routes of many sources per `write` instead of a
//! write per source (the kernel's per-segment work was most of the daemon's CPU).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::gate::Held;
use super::owner::Owner;
use crate::hash::FastMap;
use crate::net::SessionCmd;
use crate::rib::PeerId;

/// The least time between two flushes when the first went to many peers.
const PACE: Duration = Duration::from_millis(10);
/// Runs handed to peers (counted per peer) that make a flush big.
const PACE_MIN: usize = 256;

/// When the next flush may run.
#[derive(Debug, Default)]
pub struct Pace {
    not_before: Option<Instant>,
}

/// The runs gathered for one peer, and how many UPDATEs they hold.
#[derive(Default)]
struct Runs {
    runs: Vec<Arc<[u8]>>,
    updates: u64,
}

// ===== impl Owner =====

impl Owner {
    /// Flush unless a big flush was less than [`PACE`] ago (`force`: flush anyway, a
    /// control request waits for the current state).
    pub(super) fn flush_paced(&mut self, force: bool) {
        if force || self.pace_due().is_none() {
            self.flush();
        }
    }

    /// When a paced flush is owed: there is something to flush and the pause is not over.
    pub(super) fn pace_due(&self) -> Option<Instant> {
        let t = self.pace.not_before.filter(|_| self.dirty)?;
        (t > Instant::now()).then_some(t)
    }

    /// Carry out `held` in order; consecutive sends are gathered per peer.
    pub(super) fn carry_out_all(&mut self, held: impl IntoIterator<Item = Held>) {
        let mut by_peer: FastMap<PeerId, Runs> = FastMap::default();
        let mut order: Vec<PeerId> = Vec::new();
        let mut runs = 0;
        for h in held {
            match h {
                Held::Send(o) => {
                    runs += o.peers.len();
                    let updates = super::stats::count_updates(&o.bytes);
                    for &id in &o.peers {
                        let r = by_peer.entry(id).or_insert_with(|| {
                            order.push(id);
                            Runs::default()
                        });
                        r.runs.push(o.bytes.clone());
                        r.updates += updates;
                    }
                }
                other => {
                    self.send_gathered(&mut by_peer, &mut order);
                    self.carry_out(other);
                }
            }
        }
        self.send_gathered(&mut by_peer, &mut order);
        self.pace.not_before = (runs >= PACE_MIN).then(|| Instant::now() + PACE);
    }

    /// One command per peer with what was gathered for it, in the order peers first
    /// appeared.
    fn send_gathered(&self, by_peer: &mut FastMap<PeerId, Runs>, order: &mut Vec<PeerId>) {
        for id in order.drain(..) {
            let (Some(r), Some(p)) = (by_peer.remove(&id), self.peers.get(&id)) else {
                continue;
            };
            p.stats.sent(r.updates);
            let cmd = match &r.runs[..] {
                [one] => SessionCmd::Send(one.clone()),
                _ => SessionCmd::SendAll(r.runs),
            };
            p.session.send(cmd);
        }
    }
}

// ===== helper functions =====

/// Sleep until `t` (for ever without one).
pub(super) async fn until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::host::Host;
    use super::super::tests::{FakeSessions, CONFIG};
    use super::*;
    use crate::fib::MemFib;
    use crate::rib::Outgoing;

    fn owner() -> (Owner, super::super::tests::Log) {
        let cfg = crate::config::parse(CONFIG, Path::new("t.toml")).unwrap();
        let fake = FakeSessions::default();
        let log = fake.log.clone();
        let (timers, _) = tokio::sync::mpsc::unbounded_channel();
        let o = Owner::new(
            cfg,
            Host::read(),
            Box::new(MemFib::new()),
            Box::new(fake),
            timers,
        );
        (o.unwrap(), log)
    }

    fn send(peers: Vec<PeerId>, len: usize) -> Held {
        Held::Send(Outgoing {
            peers,
            bytes: Arc::from(vec![0u8; len]),
        })
    }

    #[tokio::test]
    async fn sends_are_gathered_per_peer_up_to_the_next_other_output() {
        let (mut o, log) = owner();
        let (a, b) = (1, 2);
        assert!(o.peers.contains_key(&a) && o.peers.contains_key(&b));
        let held = vec![
            send(vec![a, b], 10),
            send(vec![a], 7),
            Held::FibAfter(Vec::new()),
            send(vec![b], 3),
        ];
        o.carry_out_all(held);
        let got = log.lock().unwrap().clone();
        let want: Vec<(PeerId, String)> = vec![
            (a, "send 17".into()),
            (b, "send 10".into()),
            (b, "send 3".into()),
        ];
        assert_eq!(got, want);
        assert!(o.pace.not_before.is_none(), "a small flush does not pace");
    }

    #[tokio::test]
    async fn a_big_flush_paces_the_next_one_only_while_dirty() {
        let (mut o, _log) = owner();
        o.carry_out_all([send(vec![1; PACE_MIN], 1)]);
        assert!(o.pace_due().is_none(), "nothing to flush: nothing owed");
        o.dirty = true;
        let due = o.pace_due().expect("paced");
        assert!(due <= Instant::now() + PACE);
        o.flush_paced(false);
        assert!(o.dirty, "not flushed during the pause");
        o.flush_paced(true);
        assert!(!o.dirty, "a forced flush runs");
    }
}
