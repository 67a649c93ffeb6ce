//! The control socket server: accepts connections, reads JSON-line requests, asks the
//! speaker, writes JSON-line replies.
//!
//! It runs on its own OS thread (a current-thread tokio runtime, [`serve_on_thread`]),
//! so that a busy owner loop or busy session tasks on the main runtime's workers cannot
//! delay it. `show status` and `show peers [NAME] [--detail]` are answered from the view
//! the speaker publishes after each loop turn ([`Requester::read`]), without waiting for
//! the owner loop (issue 6); every other request goes to the owner.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;

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
    _thread: ServeThread,
}

/// A socket served on its own thread; dropping it stops the thread (and waits for it).
#[derive(Debug)]
pub(crate) struct ServeThread {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

// ===== impl ControlServer =====

impl ControlServer {
    /// Bind `path` (creating its directory, replacing a stale socket file) and serve
    /// requests with `speaker`, on a thread of its own.
    pub fn bind(path: &Path, speaker: Requester) -> io::Result<ControlServer> {
        let listener = bind_socket(path)?;
        let thread = serve_on_thread("wren-control", listener, |l| accept_loop(l, speaker))?;
        Ok(ControlServer {
            path: path.to_path_buf(),
            _thread: thread,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

// ===== impl ServeThread =====

impl Drop for ServeThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ===== helper functions =====

/// Bind a unix socket at `path` (mode 0660), creating its directory and replacing a
/// stale socket file. Errors name the path.
pub(crate) fn bind_socket(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(named)?;
    }
    remove_stale(path)?;
    let listener = std::os::unix::net::UnixListener::bind(path).map_err(named)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE)).map_err(named)?;
    listener.set_nonblocking(true).map_err(named)?;
    Ok(listener)
}

/// Run `serve(listener)` on a new thread with a current-thread tokio runtime of its own
/// (connections are tasks on it), until the returned handle is dropped.
pub(crate) fn serve_on_thread<F, Fut>(
    name: &str,
    listener: std::os::unix::net::UnixListener,
    serve: F,
) -> io::Result<ServeThread>
where
    F: FnOnce(UnixListener) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            rt.block_on(async move {
                match UnixListener::from_std(listener) {
                    Ok(l) => {
                        tokio::select! {
                            _ = serve(l) => {}
                            _ = stopped => {}
                        }
                    }
                    Err(e) => tracing::error!("control socket: {e}"),
                }
            });
            // Connections still open (and a blocking client call of the BIRD socket's
            // remote backend) must not hold the stop up.
            rt.shutdown_background();
        })?;
    Ok(ServeThread {
        stop: Some(stop),
        thread: Some(thread),
    })
}

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
        let Some((line, too_long)) = read_line(&mut rd, MAX_LINE, "control socket").await else {
            return;
        };
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

/// One line of at most `max` bytes (more: `too_long`, with what was read); `None` once
/// the client closed or the read failed (logged at debug level, naming `what`).
pub(crate) async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    rd: &mut R,
    max: u64,
    what: &str,
) -> Option<(String, bool)> {
    let mut line = String::new();
    match rd.take(max + 1).read_line(&mut line).await {
        Ok(0) => None,
        Ok(n) => Some((line, n as u64 > max)),
        Err(e) => {
            tracing::debug!("{what}: read failed: {e}");
            None
        }
    }
}

async fn answer(line: &str, speaker: &Requester) -> Reply {
    let req: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => return Reply::err(format!("bad request: {e}")),
    };
    let answered = match speaker.read(&req) {
        Some(r) => r,
        None => speaker.request(req).await,
    };
    match answered {
        Ok(resp) => Reply::ok(&resp),
        Err(e) => Reply::err(e),
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::read_line;

    #[tokio::test(flavor = "current_thread")]
    async fn read_line_bounds_each_line_and_ends_at_close() {
        let mut rd: &[u8] = b"ok\n0123456789\n";
        let got = read_line(&mut rd, 8, "t").await;
        assert_eq!(got, Some(("ok\n".to_string(), false)));
        let (_, too_long) = read_line(&mut rd, 8, "t").await.unwrap();
        assert!(too_long, "10 bytes and a newline are over 8");
        let mut empty: &[u8] = b"";
        assert_eq!(read_line(&mut empty, 8, "t").await, None);
    }
}
