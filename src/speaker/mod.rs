//! The speaker: the one owner of protocol state.
//!
//! One tokio task owns the config, the [`Rib`](crate::rib::Rib), every peer's state and
//! the [`FibSink`]. Everything else talks to it through channels:
//!
//! ```text
//!  session tasks / listener ──PeerEvent (bounded)──┐
//!  control socket ──(Request, reply oneshot)───────┤
//!  timers (GR stale, restart) ──TimerEvent─────────┤
//!                                                  v
//!                        owner loop: handle every ready input (no I/O awaits),
//!                        then rib.flush() ──> fib, Send(bytes) to sessions, fib_after, Stop
//! ```
//!
//! [`spawn`] starts it; `wren run` and the quick start use the same call.

mod detail;
pub mod explain;
mod fibdiff;
mod gate;
mod host;
mod io;
mod learn;
mod llgr;
mod logs;
mod owner;
mod peer;
mod reconfig;
mod restart;
mod send;
mod snapshot;
mod stats;
mod sync;
mod view;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::control::{Request, Response};
use crate::fib::FibSink;

pub use gate::Barrier;
pub use host::Host;
pub use io::{SessionTx, Sessions};
pub use owner::name as state_name;
pub use peer::{
    capabilities, filter, kernel_filter, peer_info, read_md5_key, session_cfg, stale_time,
    transport,
};
pub use restart::hard_reset_if_n;
pub use snapshot::ViewCell;
pub use stats::{state_code, DatastoreState, Dir, PeerSnapshot, Snapshot, Stats};

/// PeerEvents waiting for the speaker; session tasks wait when it is full.
const EVENT_QUEUE: usize = 4096;
/// Control requests waiting for the speaker.
const CONTROL_QUEUE: usize = 64;
/// How long shutdown waits for sessions to close (after their Cease, when withdrawing).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A control request and where its answer goes.
pub type ControlMsg = (Request, oneshot::Sender<Result<Response, String>>);

/// Asks the running speaker questions (cheap to clone).
#[derive(Debug, Clone)]
pub struct Requester {
    tx: mpsc::Sender<ControlMsg>,
    /// What the owner published at the end of its last turn.
    view: std::sync::Arc<ViewCell>,
}

/// A running speaker. Dropping it stops the speaker without a clean shutdown; call
/// [`SpeakerHandle::shutdown`] (graceful) or [`SpeakerHandle::shutdown_withdraw`].
#[derive(Debug)]
pub struct SpeakerHandle {
    requester: Requester,
    stop: Option<oneshot::Sender<bool>>,
    task: JoinHandle<()>,
    stats: std::sync::Arc<Stats>,
    /// The owner task has ended (e.g. after a `Stop` control request).
    finished: bool,
    synced: watch::Receiver<bool>,
}

/// Start a speaker: listener (`router.listen`), one session per configured peer, the
/// `[[originate]]` prefixes. Must be called inside a tokio runtime. Errors name what
/// failed (a listen address, a key file).
pub async fn spawn(config: Config, fib: Box<dyn FibSink>) -> std::io::Result<SpeakerHandle> {
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let sessions = io::NetSessions::start(&config.router.listen, events_tx).await?;
    start(config, fib, Box::new(sessions), events_rx)
}

/// [`spawn`] for a config read from `path`: `wren reload` (and SIGHUP) re-read it and
/// apply the difference.
pub async fn spawn_from_file(
    config: Config,
    path: PathBuf,
    fib: Box<dyn FibSink>,
) -> std::io::Result<SpeakerHandle> {
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let sessions = io::NetSessions::start(&config.router.listen, events_tx).await?;
    start_with(config, Some(path), fib, Box::new(sessions), events_rx)
}

/// Start a speaker with the given sessions (tests use fake ones); `events` is where
/// those sessions report.
pub fn start(
    config: Config,
    fib: Box<dyn FibSink>,
    sessions: Box<dyn Sessions>,
    events: mpsc::Receiver<crate::net::PeerEvent>,
) -> std::io::Result<SpeakerHandle> {
    start_with(config, None, fib, sessions, events)
}

