//! `wren log-level LEVEL [--peer NAME]`: change a running daemon's log filter.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use wren::control::{client, Request};

/// Arguments of `wren log-level`.
#[derive(Debug, Args)]
pub struct LogLevelArgs {
    /// The new filter: a level (trace, debug, info, warn, error, off), an EnvFilter
    /// directive list such as `info,wren::net=debug`, or `default` (the one at start).
    /// With --peer: a plain level, or `default` to drop the peer's own level.
    pub level: String,
    /// Only for this peer's logs (its name as in `show peers`).
    #[arg(long)]
    pub peer: Option<String>,
    /// The daemon's control socket (default: `control.socket` of --config, else
    /// /run/wren/wren.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the control socket path from this config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Ask the daemon; print the filter now in force. Exit 1 if it refuses.
pub fn run(args: &LogLevelArgs) -> ExitCode {
    let socket = match (&args.socket, &args.config) {
        (Some(s), _) => s.clone(),
        (None, Some(path)) => match wren::config::load(path) {
            Ok((cfg, _)) => cfg.control.socket,
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                return ExitCode::from(2);
            }
        },
        (None, None) => wren::config::ControlCfg::default().socket,
    };
    let req = Request::LogLevel {
        level: args.level.clone(),
        peer: args.peer.clone(),
    };
    match client::request(&socket, &req) {
        Ok(r) if r.ok => {
            let said = r.data.as_ref().and_then(|d| d.as_str()).unwrap_or("done");
            println!("{said}");
            ExitCode::SUCCESS
        }
        Ok(r) => {
            eprintln!("wren log-level: {}", r.error.unwrap_or_default());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("wren log-level: cannot ask the daemon: {e}");
            ExitCode::FAILURE
        }
    }
}
