//! Calico mode of `wren run` (`[datastore] kind = "etcd"`): the etcd store feeds a
//! [`Snapshot`], [`translate`] turns it into a [`Config`], and the speaker runs that.
//!
//! ```text
//!  store::etcd ──StoreEvent──> Snapshot ──translate──> Config ──(changed?)──> speaker
//!                 (coalesced)                                    Request::Reconfigure
//! ```
//!
//! Nothing starts before one complete sync (a Reset) that translates: a partial view would
//! withdraw routes and drop peers (calico.md §3.1, confd's sync gate). While etcd is
//! unreachable only `Status` events come, so the running config stays as it is.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use wren::calico::{translate, Local, Snapshot};
use wren::config::{self, Config};
use wren::control::{Request, Response};
use wren::fib::FibSink;
use wren::speaker::{DatastoreState, Requester, SpeakerHandle, Stats};
use wren::store::{self, StoreEvent};

/// After a data event, wait this long for more before translating (a calicoctl apply or
/// an IPAM burst is several puts).
const COALESCE: Duration = Duration::from_millis(10);
/// Translate at least this often during a continuous stream of changes.
const COALESCE_MAX: Duration = Duration::from_millis(200);

/// The datastore side of a running speaker.
struct Follower {
    rx: Receiver<StoreEvent>,
    snap: Snapshot,
    local: Local,
    /// What the speaker runs.
    running: Config,
    /// The speaker's metrics (`wren_datastore_state`), once it runs.
    stats: Option<Arc<Stats>>,
}

/// What one batch of events did.
enum Batch {
    /// The snapshot may have changed: translate again.
    Changed,
    /// Only status lines.
    Quiet,
    /// The store is gone.
    Ended,
}

// ===== impl Follower =====

impl Follower {
    /// Fold one event into the snapshot; `true` if it may have changed it.
    fn apply(&mut self, ev: StoreEvent) -> bool {
        match ev {
            StoreEvent::Status(s) if s.starts_with("lost") => {
                warn!("datastore: {s} (keeping the last config)");
                self.set_state(DatastoreState::Error);
                false
            }
            StoreEvent::Status(s) => {
                info!("datastore: {s}");
                false
            }
            StoreEvent::Reset { revision, kvs } => {
                info!(
                    "datastore: full sync at revision {revision}: {} keys",
                    kvs.len()
                );
                self.snap = Snapshot::default();
                for (k, v) in &kvs {
                    put(&mut self.snap, k, Some(v));
                }
                self.set_state(DatastoreState::Synced);
                true
            }
            StoreEvent::Changes { changes, .. } => {
                for (k, v) in &changes {
                    put(&mut self.snap, k, v.as_deref());
                }
                true
            }
        }
    }

    fn set_state(&self, state: DatastoreState) {
        if let Some(s) = &self.stats {
            s.set_datastore(state);
        }
    }

    /// Wait for an event, then take every event that follows within [`COALESCE`].
    async fn next_batch(&mut self) -> Batch {
        let Some(first) = self.rx.recv().await else {
            return Batch::Ended;
        };
        let mut changed = self.apply(first);
        let start = Instant::now();
        while start.elapsed() < COALESCE_MAX {
            match tokio::time::timeout(COALESCE, self.rx.recv()).await {
                Ok(Some(ev)) => changed |= self.apply(ev),
                Ok(None) => return Batch::Ended,
                Err(_) => break,
            }
        }
        if changed {
            Batch::Changed
        } else {
            Batch::Quiet
        }
    }

