//! `wren check --config FILE`: validate a config without running it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `wren check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The TOML config file to validate.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
}

/// Print every error (file, key, reason) or the warnings; exit 1 on any error.
pub fn run(args: &CheckArgs) -> ExitCode {
    match wren::config::load(&args.config) {
        Ok((cfg, warnings)) => {
            for w in &warnings {
                eprintln!(
                    "{}: warning: key `{}`: {}",
                    args.config.display(),
                    w.key,
                    w.message
                );
            }
            println!(
                "{}: ok ({} peers, {} originated prefixes, {} warnings)",
                args.config.display(),
                cfg.peers.len(),
                cfg.originate.len(),
                warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "{}: refused: {} error(s)",
                args.config.display(),
                errors.len()
            );
            ExitCode::FAILURE
        }
    }
}
