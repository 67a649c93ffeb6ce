//! The control client: one request, one reply, over the unix socket (blocking).

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::{Reply, Request};

/// How long to wait for the daemon's reply.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Send `req` to the daemon at `socket` and return its reply. Errors name the socket.
pub fn request(socket: &Path, req: &Request) -> io::Result<Reply> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", socket.display()));
    let mut stream = UnixStream::connect(socket).map_err(named)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(named)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(named)?;
    let mut line = serde_json::to_string(req).map_err(io::Error::other)?;
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(named)?;
    let mut reader = BufReader::new(stream);
    let mut answer = String::new();
    reader.read_line(&mut answer).map_err(named)?;
    if answer.is_empty() {
        return Err(named(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the daemon closed the connection without a reply",
        )));
    }
    serde_json::from_str(answer.trim_end()).map_err(|e| {
        named(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad reply: {e}"),
        ))
    })
}
