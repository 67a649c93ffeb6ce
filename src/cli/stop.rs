//! `wren stop [--withdraw]`: stop a running daemon through its control socket, and wait
//! until it has gone.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use wren::control::{client, Request};

/// How long `wren stop` waits for the daemon to go away.
const WAIT: Duration = Duration::from_secs(15);

/// Arguments of `wren stop`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Withdraw: Cease (Administrative Shutdown) to every peer so they drop our routes at
    /// once, and remove our kernel routes unless `[fib] persist`. Without it the stop is
    /// graceful (RFC 4724): no NOTIFICATION, peers keep our routes as stale until we are
    /// back, and the kernel routes stay.
    #[arg(long)]
    pub withdraw: bool,
    /// The daemon's control socket (default: `control.socket` of --config, else
    /// /run/wren/wren.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the control socket path from this config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Do not wait for the daemon to exit.
    #[arg(long)]
    pub no_wait: bool,
}

/// Ask the daemon to stop, then wait until its control socket no longer answers.
pub fn run(args: &StopArgs) -> ExitCode {
    let socket = match super::show::socket_path(args.socket.as_deref(), args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wren stop: {e}");
            return ExitCode::from(2);
        }
    };
    let req = Request::Stop {
        withdraw: args.withdraw,
    };
    let reply = match client::request(&socket, &req) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wren stop: cannot ask the daemon: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !reply.ok {
        let e = reply.error.unwrap_or_else(|| "refused".into());
        eprintln!("wren stop: {e}");
        return ExitCode::FAILURE;
    }
    if let Some(text) = reply.data.as_ref().and_then(|d| d.as_str()) {
        println!("{text}");
    }
    if args.no_wait || wait_gone(&socket) {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "wren stop: the daemon still answers on {} after {} s",
        socket.display(),
        WAIT.as_secs()
    );
    ExitCode::FAILURE
}

/// True once nobody accepts connections on `socket` any more.
fn wait_gone(socket: &Path) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < WAIT {
        if std::os::unix::net::UnixStream::connect(socket).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
