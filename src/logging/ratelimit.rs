//! Repeated log messages, summarised (pure: the caller passes the time).
//!
//! The first occurrence of a key is logged; more within the window are counted, not
//! logged. When the window is over, the caller logs one summary line ("… repeated 12
//! times in the last 60 s"), either at the next occurrence ([`Verdict::LogAfter`]) or
//! from a periodic [`RateLimit::expired`] call if the message stopped.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// The usual window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// What to do with one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it.
    Log,
    /// Count it only.
    Suppress,
    /// Log it, saying that `n` more were suppressed in the window before.
    LogAfter(u64),
}

/// Occurrences by key within a window.
#[derive(Debug)]
pub struct RateLimit<K> {
    window: Duration,
    seen: HashMap<K, Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    since: Instant,
    suppressed: u64,
}

// ===== impl RateLimit =====

impl<K: Eq + Hash + Clone> RateLimit<K> {
    pub fn new(window: Duration) -> RateLimit<K> {
        RateLimit {
            window,
            seen: HashMap::new(),
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// One more occurrence of `key` at `now`.
    pub fn check(&mut self, key: &K, now: Instant) -> Verdict {
        let Some(e) = self.seen.get_mut(key) else {
            self.seen.insert(key.clone(), Entry::new(now));
            return Verdict::Log;
        };
        if now.saturating_duration_since(e.since) < self.window {
            e.suppressed += 1;
            return Verdict::Suppress;
        }
        let n = std::mem::replace(e, Entry::new(now)).suppressed;
        if n > 0 {
            Verdict::LogAfter(n)
        } else {
            Verdict::Log
        }
    }

    /// Forget `key` (the condition is over, e.g. the session came up); returns how many
    /// occurrences were suppressed and not yet summarised.
    pub fn clear(&mut self, key: &K) -> u64 {
        self.seen.remove(key).map_or(0, |e| e.suppressed)
    }

    /// Windows that ended by `now`: their keys and suppressed counts (only those with
    /// something suppressed), for summary lines. Quiet keys are forgotten.
    pub fn expired(&mut self, now: Instant) -> Vec<(K, u64)> {
        let mut out = Vec::new();
        let window = self.window;
        self.seen.retain(|k, e| {
            if now.saturating_duration_since(e.since) < window {
                return true;
            }
            if e.suppressed > 0 {
                out.push((k.clone(), e.suppressed));
                // Keep the key: the next occurrence opens a new window and is logged.
                *e = Entry::new(now);
                return true;
            }
            false
        });
        out
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

impl Entry {
    fn new(since: Instant) -> Entry {
        Entry {
            since,
            suppressed: 0,
        }
    }
}

// ===== helper functions =====

/// The summary suffix: ` (repeated 3 times in the last 60 s)`.
pub fn repeated(n: u64, window: Duration) -> String {
    let times = if n == 1 { "time" } else { "times" };
    format!(" (repeated {n} {times} in the last {} s)", window.as_secs())
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn first_is_logged_repeats_are_counted_then_summarised() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(WINDOW);
        assert_eq!(r.check(&"refused", t0), Verdict::Log);
        for i in 1..=5 {
            assert_eq!(r.check(&"refused", t0 + i * S), Verdict::Suppress);
        }
        assert_eq!(
            r.check(&"other", t0 + 5 * S),
            Verdict::Log,
            "keys are apart"
        );
        assert_eq!(r.check(&"refused", t0 + 61 * S), Verdict::LogAfter(5));
        assert_eq!(r.check(&"refused", t0 + 62 * S), Verdict::Suppress);
        assert_eq!(
            r.check(&"refused", t0 + 200 * S),
            Verdict::LogAfter(1),
            "a new window after the next occurrence"
        );
        assert_eq!(r.check(&"refused", t0 + 300 * S), Verdict::Log);
    }

    #[test]
    fn expired_windows_give_summaries_and_forget_quiet_keys() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(WINDOW);
        r.check(&1, t0);
        r.check(&1, t0 + S);
        r.check(&1, t0 + 2 * S);
        r.check(&2, t0);
        assert!(r.expired(t0 + 30 * S).is_empty(), "windows still open");
        assert_eq!(r.expired(t0 + 61 * S), vec![(1, 2)]);
        assert_eq!(r.len(), 1, "key 2 was quiet: forgotten");
        assert_eq!(
            r.check(&1, t0 + 62 * S),
            Verdict::Suppress,
            "a new window began at the summary"
        );
        assert_eq!(r.clear(&1), 1);
        assert!(r.is_empty());
        assert_eq!(r.check(&1, t0 + 63 * S), Verdict::Log);
    }

    #[test]
    fn summary_text() {
        assert_eq!(repeated(1, WINDOW), " (repeated 1 time in the last 60 s)");
        assert_eq!(
            repeated(12, WINDOW),
            " (repeated 12 times in the last 60 s)"
        );
    }
}
