//! BGP framing over a byte stream, and the reader and writer halves of a connection.
//!
//! The reader cuts messages out of the stream with [`wire::frame_len`] and decodes them
//! with the context the session negotiated (read afresh for every message: the peer can
//! only use the negotiated encoding after it has our KEEPALIVE, which we send after the
//! context is updated). The writer batches queued messages and reports progress.

use std::io::{self, IoSlice};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use super::conn::io_reason;
use crate::wire::{self, Ctx, Finding, Message, WireError};

/// Read buffer growth step.
const READ_CHUNK: usize = 16 * 1024;
/// Queued items written together before the writer reports progress.
const WRITE_BATCH: usize = 256;
/// Buffers per `writev` (Linux's IOV_MAX is 1024).
const MAX_IOV: usize = 512;

/// Why reading stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The bytes are not a valid BGP message: send this NOTIFICATION.
    Wire(WireError),
    /// The transport failed or closed (one sentence).
    Transport(String),
}

/// Cuts BGP messages out of a byte stream.
#[derive(Debug)]
pub struct FrameReader<R> {
    io: R,
    buf: BytesMut,
    ctx: watch::Receiver<Ctx>,
}

/// What the reader and writer tasks tell the session task, tagged with the connection id.
// A message moves once per UPDATE; boxing it would not pay.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ConnEvent {
    /// A decoded message. UPDATE and ROUTE-REFRESH carry a credit that is released once
    /// the speaker has taken the message (backpressure on the reader only).
    Msg {
        msg: Message,
        findings: Vec<Finding>,
        credit: Option<OwnedSemaphorePermit>,
    },
    ReadFailed(ReadError),
    /// The reader waits for the speaker (true) or reads again (false).
    Stalled(bool),
    /// The writer flushed a batch (RFC 9687 send progress).
    Progress,
    WriteFailed(String),
    /// An outgoing connection attempt finished (the error is one sentence).
    Connected(Result<tokio::net::TcpStream, String>),
}

/// What the session task queues for a writer.
#[derive(Debug)]
pub enum Out {
    Data(Bytes),
    /// Runs of messages shared with other sessions (one speaker flush).
    Runs(Vec<Arc<[u8]>>),
    /// Flush what is queued, then shut the connection down.
    Close,
}

// ===== impl Out =====

impl Out {
    /// The bytes to write.
    fn slices(&self) -> impl Iterator<Item = &[u8]> {
        let (one, runs): (Option<&[u8]>, &[Arc<[u8]>]) = match self {
            Out::Data(b) => (Some(&b[..]), &[]),
            Out::Runs(r) => (None, &r[..]),
            Out::Close => (None, &[]),
        };
        one.into_iter().chain(runs.iter().map(|r| &r[..]))
    }
}

// ===== impl FrameReader =====

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(io: R, ctx: watch::Receiver<Ctx>) -> Self {
        FrameReader {
            io,
            buf: BytesMut::with_capacity(READ_CHUNK),
            ctx,
        }
    }

    /// The next message and its RFC 7606 findings.
    pub async fn next(&mut self) -> Result<(Message, Vec<Finding>), ReadError> {
        loop {
            let ctx = self.ctx.borrow().clone();
            if let Some(len) = wire::frame_len(&self.buf, &ctx).map_err(ReadError::Wire)? {
                if self.buf.len() >= len {
                    let frame = self.buf.split_to(len);
                    return wire::decode(&frame, &ctx).map_err(ReadError::Wire);
                }
                self.buf.reserve(len - self.buf.len());
            } else {
                self.buf.reserve(READ_CHUNK);
            }
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) if self.buf.is_empty() => {
                    return Err(ReadError::Transport("peer closed the connection".into()))
                }
                Ok(0) => {
                    return Err(ReadError::Transport(
                        "peer closed the connection in the middle of a message".into(),
                    ))
                }
                Ok(_) => {}
                Err(e) => return Err(ReadError::Transport(io_reason(&e))),
            }
        }
    }
}

