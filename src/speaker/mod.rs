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

pub mod explain;
mod gate;
mod host;
mod io;
mod owner;
mod peer;
mod sync;
mod view;

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::control::{Request, Response};
use crate::fib::FibSink;

pub use gate::Barrier;
pub use host::Host;
pub use io::{SessionTx, Sessions};
pub use peer::{
    capabilities, filter, kernel_filter, peer_info, read_md5_key, session_cfg, stale_time,
    transport,
};

/// PeerEvents waiting for the speaker; session tasks wait when it is full.
const EVENT_QUEUE: usize = 4096;
/// Control requests waiting for the speaker.
const CONTROL_QUEUE: usize = 64;
/// How long shutdown waits for sessions to send their Cease and close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A control request and where its answer goes.
pub type ControlMsg = (Request, oneshot::Sender<Result<Response, String>>);

/// Asks the running speaker questions (cheap to clone).
#[derive(Debug, Clone)]
pub struct Requester {
    tx: mpsc::Sender<ControlMsg>,
}

/// A running speaker. Dropping it stops the speaker without a clean shutdown; call
/// [`SpeakerHandle::shutdown`] to send Cease to the peers first.
#[derive(Debug)]
pub struct SpeakerHandle {
    requester: Requester,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Start a speaker: listener (`router.listen`), one session per configured peer, the
/// `[[originate]]` prefixes. Must be called inside a tokio runtime. Errors name what
/// failed (a listen address, a key file).
pub async fn spawn(config: Config, fib: Box<dyn FibSink>) -> std::io::Result<SpeakerHandle> {
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let sessions = io::NetSessions::start(&config.router.listen, events_tx).await?;
    start(config, fib, Box::new(sessions), events_rx)
}

/// Start a speaker with the given sessions (tests use fake ones); `events` is where
/// those sessions report.
pub fn start(
    config: Config,
    fib: Box<dyn FibSink>,
    sessions: Box<dyn Sessions>,
    events: mpsc::Receiver<crate::net::PeerEvent>,
) -> std::io::Result<SpeakerHandle> {
    let (timers_tx, timers_rx) = mpsc::unbounded_channel();
    let (control_tx, control_rx) = mpsc::channel(CONTROL_QUEUE);
    let (stop_tx, stop_rx) = oneshot::channel();
    let owner = owner::Owner::new(config, Host::read(), fib, sessions, timers_tx)?;
    let inputs = owner::Inputs {
        events,
        control: control_rx,
        timers: timers_rx,
        stop: stop_rx,
    };
    let task = tokio::spawn(owner.run(inputs));
    Ok(SpeakerHandle {
        requester: Requester { tx: control_tx },
        stop: Some(stop_tx),
        task,
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
}

impl SpeakerHandle {
    pub fn requester(&self) -> Requester {
        self.requester.clone()
    }

    pub async fn request(&self, req: Request) -> Result<Response, String> {
        self.requester.request(req).await
    }

    /// Stop cleanly: Cease (Administrative Shutdown, RFC 4486 §4) to every session, wait
    /// briefly for them to close, end the owner task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for SpeakerHandle {
    fn drop(&mut self) {
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

#[cfg(test)]
mod tests;
