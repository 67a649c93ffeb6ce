//! The `wren` command: the daemon (`wren run`), its control client (`wren show ...`),
//! and tools (`wren check`, `wren decode`).
//!
//! Multi-call: called as `bird`, `bird6`, `birdcl` or `birdcl6` (a link or a copy with
//! that name), it behaves like those BIRD 1.6 programs for calico-node (see `cli::bird`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(name) = argv.first().and_then(|a| cli::bird::personality(a)) {
        return cli::bird::run_as(name, &argv[1..]);
    }
    let args = cli::Cli::parse();
    cli::run(args)
}
