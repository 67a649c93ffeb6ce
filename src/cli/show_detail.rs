//! Text forms of `wren show peers [NAME] --detail` and `wren show fib [--diff]`.

use wren::control::bird::format::date_time;
use wren::control::{CapsDetail, FibDiff, FibRow, GrSide, PeerDetail};
use wren::wire::capability::LlgrFamily;
use wren::wire::Family;

use super::show::{cells, duration, layout};

// ===== helper functions =====

/// Keep the `show peers` row of one peer; an unknown name is an error naming it.
pub(super) fn only_peer(data: serde_json::Value, name: &str) -> Result<serde_json::Value, String> {
    let rows: Vec<serde_json::Value> = match data {
        serde_json::Value::Array(rows) => rows
            .into_iter()
            .filter(|r| r.get("name").and_then(|n| n.as_str()) == Some(name))
            .collect(),
        _ => Vec::new(),
    };
    if rows.is_empty() {
        return Err(format!("no peer named {name:?}"));
    }
    Ok(serde_json::Value::Array(rows))
}

/// One block per peer, blank lines between.
pub(super) fn peers_detail_text(rows: &[PeerDetail]) -> String {
    let blocks: Vec<String> = rows.iter().map(peer_block).collect();
    blocks.join("\n")
}

fn peer_block(d: &PeerDetail) -> String {
    let r = &d.row;
    let asn = r.asn.map_or("AS ?".into(), |a| format!("AS {a}"));
    let mut out = format!(
        "peer {} ({}), {asn}, {} for {} (since {} UTC)\n",
        r.name,
        r.address,
        r.state,
        duration(r.uptime_secs),
        date_time(r.since_unix as i64)
    );
    let mut t: Vec<Vec<String>> = Vec::new();
    let mut line = |k: &str, v: String| t.push(vec![format!("  {k}"), v]);
    if let (Some(la), Some(lp), Some(ra), Some(rp)) = (
        d.local_address,
        d.local_port,
        d.remote_address,
        d.remote_port,
    ) {
        let id = r
            .peer_id
            .map_or(String::new(), |i| format!(", peer ID {i}"));
        line(
            "session",
            format!("{} -> {}{id}", sock(la, lp), sock(ra, rp)),
        );
    }
    let timers = match (d.negotiated_hold_time, d.negotiated_keepalive) {
        (Some(h), Some(k)) => format!(
            "hold {h} s, keepalive {k} s (configured {} s / {} s)",
            d.hold_time, d.keepalive
        ),
        _ => format!(
            "configured hold {} s, keepalive {} s",
            d.hold_time, d.keepalive
        ),
    };
    line("timers", timers);
    line("families", families(&r.families));
    if let Some(c) = &d.capabilities {
        for (k, v) in caps_lines(c) {
            line(k, v);
        }
    }
    line(
        "prefixes",
        format!(
            "received {}, accepted {}, advertised {}, stale {}",
            r.received, r.accepted, r.advertised, r.stale
        ),
    );
    if !d.long_lived_stale.is_empty() {
        let v: Vec<String> = d
            .long_lived_stale
            .iter()
            .map(|l| format!("{} {} left", l.family, duration(l.remaining_secs)))
            .collect();
        line("llgr stale", v.join(", "));
    }
    let last = match (&r.last_down, r.last_down_unix) {
        (Some(why), Some(t)) => format!("; last at {} UTC: {why}", date_time(t as i64)),
        (Some(why), None) => format!("; last: {why}"),
        _ => String::new(),
    };
    line("downs", format!("{}{last}", d.down_count));
    line(
        "disabled",
        match &d.disabled_message {
            Some(m) if d.disabled => format!("yes: {m}"),
            _ if d.disabled => "yes".into(),
            _ => "no".into(),
        },
    );
    out.push_str(&layout(&t));
    out
}

fn caps_lines(c: &CapsDetail) -> Vec<(&'static str, String)> {
    let mut flags = Vec::new();
    for (on, what) in [
        (c.four_octet_as, "4-octet AS"),
        (c.route_refresh, "route refresh"),
        (c.enhanced_route_refresh, "enhanced route refresh"),
        (c.extended_message, "extended message"),
    ] {
        if on {
            flags.push(what);
        }
    }
    let mut v = vec![(
        "capabilities",
        if flags.is_empty() {
            "-".into()
        } else {
            flags.join(", ")
        },
    )];
    let add_path: Vec<String> = c
        .add_path
        .iter()
        .map(|a| {
            let dir = match (a.receive, a.send) {
                (true, true) => "receive+send",
                (true, false) => "receive",
                _ => "send",
            };
            format!("{} {dir}", a.family)
        })
        .collect();
    v.push((
        "add-path",
        if add_path.is_empty() {
            "-".into()
        } else {
            add_path.join(", ")
        },
    ));
    v.push(("ext next hop", families(&c.extended_next_hop)));
    let gr = &c.graceful_restart;
    v.push((
        "graceful rst",
        format!("local {}; peer {}", gr_side(&gr.local), gr_side(&gr.peer)),
    ));
    let ll = &c.long_lived_gr;
    if ll.local.is_some() || ll.peer.is_some() {
        v.push((
            "long-lived gr",
            format!(
                "local {}; peer {}",
                llgr_side(&ll.local),
                llgr_side(&ll.peer)
            ),
        ));
    }
    v
}

