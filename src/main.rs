//! The `wren` command: the daemon (`wren run`), its control client (`wren show ...`),
//! and tools (`wren check`, `wren decode`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::run(args)
}
