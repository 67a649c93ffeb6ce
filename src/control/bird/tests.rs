//! Golden replies: BIRD 1.6's exact bytes (calico.md §4.3–4.6, checked against a live
//! BIRD 1.6.8, which also prints the trailing blanks the padded columns leave).

use std::net::Ipv4Addr;
use std::path::Path;

use super::command::Command;
use super::format::{self, date_time, proto_time};
use super::*;
use crate::control::{PeerRow, RouteRow, StatusRow};
use crate::wire::{AsPath, Attrs, Origin};

/// 2021-09-19 20:48:43 UTC, the "Current server time" of calico.md's transcript.
const NOW: i64 = 1_632_084_523;
/// 20:10:56 that day: the start.
const START: u64 = 1_632_082_256;

fn clock() -> Clock {
    Clock {
        now_unix: NOW,
        utc_offset: 0,
    }
}

fn status(gr: bool) -> StatusRow {
    StatusRow {
        version: "0.1.0".into(),
        router_id: Ipv4Addr::new(172, 17, 0, 3),
        asn: 64512,
        uptime_secs: 2267,
        peers: 2,
        established: 1,
        paths: 2,
        fib_routes: 1,
        since_unix: START,
        last_reconfig_unix: START,
        originated_v4: 1,
        originated_v6: 0,
        gr_recovering: gr,
        gr_waiting: if gr { 1 } else { 0 },
        gr_wait_left_secs: if gr { 98 } else { 0 },
        gr_wait_secs: 120,
    }
}

fn peer(name: &str, addr: &str, state: &str, since: u64, last_down: Option<&str>) -> PeerRow {
    PeerRow {
        name: name.into(),
        address: addr.into(),
        asn: Some(64512),
        state: state.into(),
        uptime_secs: 0,
        last_down: last_down.map(String::from),
        received: 1,
        accepted: 1,
        advertised: 1,
        stale: 0,
        families: Vec::new(),
        since_unix: since,
        passive: false,
        peer_id: (state == "established").then(|| Ipv4Addr::new(172, 17, 8, 102)),
        last_down_unix: None,
    }
}

fn node_down() -> PeerRow {
    // Down at 20:11:00, connecting again since (the since column keeps the down time).
    let mut p = peer(
        "Node_10_0_0_9",
        "10.0.0.9",
        "active",
        START + 30,
        Some(REFUSED),
    );
    p.last_down_unix = Some(START + 4);
    p
}

fn route(prefix: &str, peer: &str, nh: Option<&str>, best: bool) -> RouteRow {
    RouteRow {
        prefix: prefix.into(),
        peer: peer.into(),
        path_id: 0,
        next_hop: nh.map(|n| n.parse().unwrap()),
        best,
        multipath: false,
        stale: false,
        llgr_stale: false,
        reason: String::new(),
        attrs: Attrs {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            ..Attrs::default()
        },
        iface: nh.map(|_| "eth0".to_string()),
        blackhole: peer == "local",
    }
}

const REFUSED: &str =
    "connection failed: connection refused by 10.0.0.9:179 (is BGP running there?)";

/// calico.md §4.3's node: a mesh peer up for years, a node peer refused.
fn calico_node(gr: bool) -> Snapshot {
    Snapshot {
        status: status(gr),
        peers: vec![
            // 2016-11-21 12:00:00 UTC: more than 20 h ago, so the date.
            peer(
                "Mesh_172_17_8_102",
                "172.17.8.102",
                "established",
                1_479_729_600,
                None,
            ),
            node_down(),
            peer("Mesh_fd00__2", "fd00::2", "established", START, None),
        ],
        routes: vec![
            route(
                "192.168.110.128/26",
                "Mesh_172_17_8_102",
                Some("172.17.0.5"),
                true,
            ),
            route("192.168.162.128/26", "local", None, true),
            route("fd00:1::/122", "Mesh_fd00__2", Some("fd00::2"), true),
        ],
    }
}

fn reply(cmd: &str, snap: &Snapshot, view: View) -> String {
    format::reply(&Command::parse(cmd).unwrap(), snap, view, clock())
}