/// [`start`], with the config file `wren reload` re-reads.
pub fn start_with(
    config: Config,
    path: Option<PathBuf>,
    fib: Box<dyn FibSink>,
    sessions: Box<dyn Sessions>,
    events: mpsc::Receiver<crate::net::PeerEvent>,
) -> std::io::Result<SpeakerHandle> {
    let (timers_tx, timers_rx) = mpsc::unbounded_channel();
    let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE);
    let (stop_tx, stop_rx) = oneshot::channel();
    let (synced_tx, synced) = watch::channel(false);
    let mut owner = owner::Owner::new(config, Host::read(), fib, sessions, timers_tx)?;
    owner.config_path = path;
    owner.synced = Some(synced_tx);
    owner.start_learning();
    let inputs = owner::Inputs {
        events,
        control: control_rx,
        timers: timers_rx,
        stop: stop_rx,
    };
    let stats = owner.stats.clone();
    owner.publish(true);
    let view = owner.snap.cell();
    let task = tokio::spawn(owner.run(inputs));
    Ok(SpeakerHandle {
        requester: Requester {
            tx: control_tx,
            view,
        },
        stop: Some(stop_tx),
        task,
        stats,
        finished: false,
        synced,
    })
}

// ===== impl Requester / SpeakerHandle =====

impl Requester {
    /// Ask the speaker; `Err` is the one-line reason (or that the speaker is gone).
    pub async fn request(&self, req: Request) -> Result<Response, String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send((req, tx))
            .await
            .map_err(|_| "the speaker has stopped".to_string())?;
        rx.await
            .map_err(|_| "the speaker has stopped".to_string())?
    }

    /// Answer from what the speaker published at the end of its last turn, without
    /// waiting for it: `show status`, `show peers [NAME] [--detail]`. `None` for the other
    /// requests (ask them with [`Requester::request`]). Unlike `request`, the answer need
    /// not reflect events still queued for the speaker.
    pub fn read(&self, req: &Request) -> Option<Result<Response, String>> {
        if self.tx.is_closed() {
            return None;
        }
        self.view.answer(req)
    }
}

impl SpeakerHandle {
    /// The counters `/metrics` and the health endpoints read.
    pub fn stats(&self) -> std::sync::Arc<Stats> {
        self.stats.clone()
    }

    pub fn requester(&self) -> Requester {
        self.requester.clone()
    }

    pub async fn request(&self, req: Request) -> Result<Response, String> {
        self.requester.request(req).await
    }

    /// Stop gracefully (RFC 4724): every session closes without a NOTIFICATION, so
    /// graceful-restart peers keep our routes as stale; kernel routes stay. Waits briefly
    /// for the sessions to close, then ends the owner task.
    pub async fn shutdown(self) {
        self.stop_with(false).await
    }

    /// Stop and withdraw: Cease (Administrative Shutdown, RFC 4486 §4; a Hard Reset with
    /// RFC 8538 peers) to every session; the kernel routes go unless `[fib] persist`.
    pub async fn shutdown_withdraw(self) {
        self.stop_with(true).await
    }

    async fn stop_with(mut self, withdraw: bool) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(withdraw);
        }
        if !self.finished {
            let _ = (&mut self.task).await;
            self.finished = true;
        }
    }

    /// Completes when the owner task has ended by itself (a `Stop` control request).
    pub async fn stopped(&mut self) {
        if !self.finished {
            let _ = (&mut self.task).await;
            self.finished = true;
            self.stop = None;
        }
    }

    /// Becomes `true` once the initial sync after the start is done (the peers that came
    /// up sent End-of-RIB, or the bounded waits ran out).
    pub fn initial_sync(&self) -> watch::Receiver<bool> {
        self.synced.clone()
    }
}

impl Drop for SpeakerHandle {
    fn drop(&mut self) {
        if self.stop.is_some() && !self.finished {
            self.task.abort();
        }
    }
}

#[cfg(test)]
mod detail_tests;
#[cfg(test)]
mod explain_tests;
#[cfg(test)]
mod restart_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
