//! The etcd v3 datastore: one consistent list of Calico's prefixes, then a watch from the
//! next revision.
//!
//! ```text
//!   connect ──> list (one txn: every prefix at one revision) ──> Reset
//!      ^                                                          │
//!      │ jittered backoff             watch from revision+1 <─────┘
//!      │ (Status "lost …")               │  events ──> Changes
//!      └──────── error / stream end ─────┤
//!         (no delay) compacted ──────────┘ ──> list again (a new Reset)
//! ```
//!
//! Nothing partial is ever sent: a list is one transaction (linearizable, one revision),
//! and while etcd is unreachable only [`StoreEvent::Status`] lines go out, so the
//! consumer keeps its last state. Reconnecting always lists again: with several watches on
//! one stream there is no single revision to resume from, and a fresh list is simple and
//! certainly complete.

use std::path::{Path, PathBuf};
use std::time::Duration;

use etcd_client::{
    Certificate, Client, ConnectOptions, EventType, GetOptions, Identity, TlsOptions, Txn, TxnOp,
    TxnOpResponse, WatchOptions, WatchResponse, WatchStream,
};
use tokio::sync::mpsc;
use tracing::warn;

use super::{node_name, prefixes, StoreEvent};
use crate::config::DatastoreCfg;

/// Events waiting for the consumer; the store waits when it is full.
const QUEUE: usize = 256;
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// HTTP/2 pings find a silently dead connection (no RST) within about twice this.
const KEEPALIVE: Duration = Duration::from_secs(5);
const LIST_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest list answer accepted (gRPC's default is 4 MiB; big clusters have more).
const MAX_MESSAGE: usize = 256 << 20;

/// Where and how to connect, resolved from `[datastore]` and Calico's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub endpoints: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Key prefixes listed and watched.
    pub prefixes: Vec<String>,
    /// Wait this long between a list and its watch (zero; tests use it to slip a
    /// compaction in).
    pub pause_after_list: Duration,
}

/// Why a connected session ended.
#[derive(Debug)]
enum End {
    /// The consumer dropped its receiver: stop.
    Closed,
    Failed(String),
    /// The watch's start revision was compacted away: list again at once.
    Compacted(i64),
}

/// Exponential backoff with jitter (each delay is 50–100 % of the current step), so that
/// many nodes losing the same etcd do not come back in lockstep.
#[derive(Debug)]
struct Backoff {
    step: Duration,
    rng: u64,
}

// ===== impl Settings =====

impl Settings {
    /// Resolve from the config, falling back to Calico's variables (`ETCD_ENDPOINTS`
    /// comma-separated, `ETCD_CA_CERT_FILE`, `ETCD_CERT_FILE`, `ETCD_KEY_FILE`).
    pub fn resolve(
        cfg: &DatastoreCfg,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, String> {
        let mut endpoints = cfg.endpoints.clone();
        if endpoints.is_empty() {
            endpoints = env("ETCD_ENDPOINTS")
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect();
        }
        if endpoints.is_empty() {
            return Err("no etcd endpoints: set [datastore] endpoints or ETCD_ENDPOINTS".into());
        }
        let file = |v: &Option<PathBuf>, var: &str| {
            v.clone()
                .or_else(|| env(var).filter(|s| !s.is_empty()).map(PathBuf::from))
        };
        let s = Settings {
            endpoints,
            ca_file: file(&cfg.ca_file, "ETCD_CA_CERT_FILE"),
            cert_file: file(&cfg.cert_file, "ETCD_CERT_FILE"),
            key_file: file(&cfg.key_file, "ETCD_KEY_FILE"),
            prefixes: prefixes(&node_name(cfg)?),
            pause_after_list: Duration::ZERO,
        };
        if s.cert_file.is_some() != s.key_file.is_some() {
            return Err(
                "datastore: cert_file and key_file (ETCD_CERT_FILE, ETCD_KEY_FILE) \
                 must be given together"
                    .into(),
            );
        }
        if s.tls() {
            if let Some(e) = s.endpoints.iter().find(|e| e.starts_with("http://")) {
                return Err(format!(
                    "datastore: endpoint {e} is plain http but TLS files are set (use https://)"
                ));
            }
        }
        Ok(s)
    }

    fn tls(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some()
    }

    /// Connection options; reads the TLS files (every connect, so renewed certificates
    /// are picked up).
    fn options(&self) -> Result<ConnectOptions, String> {
        let mut o = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_keep_alive(KEEPALIVE, KEEPALIVE)
            .with_keep_alive_while_idle(true)
            // A member that lost its cluster's leader ends our watch instead of going quiet.
            .with_require_leader(true);
        if self.tls() {
            let mut tls = TlsOptions::new();
            if let Some(ca) = &self.ca_file {
                tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
            }
            if let (Some(c), Some(k)) = (&self.cert_file, &self.key_file) {
                tls = tls.identity(Identity::from_pem(read(c)?, read(k)?));
            }
            o = o.with_tls(tls);
        }
        Ok(o)
    }
}

// ===== impl Backoff =====

impl Backoff {
    fn new() -> Backoff {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64);
        Backoff {
            step: BACKOFF_MIN,
            rng: (nanos << 16) ^ u64::from(std::process::id()) | 1,
        }
    }