/// RFC 9494 capability of one side: `ipv4-unicast 3600 s F1, ...`.
fn llgr_side(s: &Option<Vec<LlgrFamily>>) -> String {
    match s {
        None => "none".into(),
        Some(v) if v.is_empty() => "-".into(),
        Some(v) => {
            let f: Vec<String> = v
                .iter()
                .map(|f| {
                    format!(
                        "{} {} s F{}",
                        f.family,
                        f.stale_time,
                        u8::from(f.forwarding)
                    )
                })
                .collect();
            f.join(", ")
        }
    }
}

fn gr_side(g: &Option<GrSide>) -> String {
    match g {
        None => "none".into(),
        Some(g) => format!(
            "R{} N{} time {} s, F {}",
            u8::from(g.restart),
            u8::from(g.notification),
            g.time,
            families(&g.forwarding)
        ),
    }
}

fn families(f: &[Family]) -> String {
    if f.is_empty() {
        return "-".into();
    }
    let v: Vec<String> = f.iter().map(|f| f.to_string()).collect();
    v.join(" ")
}

fn sock(a: std::net::IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(a, port).to_string()
}

/// The summary line, then one row per differing prefix.
pub(super) fn fib_diff_text(d: &FibDiff) -> String {
    let side = if d.kernel { "kernel" } else { "FIB" };
    let mut out = format!(
        "wanted {}, installed {} ({side}), differing {}\n",
        d.wanted, d.installed, d.differing
    );
    if d.rows.is_empty() {
        return out;
    }
    let mut t = vec![cells(&["PREFIX", "REASON", "WANTED", "HELD", "DETAIL"])];
    for r in &d.rows {
        t.push(vec![
            r.prefix.clone(),
            r.reason.clone(),
            hops(r.wanted.as_ref()),
            hops(r.held.as_ref()),
            r.detail.clone(),
        ]);
    }
    out.push_str(&layout(&t));
    if d.truncated > 0 {
        out.push_str(&format!("... and {} more\n", d.truncated));
    }
    out
}

fn hops(r: Option<&FibRow>) -> String {
    match r {
        None => "-".into(),
        Some(r) if r.kind == "blackhole" => "blackhole".into(),
        Some(r) => {
            let v: Vec<String> = r.next_hops.iter().map(|a| a.to_string()).collect();
            v.join(",")
        }
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use wren::control::FibDiffRow;

    #[test]
    fn an_unknown_peer_name_is_an_error_naming_it() {
        let rows = serde_json::json!([{"name": "a"}, {"name": "b"}]);
        assert_eq!(only_peer(rows.clone(), "b").unwrap()[0]["name"], "b");
        assert_eq!(
            only_peer(rows, "tor9").unwrap_err(),
            "no peer named \"tor9\""
        );
    }

    #[test]
    fn llgr_sides_read_family_time_and_f_bit() {
        let f = LlgrFamily {
            family: Family::IPV4_UNICAST,
            forwarding: true,
            reserved_flags: 0,
            stale_time: 3600,
        };
        assert_eq!(llgr_side(&None), "none");
        assert_eq!(llgr_side(&Some(vec![f])), "ipv4-unicast 3600 s F1");
    }

    #[test]
    fn fib_diff_text_has_a_summary_and_reasons() {
        let d = FibDiff {
            wanted: 2,
            installed: 1,
            differing: 1,
            kernel: true,
            rows: vec![FibDiffRow {
                prefix: "10.65.1.0/26".into(),
                reason: "unresolved".into(),
                detail: "next hop 198.18.0.9 does not resolve".into(),
                wanted: Some(FibRow {
                    prefix: "10.65.1.0/26".into(),
                    kind: "unicast".into(),
                    next_hops: vec!["198.18.0.9".parse().unwrap()],
                }),
                held: None,
            }],
            truncated: 0,
        };
        let t = fib_diff_text(&d);
        assert!(
            t.starts_with("wanted 2, installed 1 (kernel), differing 1\n"),
            "{t}"
        );
        assert!(
            t.contains("10.65.1.0/26  unresolved  198.18.0.9  -     next hop"),
            "{t}"
        );
    }
}
