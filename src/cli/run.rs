//! `wren run --config FILE`: the daemon, in the foreground, logging to stderr.
//!
//! SIGTERM and SIGINT stop gracefully (RFC 4724: sessions close without a NOTIFICATION,
//! kernel routes stay); `wren stop --withdraw` (a control request) withdraws. Under
//! systemd `Type=notify` it reports READY, STATUS, WATCHDOG and STOPPING (crate::systemd).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use tracing::{error, info, warn};

use wren::config::{self, Config, DatastoreKind};
use wren::control::bird::server::BirdServer;
use wren::control::server::ControlServer;
use wren::control::{Request, Response};
use wren::fib::netlink::{NetlinkFib, NetlinkFibCfg};
use wren::fib::{FibSink, MemFib};
use wren::metrics::MetricsServer;
use wren::speaker::SpeakerHandle;
use wren::systemd::Notifier;

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
    daemon(cfg, &args.config)
}

/// Run the daemon with a config loaded from `path` until SIGTERM/SIGINT (also `bird`'s
/// entry); SIGHUP and `wren reload` re-read `path`.
pub fn daemon(cfg: Config, path: &Path) -> ExitCode {
    if !init_tracing(&cfg.log) {
        return ExitCode::FAILURE;
    }
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
    match rt.block_on(serve(cfg, path.to_path_buf())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("wren: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Load and validate; print warnings and errors in `wren check`'s format.
pub fn load(path: &Path) -> Option<Config> {
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

/// Logs to stderr as `[log] format` says; `WREN_LOG` (an EnvFilter) wins over `[log]
/// level`. `wren log-level` changes the filter later (src/logging).
pub fn init_tracing(cfg: &config::LogCfg) -> bool {
    match wren::logging::init(cfg) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("wren: {e}");
            false
        }
    }
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
    let notify = Arc::new(Notifier::from_env());
    // Before anything slow: a SIGTERM during the start must not kill us uncleanly.
    let mut signals = Signals::new().map_err(|e| format!("signals: {e}"))?;
    let socket = cfg.control.socket.clone();
    let bird_paths = cfg.control.bird_compat.clone();
    let metrics_cfg = cfg.metrics.clone();
    // Calico mode (src/cli/calico.rs): the speaker's config comes from etcd.
    let (mut speaker, datastore) = if cfg.datastore.kind == DatastoreKind::Etcd {
        // The first sync may take long (etcd down): SIGTERM must still stop us.
        let start = super::calico::start(cfg, open_fib);
        tokio::pin!(start);
        let (speaker, follower) = loop {
            tokio::select! {
                r = &mut start => break r?,
                sig = signals.recv() => {
                    if sig != "SIGHUP" {
                        info!("{sig} before the first datastore sync: stopping");
                        return Ok(());
                    }
                }
            }
        };
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
    let bird = bind_bird(&bird_paths, &speaker)?;
    let metrics = MetricsServer::start(&metrics_cfg, speaker.stats())
        .await
        .map_err(|e| format!("metrics: {e}"))?;
    if let Some(m) = &metrics {
        info!("metrics, /healthz and /readyz at http://{}", m.local_addr());
    }
    let reporter = tokio::spawn(super::notify::report(notify.clone(), &speaker));
    let by_request = loop {
        tokio::select! {
            sig = signals.recv() => {
                if sig == "SIGHUP" {
                    reload(&speaker).await;
                    continue;
                }
                info!("{sig}: stopping gracefully (peers keep our routes as stale; `wren stop --withdraw` withdraws)");
                break false;
            }
            _ = speaker.stopped() => break true,
        }
    };
    reporter.abort();
    notify.stopping("stopping");
    if let Some(follower) = datastore {
        follower.abort();
    }
    if !by_request {
        speaker.shutdown().await;
    }
    drop(bird);
    drop(control);
    drop(metrics);
    info!("stopped");
    Ok(())
}

/// The BIRD-compatible sockets (`[control] bird_compat`), for calico-node.
fn bind_bird(
    paths: &[PathBuf],
    speaker: &wren::speaker::SpeakerHandle,
) -> Result<Vec<BirdServer>, String> {
    let mut servers = Vec::new();
    for p in paths {
        let s = BirdServer::bind(p, speaker.requester())
            .map_err(|e| format!("BIRD-compatible socket: {e}"))?;
        info!(
            "BIRD-compatible socket at {} ({:?} view)",
            p.display(),
            s.view()
        );
        servers.push(s);
    }
    Ok(servers)
}

/// SIGHUP = `wren reload`: the speaker re-reads the file and logs what changed.
async fn reload(speaker: &SpeakerHandle) {
    match speaker.request(Request::Reload).await {
        Ok(Response::Done(what)) => info!("SIGHUP: reload: {what}"),
        Ok(_) => {}
        Err(e) => warn!("SIGHUP: reload: {e}"),
    }
}

/// The next SIGTERM, SIGINT or SIGHUP (`bird6`'s companion process).
pub async fn wait_for_signal() -> std::io::Result<&'static str> {
    Ok(Signals::new()?.recv().await)
}

/// SIGTERM and SIGINT stop the daemon (both gracefully); SIGHUP reloads.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}