    fn reset(&mut self) {
        self.step = BACKOFF_MIN;
    }

    fn next_delay(&mut self) -> Duration {
        // xorshift64: plenty for jitter.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = self.step / 2;
        let jitter = half.mul_f64((self.rng % 1024) as f64 / 1023.0);
        let delay = half + jitter;
        self.step = (self.step * 2).min(BACKOFF_MAX);
        delay
    }
}

// ===== helper functions =====

/// Start watching the datastore `cfg` names. Must be called inside a tokio runtime.
/// Errors (no endpoints, unreadable TLS files, no node name) are reported at once; a
/// down etcd is not an error: the store retries and says so in `Status` events.
pub fn spawn(cfg: &DatastoreCfg) -> Result<mpsc::Receiver<StoreEvent>, String> {
    let settings = Settings::resolve(cfg, |k| std::env::var(k).ok())?;
    spawn_with(settings)
}

/// [`spawn`] with settings already resolved (tests choose their own prefixes).
pub fn spawn_with(settings: Settings) -> Result<mpsc::Receiver<StoreEvent>, String> {
    settings.options()?;
    let rt = tokio::runtime::Handle::try_current()
        .map_err(|_| "the etcd store needs a tokio runtime".to_string())?;
    let (tx, rx) = mpsc::channel(QUEUE);
    rt.spawn(run(settings, tx));
    Ok(rx)
}

/// Connect, sync, watch; on failure wait and start over, until the receiver is dropped.
async fn run(s: Settings, tx: mpsc::Sender<StoreEvent>) {
    let mut backoff = Backoff::new();
    let mut last_status = String::new();
    loop {
        let mut synced = false;
        let end = session(&s, &tx, &mut synced).await;
        if synced {
            backoff.reset();
            last_status.clear();
        }
        let (status, delay) = match end {
            End::Closed => return,
            End::Compacted(rev) => (
                format!("watch compacted at revision {rev}: listing again"),
                Duration::ZERO,
            ),
            End::Failed(e) => (
                format!("lost etcd ({}): {e}", s.endpoints.join(",")),
                backoff.next_delay(),
            ),
        };
        // Repeated identical failures are said once.
        if status != last_status {
            if tx.send(StoreEvent::Status(status.clone())).await.is_err() {
                return;
            }
            last_status = status;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = tx.closed() => return,
        }
    }
}

