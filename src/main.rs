//! The `wren` command: the daemon (`wren run`), its control client (`wren show ...`),
//! and tools (`wren check`, `wren decode`).
//!
//! Multi-call: called as `bird`, `bird6`, `birdcl` or `birdcl6` (a link or a copy with
//! that name), it behaves like those BIRD 1.6 programs for calico-node (see `cli::bird`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(name) = argv.first().and_then(|a| cli::bird::personality(a)) {
        return cli::bird::run_as(name, &argv[1..]);
    }
    let args = cli::Cli::parse();
    cli::run(args)
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), and free space
/// in one arena serves no other: the owner's tables, built on whichever runtime worker
/// runs it, spread over several. One arena: a 500k-prefix relay peaks at 47 MiB instead of
/// 54 MiB with two and ~61 MiB with glibc's default, for the same CPU within noise (0.24 s
/// vs 0.20–0.24 s; rr-fanout 1000 clients 1.33 vs 1.36 s): wren has few threads and one owner.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
