//! Command-line interface: argument parsing and dispatch to subcommands.
//!
//! Each subcommand lives in its own module and returns the process exit code.
//! Exit codes: 0 success, 1 the subcommand's work failed (e.g. a message did not decode),
//! 2 bad usage or unreadable input (clap uses 2 for usage errors too).

mod admin;
pub mod bird;
mod calico;
mod check;
mod decode;
mod explain;
mod loglevel;
mod notify;
mod run;
mod show;
mod show_detail;
mod stop;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// wren: a BGP routing daemon for node-to-node route distribution.
#[derive(Debug, Parser)]
#[command(name = "wren", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode BGP messages given as hex and print them as JSON.
    Decode(decode::DecodeArgs),
    /// Validate a config file without running it: every error with file, key and reason.
    Check(check::CheckArgs),
    /// Run the daemon in the foreground (logs to stderr; WREN_LOG sets the filter).
    Run(run::RunArgs),
    /// Ask a running daemon through its control socket.
    Show(show::ShowArgs),
    /// Make the running daemon re-read its config file and apply the difference (like
    /// SIGHUP); prints what changed, or why the new file was refused.
    Reload(admin::ReloadArgs),
    /// Reset, disable or enable one peer's session in the running daemon.
    Peer(admin::PeerArgs),
    /// Change a running daemon's log filter, for everything or one peer.
    LogLevel(loglevel::LogLevelArgs),
    /// Stop a running daemon: gracefully (peers keep its routes as stale, kernel routes
    /// stay), or with --withdraw.
    Stop(stop::StopArgs),
    /// Explain one prefix: which path won and why, what policies rejected, what each
    /// peer is sent and whether the kernel has it.
    Explain(explain::ExplainArgs),
}

// ===== impl =====

/// Run the chosen subcommand; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Decode(args) => decode::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Reload(args) => admin::reload(&args),
        Command::Peer(args) => admin::peer(&args),
        Command::LogLevel(args) => loglevel::run(&args),
        Command::Stop(args) => stop::run(&args),
        Command::Explain(args) => explain::run(&args),
    }
}
