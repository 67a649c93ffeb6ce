//! `wren run --config FILE`: the daemon, in the foreground, logging to stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use tracing::{error, info, warn};

use wren::config::{self, Config, DatastoreKind};
use wren::control::server::ControlServer;
use wren::control::{Request, Response};
use wren::fib::netlink::{NetlinkFib, NetlinkFibCfg};
use wren::fib::{FibSink, MemFib};

/// Arguments of `wren run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
}

/// Load the config (refusing it like `wren check` does), then run until SIGTERM/SIGINT.
pub fn run(args: &RunArgs) -> ExitCode {
    let Some(cfg) = load(&args.config) else {
        return ExitCode::FAILURE;
    };
    init_tracing();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wren: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(cfg, args.config.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("wren: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Load and validate; print warnings and errors in `wren check`'s format.
fn load(path: &Path) -> Option<Config> {
    match config::load(path) {
        Ok((cfg, warnings)) => {
            for w in &warnings {
                eprintln!(
                    "{}: warning: key `{}`: {}",
                    path.display(),
                    w.key,
                    w.message
                );
            }
            Some(cfg)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{}: refused: {} error(s)", path.display(), errors.len());
            None
        }
    }
}

/// Logs to stderr; `WREN_LOG` is an EnvFilter (default `info`).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WREN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// The kernel FIB when `[fib] enabled` (routes with `[fib] protocol` in `[fib] table`),
/// else the in-memory one (nothing is written to the kernel; with `dry_run` it holds what
/// would be installed, without `enabled` nothing).
fn open_fib(cfg: &Config) -> Result<Box<dyn FibSink>, String> {
    if !cfg.fib.enabled || cfg.fib.dry_run {
        if cfg.fib.enabled {
            info!("[fib] dry_run: routes are kept in memory only (wren show fib)");
        }
        return Ok(Box::new(MemFib::new()));
    }
    let fib = NetlinkFib::start(NetlinkFibCfg::from_config(&cfg.fib)).map_err(|e| {
        format!(
            "cannot open the kernel FIB: {e} (wren needs CAP_NET_ADMIN to write routes; \
             or set [fib] enabled = false)"
        )
    })?;
    info!(
        "kernel FIB: protocol {} table {}",
        cfg.fib.protocol, cfg.fib.table
    );
    Ok(Box::new(fib))
}

async fn serve(cfg: Config, path: PathBuf) -> Result<(), String> {
    let socket = cfg.control.socket.clone();
    // Calico mode (src/cli/calico.rs): the speaker's config comes from etcd.
    let (speaker, datastore) = if cfg.datastore.kind == DatastoreKind::Etcd {
        let (speaker, follower) = super::calico::start(cfg, open_fib).await?;
        (speaker, Some(follower))
    } else {
        let fib = open_fib(&cfg)?;
        let speaker = wren::speaker::spawn_from_file(cfg, path, fib)
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        (speaker, None)
    };
    let control = ControlServer::bind(&socket, speaker.requester())
        .map_err(|e| format!("control socket: {e}"))?;
    info!("control socket at {}", control.path().display());
    let sig = loop {
        let sig = wait_for_signal()
            .await
            .map_err(|e| format!("signals: {e}"))?;
        if sig != "SIGHUP" {
            break sig;
        }
        // SIGHUP = `wren reload`: the speaker re-reads the file and logs what changed.
        match speaker.request(Request::Reload).await {
            Ok(Response::Done(what)) => info!("SIGHUP: reload: {what}"),
            Ok(_) => {}
            Err(e) => warn!("SIGHUP: reload: {e}"),
        }
    };
    info!("{sig}: stopping");
    if let Some(follower) = datastore {
        follower.abort();
    }
    speaker.shutdown().await;
    drop(control);
    info!("stopped");
    Ok(())
}

async fn wait_for_signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    Ok(tokio::select! {
        _ = hup.recv() => "SIGHUP",
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