/// One connection: list, then watch until something ends it. `synced` is set once a
/// Reset went out.
async fn session(s: &Settings, tx: &mpsc::Sender<StoreEvent>, synced: &mut bool) -> End {
    let options = match s.options() {
        Ok(o) => o,
        Err(e) => return End::Failed(e),
    };
    let connect = Client::connect(&s.endpoints, Some(options));
    let mut client = match tokio::time::timeout(LIST_TIMEOUT, connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return End::Failed(format!("connect: {e}")),
        Err(_) => return End::Failed("connect: timed out".into()),
    };
    let (revision, kvs) = match tokio::time::timeout(LIST_TIMEOUT, list(&client, s)).await {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => return End::Failed(format!("list: {e}")),
        Err(_) => return End::Failed("list: timed out".into()),
    };
    let status = format!(
        "connected to etcd ({}): {} keys at revision {revision}",
        s.endpoints.join(","),
        kvs.len()
    );
    if tx.send(StoreEvent::Status(status)).await.is_err()
        || tx.send(StoreEvent::Reset { revision, kvs }).await.is_err()
    {
        return End::Closed;
    }
    *synced = true;
    if !s.pause_after_list.is_zero() {
        tokio::time::sleep(s.pause_after_list).await;
    }
    watch(&mut client, s, revision, tx).await
}

/// Every key under the prefixes, read in one transaction so that all are at one revision.
async fn list(client: &Client, s: &Settings) -> Result<(i64, Vec<(String, Vec<u8>)>), String> {
    let ops: Vec<TxnOp> = s
        .prefixes
        .iter()
        .map(|p| TxnOp::get(p.as_str(), Some(GetOptions::new().with_prefix())))
        .collect();
    let mut kv = client.kv_client().max_decoding_message_size(MAX_MESSAGE);
    let resp = kv
        .txn(Txn::new().and_then(ops))
        .await
        .map_err(|e| e.to_string())?;
    let revision = resp
        .header()
        .map(|h| h.revision())
        .ok_or("the answer has no header")?;
    let mut kvs = Vec::new();
    for op in resp.op_responses() {
        let TxnOpResponse::Get(get) = op else {
            continue;
        };
        for item in get.kvs() {
            match item.key_str() {
                Ok(k) => kvs.push((k.to_string(), item.value().to_vec())),
                Err(_) => warn!("etcd: ignoring a key that is not UTF-8"),
            }
        }
    }
    Ok((revision, kvs))
}

/// Watch every prefix from `revision + 1` and forward the events until the stream fails,
/// is compacted, or the consumer goes away.
async fn watch(
    client: &mut Client,
    s: &Settings,
    revision: i64,
    tx: &mpsc::Sender<StoreEvent>,
) -> End {
    let mut stream = match open_watches(client, s, revision).await {
        Ok(w) => w,
        Err(e) => return End::Failed(format!("watch: {e}")),
    };
    loop {
        let msg = tokio::select! {
            m = stream.message() => m,
            _ = tx.closed() => return End::Closed,
        };
        let resp = match msg {
            Ok(Some(r)) => r,
            Ok(None) => return End::Failed("watch: the stream ended".into()),
            Err(e) => return End::Failed(format!("watch: {e}")),
        };
        if resp.canceled() {
            if resp.compact_revision() > 0 {
                return End::Compacted(resp.compact_revision());
            }
            return End::Failed(format!("watch canceled: {}", resp.cancel_reason()));
        }
        if let Some(ev) = changes(&resp) {
            if tx.send(ev).await.is_err() {
                return End::Closed;
            }
        }
    }
}

/// One watch per prefix, all on one stream.
async fn open_watches(
    client: &mut Client,
    s: &Settings,
    revision: i64,
) -> Result<WatchStream, String> {
    let opts = || {
        WatchOptions::new()
            .with_prefix()
            .with_start_revision(revision + 1)
    };
    let mut stream: Option<WatchStream> = None;
    for p in &s.prefixes {
        match stream.as_mut() {
            None => {
                let w = client.watch(p.as_str(), Some(opts())).await;
                stream = Some(w.map_err(|e| e.to_string())?);
            }
            Some(w) => w
                .watch(p.as_str(), Some(opts()))
                .await
                .map_err(|e| e.to_string())?,
        }
    }
    stream.ok_or_else(|| "no prefixes to watch".to_string())
}