    /// The translated, validated config, or why not (logged by the caller).
    fn desired(&self) -> Result<Config, String> {
        let cfg = translate(&self.snap, &self.local)?;
        match config::validate(&cfg, Path::new("<etcd>")) {
            Ok(_) => Ok(cfg),
            Err(errs) => Err(errs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }

    /// Re-translate on every batch; hand the speaker a changed config.
    async fn follow(mut self, speaker: Requester) {
        loop {
            match self.next_batch().await {
                Batch::Ended => {
                    warn!("datastore: the etcd store stopped; keeping the last config");
                    return;
                }
                Batch::Quiet => continue,
                Batch::Changed => {}
            }
            let cfg = match self.desired() {
                Ok(c) => c,
                Err(e) => {
                    warn!("datastore: cannot translate: {e} (keeping the last config)");
                    continue;
                }
            };
            if cfg == self.running {
                continue;
            }
            match speaker
                .request(Request::Reconfigure(Box::new(cfg.clone())))
                .await
            {
                Ok(Response::Done(summary)) => {
                    info!("datastore: reconfigured: {summary}");
                    self.running = cfg;
                }
                Ok(other) => {
                    info!("datastore: reconfigured: {other:?}");
                    self.running = cfg;
                }
                Err(e) => warn!("datastore: the speaker refused the new config: {e}"),
            }
        }
    }
}

// ===== helper functions =====

/// Start the store, wait for the first complete sync that translates, start the speaker
/// with that config and keep it following the datastore. `file` is the config file (its
/// daemon-level settings are the translation's base); `open_fib` opens the FIB for the
/// translated config.
pub async fn start(
    file: Config,
    open_fib: fn(&Config) -> Result<Box<dyn FibSink>, String>,
) -> Result<(SpeakerHandle, JoinHandle<()>), String> {
    let node_name = store::node_name(&file.datastore)?;
    let rx = store::etcd::spawn(&file.datastore)?;
    info!("etcd mode: node {node_name}: waiting for a complete sync before starting");
    let local = Local {
        node_name,
        router_id: std::env::var("CALICO_ROUTER_ID")
            .ok()
            .filter(|s| !s.is_empty()),
        base: file.clone(),
    };
    let mut f = Follower {
        rx,
        snap: Snapshot::default(),
        local,
        running: file,
        stats: None,
    };
    let cfg = first_config(&mut f).await?;
    info!(
        "etcd mode: AS {}, {} peer(s), {} local prefix(es)",
        cfg.router.asn,
        cfg.peers.len(),
        cfg.originate.len()
    );
    let fib = open_fib(&cfg)?;
    let speaker = wren::speaker::spawn(cfg.clone(), fib)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    f.running = cfg;
    f.stats = Some(speaker.stats());
    f.set_state(DatastoreState::Synced);
    let task = tokio::spawn(f.follow(speaker.requester()));
    Ok((speaker, task))
}

/// Events until a Reset has been seen and the snapshot translates.
async fn first_config(f: &mut Follower) -> Result<Config, String> {
    let mut synced = false;
    loop {
        let Some(ev) = f.rx.recv().await else {
            return Err("the etcd store stopped before the first sync".into());
        };
        synced |= matches!(ev, StoreEvent::Reset { .. });
        if !f.apply(ev) || !synced || !f.rx.is_empty() {
            continue;
        }
        match f.desired() {
            Ok(cfg) => return Ok(cfg),
            Err(e) => warn!("datastore: not starting yet: {e}"),
        }
    }
}

/// Apply one key; a bad value is logged with its key and the previous value stays.
fn put(snap: &mut Snapshot, key: &str, value: Option<&[u8]>) {
    if let Err(e) = snap.apply(key, value) {
        warn!("datastore: {e}");
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc;

    fn follower() -> (mpsc::Sender<StoreEvent>, Follower) {
        let base = config::parse(
            "[datastore]\nkind = \"etcd\"\nnode_name = \"n1\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let (tx, rx) = mpsc::channel(16);
        let local = Local {
            node_name: "n1".into(),
            router_id: None,
            base: base.clone(),
        };
        let f = Follower {
            rx,
            snap: Snapshot::default(),
            local,
            running: base,
            stats: None,
        };
        (tx, f)
    }

    fn change(k: &str) -> StoreEvent {
        StoreEvent::Changes {
            revision: 1,
            changes: vec![(k.to_string(), None)],
        }
    }

    #[tokio::test]
    async fn bursts_are_one_batch_and_status_changes_nothing() {
        let (tx, mut f) = follower();
        tx.send(StoreEvent::Status("lost etcd: x".into()))
            .await
            .unwrap();
        assert!(matches!(f.next_batch().await, Batch::Quiet));
        for k in ["/a", "/b", "/c"] {
            tx.send(change(k)).await.unwrap();
        }
        assert!(matches!(f.next_batch().await, Batch::Changed));
        assert!(f.rx.is_empty(), "the burst was not taken as one batch");
        drop(tx);
        assert!(matches!(f.next_batch().await, Batch::Ended));
    }

    #[tokio::test]
    async fn nothing_starts_before_a_sync_that_translates() {
        let (tx, mut f) = follower();
        // Changes alone (no Reset) and a Reset without this node's Node: no config.
        tx.send(change("/x")).await.unwrap();
        tx.send(StoreEvent::Reset {
            revision: 5,
            kvs: vec![(
                "/calico/resources/v3/projectcalico.org/nodes/other".into(),
                b"{}".to_vec(),
            )],
        })
        .await
        .unwrap();
        assert!(f.desired().unwrap_err().contains("n1"));
        drop(tx);
        let e = first_config(&mut f).await.unwrap_err();
        assert!(e.contains("before the first sync"), "{e}");
    }
}
