//! The speaker's state-change log lines, with repeats summarised.
//!
//! A peer that cannot connect goes `connect -> active: connection failed: …` and back on
//! every retry. The first such line in a minute is logged; the repeats are counted and
//! summarised ("… (repeated 7 times in the last 60 s)") when the window ends. Changes to
//! or from Established are always logged.

use std::time::Instant;

use tracing::info;

use super::owner::{name, Owner};
use crate::fsm::State;
use crate::logging::ratelimit::{repeated, RateLimit, Verdict, WINDOW};

/// Peer name, from, to, reason.
pub type StateKey = (String, &'static str, &'static str, String);

/// The state-change lines' repeat limiter.
pub type StateLog = RateLimit<StateKey>;

// ===== impl Owner: summaries =====

impl Owner {
    /// Summary lines for the windows that ended (called on the tick).
    pub(super) fn log_summaries(&mut self) {
        let window = self.state_log.window();
        for ((peer, from, to, why), n) in self.state_log.expired(Instant::now()) {
            let sep = if why.is_empty() { "" } else { ": " };
            info!(peer = %peer, "peer {peer}: {from} -> {to}{sep}{why}{}", repeated(n, window));
        }
    }
}

// ===== helper functions =====

pub fn new_state_log() -> StateLog {
    RateLimit::new(WINDOW)
}

/// Log one state change (with its reason), unless it repeats within the window.
pub fn state_change(log: &mut StateLog, peer: &str, from: State, to: State, why: Option<String>) {
    let why = why.unwrap_or_default();
    let sep = if why.is_empty() { "" } else { ": " };
    let (f, t) = (name(from), name(to));
    if from == State::Established || to == State::Established {
        info!("peer {peer}: {f} -> {t}{sep}{why}");
        return;
    }
    let key = (peer.to_string(), f, t, why);
    match log.check(&key, Instant::now()) {
        Verdict::Log => info!("peer {peer}: {f} -> {t}{sep}{}", key.3),
        Verdict::LogAfter(n) => {
            let more = repeated(n, log.window());
            info!("peer {peer}: {f} -> {t}{sep}{}{more}", key.3)
        }
        Verdict::Suppress => tracing::debug!("peer {peer}: {f} -> {t}{sep}{} (repeat)", key.3),
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_but_established_changes_never() {
        let mut log = new_state_log();
        let why = || Some("connection failed: refused".to_string());
        state_change(&mut log, "b", State::Connect, State::Active, why());
        state_change(&mut log, "b", State::Connect, State::Active, why());
        state_change(&mut log, "b", State::Connect, State::Active, why());
        assert_eq!(log.len(), 1);
        let key = ("b".to_string(), "connect", "active", why().unwrap());
        assert_eq!(log.clear(&key), 2, "two repeats suppressed");
        state_change(&mut log, "b", State::OpenConfirm, State::Established, None);
        state_change(&mut log, "b", State::Established, State::Idle, why());
        assert!(log.is_empty(), "Established changes bypass the limiter");
    }
}
