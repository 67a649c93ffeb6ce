//! BIRD 1.6's replies, byte for byte: reply codes, columns, continuation lines and times.
//!
//! Codes used (BIRD's `doc/reply_codes`): 0000 end, 0001 greeting, 0013 status, 0014
//! route count, 0024 graceful-restart status, 1000 version, 1002 protocol list, 1006
//! protocol details, 1007 route list, 1011 uptime, 2002 table heading, 9001 parse error,
//! 9002 not a protocol.

use std::fmt::Write as _;

use super::command::{Command, Which};
use super::info;
use super::{Clock, Snapshot, View, VERSION};
use crate::control::{PeerRow, RouteRow, StatusRow};
use crate::wire::Origin;

/// The heading of `show protocols`; Calico compares its fields exactly.
pub const PROTOCOLS_HEADING: &str = "name     proto    table    state  since       info";
/// BIRD's `tf_proto`/`tf_route`: `HH:MM:SS` for times less than this long ago, else the date.
const RECENT_SECS: i64 = 20 * 3600;

/// A reply being written, with BIRD's continuation rule.
#[derive(Debug, Default)]
pub struct Out {
    text: String,
    /// The code of the previous line when it announced more.
    last: Option<u16>,
}

/// One non-BGP protocol row (Calico's unnamed protocols get BIRD's default names).
struct Builtin {
    name: &'static str,
    proto: &'static str,
    preference: u32,
    state: &'static str,
}

// ===== impl Out =====

impl Out {
    /// A line followed by more lines of the reply.
    pub fn more(&mut self, code: u16, text: &str) {
        self.line(code, true, text);
    }

    /// The last line of the reply.
    pub fn end(&mut self, code: u16, text: &str) {
        self.line(code, false, text);
    }