/// The puts and deletes of one watch answer, or `None` if it has none (created, progress).
fn changes(resp: &WatchResponse) -> Option<StoreEvent> {
    let mut revision = 0;
    let mut out = Vec::new();
    for ev in resp.events() {
        let Some(kv) = ev.kv() else { continue };
        let Ok(key) = kv.key_str() else {
            warn!("etcd: ignoring a key that is not UTF-8");
            continue;
        };
        revision = revision.max(kv.mod_revision());
        let value = match ev.event_type() {
            EventType::Put => Some(kv.value().to_vec()),
            EventType::Delete => None,
        };
        out.push((key.to_string(), value));
    }
    if out.is_empty() {
        return None;
    }
    if let Some(h) = resp.header() {
        revision = revision.max(h.revision());
    }
    Some(StoreEvent::Changes {
        revision,
        changes: out,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("datastore: cannot read {}: {e}", path.display()))
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn named() -> DatastoreCfg {
        DatastoreCfg {
            node_name: Some("n1".into()),
            ..DatastoreCfg::default()
        }
    }

    #[test]
    fn endpoints_and_tls_from_calico_env() {
        let vars = [
            (
                "ETCD_ENDPOINTS",
                "https://10.0.0.1:2379, https://10.0.0.2:2379",
            ),
            ("ETCD_CA_CERT_FILE", "/ca.pem"),
            ("ETCD_CERT_FILE", "/c.pem"),
            ("ETCD_KEY_FILE", "/k.pem"),
        ];
        let s = Settings::resolve(&named(), env(&vars)).unwrap();
        assert_eq!(
            s.endpoints,
            ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
        );
        assert_eq!(s.ca_file, Some(PathBuf::from("/ca.pem")));
        assert_eq!(s.key_file, Some(PathBuf::from("/k.pem")));
        assert_eq!(s.prefixes[1], "/calico/ipam/v2/host/n1/");
    }

    #[test]
    fn config_wins_over_env() {
        let cfg = DatastoreCfg {
            endpoints: vec!["http://127.0.0.1:1".into()],
            ..named()
        };
        let vars = [("ETCD_ENDPOINTS", "http://10.0.0.1:2379")];
        let s = Settings::resolve(&cfg, env(&vars)).unwrap();
        assert_eq!(s.endpoints, ["http://127.0.0.1:1"]);
        assert!(!s.tls());
    }

    #[test]
    fn refusals_say_what_is_missing() {
        let e = Settings::resolve(&named(), env(&[])).unwrap_err();
        assert!(e.contains("ETCD_ENDPOINTS"), "{e}");
        let vars = [("ETCD_ENDPOINTS", "x:1"), ("ETCD_CERT_FILE", "/c.pem")];
        let e = Settings::resolve(&named(), env(&vars)).unwrap_err();
        assert!(e.contains("key_file"), "{e}");
        let vars = [
            ("ETCD_ENDPOINTS", "http://x:1"),
            ("ETCD_CA_CERT_FILE", "/a"),
        ];
        let e = Settings::resolve(&named(), env(&vars)).unwrap_err();
        assert!(e.contains("https://"), "{e}");
    }

    #[test]
    fn unreadable_tls_file_is_an_error_at_spawn() {
        let s = Settings {
            endpoints: vec!["https://127.0.0.1:1".into()],
            ca_file: Some("/nonexistent/ca.pem".into()),
            cert_file: None,
            key_file: None,
            prefixes: vec!["/x/".into()],
            pause_after_list: Duration::ZERO,
        };
        let e = spawn_with(s).unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }

    #[test]
    fn backoff_grows_with_jitter_and_resets() {
        let mut b = Backoff::new();
        let d: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        assert!(d[0] >= BACKOFF_MIN / 2 && d[0] <= BACKOFF_MIN);
        assert!(d.iter().all(|x| *x <= BACKOFF_MAX));
        assert!(d[7] >= BACKOFF_MAX / 2, "{d:?}");
        b.reset();
        assert!(b.next_delay() <= BACKOFF_MIN);
    }
}