/// calico.md §4.3's wire transcript (as the document prints it: trailing blanks trimmed).
const CALICO_SHOW_PROTOCOLS: &str = "\
2002-name     proto    table    state  since       info
1002-static1  Static   master   up     20:10:56
 kernel1  Kernel   master   up     20:10:56
 device1  Device   master   up     20:10:56
 direct1  Direct   master   up     20:10:56
 Mesh_172_17_8_102 BGP      master   up     2016-11-21  Established
 Node_10_0_0_9 BGP      master   start  20:11:00    Active        Socket: Connection refused
0000
";

#[test]
fn show_protocols_is_birds_bytes() {
    let got = reply("show protocols", &calico_node(false), View::V4);
    let want = "\
2002-name     proto    table    state  since       info
1002-static1  Static   master   up     20:10:56    \n kernel1  Kernel   master   up     20:10:56    \n device1  Device   master   up     20:10:56    \n direct1  Direct   master   up     20:10:56    \n Mesh_172_17_8_102 BGP      master   up     2016-11-21  Established   \n Node_10_0_0_9 BGP      master   start  20:11:00    Active        Socket: Connection refused
0000 \n";
    assert_eq!(got, want);
    let trimmed: String = got.lines().map(|l| format!("{}\n", l.trim_end())).collect();
    assert_eq!(trimmed, CALICO_SHOW_PROTOCOLS);
}

#[test]
fn show_protocols_during_recovery_and_in_the_v6_view() {
    let got = reply("show protocols", &calico_node(true), View::V4);
    assert!(
        got.contains("\n kernel1  Kernel   master   wait   20:10:56    \n"),
        "{got}"
    );
    assert!(
        got.contains("\n Mesh_172_17_8_102 BGP      master   wait   2016-11-21  Established   \n"),
        "{got}"
    );
    let v6 = reply("show protocols", &calico_node(false), View::V6);
    assert!(v6.contains("\n Mesh_fd00__2 BGP      master   up     20:10:56    Established   \n"));
    assert!(!v6.contains("Mesh_172"), "{v6}");
    assert!(!v6.contains("static1"), "no IPv6 block originated: {v6}");
    assert!(!reply("show protocols", &calico_node(false), View::V4).contains("fd00"));
}

#[test]
fn show_status_is_birds_bytes() {
    let want = "\
1000-BIRD v0.1.0+wren
1011-Router ID is 172.17.0.3
 Current server time is 2021-09-19 20:48:43
 Last reboot on 2021-09-19 20:10:56
 Last reconfiguration on 2021-09-19 20:10:56
0013 Daemon is up and running
";
    let want = want.replace("v0.1.0+wren", VERSION);
    assert_eq!(reply("show status", &calico_node(false), View::V4), want);
    let gr = reply("show status", &calico_node(true), View::V4);
    let block = "\
0024-Graceful restart recovery in progress
   Waiting for 1 protocols to recover
   Wait timer is 98/120
0013 Daemon is up and running
";
    assert!(gr.ends_with(block), "{gr}");
    assert_eq!(format::greeting(), format!("0001 BIRD {VERSION} ready.\n"));
    assert!(VERSION.starts_with('v'));
}

#[test]
fn show_protocols_all_has_what_the_status_reporter_reads() {
    let got = reply(
        "show protocols all Node_10_0_0_9",
        &calico_node(false),
        View::V4,
    );
    let want = "\
2002-name     proto    table    state  since       info
1002-Node_10_0_0_9 BGP      master   start  20:11:00    Active        Socket: Connection refused
1006-  Preference:     100
   Input filter:   ACCEPT
   Output filter:  ACCEPT
   Routes:         1 imported, 1 exported, 0 preferred
   BGP state:          Active
     Neighbor address: 10.0.0.9
     Neighbor AS:      64512
     Last error:       Socket: Connection refused
 \n0000 \n";
    assert_eq!(got, want);
    let up = reply(
        "show protocols all Mesh_172_17_8_102",
        &calico_node(false),
        View::V4,
    );
    assert!(
        up.contains("\n   BGP state:          Established\n"),
        "{up}"
    );
    assert!(
        up.contains("\n     Neighbor ID:      172.17.8.102\n"),
        "{up}"
    );
    assert!(up.contains("1 preferred"), "{up}");
    assert_eq!(
        reply("show protocols all nosuch", &calico_node(false), View::V4),
        "9002 nosuch is not a protocol\n"
    );
    let k = reply("show protocols all kernel1", &calico_node(false), View::V4);
    assert!(k.starts_with("2002-name     proto    table    state  since       info\n1002-kernel1  Kernel   master   up     20:10:56    \n1006-  Preference:     10\n"), "{k}");
}

