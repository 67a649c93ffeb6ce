//! `[metrics] listen`: Prometheus metrics and health endpoints over a tiny HTTP/1.1 server.
//!
//! ```text
//!  GET /metrics  200  OpenMetrics text of the speaker's Stats (render.rs)
//!  GET /healthz  200 | 503  the owner loop is ticking (health.rs)
//!  GET /readyz   200 | 503  config applied, datastore synced, initial sync done,
//!                           enough configured peers Established
//!  anything else 404 (405 for other methods, 431 for an oversized request)
//! ```
//!
//! Every answer is built from a [`Snapshot`](crate::speaker::Snapshot) of atomics: a
//! scrape never waits for the owner loop, so a busy speaker still answers probes.
//! One task per connection, with a deadline; one request per connection
//! (`Connection: close`).

mod health;
mod http;
mod render;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::config::{MetricsCfg, ReadyMin};
use crate::speaker::Stats;

pub use health::{healthz, readyz, Verdict, MAX_SILENCE};
pub use render::render;

/// What the endpoints answer from.
#[derive(Debug, Clone)]
pub struct Shared {
    pub stats: Arc<Stats>,
    pub per_peer: bool,
    pub ready_min: Option<ReadyMin>,
}

/// The running HTTP server; dropping it stops it.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

// ===== impl MetricsServer =====

impl MetricsServer {
    /// Listen on `[metrics] listen` (`None` when it is empty: metrics are off). Errors name
    /// the address.
    pub async fn start(cfg: &MetricsCfg, stats: Arc<Stats>) -> std::io::Result<Option<Self>> {
        let Some(listen) = cfg.listen else {
            return Ok(None);
        };
        let shared = Shared {
            stats,
            per_peer: cfg.per_peer,
            ready_min: cfg.ready_min_established,
        };
        let l = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
            let hint = "(another wren? set [metrics] listen to a free address, or \"\" for none)";
            std::io::Error::new(e.kind(), format!("[metrics] listen {listen}: {e} {hint}"))
        })?;
        let addr = l.local_addr()?;
        let task = tokio::spawn(http::serve(l, Arc::new(shared)));
        Ok(Some(MetricsServer { addr, task }))
    }

    /// The address it listens on (the port chosen when `listen` has port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests;
