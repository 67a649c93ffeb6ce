//! A [`Snapshot`] as Prometheus / OpenMetrics text (prometheus-client's encoder).
//!
//! Every scrape builds a fresh registry from the snapshot: the owner loop keeps plain
//! atomics, and nothing here is shared with it. The list of series is in README.md
//! ("Metrics and health").

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::fsm::State;
use crate::speaker::{Dir, PeerSnapshot, Snapshot};

/// Label pairs of one series.
type Labels = Vec<(&'static str, String)>;

/// Every state, in `wren_peers{state}` order.
const STATES: [State; 6] = [
    State::Idle,
    State::Connect,
    State::Active,
    State::OpenSent,
    State::OpenConfirm,
    State::Established,
];

/// Registry under construction.
struct Out {
    reg: Registry,
}

// ===== impl Out =====

impl Out {
    fn gauge(&mut self, name: &str, help: &str, v: i64) {
        let g = Gauge::<i64>::default();
        g.set(v);
        self.reg.register(name, help, g);
    }

    fn gauge_f(&mut self, name: &str, help: &str, v: f64) {
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(v);
        self.reg.register(name, help, g);
    }

    /// `name` without `_total`: the encoder appends it.
    fn counter(&mut self, name: &str, help: &str, v: u64) {
        let c = Counter::<u64>::default();
        c.inc_by(v);
        self.reg.register(name, help, c);
    }

    fn counter_f(&mut self, name: &str, help: &str, v: f64) {
        let c = Counter::<f64, AtomicU64>::default();
        c.inc_by(v);
        self.reg.register(name, help, c);
    }

    fn gauges(&mut self, name: &str, help: &str, rows: Vec<(Labels, i64)>) {
        if let [(l, v)] = rows.as_slice() {
            if l.is_empty() {
                return self.gauge(name, help, *v);
            }
        }
        let f = Family::<Labels, Gauge<i64>>::default();
        for (l, v) in rows {
            f.get_or_create(&l).set(v);
        }
        self.reg.register(name, help, f);
    }

    fn counters(&mut self, name: &str, help: &str, rows: Vec<(Labels, u64)>) {
        if let [(l, v)] = rows.as_slice() {
            if l.is_empty() {
                return self.counter(name, help, *v);
            }
        }
        let f = Family::<Labels, Counter<u64>>::default();
        for (l, v) in rows {
            f.get_or_create(&l).inc_by(v);
        }
        self.reg.register(name, help, f);
    }
}

// ===== helper functions =====

/// The text of `GET /metrics`. `per_peer`: one series per peer; otherwise the peer
/// series are summed (no `peer` label), for big meshes.
pub fn render(s: &Snapshot, per_peer: bool) -> String {
    let mut o = Out {
        reg: Registry::default(),
    };
    global(&mut o, s);
    peers(&mut o, &s.peers, per_peer);
    let mut text = String::new();
    if encode(&mut text, &o.reg).is_err() {
        return "# cannot encode the metrics\n".into();
    }
    text
}

fn global(o: &mut Out, s: &Snapshot) {
    let lag = "How late the owner loop's 1 s tick ran";
    o.gauge_f(
        "wren_event_loop_last_lag_seconds",
        lag,
        s.lag_last.as_secs_f64(),
    );
    let sum = format!("{lag}, summed (rate / rate of ticks = mean lag)");
    o.counter_f("wren_event_loop_lag_seconds", &sum, s.lag_sum.as_secs_f64());
    o.counter("wren_event_loop_ticks", "Owner loop ticks", s.ticks);
    let applied = "1 once the speaker runs the current config";
    o.gauge("wren_config_applied", applied, s.config_applied as i64);
    let sync = "1 once the initial sync (End-of-RIB from the configured peers, or 120 s) is done";
    o.gauge("wren_initial_sync_done", sync, s.sync_done as i64);
    let states = ["unused", "syncing", "synced", "error"]
        .iter()
        .map(|st| (vec![("state", st.to_string())], (s.datastore == *st) as i64))
        .collect();
    o.gauges(
        "wren_datastore_state",
        "Datastore state (1 = current)",
        states,
    );
    let reloads = vec![
        (vec![("result", "ok".to_string())], s.reloads_ok),
        (vec![("result", "error".to_string())], s.reloads_failed),
    ];
    o.counters("wren_config_reloads", "Config reloads by result", reloads);
    let paths = "Paths in the RIB (accepted from peers, plus originated)";
    o.gauge("wren_rib_paths", paths, s.rib_paths as i64);
    let prefixes = "Prefixes in the RIB";
    o.gauge("wren_rib_prefixes", prefixes, s.rib_prefixes as i64);
    let fib = "Routes the speaker wants in the FIB";
    o.gauge("wren_fib_routes", fib, s.fib_routes as i64);
    if let Some((installed, errors, writes)) = s.kernel {
        let k = "Routes of ours the kernel holds";
        o.gauge("wren_fib_kernel_routes", k, installed as i64);
        let e = "Netlink route writes the kernel refused";
        o.counter("wren_fib_netlink_errors", e, errors);
        o.counter("wren_fib_netlink_writes", "Netlink route writes", writes);
    }
}

fn peers(o: &mut Out, peers: &[PeerSnapshot], per_peer: bool) {
    let by_state = STATES
        .iter()
        .map(|st| {
            let n = peers.iter().filter(|p| p.state == *st).count();
            (vec![("state", state_label(*st).to_string())], n as i64)
        })
        .collect();
    o.gauges("wren_peers", "Peers by session state", by_state);
    if per_peer {
        let rows = |f: &dyn Fn(&PeerSnapshot) -> i64| -> Vec<(Labels, i64)> {
            peers.iter().map(|p| (peer_label(p), f(p))).collect()
        };
        let state =
            "Session state: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established";
        o.gauges("wren_peer_state", state, rows(&|p| state_num(p.state)));
        let up = "1 while the session is Established";
        o.gauges(
            "wren_peer_up",
            up,
            rows(&|p| (p.state == State::Established) as i64),
        );
        let upt = "Seconds since the session became Established (0 when down)";
        o.gauges(
            "wren_peer_uptime_seconds",
            upt,
            rows(&|p| p.uptime_secs as i64),
        );
    }
    let fold = |f: &dyn Fn(&PeerSnapshot) -> u64| -> Vec<(Labels, u64)> {
        if per_peer {
            peers.iter().map(|p| (peer_label(p), f(p))).collect()
        } else {
            vec![(Vec::new(), peers.iter().map(f).sum())]
        }
    };
    let flaps = "Established sessions lost";
    o.counters("wren_peer_flaps", flaps, fold(&|p| p.flaps));
    let as_gauge = |v: Vec<(Labels, u64)>| v.into_iter().map(|(l, n)| (l, n as i64)).collect();
    let counts = [
        ("received", "Prefixes received (while Established)"),
        (
            "accepted",
            "Prefixes accepted by import policy (while Established)",
        ),
        ("advertised", "Prefixes advertised (while Established)"),
    ];
    for (what, help) in counts {
        let rows = fold(&|p| match what {
            "received" => p.received,
            "accepted" => p.accepted,
            _ => p.advertised,
        });
        o.gauges(&format!("wren_peer_prefixes_{what}"), help, as_gauge(rows));
    }
    o.counters(
        "wren_peer_updates",
        "UPDATE messages",
        updates(peers, per_peer),
    );
    let notes = notifications(peers, per_peer);
    let help = "NOTIFICATION messages by direction, code and subcode";
    o.counters("wren_peer_notifications", help, notes);
}

fn updates(peers: &[PeerSnapshot], per_peer: bool) -> Vec<(Labels, u64)> {
    let mut rows = Vec::new();
    for (dir, f) in [
        (
            "received",
            (|p: &PeerSnapshot| p.updates_in) as fn(&PeerSnapshot) -> u64,
        ),
        ("sent", |p: &PeerSnapshot| p.updates_out),
    ] {
        if per_peer {
            for p in peers {
                let mut l = peer_label(p);
                l.push(("direction", dir.into()));
                rows.push((l, f(p)));
            }
        } else {
            rows.push((vec![("direction", dir.into())], peers.iter().map(f).sum()));
        }
    }
    rows
}

fn notifications(peers: &[PeerSnapshot], per_peer: bool) -> Vec<(Labels, u64)> {
    let mut folded = std::collections::BTreeMap::new();
    let mut rows = Vec::new();
    for p in peers {
        for ((dir, code, sub), n) in &p.notifications {
            if per_peer {
                let mut l = peer_label(p);
                l.extend(note_labels(*dir, *code, *sub));
                rows.push((l, *n));
            } else {
                *folded.entry((*dir, *code, *sub)).or_insert(0) += *n;
            }
        }
    }
    for ((dir, code, sub), n) in folded {
        rows.push((note_labels(dir, code, sub), n));
    }
    rows
}

fn note_labels(dir: Dir, code: u8, sub: u8) -> Labels {
    let dir = match dir {
        Dir::Received => "received",
        Dir::Sent => "sent",
    };
    vec![
        ("direction", dir.into()),
        ("code", code.to_string()),
        ("subcode", sub.to_string()),
    ]
}

fn peer_label(p: &PeerSnapshot) -> Labels {
    vec![("peer", p.name.clone())]
}

fn state_num(s: State) -> i64 {
    crate::speaker::state_code(s) as i64
}

fn state_label(s: State) -> &'static str {
    crate::speaker::state_name(s)
}
