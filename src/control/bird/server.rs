//! The BIRD-compatible socket server (adapter): greets, reads command lines, asks the
//! speaker what each command needs, and writes [`format`](super::format)'s reply.
//!
//! Like the JSON control socket it runs on a thread of its own, and `show status` /
//! `show protocols` (status and peers) come from the view the speaker publishes after
//! each loop turn ([`Requester::read`]); only the routes are asked of the owner loop.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::command::{Command, Which};
use super::{format, Clock, Snapshot, View};
use crate::control::server::{read_line, ServeThread};
use crate::control::{Reply, Request, Response};
use crate::speaker::Requester;

/// Where the answers come from: the speaker in this process ([`Requester`]), or a wren
/// daemon's JSON control socket ([`Remote`], for a separate `bird6` process).
pub trait Backend: Clone + Send + Sync + 'static {
    fn ask(&self, req: Request) -> impl Future<Output = Result<Response, String>> + Send;
}

/// A running wren daemon, asked through its JSON-lines control socket.
#[derive(Debug, Clone)]
pub struct Remote {
    pub socket: PathBuf,
}

/// Longest command line; BIRD answers longer ones with 9000 and so do we.
const MAX_LINE: u64 = 4096;
/// The non-BGP protocol names (their details count all routes).
const BUILTINS: [&str; 4] = ["static1", "kernel1", "device1", "direct1"];

/// A running BIRD-compatible socket. Dropping it stops accepting and removes the file.
#[derive(Debug)]
pub struct BirdServer {
    path: PathBuf,
    view: View,
    _thread: ServeThread,
}

// ===== impl BirdServer =====

impl BirdServer {
    /// Bind `path` (creating its directory, replacing a stale socket file) and answer with
    /// `speaker`, on a thread of its own; the view (IPv4 or IPv6) follows the file name.
    /// The socket's mode is 0660, as BIRD creates it (owner and group may talk to it).
    pub fn bind(path: &Path, speaker: impl Backend) -> io::Result<BirdServer> {
        let listener = crate::control::server::bind_socket(path)?;
        let view = View::for_socket(path);
        let serve = move |l| accept_loop(l, speaker, view);
        let thread = crate::control::server::serve_on_thread("wren-bird", listener, serve)?;
        Ok(BirdServer {
            path: path.to_path_buf(),
            view,
            _thread: thread,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn view(&self) -> View {
        self.view
    }
}

impl Drop for BirdServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

// ===== impl Backend =====

impl Backend for Requester {
    /// Status and peers from the published view, without waiting for the owner loop.
    fn ask(&self, req: Request) -> impl Future<Output = Result<Response, String>> + Send {
        let me = self.clone();
        async move {
            match me.read(&req) {
                Some(r) => r,
                None => me.request(req).await,
            }
        }
    }
}

impl Backend for Remote {
    fn ask(&self, req: Request) -> impl Future<Output = Result<Response, String>> + Send {
        let socket = self.socket.clone();
        async move {
            let asked = req.clone();
            let reply = tokio::task::spawn_blocking(move || {
                crate::control::client::request(&socket, &asked)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
            decode(&req, reply)
        }
    }
}

// ===== helper functions =====

/// A JSON reply as the [`Response`] the request gets in process.
fn decode(req: &Request, reply: Reply) -> Result<Response, String> {
    if !reply.ok {
        return Err(reply.error.unwrap_or_else(|| "the daemon refused".into()));
    }
    let data = reply.data.unwrap_or_default();
    let bad = |e: serde_json::Error| format!("bad reply from the daemon: {e}");
    match req {
        Request::ShowStatus => serde_json::from_value(data).map(Response::Status),
        Request::ShowPeers => serde_json::from_value(data).map(Response::Peers),
        Request::ShowRoutes { .. } => serde_json::from_value(data).map(Response::Routes),
        other => return Err(format!("{} is not asked by the BIRD socket", other.name())),
    }
    .map_err(bad)
}

async fn accept_loop(listener: UnixListener, speaker: impl Backend, view: View) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_conn(stream, speaker.clone(), view));
            }
            Err(e) => {
                tracing::warn!("BIRD socket: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Greet, then answer command lines in order until the client closes.
async fn serve_conn(stream: UnixStream, speaker: impl Backend, view: View) {
    let (rd, mut wr) = stream.into_split();
    if wr.write_all(format::greeting().as_bytes()).await.is_err() {
        return;
    }
    let mut rd = BufReader::new(rd);
    loop {
        let Some((line, too_long)) = read_line(&mut rd, MAX_LINE, "BIRD socket").await else {
            return;
        };
        let reply = if too_long {
            "9000 Command too long\n".to_string()
        } else {
            answer(line.trim_end_matches(['\n', '\r']), &speaker, view).await
        };
        if wr.write_all(reply.as_bytes()).await.is_err() || too_long {
            return;
        }
    }
}

/// The reply to one command line.
pub async fn answer(line: &str, speaker: &impl Backend, view: View) -> String {
    let cmd = match Command::parse(line) {
        Ok(c) => c,
        Err(msg) => return format::syntax_error(&msg),
    };
    match snapshot(&cmd, speaker).await {
        Ok(snap) => format::reply(&cmd, &snap, view, Clock::now()),
        Err(e) => format!("8000 {e}\n"),
    }
}

/// Ask the speaker for what `cmd` shows.
async fn snapshot(cmd: &Command, speaker: &impl Backend) -> Result<Snapshot, String> {
    let status = match speaker.ask(Request::ShowStatus).await? {
        Response::Status(s) => s,
        other => return Err(format!("unexpected answer {other:?}")),
    };
    let mut snap = Snapshot {
        status,
        peers: Vec::new(),
        routes: Vec::new(),
    };
    let routes = match cmd {
        Command::ShowStatus => return Ok(snap),
        Command::ShowProtocols { all: false, .. } => None,
        // Only one BGP peer's details: its routes are enough for the counts.
        Command::ShowProtocols {
            all: true,
            which: Some(Which::Name(n)),
        } if !BUILTINS.contains(&n.as_str()) => Some(Some(n.clone())),
        Command::ShowProtocols { all: true, .. } | Command::ShowRoute { .. } => Some(None),
    };
    if let Response::Peers(p) = speaker.ask(Request::ShowPeers).await? {
        snap.peers = p;
    }
    if let Some(peer) = routes {
        let req = Request::ShowRoutes {
            peer,
            advertised: false,
        };
        // A name that is not a peer is answered with "not a protocol" by the formatter.
        if let Ok(Response::Routes(r)) = speaker.ask(req).await {
            snap.routes = r;
        }
    }
    Ok(snap)
}
