//! The filter changes at runtime (globally and per peer), the JSON line shape, and no
//! secret in logs or `Debug` output.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tracing::{debug, info};

use super::*;
use crate::fsm::{SessionCfg, State};
use crate::net::{PeerEvent, SessionCmd, Transport};
use crate::rib::PeerId;
use crate::speaker::{SessionTx, Sessions};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

fn capture(
    format: LogFormat,
    level: &str,
) -> (impl tracing::Subscriber + Send + Sync, LogControl, Buf) {
    let buf = Buf::default();
    let b = buf.clone();
    let cfg = LogCfg {
        format,
        level: level.into(),
    };
    let (s, c) = build(&cfg, None, BoxMakeWriter::new(move || b.clone()), false).unwrap();
    (s, c, buf)
}

#[test]
fn level_changes_take_effect() {
    let (s, control, buf) = capture(LogFormat::Text, "info");
    tracing::subscriber::with_default(s, || {
        debug!("hidden-1");
        info!("shown-1");
        assert_eq!(control.set("debug", None).unwrap(), "debug");
        debug!("shown-2");
        assert!(control.set("nonsense=[", None).is_err());
        debug!("shown-3"); // a refused filter leaves the old one
        control.set("default", None).unwrap();
        debug!("hidden-2");
    });
    let out = buf.take();
    for s in ["shown-1", "shown-2", "shown-3"] {
        assert!(out.contains(s), "{s} missing in {out}");
    }
    assert!(!out.contains("hidden"), "{out}");
}

#[test]
fn a_peer_level_applies_inside_its_span_only() {
    let (s, control, buf) = capture(LogFormat::Text, "info");
    tracing::subscriber::with_default(s, || {
        let now = control.set("debug", Some("n2")).unwrap();
        assert_eq!(now, "info,[peer{peer=n2}]=debug");
        tracing::info_span!("peer", peer = "n2").in_scope(|| debug!("n2-detail"));
        tracing::info_span!("peer", peer = "n3").in_scope(|| debug!("n3-detail"));
        debug!("global-detail");
        control.set("default", Some("n2")).unwrap();
        tracing::info_span!("peer", peer = "n2").in_scope(|| debug!("n2-later"));
    });
    let out = buf.take();
    assert!(out.contains("n2-detail"), "{out}");
    for s in ["n3-detail", "global-detail", "n2-later"] {
        assert!(!out.contains(s), "{s} in {out}");
    }
    assert!(control.set("loud", Some("n2")).is_err());
    assert!(control.set("debug", Some("n2],x=trace")).is_err());
}

#[test]
fn json_lines_have_the_documented_fields() {
    let (s, _control, buf) = capture(LogFormat::Json, "info");
    tracing::subscriber::with_default(s, || {
        tracing::info_span!("peer", peer = "n2").in_scope(|| info!(code = 6, "session down"));
        info!("no span");
    });
    let out = buf.take();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let l = &lines[0];
    let mut keys: Vec<&str> = l.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["code", "level", "message", "span", "target", "timestamp"]
    );
    assert_eq!(l["level"], "INFO");
    assert_eq!(l["message"], "session down");
    assert_eq!(l["code"], 6);
    assert_eq!(l["span"]["name"], "peer");
    assert_eq!(l["span"]["peer"], "n2");
    assert!(lines[1].get("span").is_none());
}

#[test]
fn env_wins_over_the_config_level() {
    let cfg = LogCfg {
        format: LogFormat::Text,
        level: "info".into(),
    };
    let w = || BoxMakeWriter::new(std::io::sink);
    let (_, c) = build(&cfg, Some("warn,wren=trace".into()), w(), false).unwrap();
    assert_eq!(c.state.lock().unwrap().base, "warn,wren=trace");
    let (_, c) = build(&cfg, Some(" ".into()), w(), false).unwrap();
    assert_eq!(
        c.state.lock().unwrap().base,
        "info",
        "an empty WREN_LOG is unset"
    );
    let bad = LogCfg {
        level: "info,[".into(),
        ..cfg
    };
    assert!(build(&bad, None, w(), false).is_err());
}

// ===== secrets =====

struct Quiet;

impl SessionTx for Quiet {
    fn send(&self, _: SessionCmd) {}
}

#[derive(Default)]
struct Keep(Arc<Mutex<Vec<String>>>);

impl Sessions for Keep {
    fn spawn(&mut self, _: PeerId, cfg: SessionCfg, t: Transport) -> Box<dyn SessionTx> {
        self.0.lock().unwrap().push(format!("{cfg:?} {t:?}"));
        Box::new(Quiet)
    }
    fn set_md5(&mut self, _: IpAddr, key: Option<Vec<u8>>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("set_md5 {}", key.is_some()));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn md5_keys_never_reach_logs_or_debug_output() {
    const SECRET: &str = "s3cret-md5-key";
    let dir = std::env::temp_dir().join(format!("wren-logsecret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key");
    std::fs::write(&key, SECRET).unwrap();
    let text = format!(
        "[router]\nasn = 64512\nrouter_id = \"198.18.0.1\"\nlisten = []\n\
         [[peer]]\nname = \"n2\"\naddress = \"198.18.0.2\"\nasn = 64512\n\
         password_file = \"{}\"\n",
        key.display()
    );
    let cfg = crate::config::parse(&text, Path::new("t.toml")).unwrap();
    let (s, _control, buf) = capture(LogFormat::Text, "trace");
    let _guard = tracing::subscriber::set_default(s);
    let seen = Keep::default();
    let debug_out = seen.0.clone();
    let (tx, rx) = mpsc::channel(8);
    let cfg_debug = format!("{cfg:?}");
    let h = crate::speaker::start(cfg, Box::new(crate::fib::MemFib::new()), Box::new(seen), rx);
    let h = h.unwrap();
    let (from, to) = (State::Idle, State::Connect);
    tx.send(PeerEvent::State { peer: 1, from, to })
        .await
        .unwrap();
    let _ = h.request(crate::control::Request::ShowPeers).await.unwrap();
    h.shutdown().await;
    let logs = buf.take();
    let debug_out = debug_out.lock().unwrap().join("\n");
    assert!(debug_out.contains("set_md5 true"), "the key was read");
    assert!(
        debug_out.contains("md5_key"),
        "Transport was printed: {debug_out}"
    );
    assert!(
        logs.contains("idle -> connect"),
        "logs were captured: {logs}"
    );
    assert!(
        logs.contains("peer{peer=n2}"),
        "speaker logs carry the peer: {logs}"
    );
    for (what, text) in [
        ("logs", &logs),
        ("Debug", &debug_out),
        ("config", &cfg_debug),
    ] {
        assert!(!text.contains(SECRET), "the key is in the {what}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
