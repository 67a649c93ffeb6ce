//! ctlprobe: measure control-socket round trips of a running wren (issue 6: `show` must
//! stay prompt while wren is busy).
//!
//! Sends `show-status` and `show-peers` alternately, back to back (one connection per
//! request, as `wren show` does), for `--seconds`, then prints one JSON line: the count,
//! p50 / p99 / max in milliseconds for all requests and for those sent while wren was
//! ingesting (the last `show status` reported a path count strictly between 0 and
//! `--full`).
//!
//! With `--explain PREFIX`, every third request is `explain PREFIX` instead: it needs
//! the RIB, so the owner loop answers it, and its latencies (reported apart as
//! `owner_all` / `owner_ingesting`) show how long one owner turn can keep a request
//! waiting.
//!
//! ```sh
//! ctlprobe --socket /tmp/w/wren.sock --seconds 20 --full 500000
//! ```
//!
//! Used by `proto-tests/bench/control-latency.sh`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use wren::control::{client, Request};

#[derive(Parser)]
#[command(about = "control-socket latency probe for wren's benchmarks")]
struct Cli {
    #[arg(long)]
    socket: PathBuf,
    /// How long to probe.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The path count of a complete table: below it (and above 0) wren is ingesting.
    #[arg(long, default_value_t = 500_000)]
    full: u64,
    /// Stop early once this file exists.
    #[arg(long)]
    until: Option<PathBuf>,
    /// Pause between requests, microseconds.
    #[arg(long, default_value_t = 0)]
    pause_us: u64,
    /// Make every third request `explain PREFIX` (answered by the owner loop).
    #[arg(long)]
    explain: Option<String>,
}

fn main() {
    let cli = Cli::parse();
    let end = Instant::now() + Duration::from_secs(cli.seconds);
    let (mut all, mut busy): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let (mut owner_all, mut owner_busy): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut errors = 0u64;
    let mut paths = 0u64;
    let mut i = 0u64;
    while Instant::now() < end && !cli.until.as_ref().is_some_and(|f| f.exists()) {
        let req = match &cli.explain {
            Some(prefix) if i % 3 == 2 => Request::Explain {
                prefix: prefix.clone(),
            },
            _ if i % 2 == 0 => Request::ShowStatus,
            _ => Request::ShowPeers,
        };
        let owner = matches!(req, Request::Explain { .. });
        i += 1;
        let ingesting = paths > 0 && paths < cli.full;
        let t0 = Instant::now();
        match client::request(&cli.socket, &req) {
            Ok(r) if r.ok => {
                let ms = t0.elapsed().as_secs_f64() * 1000.0;
                let (a, b) = match owner {
                    true => (&mut owner_all, &mut owner_busy),
                    false => (&mut all, &mut busy),
                };
                a.push(ms);
                if ingesting {
                    b.push(ms);
                }
                if let Some(p) = r.data.as_ref().and_then(|d| d.get("paths")) {
                    paths = p.as_u64().unwrap_or(0);
                }
            }
            _ => errors += 1,
        }
        if cli.pause_us > 0 {
            std::thread::sleep(Duration::from_micros(cli.pause_us));
        }
    }
    let mut out =
        json!({"all": summary(&mut all), "ingesting": summary(&mut busy), "errors": errors});
    if cli.explain.is_some() {
        out["owner_all"] = summary(&mut owner_all);
        out["owner_ingesting"] = summary(&mut owner_busy);
    }
    println!("{out}");
}

/// Count, p50, p99 and max of the latencies (ms).
fn summary(v: &mut [f64]) -> serde_json::Value {
    if v.is_empty() {
        return json!({"n": 0});
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    json!({
        "n": v.len(),
        "p50_ms": round(at(0.5)),
        "p99_ms": round(at(0.99)),
        "max_ms": round(v[v.len() - 1]),
    })
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
