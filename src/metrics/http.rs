//! The smallest HTTP/1.1 server that Prometheus and kubelet probes need.
//!
//! RFC 9112 §3: the request line is `method SP request-target SP HTTP-version CRLF`; the
//! headers end at an empty line. Only the request line is used; the headers are read (up
//! to [`MAX_REQUEST`] bytes in all) and ignored. The answer always closes the connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::{health, render, Shared};

/// Request line and headers, bytes; more is answered 431.
pub const MAX_REQUEST: usize = 8192;
/// Reading the request and writing the answer must finish within this.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 32;

/// One answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

const TEXT: &str = "text/plain; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// ===== helper functions =====

/// Accept connections until the task is aborted.
pub async fn serve(l: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, _) = match l.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("metrics: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(DEADLINE, connection(stream, &shared)).await;
            drop(permit);
        });
    }
}

async fn connection(mut s: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let a = match read_head(&mut s).await? {
        Head::Complete(head) => answer(&head, shared),
        Head::TooLarge => plain(431, "request too large\n"),
        Head::Closed => return Ok(()),
    };
    let reason = match a.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        a.status,
        a.content_type,
        a.body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(a.body.as_bytes()).await?;
    s.shutdown().await
}

enum Head {
    Complete(String),
    TooLarge,
    Closed,
}

/// Read up to the end of the headers (`\r\n\r\n`, or a bare `\n\n`).
async fn read_head(s: &mut TcpStream) -> std::io::Result<Head> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Head::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = header_end(&buf) {
            buf.truncate(end);
            return Ok(Head::Complete(String::from_utf8_lossy(&buf).into_owned()));
        }
        if buf.len() > MAX_REQUEST {
            return Ok(Head::TooLarge);
        }
    }
}

fn header_end(b: &[u8]) -> Option<usize> {
    let crlf = b.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = b.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
    .filter(|end| *end <= MAX_REQUEST)
}

/// The answer to one request head (pure, for tests).
pub fn answer(head: &str, shared: &Shared) -> Answer {
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return plain(400, "bad request line\n");
    };
    if !version.starts_with("HTTP/1.") {
        return plain(400, "HTTP/1.x only\n");
    }
    if method != "GET" {
        return plain(405, "only GET\n");
    }
    let path = target.split('?').next().unwrap_or("");
    match path {
        "/metrics" => Answer {
            status: 200,
            content_type: OPENMETRICS,
            body: render(&shared.stats.snapshot(), shared.per_peer),
        },
        "/healthz" => verdict(health::healthz(&shared.stats.snapshot())),
        "/readyz" => verdict(health::readyz(&shared.stats.snapshot(), shared.ready_min)),
        _ => plain(404, "not found: try /metrics, /healthz or /readyz\n"),
    }
}

fn verdict(v: health::Verdict) -> Answer {
    let status = if v.ok { 200 } else { 503 };
    Answer {
        status,
        content_type: TEXT,
        body: v.body + "\n",
    }
}

fn plain(status: u16, body: &str) -> Answer {
    Answer {
        status,
        content_type: TEXT,
        body: body.into(),
    }
}
