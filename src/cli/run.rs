//! `wren run --config FILE`: the daemon, in the foreground, logging to stderr.
//!
//! SIGTERM and SIGINT stop gracefully (RFC 4724: sessions close without a NOTIFICATION,
//! kernel routes stay); `wren stop --withdraw` (a control request) withdraws. Under
//! systemd `Type=notify` it reports READY, STATUS, WATCHDOG and STOPPING (crate::systemd).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tracing::{error, info, warn};

use wren::config::{self, Config};
use wren::control::server::ControlServer;
use wren::control::{Request, Response};
use wren::fib::netlink::{NetlinkFib, NetlinkFibCfg};
use wren::fib::{FibSink, MemFib};
use wren::speaker::{Requester, SpeakerHandle};
use wren::systemd::Notifier;

/// STATUS updates to systemd when there is no watchdog to piggyback on.
const STATUS_EVERY: Duration = Duration::from_secs(10);

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
    match rt.block_on(serve(cfg)) {
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

async fn serve(cfg: Config) -> Result<(), String> {
    let notify = Arc::new(Notifier::from_env());
    // Before anything slow: a SIGTERM during the start must not kill us uncleanly.
    let mut signals = Signals::new().map_err(|e| format!("signals: {e}"))?;
    let socket = cfg.control.socket.clone();
    let fib = open_fib(&cfg)?;
    let mut speaker = wren::speaker::spawn(cfg, fib)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let control = ControlServer::bind(&socket, speaker.requester())
        .map_err(|e| format!("control socket: {e}"))?;
    info!("control socket at {}", control.path().display());
    let reporter = tokio::spawn(report(notify.clone(), &speaker));
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
    if !by_request {
        speaker.shutdown().await;
    }
    drop(control);
    info!("stopped");
    Ok(())
}

/// SIGHUP = `wren reload`: the speaker re-reads the file and logs what changed.
async fn reload(speaker: &SpeakerHandle) {
    match speaker.request(Request::Reload).await {
        Ok(Response::Done(what)) => info!("SIGHUP: reload: {what}"),
        Ok(_) => {}
        Err(e) => warn!("SIGHUP: reload: {e}"),
    }
}

/// systemd: READY=1 once the initial sync is done, then STATUS (and WATCHDOG=1 when
/// asked for) each time the owner loop answers a status request.
fn report(
    notify: Arc<Notifier>,
    speaker: &SpeakerHandle,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut synced = speaker.initial_sync();
    let requester = speaker.requester();
    async move {
        if !notify.enabled() {
            return;
        }
        notify.status("starting: initial sync (waiting for End-of-RIB from the peers)");
        let watchdog = notify.watchdog_interval();
        let every = watchdog.unwrap_or(STATUS_EVERY);
        let mut ready = false;
        loop {
            if !ready && *synced.borrow() {
                ready = true;
                let s = status_line(&requester, every).await.unwrap_or_default();
                notify.ready(&s);
            }
            let wake = tokio::time::sleep(every);
            tokio::select! {
                _ = wake => {}
                r = synced.changed(), if !ready => {
                    if r.is_err() { return; }
                    continue;
                }
            }
            match status_line(&requester, every).await {
                Some(s) if watchdog.is_some() => notify.watchdog(&s),
                Some(s) => notify.status(&s),
                None => warn!(
                    "the speaker did not answer a status request within {} ms; no watchdog ping",
                    every.as_millis()
                ),
            }
        }
    }
}

/// One STATUS line from the owner loop, or None when it does not answer in time.
async fn status_line(requester: &Requester, within: Duration) -> Option<String> {
    let r = tokio::time::timeout(within, requester.request(Request::ShowStatus)).await;
    match r {
        Ok(Ok(Response::Status(s))) => Some(format!(
            "{}/{} peers established, {} paths, {} kernel routes",
            s.established, s.peers, s.paths, s.fib_routes
        )),
        _ => None,
    }
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
