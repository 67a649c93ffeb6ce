//! `wren show peers|routes|fib|status`: ask a running daemon over its control socket.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde::de::DeserializeOwned;

use wren::control::{client, FibDiff, FibRow, PeerDetail, PeerRow, Request, RouteRow, StatusRow};
use wren::wire::{AsPath, SegmentKind};

/// Arguments of `wren show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(subcommand)]
    pub what: What,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// The daemon's control socket (default: `control.socket` of --config, else
    /// /run/wren/wren.sock).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the control socket path from this config file.
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What to show.
#[derive(Debug, Subcommand)]
pub enum What {
    /// Sessions: state, uptime, last down reason, prefix counts.
    Peers {
        /// Only this peer (its name as in `show peers`).
        name: Option<String>,
        /// Per peer: session addresses, negotiated capabilities, timers, downs.
        #[arg(long)]
        detail: bool,
    },
    /// Paths in the RIB (best first per prefix), or what is sent to one peer.
    Routes {
        /// Only this prefix (e.g. `198.51.100.0/24`).
        prefix: Option<String>,
        /// Only this peer's paths (its name as in `show peers`).
        #[arg(long)]
        peer: Option<String>,
        /// The peer's Adj-RIB-Out: what wren sends it (needs --peer).
        #[arg(long)]
        advertised: bool,
    },
    /// Routes in the forwarding table, then where the kernel differs from what the RIB
    /// wants (a summary line and one row per differing prefix, with the reason).
    Fib {
        /// Only the summary and the differing prefixes (with -o json: the diff object).
        #[arg(long)]
        diff: bool,
    },
    /// The daemon as a whole.
    Status,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// Ask the daemon and print its answer; exit 1 if it cannot be asked or refuses.
pub fn run(args: &ShowArgs) -> ExitCode {
    let socket = match socket_path(args.socket.as_deref(), args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wren show: {e}");
            return ExitCode::from(2);
        }
    };
    let req = match &args.what {
        What::Peers { name, detail: true } => Request::ShowPeersDetail { name: name.clone() },
        What::Peers { .. } => Request::ShowPeers,
        What::Routes {
            peer, advertised, ..
        } => Request::ShowRoutes {
            peer: peer.clone(),
            advertised: *advertised,
        },
        What::Fib { diff: true } => Request::ShowFibDiff,
        What::Fib { .. } => Request::ShowFib,
        What::Status => Request::ShowStatus,
    };
    let reply = match client::request(&socket, &req) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wren show: cannot ask the daemon: {e}");
            return ExitCode::FAILURE;
        }
    };
    let data = match (reply.ok, reply.data, reply.error) {
        (true, Some(d), _) => match &args.what {
            What::Routes {
                prefix: Some(p), ..
            } => only_prefix(d, p),
            What::Peers {
                name: Some(n),
                detail: false,
            } => match super::show_detail::only_peer(d, n) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("wren show: {e}");
                    return ExitCode::FAILURE;
                }
            },
            _ => d,
        },
        (_, _, e) => {
            eprintln!("wren show: {}", e.unwrap_or_else(|| "empty reply".into()));
            return ExitCode::FAILURE;
        }
    };
    if args.output == Output::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&data).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    if let What::Fib { diff: false } = args.what {
        // The table, then the difference (older daemons do not answer it: no summary).
        let diff = client::request(&socket, &Request::ShowFibDiff).ok();
        let diff = diff.and_then(|r| r.data).and_then(|d| parse(d).ok());
        return match parse::<Vec<FibRow>>(data) {
            Ok(rows) => {
                print!("{}", fib_table(&rows));
                if let Some(d) = diff {
                    print!("\n{}", super::show_detail::fib_diff_text(&d));
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("wren show: unexpected reply: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match print_table(&args.what, data) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wren show: unexpected reply: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The control socket: `--socket`, else `control.socket` of `--config`, else the default.
pub(super) fn socket_path(socket: Option<&Path>, config: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(s) = socket {
        return Ok(s.to_path_buf());
    }
    match config {
        Some(path) => match wren::config::load(path) {
            Ok((cfg, _)) => Ok(cfg.control.socket),
            Err(errors) => Err(errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")),
        },
        None => Ok(wren::config::ControlCfg::default().socket),
    }
}

fn print_table(what: &What, data: serde_json::Value) -> Result<(), serde_json::Error> {
    let text = match what {
        What::Peers { detail: true, .. } => {
            super::show_detail::peers_detail_text(&parse::<Vec<PeerDetail>>(data)?)
        }
        What::Peers { .. } => peers_table(&parse::<Vec<PeerRow>>(data)?),
        What::Routes { .. } => routes_table(&parse::<Vec<RouteRow>>(data)?),
        What::Fib { diff: true } => super::show_detail::fib_diff_text(&parse::<FibDiff>(data)?),
        What::Fib { .. } => fib_table(&parse::<Vec<FibRow>>(data)?),
        What::Status => status_text(&parse::<StatusRow>(data)?),
    };
    print!("{text}");
    Ok(())
}

/// Keep the route rows of one prefix (written canonically, so `2001:DB8::/32` matches).
fn only_prefix(data: serde_json::Value, prefix: &str) -> serde_json::Value {
    let want = prefix
        .parse::<ipnet::IpNet>()
        .map_or_else(|_| prefix.to_string(), |n| n.to_string());
    match data {
        serde_json::Value::Array(rows) => rows
            .into_iter()
            .filter(|r| r.get("prefix").and_then(|p| p.as_str()) == Some(want.as_str()))
            .collect(),
        other => other,
    }
}

pub(super) fn parse<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(v)
}

// ===== tables =====

fn peers_table(rows: &[PeerRow]) -> String {
    let mut t = vec![cells(&[
        "NAME",
        "ADDRESS",
        "ASN",
        "STATE",
        "SINCE",
        "RECV",
        "ACC",
        "ADV",
        "STALE",
        "LAST DOWN",
    ])];
    for r in rows {
        t.push(vec![
            r.name.clone(),
            r.address.clone(),
            r.asn.map_or("-".into(), |a| a.to_string()),
            r.state.clone(),
            duration(r.uptime_secs),
            r.received.to_string(),
            r.accepted.to_string(),
            r.advertised.to_string(),
            r.stale.to_string(),
            r.last_down.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    layout(&t)
}

fn routes_table(rows: &[RouteRow]) -> String {
    let mut t = vec![cells(&[
        "", "PREFIX", "NEXT HOP", "PEER", "LOCPREF", "MED", "AS PATH", "REASON",
    ])];
    for r in rows {
        let flags = format!(
            "{}{}{}",
            if r.best { "*" } else { " " },
            if r.multipath { "=" } else { " " },
            match (r.llgr_stale, r.stale) {
                (true, _) => "L",
                (false, true) => "s",
                _ => " ",
            }
        );
        let prefix = match r.path_id {
            0 => r.prefix.clone(),
            id => format!("{} #{id}", r.prefix),
        };
        t.push(vec![
            flags,
            prefix,
            r.next_hop.map_or("-".into(), |a| a.to_string()),
            r.peer.clone(),
            r.attrs.local_pref.map_or("-".into(), |v| v.to_string()),
            r.attrs.med.map_or("-".into(), |v| v.to_string()),
            r.attrs.as_path.as_ref().map_or(String::new(), as_path),
            r.reason.clone(),
        ]);
    }
    layout(&t)
}

fn fib_table(rows: &[FibRow]) -> String {
    let mut t = vec![cells(&["PREFIX", "KIND", "NEXT HOPS"])];
    for r in rows {
        let hops: Vec<String> = r.next_hops.iter().map(|a| a.to_string()).collect();
        t.push(vec![r.prefix.clone(), r.kind.clone(), hops.join(" ")]);
    }
    layout(&t)
}

fn status_text(s: &StatusRow) -> String {
    format!(
        "wren {}\nrouter ID    {}\nAS           {}\nup for       {}\npeers        {} ({} established)\npaths        {}\nFIB routes   {}\n",
        s.version,
        s.router_id,
        s.asn,
        duration(s.uptime_secs),
        s.peers,
        s.established,
        s.paths,
        s.fib_routes
    )
}

// ===== helper functions =====

pub(super) fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Columns left-aligned, two spaces apart; the last column is not padded.
pub(super) fn layout(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                let w = widths.get(c).copied().unwrap_or(0);
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `3d04h`, `1h02m`, `5m07s`, `42s`.
pub(super) fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h:02}h"),
    }
}

fn as_path(p: &AsPath) -> String {
    let seg: Vec<String> = p
        .segments
        .iter()
        .map(|s| {
            let asns: Vec<String> = s.asns.iter().map(|a| a.to_string()).collect();
            match s.kind {
                SegmentKind::Sequence => asns.join(" "),
                SegmentKind::Set => format!("{{{}}}", asns.join(" ")),
                SegmentKind::ConfedSequence => format!("({})", asns.join(" ")),
                SegmentKind::ConfedSet => format!("[{}]", asns.join(" ")),
            }
        })
        .collect();
    seg.join(" ")
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use wren::wire::AsSegment;

    #[test]
    fn routes_filter_by_prefix() {
        let rows = serde_json::json!([
            {"prefix": "198.51.100.0/24", "peer": "a"},
            {"prefix": "2001:db8::/32", "peer": "b"},
            {"prefix": "198.51.100.0/25", "peer": "c"}
        ]);
        let v = only_prefix(rows.clone(), "2001:DB8::/32");
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["peer"], "b");
        let v = only_prefix(rows, "198.51.100.0/24");
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["peer"], "a");
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(307), "5m07s");
        assert_eq!(duration(3720), "1h02m");
        assert_eq!(duration(3 * 86400 + 4 * 3600), "3d04h");
    }

    #[test]
    fn tables_align_columns() {
        let t = layout(&[cells(&["A", "BB", "C"]), cells(&["long", "x", "y"])]);
        assert_eq!(t, "A     BB  C\nlong  x   y\n");
    }

    #[test]
    fn as_paths_show_sets_and_confederations() {
        let p = AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentKind::ConfedSequence,
                    asns: vec![65001],
                },
                AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: vec![65002, 65003],
                },
                AsSegment {
                    kind: SegmentKind::Set,
                    asns: vec![1, 2],
                },
            ],
        };
        assert_eq!(as_path(&p), "(65001) 65002 65003 {1 2}");
    }

    #[test]
    fn fib_table_lists_next_hops() {
        let rows = vec![
            FibRow {
                prefix: "10.65.0.64/26".into(),
                kind: "unicast".into(),
                next_hops: vec!["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()],
            },
            FibRow {
                prefix: "10.65.0.0/26".into(),
                kind: "blackhole".into(),
                next_hops: vec![],
            },
        ];
        let t = fib_table(&rows);
        assert!(
            t.contains("10.65.0.64/26  unicast    127.0.0.2 127.0.0.3"),
            "{t}"
        );
        assert!(
            t.lines().nth(2).unwrap().trim_end().ends_with("blackhole"),
            "{t}"
        );
    }
}
