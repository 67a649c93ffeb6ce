//! The `wren` command: the daemon (planned) and its tools.
//!
//! Today it has one subcommand, `wren decode`, which prints BGP messages given as hex as
//! JSON. The daemon (`wren run`) and the control client (`wren show ...`) come later.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::run(args)
}
