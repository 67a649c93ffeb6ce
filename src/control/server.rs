//! The control socket server: accepts connections, reads JSON-line requests, asks the
//! speaker, writes JSON-line replies.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use super::{Reply, Request};
use crate::speaker::Requester;

/// Longest request line accepted.
const MAX_LINE: u64 = 64 * 1024;
/// Owner and group may talk to the daemon.
const SOCKET_MODE: u32 = 0o660;

/// A running control socket. Dropping it stops accepting and removes the socket file.
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    task: JoinHandle<()>,
}

// ===== impl ControlServer =====

impl ControlServer {
    /// Bind `path` (creating its directory, replacing a stale socket file) and serve
    /// requests with `speaker`. Must be called inside a tokio runtime.
    pub fn bind(path: &Path, speaker: Requester) -> io::Result<ControlServer> {
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(named)?;
        }
        remove_stale(path)?;
        let listener = UnixListener::bind(path).map_err(named)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(named)?;
        let task = tokio::spawn(accept_loop(listener, speaker));
        Ok(ControlServer {
            path: path.to_path_buf(),
            task,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

// ===== helper functions =====

/// A socket file nobody listens on is left over from a crash: remove it. A live socket
/// means another daemon; any other kind of file is not ours to delete.
pub(crate) fn remove_stale(path: &Path) -> io::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: exists and is not a socket", path.display()),
        ));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{}: another daemon is listening there", path.display()),
        ));
    }
    std::fs::remove_file(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

async fn accept_loop(listener: UnixListener, speaker: Requester) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_conn(stream, speaker.clone()));
            }
            Err(e) => {
                tracing::warn!("control socket: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Answer requests on one connection until the client closes it.
async fn serve_conn(stream: UnixStream, speaker: Requester) {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    loop {
        let mut line = String::new();
        let n = match (&mut rd).take(MAX_LINE + 1).read_line(&mut line).await {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("control socket: read failed: {e}");
                return;
            }
        };
        if n == 0 {
            return;
        }
        let too_long = n as u64 > MAX_LINE;
        let reply = if too_long {
            Reply::err(format!("request longer than {MAX_LINE} bytes"))
        } else {
            answer(line.trim(), &speaker).await
        };
        let mut out = reply.to_line();
        out.push('\n');
        if wr.write_all(out.as_bytes()).await.is_err() || too_long {
            return;
        }
    }
}

async fn answer(line: &str, speaker: &Requester) -> Reply {
    let req: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => return Reply::err(format!("bad request: {e}")),
    };
    match speaker.request(req).await {
        Ok(resp) => Reply::ok(&resp),
        Err(e) => Reply::err(e),
    }
}
