//! Logs: text or JSON lines on stderr, with a filter that can change at runtime.
//!
//! ```text
//!  [log] level / WREN_LOG ──> EnvFilter (behind a reload handle) ──> fmt layer (text | json)
//!  wren log-level LEVEL [--peer P] ──control──> speaker ──> set_level() ──> new EnvFilter
//! ```
//!
//! Per-peer levels: the session task and the speaker's handling of a peer's events run in
//! a span `peer` with the field `peer = <name>`; `--peer n2 debug` adds the directive
//! `[peer{peer=n2}]=debug`, which enables debug events inside that span only.
//!
//! JSON lines (`[log] format = "json"`) have the fields `timestamp`, `level`, `target`,
//! `message`, the event's own fields, and `span` (the innermost span's name and fields,
//! e.g. `{"name":"peer","peer":"n2"}`) when there is one.

pub mod ratelimit;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

use crate::config::{LogCfg, LogFormat};

/// The environment variable that overrides `[log] level`.
pub const ENV: &str = "WREN_LOG";
/// Plain levels accepted for one peer.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Changes the running filter.
pub struct LogControl {
    handle: reload::Handle<EnvFilter, Registry>,
    state: Mutex<Filter>,
}

/// The filter as directives: the global part and per-peer levels.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    /// The filter at start (`default` goes back to it).
    initial: String,
    base: String,
    peers: BTreeMap<String, String>,
}

static CONTROL: OnceLock<LogControl> = OnceLock::new();

// ===== impl LogControl =====

impl LogControl {
    /// Set the global filter (`peer: None`; any EnvFilter directive list, or `default`
    /// for the one at start) or one peer's level (a plain level, or `default` to drop
    /// the peer's own level). Returns the whole filter now in force.
    pub fn set(&self, level: &str, peer: Option<&str>) -> Result<String, String> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| "the log filter is poisoned")?;
        let mut next = st.clone();
        let level = level.trim();
        match peer {
            None if level == "default" => next.base = next.initial.clone(),
            None => next.base = level.to_string(),
            Some(p) => {
                check_peer_name(p)?;
                if level == "default" {
                    next.peers.remove(p);
                } else if LEVELS.contains(&level) {
                    next.peers.insert(p.to_string(), level.to_string());
                } else {
                    return Err(format!(
                        "{level:?} is not a level for a peer (trace, debug, info, warn, error, off, default)"
                    ));
                }
            }
        }
        let text = next.directives();
        let filter = parse(&text)?;
        self.handle
            .reload(filter)
            .map_err(|e| format!("cannot change the log filter: {e}"))?;
        *st = next;
        Ok(text)
    }
}

impl std::fmt::Debug for LogControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogControl").finish_non_exhaustive()
    }
}

// ===== impl Filter =====

impl Filter {
    fn directives(&self) -> String {
        let mut out = self.base.clone();
        for (peer, level) in &self.peers {
            out.push_str(&format!(",[peer{{peer={peer}}}]={level}"));
        }
        out
    }
}

// ===== helper functions =====

/// The subscriber for `cfg` writing to `writer`, and the control of its filter. `env`
/// is `WREN_LOG`'s value, which wins over `[log] level`.
pub fn build(
    cfg: &LogCfg,
    env: Option<String>,
    writer: BoxMakeWriter,
    ansi: bool,
) -> Result<(impl tracing::Subscriber + Send + Sync, LogControl), String> {
    let initial = env
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| cfg.level.clone());
    let filter = parse(&initial).map_err(|e| format!("log level: {e}"))?;
    let (filter, handle) = reload::Layer::new(filter);
    let (text, json) = match cfg.format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(ansi),
            ),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            ),
        ),
    };
    let subscriber = Registry::default().with(filter).with(text).with(json);
    let control = LogControl {
        handle,
        state: Mutex::new(Filter {
            initial: initial.clone(),
            base: initial,
            peers: BTreeMap::new(),
        }),
    };
    Ok((subscriber, control))
}

/// Install the process's logging (stderr; `WREN_LOG` wins over `[log] level`). Once:
/// later calls fail.
pub fn init(cfg: &LogCfg) -> Result<(), String> {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let writer = BoxMakeWriter::new(std::io::stderr);
    let (subscriber, control) = build(cfg, std::env::var(ENV).ok(), writer, ansi)?;
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("logging is already set up: {e}"))?;
    let _ = CONTROL.set(control);
    Ok(())
}

/// Change the running filter (`wren log-level`); see [`LogControl::set`].
pub fn set_level(level: &str, peer: Option<&str>) -> Result<String, String> {
    let c = CONTROL
        .get()
        .ok_or("logging is not set up by this process (library use)")?;
    let now = c.set(level, peer)?;
    tracing::info!("log filter changed to {now:?}");
    Ok(format!("log filter is now {now:?}"))
}

fn parse(directives: &str) -> Result<EnvFilter, String> {
    EnvFilter::builder()
        .parse(directives)
        .map_err(|e| format!("{directives:?} is not a log filter: {e}"))
}

/// Peer names go into a directive: keep to characters that cannot end it.
fn check_peer_name(p: &str) -> Result<(), String> {
    let ok = !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "peer {p:?}: only letters, digits and - _ . : can be matched by a log filter"
        ))
    }
}

#[cfg(test)]
mod tests;
