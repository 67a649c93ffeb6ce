//! The multi-call names calico-node runs: `bird`/`bird6` (the daemons) and
//! `birdcl`/`birdcl6` (the client), chosen by argv[0]'s file name.
//!
//! ```text
//! bird  [-R] [-d] [-f] [-s SOCKET] [-c FILE] [-p] [-P PIDFILE] [-D F] [-u U] [-g G] [-l] [-h]
//! bird6 (same flags)
//! birdcl [-s SOCKET] [-v] [-r] [-l] [COMMAND...]
//! ```
//!
//! - `bird` runs the wren daemon (`wren run`): `-c` is wren's TOML config (default
//!   `/etc/wren/wren.toml`; the `WREN_CONFIG` environment variable wins, so calico-node's
//!   unchanged `bird -c /etc/calico/confd/config/bird.cfg` can be pointed at a TOML file),
//!   `-s` adds a BIRD-compatible socket (IPv4 view unless its name contains `bird6`),
//!   `-p` checks the config and exits (non-zero on error), `-P` writes a pid file.
//! - `bird6` does not start a second speaker (wren carries both families in one
//!   process): it serves the IPv6 view at `-s` (default `/var/run/calico/bird6.ctl`) by
//!   asking the daemon over its `[control] socket`, so that a `bird6` process exists for
//!   calicoctl and runit. If the daemon already serves that socket, it just waits.
//! - `-R` (graceful-restart recovery: wren always waits for End-of-RIB before pruning
//!   the kernel), `-d`/`-f` (foreground, log to stderr: wren always does), `-D`, `-u`,
//!   `-g` and `-l` are accepted and ignored.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wren::control::bird::server::{BirdServer, Remote};
use wren::control::bird::{client, View, VERSION};

use super::run;

/// The config file when `-c` is not given.
const DEFAULT_CONFIG: &str = "/etc/wren/wren.toml";

/// `bird`'s parsed flags.
#[derive(Debug, Default, PartialEq, Eq)]
struct Flags {
    config: Option<PathBuf>,
    socket: Option<PathBuf>,
    parse_only: bool,
    pid_file: Option<PathBuf>,
    ignored: Vec<String>,
}

// ===== helper functions =====

/// The BIRD name argv[0] was called by, if any.
pub fn personality(argv0: &str) -> Option<&'static str> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    ["bird", "bird6", "birdcl", "birdcl6"]
        .into_iter()
        .find(|n| *n == name)
}

/// Run as `name` (from [`personality`]) with the arguments after argv[0].
pub fn run_as(name: &str, args: &[String]) -> ExitCode {
    let code = match name {
        "birdcl" => client::run(args, View::V4),
        "birdcl6" => client::run(args, View::V6),
        "bird" => return daemon(args),
        _ => return companion(args),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn usage() -> &'static str {
    "Usage: bird [-R] [-d] [-f] [-p] [-c <config-file>] [-s <control-socket>] [-P <pid-file>]"
}

/// getopt-style parsing of BIRD's `c:dD:ps:P:u:g:flRh`. `Err` is what to print.
fn parse(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--version" {
            return Err(format!("BIRD version {VERSION}"));
        }
        let Some(opts) = a.strip_prefix('-').filter(|o| !o.is_empty()) else {
            return Err(usage().into());
        };
        for (i, c) in opts.char_indices() {
            match c {
                'c' | 's' | 'P' | 'D' | 'u' | 'g' => {
                    let rest = &opts[i + 1..];
                    let v = if rest.is_empty() {
                        it.next().cloned().ok_or_else(|| usage().to_string())?
                    } else {
                        rest.to_string()
                    };
                    match c {
                        'c' => f.config = Some(v.into()),
                        's' => f.socket = Some(v.into()),
                        'P' => f.pid_file = Some(v.into()),
                        _ => f.ignored.push(format!("-{c} {v}")),
                    }
                    break;
                }
                'p' => f.parse_only = true,
                'd' | 'f' | 'l' | 'R' => f.ignored.push(format!("-{c}")),
                _ => return Err(usage().into()),
            }
        }
    }
    Ok(f)
}

fn config_path(f: &Flags) -> PathBuf {
    match std::env::var_os("WREN_CONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => f.config.clone().unwrap_or_else(|| DEFAULT_CONFIG.into()),
    }
}