// ===== helper functions =====

/// Read messages until the connection fails; every event goes to `tx` tagged with `id`.
/// UPDATE and ROUTE-REFRESH wait for a credit first, so a slow speaker slows the peer
/// down through TCP instead of queueing without bound.
pub async fn read_loop<R: AsyncRead + Unpin>(
    mut reader: FrameReader<R>,
    id: u64,
    tx: mpsc::UnboundedSender<(u64, ConnEvent)>,
    credits: Arc<Semaphore>,
) {
    loop {
        let ev = match reader.next().await {
            Ok((msg, findings)) => {
                let credit = match msg {
                    Message::Update(_) | Message::RouteRefresh(_) => {
                        match take_credit(&credits, id, &tx).await {
                            Some(p) => Some(p),
                            None => return,
                        }
                    }
                    _ => None,
                };
                ConnEvent::Msg {
                    msg,
                    findings,
                    credit,
                }
            }
            Err(e) => {
                let _ = tx.send((id, ConnEvent::ReadFailed(e)));
                return;
            }
        };
        if tx.send((id, ev)).is_err() {
            return;
        }
    }
}

/// A credit, telling the session task while the reader has to wait for one.
async fn take_credit(
    credits: &Arc<Semaphore>,
    id: u64,
    tx: &mpsc::UnboundedSender<(u64, ConnEvent)>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(p) = credits.clone().try_acquire_owned() {
        return Some(p);
    }
    let _ = tx.send((id, ConnEvent::Stalled(true)));
    let p = credits.clone().acquire_owned().await.ok();
    let _ = tx.send((id, ConnEvent::Stalled(false)));
    p
}

/// Write queued messages in batches (one `writev` per batch where the socket takes it
/// all, straight from the queued buffers: no copy, no buffer of our own that a thousand
/// sessions would each keep); report progress after each batch.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    mut io: W,
    mut rx: mpsc::UnboundedReceiver<Out>,
    id: u64,
    tx: mpsc::UnboundedSender<(u64, ConnEvent)>,
) {
    let mut batch: Vec<Out> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < WRITE_BATCH && !matches!(batch.last(), Some(Out::Close)) {
            match rx.try_recv() {
                Ok(o) => batch.push(o),
                Err(_) => break,
            }
        }
        let closing = matches!(batch.last(), Some(Out::Close));
        let slices: Vec<&[u8]> = batch.iter().flat_map(Out::slices).collect();
        if let Err(e) = write_all_slices(&mut io, &slices).await {
            let _ = tx.send((id, ConnEvent::WriteFailed(io_reason(&e))));
            return;
        }
        drop(slices);
        batch.clear();
        let _ = tx.send((id, ConnEvent::Progress));
        if closing {
            let _ = io.shutdown().await;
            return;
        }
    }
}