    fn line(&mut self, code: u16, more: bool, text: &str) {
        if self.last == Some(code) {
            self.text.push(' ');
        } else {
            let sep = if more { '-' } else { ' ' };
            let _ = write!(self.text, "{code:04}{sep}");
        }
        self.text.push_str(text);
        self.text.push('\n');
        self.last = more.then_some(code);
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

// ===== helper functions =====

/// What the server sends when a client connects.
pub fn greeting() -> String {
    format!("0001 BIRD {VERSION} ready.\n")
}

/// BIRD's reply to a line it cannot parse.
pub fn syntax_error(msg: &str) -> String {
    format!("9001 {msg}\n")
}

/// The whole reply to `cmd`, from the speaker's answers.
pub fn reply(cmd: &Command, snap: &Snapshot, view: View, clock: Clock) -> String {
    let mut out = Out::default();
    match cmd {
        Command::ShowStatus => status(&mut out, &snap.status, clock),
        Command::ShowProtocols { all, which } => {
            protocols(&mut out, snap, view, clock, *all, which.as_ref())
        }
        Command::ShowRoute {
            count,
            primary,
            protocol,
        } => routes(
            &mut out,
            snap,
            view,
            clock,
            (*count, *primary),
            protocol.as_deref(),
        ),
    }
    out.into_string()
}

/// `show status` (BIRD's `cmd_show_status`).
fn status(out: &mut Out, s: &StatusRow, clock: Clock) {
    out.more(1000, &format!("BIRD {VERSION}"));
    out.more(1011, &format!("Router ID is {}", s.router_id));
    let full = |t: i64| date_time(t + clock.utc_offset);
    out.more(
        1011,
        &format!("Current server time is {}", full(clock.now_unix)),
    );
    out.more(
        1011,
        &format!("Last reboot on {}", full(s.since_unix as i64)),
    );
    let reconf = full(s.last_reconfig_unix as i64);
    out.more(1011, &format!("Last reconfiguration on {reconf}"));
    if s.gr_recovering {
        out.more(24, "Graceful restart recovery in progress");
        out.more(
            24,
            &format!("  Waiting for {} protocols to recover", s.gr_waiting),
        );
        let timer = format!("  Wait timer is {}/{}", s.gr_wait_left_secs, s.gr_wait_secs);
        out.more(24, &timer);
    }
    out.end(13, "Daemon is up and running");
}

/// `show protocols [all] [NAME|"PATTERN"]` (BIRD's `proto_cmd_show`).
fn protocols(
    out: &mut Out,
    snap: &Snapshot,
    view: View,
    clock: Clock,
    all: bool,
    which: Option<&Which>,
) {
    let builtins = builtins(&snap.status, view);
    let peers = view_peers(snap, view);
    if let Some(Which::Name(n)) = which {
        let known = builtins.iter().any(|b| b.name == n) || peers.iter().any(|p| &p.name == n);
        if !known {
            out.end(9002, &format!("{n} is not a protocol"));
            return;
        }
    }
    let picked = |name: &str| which.is_none_or(|w| w.selects(name));
    let since = proto_time(snap.status.since_unix, clock);
    out.more(2002, PROTOCOLS_HEADING);
    for b in builtins.iter().filter(|b| picked(b.name)) {
        out.more(1002, &row(b.name, b.proto, b.state, &since, ""));
        if all {
            builtin_details(out, b, snap, view);
        }
    }
    let recovering = snap.status.gr_recovering;
    for p in peers.into_iter().filter(|p| picked(&p.name)) {
        let state = info::proto_state(p, recovering);
        let since = proto_time(info::proto_since(p, snap.status.since_unix), clock);
        out.more(
            1002,
            &row(&p.name, "BGP", state, &since, &info::bgp_info(p)),
        );
        if all {
            bgp_details(out, p, snap, view, recovering);
        }
    }
    out.end(0, "");
}

/// One `show protocols` line: `"%-8s %-8s %-8s %-5s  %-10s  %s"`.
fn row(name: &str, proto: &str, state: &str, since: &str, info: &str) -> String {
    format!(
        "{name:<8} {proto:<8} {:<8} {state:<5}  {since:<10}  {info}",
        "master"
    )
}

/// The protocols Calico's BIRD config has besides BGP, in its config order.
fn builtins(s: &StatusRow, view: View) -> Vec<Builtin> {
    let kernel = if s.gr_recovering { "wait" } else { "up" };
    let originated = match view {
        View::V4 => s.originated_v4,
        View::V6 => s.originated_v6,
    };
    let mut b = Vec::new();
    if originated > 0 {
        b.push(Builtin {
            name: "static1",
            proto: "Static",
            preference: 200,
            state: "up",
        });
    }
    b.push(Builtin {
        name: "kernel1",
        proto: "Kernel",
        preference: 10,
        state: kernel,
    });
    b.push(Builtin {
        name: "device1",
        proto: "Device",
        preference: 240,
        state: "up",
    });
    b.push(Builtin {
        name: "direct1",
        proto: "Direct",
        preference: 240,
        state: "up",
    });
    b
}

fn builtin_details(out: &mut Out, b: &Builtin, snap: &Snapshot, view: View) {
    let (imported, exported) = match b.name {
        "static1" => (count_routes(snap, view, |r| r.peer == "local"), 0),
        "kernel1" => (0, count_routes(snap, view, |r| r.best)),
        _ => (0, 0),
    };
    out.more(1006, &format!("  Preference:     {}", b.preference));
    out.more(1006, "  Input filter:   ACCEPT");
    let output = if b.name == "kernel1" {
        "ACCEPT"
    } else {
        "REJECT"
    };
    out.more(1006, &format!("  Output filter:  {output}"));
    let routes = format!("{imported} imported, {exported} exported, {imported} preferred");
    out.more(1006, &format!("  Routes:         {routes}"));
    out.more(1006, "");
}

fn bgp_details(out: &mut Out, p: &PeerRow, snap: &Snapshot, view: View, recovering: bool) {
    let preferred = count_routes(snap, view, |r| r.best && r.peer == p.name);
    out.more(1006, "  Preference:     100");
    out.more(1006, "  Input filter:   ACCEPT");
    out.more(1006, "  Output filter:  ACCEPT");
    if recovering {
        let gr = if p.state == "established" {
            "waiting"
        } else {
            "pending"
        };
        out.more(1006, &format!("  GR recovery:    {gr}"));
    }
    let routes = format!(
        "{} imported, {} exported, {preferred} preferred",
        p.accepted, p.advertised
    );
    out.more(1006, &format!("  Routes:         {routes}"));
    out.more(
        1006,
        &format!("  BGP state:          {}", info::bgp_state(p)),
    );
    out.more(1006, &format!("    Neighbor address: {}", p.address));
    if let Some(asn) = p.asn {
        out.more(1006, &format!("    Neighbor AS:      {asn}"));
    }
    if let Some(id) = p.peer_id {
        out.more(1006, &format!("    Neighbor ID:      {id}"));
    }
    if let Some(err) = info::last_error(p) {
        out.more(1006, &format!("    Last error:       {err}"));
    }
    out.more(1006, "");
}

/// `show route [count] [primary] [protocol NAME]` (BIRD's `rt_show`).
fn routes(
    out: &mut Out,
    snap: &Snapshot,
    view: View,
    clock: Clock,
    (count, primary): (bool, bool),
    protocol: Option<&str>,
) {
    let peers = view_peers(snap, view);
    if let Some(name) = protocol {
        let known = builtins(&snap.status, view).iter().any(|b| b.name == name)
            || peers.iter().any(|p| p.name == name);
        if !known {
            out.end(9001, &format!("{name} is not a protocol"));
            return;
        }
    }
    let nets = networks(snap, view);
    let total: usize = nets.iter().map(|(_, rs)| rs.len()).sum();
    let mut shown = 0;
    for (prefix, rs) in &nets {
        let mut first = true;
        for r in rs {
            let src = source(r);
            let wanted = protocol.is_none_or(|p| p == src) && (!primary || r.best);
            if !wanted {
                continue;
            }
            shown += 1;
            if !count {
                let dest = if first { prefix.as_str() } else { "" };
                let start = snap.status.since_unix;
                out.more(1007, &route_line(dest, r, &peers, clock, start));
            }
            first = false;
        }
    }
    if count {
        let n = nets.len();
        out.end(14, &format!("{shown} of {total} routes for {n} networks"));
    } else {
        out.end(0, "");
    }
}

/// The view's routes grouped by prefix (first-seen order), best first in each group.
fn networks(snap: &Snapshot, view: View) -> Vec<(String, Vec<&RouteRow>)> {
    let mut nets: Vec<(String, Vec<&RouteRow>)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for r in snap.routes.iter().filter(|r| view.holds_route(r)) {
        let i = *index.entry(r.prefix.clone()).or_insert_with(|| {
            nets.push((r.prefix.clone(), Vec::new()));
            nets.len() - 1
        });
        nets[i].1.push(r);
    }
    for (_, rs) in &mut nets {
        rs.sort_by_key(|r| !r.best);
    }
    nets
}

/// The protocol a route came from: `static1` for originated ones, else the peer.
fn source(r: &RouteRow) -> &str {
    if r.peer == "local" {
        "static1"
    } else {
        &r.peer
    }
}

/// One route: `"%-18s %s [%s %s%s]%s%s"` (dest, how, protocol, time, from, primary, info).
fn route_line(dest: &str, r: &RouteRow, peers: &[&PeerRow], clock: Clock, start: u64) -> String {
    let star = if r.best { " *" } else { "" };
    if r.peer == "local" {
        let how = if r.blackhole {
            "blackhole"
        } else {
            "unreachable"
        };
        // Originated routes live as long as the speaker: shown with the start time.
        let time = proto_time(start, clock);
        return format!("{dest:<18} {how} [static1 {time}]{star} (200)");
    }
    let peer = peers.iter().find(|p| p.name == r.peer);
    // wren keeps no per-route time: a route shows when its protocol entered its state.
    let time = peer.map_or_else(
        || "-".to_string(),
        |p| proto_time(info::proto_since(p, start), clock),
    );
    // (A route's time is when its session came up: wren keeps no per-route time.)
    let nh = r
        .next_hop
        .map_or_else(|| "?".to_string(), |n| n.to_string());
    let from = match peer {
        Some(p) if p.address != nh => format!(" from {}", p.address),
        _ => String::new(),
    };
    let iface = r.iface.as_deref().unwrap_or("?");
    let igp = if r.iface.is_some() { "0" } else { "?" };
    let origin = match r.attrs.origin {
        Some(Origin::Igp) => 'i',
        Some(Origin::Egp) => 'e',
        _ => '?',
    };
    let last_as = origin_as(r).map_or_else(String::new, |a| format!("AS{a}"));
    format!(
        "{dest:<18} via {nh} on {iface} [{} {time}{from}]{star} (100/{igp}) [{last_as}{origin}]",
        r.peer
    )
}

/// The originating AS: the last AS of the last AS_SEQUENCE of the path.
fn origin_as(r: &RouteRow) -> Option<u32> {
    let path = r.attrs.as_path.as_ref()?;
    let seg = path.segments.last()?;
    match seg.kind {
        crate::wire::SegmentKind::Sequence => seg.asns.last().copied(),
        _ => None,
    }
}

fn count_routes(snap: &Snapshot, view: View, f: impl Fn(&RouteRow) -> bool) -> usize {
    snap.routes
        .iter()
        .filter(|r| view.holds_route(r) && f(r))
        .count()
}

/// The view's peers, by name (Calico's config lists them sorted).
fn view_peers(snap: &Snapshot, view: View) -> Vec<&PeerRow> {
    let mut v: Vec<&PeerRow> = snap.peers.iter().filter(|p| view.holds_peer(p)).collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// A protocol or route time: `HH:MM:SS` when recent, else `YYYY-MM-DD` (one token).
pub fn proto_time(t: u64, clock: Clock) -> String {
    let t = t as i64;
    let local = t + clock.utc_offset;
    if (clock.now_unix - t).abs() < RECENT_SECS {
        let s = local.rem_euclid(86_400);
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        date(local)
    }
}

/// `YYYY-MM-DD HH:MM:SS` of a local time in seconds.
pub fn date_time(local: i64) -> String {
    let s = local.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        date(local),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `YYYY-MM-DD` of a time in seconds (proleptic Gregorian calendar).
fn date(t: i64) -> String {
    // Days since 1970-01-01 to a civil date (the era-based algorithm: 400-year eras of
    // 146097 days, years starting in March so that the leap day comes last).
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