/// `bird`: the daemon, with `-s` as a BIRD-compatible socket.
fn daemon(args: &[String]) -> ExitCode {
    let flags = match parse(args) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::FAILURE;
        }
    };
    let path = config_path(&flags);
    let Some(mut cfg) = run::load(&path) else {
        return ExitCode::FAILURE;
    };
    if flags.parse_only {
        return ExitCode::SUCCESS;
    }
    if let Some(s) = &flags.socket {
        if !cfg.control.bird_compat.contains(s) {
            cfg.control.bird_compat.push(s.clone());
        }
    }
    if !write_pid(flags.pid_file.as_deref()) {
        return ExitCode::FAILURE;
    }
    run::daemon(cfg, &path)
}

/// `bird6`: the IPv6 view, served from the running daemon's control socket.
fn companion(args: &[String]) -> ExitCode {
    let flags = match parse(args) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::FAILURE;
        }
    };
    let Some(cfg) = run::load(&config_path(&flags)) else {
        return ExitCode::FAILURE;
    };
    if flags.parse_only {
        return ExitCode::SUCCESS;
    }
    if !write_pid(flags.pid_file.as_deref()) {
        return ExitCode::FAILURE;
    }
    let socket = flags
        .socket
        .unwrap_or_else(|| View::V6.default_socket().into());
    if !run::init_tracing(&cfg.log) {
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bird6: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let remote = Remote {
        socket: cfg.control.socket.clone(),
    };
    match rt.block_on(serve_companion(&socket, remote, &cfg.control.bird_compat)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bird6: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_companion(
    socket: &Path,
    remote: Remote,
    daemon_serves: &[PathBuf],
) -> Result<(), String> {
    let server = if daemon_serves.iter().any(|p| p == socket) {
        tracing::info!(
            "{}: served by the wren daemon; bird6 only waits",
            socket.display()
        );
        None
    } else {
        let s = BirdServer::bind(socket, remote.clone()).map_err(|e| e.to_string())?;
        tracing::info!(
            "BIRD-compatible socket at {} ({:?} view, answered by the daemon at {})",
            socket.display(),
            s.view(),
            remote.socket.display()
        );
        Some(s)
    };
    let sig = run::wait_for_signal()
        .await
        .map_err(|e| format!("signals: {e}"))?;
    tracing::info!("{sig}: stopping");
    drop(server);
    Ok(())
}

/// Write our pid (BIRD's `-P`); false (after saying why) if that fails.
fn write_pid(path: Option<&Path>) -> bool {
    let Some(p) = path else {
        return true;
    };
    match std::fs::write(p, format!("{}\n", std::process::id())) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("{}: cannot write the pid file: {e}", p.display());
            false
        }
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn calico_node_command_lines_parse() {
        let f = parse(&v(&[
            "-R",
            "-s",
            "/var/run/calico/bird.ctl",
            "-d",
            "-c",
            "/etc/calico/confd/config/bird.cfg",
        ]))
        .unwrap();
        assert_eq!(f.socket, Some("/var/run/calico/bird.ctl".into()));
        assert_eq!(f.config, Some("/etc/calico/confd/config/bird.cfg".into()));
        assert!(!f.parse_only);
        assert_eq!(f.ignored, ["-R", "-d"]);
        let f = parse(&v(&["-p", "-c", "x.toml"])).unwrap();
        assert!(f.parse_only);
        let f = parse(&v(&["-Rd", "-cx.toml", "-P/run/b.pid", "-u", "bird"])).unwrap();
        assert_eq!(f.config, Some("x.toml".into()));
        assert_eq!(f.pid_file, Some("/run/b.pid".into()));
        assert_eq!(f.ignored, ["-R", "-d", "-u bird"]);
        assert!(parse(&v(&["-c"])).is_err());
        assert!(parse(&v(&["-x"])).is_err());
        assert!(parse(&v(&["show"])).is_err());
        assert!(parse(&v(&["--version"]))
            .unwrap_err()
            .starts_with("BIRD version v"));
    }

    #[test]
    fn argv0_picks_the_personality() {
        assert_eq!(personality("/bin/bird"), Some("bird"));
        assert_eq!(personality("bird6"), Some("bird6"));
        assert_eq!(personality("/usr/local/bin/birdcl"), Some("birdcl"));
        assert_eq!(personality("./birdcl6"), Some("birdcl6"));
        assert_eq!(personality("/usr/bin/wren"), None);
        assert_eq!(personality("birdc"), None);
    }
}
