//! `wren explain PREFIX`: which path won and why, what policies rejected, what each peer
//! is sent, and whether the kernel has the route. The JSON form (`-o json`) is the
//! daemon's answer as is (schema: src/speaker/explain.rs).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::show::{socket_path, Output};
use wren::control::{client, Request};
use wren::speaker::explain::Explain;

/// Arguments of `wren explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A prefix (`198.51.100.0/24`) or an address (a host prefix).
    pub prefix: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// The daemon's control socket (default: `control.socket` of --config, else
    /// /run/wren/wren.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the control socket path from this config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

// ===== helper functions =====

/// Ask the daemon and print the answer; exit 1 if it cannot be asked or refuses.
pub fn run(args: &ExplainArgs) -> ExitCode {
    let socket = match socket_path(args.socket.as_deref(), args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wren explain: {e}");
            return ExitCode::from(2);
        }
    };
    let req = Request::Explain {
        prefix: args.prefix.clone(),
    };
    let data = match client::request(&socket, &req) {
        Ok(r) if r.ok => r.data.unwrap_or_default(),
        Ok(r) => {
            eprintln!(
                "wren explain: {}",
                r.error.unwrap_or_else(|| "refused".into())
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("wren explain: cannot ask the daemon: {e}");
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
    match serde_json::from_value::<Explain>(data) {
        Ok(e) => {
            print!("{}", text(&e));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wren explain: unexpected reply: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The readable form.
fn text(e: &Explain) -> String {
    let mut s = format!("{}\n", e.prefix);
    if e.paths.is_empty() {
        s.push_str("paths: none (no peer sent it, and it is not originated)\n");
    } else {
        s.push_str("paths:\n");
    }
    for p in &e.paths {
        let mark = match (p.best, p.multipath, p.eligible) {
            (true, _, _) => '*',
            (_, true, _) => '=',
            (_, _, false) => 'x',
            _ => ' ',
        };
        let id = if p.path_id == 0 {
            String::new()
        } else {
            format!(" #{}", p.path_id)
        };
        let nh = p.next_hop.map_or("-".to_string(), |a| a.to_string());
        // RFC 9494: say so when the path is long-lived stale (least preferred).
        let ll = if p.llgr_stale { " [LLGR-stale]" } else { "" };
        let _ = writeln!(s, "  {mark} from {}{id} via {nh}{ll}: {}", p.peer, p.reason);
        if let Some(i) = p.import.as_ref().filter(|i| !p.reason.contains(i.as_str())) {
            let _ = writeln!(s, "      import: {i}");
        }
    }
    if !e.exports.is_empty() {
        s.push_str("exports:\n");
    }
    let w = e.exports.iter().map(|x| x.peer.len()).max().unwrap_or(0);
    for x in &e.exports {
        let _ = writeln!(s, "  {:<w$}  {}", x.peer, x.reason);
    }
    let k = &e.kernel;
    let what = match (&k.kind, k.next_hops.is_empty()) {
        (Some(kind), false) => {
            let hops: Vec<String> = k.next_hops.iter().map(|a| a.to_string()).collect();
            format!(" ({kind} via {})", hops.join(" "))
        }
        (Some(kind), true) => format!(" ({kind})"),
        (None, _) => String::new(),
    };
    let _ = writeln!(s, "kernel{what}: {}", k.reason);
    s
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use wren::speaker::explain::{ExplainExport, ExplainKernel, ExplainPath};

    #[test]
    fn text_shows_paths_exports_and_kernel() {
        let e = Explain {
            prefix: "198.51.100.0/24".into(),
            paths: vec![
                ExplainPath {
                    peer: "tor1".into(),
                    path_id: 0,
                    next_hop: Some("198.18.0.2".parse().unwrap()),
                    best: true,
                    multipath: false,
                    stale: false,
                    llgr_stale: false,
                    eligible: true,
                    reason: "best: only eligible path".into(),
                    import: Some("accepted by policy \"edge\"".into()),
                    attrs: Default::default(),
                },
                ExplainPath {
                    peer: "tor2".into(),
                    path_id: 0,
                    next_hop: None,
                    best: false,
                    multipath: false,
                    stale: false,
                    llgr_stale: false,
                    eligible: false,
                    reason: "not eligible: rejected by policy \"edge\" rule[0] (any route)".into(),
                    import: None,
                    attrs: Default::default(),
                },
            ],
            exports: vec![ExplainExport {
                peer: "tor1".into(),
                sent: false,
                path_ids: vec![],
                reason: "not sent: the best path came from this peer (split horizon)".into(),
            }],
            kernel: ExplainKernel {
                wanted: true,
                installed: true,
                kind: Some("unicast".into()),
                next_hops: vec!["198.18.0.2".parse().unwrap()],
                policy: None,
                reason: "installed: best path".into(),
            },
        };
        let t = text(&e);
        assert_eq!(
            t,
            "198.51.100.0/24\npaths:\n  * from tor1 via 198.18.0.2: best: only eligible path\n      import: accepted by policy \"edge\"\n  x from tor2 via -: not eligible: rejected by policy \"edge\" rule[0] (any route)\nexports:\n  tor1  not sent: the best path came from this peer (split horizon)\nkernel (unicast via 198.18.0.2): installed: best path\n"
        );
    }
}