#[test]
fn show_route_is_birds_bytes() {
    let mut snap = calico_node(false);
    let mut second = route(
        "192.168.110.128/26",
        "Node_10_0_0_9",
        Some("10.0.0.9"),
        false,
    );
    second.attrs.as_path = Some(AsPath::sequence(&[65001, 65002]));
    snap.routes.insert(0, second);
    let got = reply("show route", &snap, View::V4);
    let want = "\
1007-192.168.110.128/26 via 172.17.0.5 on eth0 [Mesh_172_17_8_102 2016-11-21 from 172.17.8.102] * (100/0) [i]
                    via 10.0.0.9 on eth0 [Node_10_0_0_9 20:11:00] (100/0) [AS65002i]
 192.168.162.128/26 blackhole [static1 20:10:56] * (200)
0000 \n";
    assert_eq!(got, want);
    assert_eq!(
        reply("show route count", &snap, View::V4),
        "0014 3 of 3 routes for 2 networks\n"
    );
    assert_eq!(
        reply("show route protocol static1 count", &snap, View::V4),
        "0014 1 of 3 routes for 2 networks\n"
    );
    assert_eq!(
        reply("show route protocol static1", &snap, View::V4),
        "1007-192.168.162.128/26 blackhole [static1 20:10:56] * (200)\n0000 \n"
    );
    assert_eq!(
        reply("show route protocol device1", &snap, View::V4),
        "0000 \n"
    );
    assert_eq!(
        reply("show route protocol nosuch", &snap, View::V4),
        "9001 nosuch is not a protocol\n"
    );
    let v6 = reply("show route", &snap, View::V6);
    assert!(
        v6.starts_with(
            "1007-fd00:1::/122       via fd00::2 on eth0 [Mesh_fd00__2 20:10:56] * (100/0) [i]\n"
        ),
        "{v6}"
    );
}

#[test]
fn times_and_views() {
    assert_eq!(date_time(0), "1970-01-01 00:00:00");
    assert_eq!(date_time(951_782_400), "2000-02-29 00:00:00");
    assert_eq!(date_time(NOW), "2021-09-19 20:48:43");
    assert_eq!(date_time(-1), "1969-12-31 23:59:59");
    assert_eq!(proto_time(START, clock()), "20:10:56");
    let east = Clock {
        now_unix: NOW,
        utc_offset: 3600,
    };
    assert_eq!(proto_time(START, east), "21:10:56");
    assert_eq!(proto_time((NOW - 20 * 3600) as u64, clock()), "2021-09-19");
    assert_eq!(
        proto_time((NOW - 20 * 3600 + 1) as u64, clock()),
        "00:48:44"
    );
    assert_eq!(
        View::for_socket(Path::new("/var/run/calico/bird6.ctl")),
        View::V6
    );
    assert_eq!(
        View::for_socket(Path::new("/var/run/calico/bird.ctl")),
        View::V4
    );
    assert_eq!(View::for_socket(Path::new("/tmp/x-bird6-y.sock")), View::V6);
    assert_eq!(View::for_socket(Path::new("/bird6/bird.ctl")), View::V4);
}

#[test]
fn continuation_framing() {
    let mut out = format::Out::default();
    out.more(1002, "a");
    out.more(1002, "b");
    out.more(1006, "c");
    out.more(1002, "d");
    out.end(0, "");
    assert_eq!(out.into_string(), "1002-a\n b\n1006-c\n1002-d\n0000 \n");
}