/// Write all of `bufs`, in order, with as few `writev` calls as the writer allows.
async fn write_all_slices<W: AsyncWrite + Unpin>(w: &mut W, bufs: &[&[u8]]) -> io::Result<()> {
    // `i`: the first buffer not written completely; `off`: how much of it is written.
    let (mut i, mut off) = (0, 0);
    let mut iov: Vec<IoSlice<'_>> = Vec::with_capacity(bufs.len().min(MAX_IOV));
    loop {
        while bufs.get(i).is_some_and(|b| b.len() <= off) {
            i += 1;
            off = 0;
        }
        let Some(head) = bufs.get(i).and_then(|b| b.get(off..)) else {
            return Ok(());
        };
        iov.clear();
        iov.push(IoSlice::new(head));
        let rest = bufs.get(i + 1..).unwrap_or_default();
        iov.extend(rest.iter().take(MAX_IOV - 1).map(|b| IoSlice::new(b)));
        let mut n = w.write_vectored(&iov).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while let Some(b) = bufs.get(i).filter(|_| n > 0) {
            let left = b.len() - off;
            if n < left {
                off += n;
                n = 0;
            } else {
                n -= left;
                i += 1;
                off = 0;
            }
        }
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::NotificationMsg;

    fn reader(bytes: Vec<u8>) -> FrameReader<std::io::Cursor<Vec<u8>>> {
        let (_tx, rx) = watch::channel(Ctx::default());
        FrameReader::new(std::io::Cursor::new(bytes), rx)
    }

    fn encoded(msgs: &[Message]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in msgs {
            wire::encode(m, &Ctx::default(), &mut out).unwrap();
        }
        out
    }

    #[tokio::test]
    async fn frames_back_to_back_messages() {
        let n = Message::Notification(NotificationMsg {
            code: 6,
            subcode: 2,
            data: vec![],
        });
        let mut r = reader(encoded(&[Message::Keepalive, n.clone()]));
        assert_eq!(r.next().await.unwrap().0, Message::Keepalive);
        assert_eq!(r.next().await.unwrap().0, n);
        match r.next().await {
            Err(ReadError::Transport(why)) => assert_eq!(why, "peer closed the connection"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn truncated_message_is_reported() {
        let mut bytes = encoded(&[Message::Keepalive]);
        bytes.pop();
        let mut r = reader(bytes);
        match r.next().await {
            Err(ReadError::Transport(why)) => assert!(why.contains("middle of a message")),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn bad_marker_is_a_wire_error() {
        let mut bytes = encoded(&[Message::Keepalive]);
        bytes[3] = 0;
        let mut r = reader(bytes);
        match r.next().await {
            Err(ReadError::Wire(e)) => {
                assert_eq!((e.notification.code, e.notification.subcode), (1, 1))
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn writer_writes_in_order_and_reports_progress() {
        let (a, mut b) = tokio::io::duplex(4096);
        let (qtx, qrx) = mpsc::unbounded_channel();
        let (etx, mut erx) = mpsc::unbounded_channel();
        qtx.send(Out::Data(Bytes::from_static(b"one"))).unwrap();
        qtx.send(Out::Data(Bytes::from_static(b"two"))).unwrap();
        qtx.send(Out::Close).unwrap();
        write_loop(a, qrx, 7, etx).await;
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"onetwo");
        assert!(matches!(erx.recv().await, Some((7, ConnEvent::Progress))));
    }

    #[tokio::test]
    async fn writer_writes_runs_whole_through_partial_writes() {
        // A 5-byte pipe: every write is partial, and duplex writes one buffer at a time.
        let (a, mut b) = tokio::io::duplex(5);
        let (qtx, qrx) = mpsc::unbounded_channel();
        let (etx, _erx) = mpsc::unbounded_channel();
        let runs: Vec<Arc<[u8]>> = ["abc", "", "defghij", "k"]
            .iter()
            .map(|s| Arc::from(s.as_bytes()))
            .collect();
        qtx.send(Out::Data(Bytes::from_static(b"01"))).unwrap();
        qtx.send(Out::Runs(runs)).unwrap();
        qtx.send(Out::Runs(Vec::new())).unwrap();
        qtx.send(Out::Data(Bytes::from_static(b"z"))).unwrap();
        qtx.send(Out::Close).unwrap();
        qtx.send(Out::Data(Bytes::from_static(b"after close")))
            .unwrap();
        let w = tokio::spawn(write_loop(a, qrx, 1, etx));
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        w.await.unwrap();
        assert_eq!(got, b"01abcdefghijkz");
    }

    #[tokio::test]
    async fn write_all_slices_skips_empty_buffers_and_ends() {
        let mut out = Vec::new();
        write_all_slices(&mut out, &[b"", b"ab", b"", b"c", b""])
            .await
            .unwrap();
        assert_eq!(out, b"abc");
        write_all_slices(&mut out, &[]).await.unwrap();
        assert_eq!(out, b"abc");
    }
}
