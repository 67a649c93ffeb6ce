//! `/healthz` and `/readyz` verdicts from a [`Snapshot`] (pure).
//!
//! - healthz (liveness): the owner loop ran its 1 s tick within [`MAX_SILENCE`]. A loop
//!   that is stuck or dead fails it; a busy one does not (lag is a metric, not a failure).
//! - readyz (readiness): the config is applied, the datastore (if any) is synced, the
//!   initial sync is over, and enough configured peers are Established
//!   (`[metrics] ready_min_established`; default one, if any peer is configured).

use std::time::Duration;

use crate::config::ReadyMin;
use crate::fsm::State;
use crate::speaker::{state_name, Snapshot};

/// `/healthz` fails when the owner loop has not ticked for this long.
pub const MAX_SILENCE: Duration = Duration::from_secs(10);
/// Down peers named in a `/readyz` answer, at most.
const NAMED: usize = 8;

/// An HTTP answer: success (200) or not (503), and the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    pub body: String,
}

// ===== helper functions =====

/// Liveness: is the owner loop ticking?
pub fn healthz(s: &Snapshot) -> Verdict {
    match s.since_tick {
        None => Verdict {
            ok: false,
            body: "not live: the owner loop has not ticked yet".into(),
        },
        Some(d) if d > MAX_SILENCE => Verdict {
            ok: false,
            body: format!(
                "not live: the owner loop last ticked {:.1} s ago (limit {} s); it is stuck or gone",
                d.as_secs_f64(),
                MAX_SILENCE.as_secs()
            ),
        },
        Some(d) => Verdict {
            ok: true,
            body: format!(
                "ok: the owner loop ticked {} ms ago (lag {} ms)",
                d.as_millis(),
                s.lag_last.as_millis()
            ),
        },
    }
}

/// Readiness: config applied, datastore synced, initial sync done, peer policy met.
pub fn readyz(s: &Snapshot, min: Option<ReadyMin>) -> Verdict {
    let mut why = Vec::new();
    if !s.config_applied {
        why.push("the config is not applied yet".to_string());
    }
    match s.datastore {
        "syncing" => why.push("the datastore is not synced yet".into()),
        "error" => why.push("the datastore connection failed".into()),
        _ => {}
    }
    if !s.sync_done {
        why.push(
            "the initial sync is running (End-of-RIB from every configured peer, at most 120 s)"
                .into(),
        );
    }
    let configured: Vec<_> = s.peers.iter().filter(|p| p.configured).collect();
    let up = configured
        .iter()
        .filter(|p| p.state == State::Established)
        .count();
    let need = match min {
        Some(m) => m.needed(configured.len()),
        None => usize::from(!configured.is_empty()),
    };
    if up < need {
        let down: Vec<String> = configured
            .iter()
            .filter(|p| p.state != State::Established)
            .take(NAMED)
            .map(|p| format!("{} ({})", p.name, state_name(p.state)))
            .collect();
        why.push(format!(
            "{up} of {} configured peers established, {need} needed; down: {}",
            configured.len(),
            down.join(", ")
        ));
    }
    if why.is_empty() {
        return Verdict {
            ok: true,
            body: format!(
                "ready: {up} of {} configured peers established",
                configured.len()
            ),
        };
    }
    Verdict {
        ok: false,
        body: format!("not ready: {}", why.join("; ")),
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speaker::PeerSnapshot;

    fn peer(name: &str, state: State) -> PeerSnapshot {
        PeerSnapshot {
            name: name.into(),
            configured: true,
            state,
            uptime_secs: 0,
            flaps: 0,
            updates_in: 0,
            updates_out: 0,
            received: 0,
            accepted: 0,
            advertised: 0,
            notifications: Vec::new(),
        }
    }

    fn ready_snapshot() -> Snapshot {
        Snapshot {
            since_tick: Some(Duration::from_millis(300)),
            config_applied: true,
            sync_done: true,
            datastore: "unused",
            peers: vec![peer("a", State::Established), peer("b", State::Active)],
            ..Snapshot::default()
        }
    }

    #[test]
    fn healthz_needs_a_recent_tick() {
        let mut s = ready_snapshot();
        assert!(healthz(&s).ok);
        s.since_tick = Some(Duration::from_secs(11));
        let v = healthz(&s);
        assert!(!v.ok);
        assert!(v.body.contains("stuck"), "{}", v.body);
        s.since_tick = None;
        assert!(!healthz(&s).ok);
    }

    #[test]
    fn readyz_default_needs_one_established_peer() {
        let mut s = ready_snapshot();
        assert_eq!(
            readyz(&s, None).body,
            "ready: 1 of 2 configured peers established"
        );
        s.peers[0].state = State::Idle;
        let v = readyz(&s, None);
        assert!(!v.ok);
        assert_eq!(
            v.body,
            "not ready: 0 of 2 configured peers established, 1 needed; down: a (idle), b (active)"
        );
        s.peers.clear();
        assert!(
            readyz(&s, None).ok,
            "no peers configured: nothing to wait for"
        );
    }

    #[test]
    fn readyz_counts_and_shares() {
        let s = ready_snapshot();
        assert!(!readyz(&s, Some(ReadyMin::Count(2))).ok);
        assert!(readyz(&s, Some(ReadyMin::Percent(50))).ok);
        assert!(!readyz(&s, Some(ReadyMin::Percent(51))).ok, "51% of 2 is 2");
        assert!(readyz(&s, Some(ReadyMin::Count(0))).ok);
    }

    #[test]
    fn readyz_names_every_missing_condition() {
        let mut s = ready_snapshot();
        s.config_applied = false;
        s.sync_done = false;
        s.datastore = "syncing";
        let v = readyz(&s, None);
        assert!(!v.ok);
        for part in [
            "config is not applied",
            "datastore is not synced",
            "initial sync",
        ] {
            assert!(v.body.contains(part), "{part}: {}", v.body);
        }
    }
}
