//! systemd notifications of `wren run`: READY=1 after the initial sync, then STATUS and
//! WATCHDOG=1 each time the owner loop answers (a stuck loop stops the pings).

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use wren::control::{Request, Response};
use wren::speaker::{Requester, SpeakerHandle};
use wren::systemd::Notifier;

/// STATUS updates to systemd when there is no watchdog to piggyback on.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// systemd: READY=1 once the initial sync is done, then STATUS (and WATCHDOG=1 when
/// asked for) each time the owner loop answers a status request.
pub fn report(
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
