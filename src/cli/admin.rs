//! `wren reload` and `wren peer reset|disable|enable NAME`: commands that change a running
//! daemon, over its control socket.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use wren::control::{client, Reply, Request};

/// Where the daemon is and how to print its answer (shared by `reload` and `peer`).
#[derive(Debug, Args)]
pub struct Target {
    /// Output format (json: the reply as `{"ok":…,"data":…}` / `{"ok":false,"error":…}`).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// The daemon's control socket (default: `control.socket` of --config, else
    /// /run/wren/wren.sock).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Read the control socket path from this config file.
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// Arguments of `wren reload`.
#[derive(Debug, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub target: Target,
}

/// Arguments of `wren peer`.
#[derive(Debug, Args)]
pub struct PeerArgs {
    #[command(subcommand)]
    pub what: PeerCmd,
    #[command(flatten)]
    pub target: Target,
}

/// What to do with the peer.
#[derive(Debug, Subcommand)]
pub enum PeerCmd {
    /// Cease 6/4 (Administrative Reset), then start the session again.
    Reset {
        /// The peer's name as in `show peers`.
        name: String,
    },
    /// Cease 6/2 (Administrative Shutdown) with a message; the session stays down until
    /// `wren peer enable`.
    Disable {
        name: String,
        /// The shutdown communication sent to the peer (RFC 9003), at most 255 bytes.
        #[arg(long, short = 'm')]
        message: Option<String>,
    },
    /// Start a disabled session again.
    Enable { name: String },
}

// ===== commands =====

/// `wren reload`: the daemon re-reads its config file and applies the difference.
pub fn reload(args: &ReloadArgs) -> ExitCode {
    ask("wren reload", &args.target, &Request::Reload)
}

/// `wren peer reset|disable|enable NAME`.
pub fn peer(args: &PeerArgs) -> ExitCode {
    let req = match &args.what {
        PeerCmd::Reset { name } => Request::PeerReset { name: name.clone() },
        PeerCmd::Disable { name, message } => Request::PeerDisable {
            name: name.clone(),
            message: message.clone(),
        },
        PeerCmd::Enable { name } => Request::PeerEnable { name: name.clone() },
    };
    ask("wren peer", &args.target, &req)
}

// ===== helper functions =====

/// Send `req`, print the answer; exit 1 when the daemon cannot be asked or refuses.
fn ask(cmd: &str, t: &Target, req: &Request) -> ExitCode {
    let socket = match socket_path(t) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{cmd}: {e}");
            return ExitCode::from(2);
        }
    };
    let reply = match client::request(&socket, req) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{cmd}: cannot ask the daemon: {e}");
            return ExitCode::FAILURE;
        }
    };
    if t.output == Output::Json {
        println!("{}", serde_json::to_string(&reply).unwrap_or_default());
    } else {
        print_text(cmd, &reply);
    }
    if reply.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The summary one change a line (they are joined with "; "), or the error on stderr.
fn print_text(cmd: &str, reply: &Reply) {
    match (&reply.data, &reply.error) {
        (Some(serde_json::Value::String(s)), _) => {
            for line in s.split("; ") {
                println!("{line}");
            }
        }
        (Some(other), _) => println!("{other}"),
        (None, e) => eprintln!(
            "{cmd}: {}",
            e.as_deref().unwrap_or("the daemon gave no answer")
        ),
    }
}

fn socket_path(t: &Target) -> Result<PathBuf, String> {
    super::show::socket_path(t.socket.as_deref(), t.config.as_deref())
}
