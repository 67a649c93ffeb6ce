//! NETLINK_ROUTE sockets on tokio: a request socket that sends batches and dumps, and an
//! event socket subscribed to multicast groups, which a socket filter keeps free of the
//! notifications our own requests cause.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use tokio::io::unix::AsyncFd;

use super::encode::{Batch, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_NOOP, NLMSG_OVERRUN};

/// nlmsghdr fields of a received message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hdr {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    #[allow(dead_code)]
    pub pid: u32,
}

/// One request of a batch that the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    /// Index of the request in its batch.
    pub index: usize,
    /// Positive errno.
    pub errno: i32,
    /// The kernel's extended ACK message, if any.
    pub msg: Option<String>,
}

/// What the kernel said to one batch.
#[derive(Debug, Default)]
pub(crate) struct BatchResult {
    pub refused: Vec<Refused>,
    /// Replies were lost (ENOBUFS or no final ACK): the outcome of some requests is unknown.
    pub lost: bool,
}

pub(crate) struct NlSock {
    fd: AsyncFd<Socket>,
    portid: u32,
    seq: u32,
    rbuf: Vec<u8>,
}

/// Multicast groups (linux/rtnetlink.h, enum rtnetlink_groups).
pub(crate) const RTNLGRP_LINK: u32 = 1;
pub(crate) const RTNLGRP_NEIGH: u32 = 3;
pub(crate) const RTNLGRP_IPV4_IFADDR: u32 = 5;
pub(crate) const RTNLGRP_IPV4_ROUTE: u32 = 7;
pub(crate) const RTNLGRP_IPV6_IFADDR: u32 = 9;
pub(crate) const RTNLGRP_IPV6_ROUTE: u32 = 11;
pub(crate) const RTNLGRP_NEXTHOP: u32 = 32;

const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
/// How long to wait for the final ACK of a batch before calling its replies lost.
const ACK_WAIT: Duration = Duration::from_secs(10);

// ===== impl NlSock =====

impl NlSock {
    /// The request socket: strict dump filtering, short ACKs, extended ACK messages, and a
    /// receive buffer large enough for the error replies of a batch.
    pub fn open_request() -> io::Result<NlSock> {
        let s = NlSock::open(8 << 20)?;
        let sock = s.fd.get_ref();
        sock.set_netlink_get_strict_chk(true)?;
        sock.set_cap_ack(true)?;
        sock.set_ext_ack(true)?;
        Ok(s)
    }

    /// An event socket in these groups, ignoring notifications caused by `ignore_pid`
    /// (our request socket's port id, which the kernel copies into its notifications).
    pub fn open_events(groups: &[u32], ignore_pid: u32, rcvbuf: usize) -> io::Result<NlSock> {
        let s = NlSock::open(rcvbuf)?;
        attach_pid_filter(s.fd.get_ref(), ignore_pid)?;
        for g in groups {
            s.fd.get_ref().add_membership(*g)?;
        }
        Ok(s)
    }

    fn open(rcvbuf: usize) -> io::Result<NlSock> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        let addr = sock.bind_auto()?;
        sock.set_non_blocking(true)?;
        set_rcvbuf(&sock, rcvbuf);
        // SAFETY: the Socket owns its descriptor and closes it only when dropped, and it
        // is moved into the AsyncFd, which deregisters before dropping it.
        let fd = unsafe { AsyncFd::register(sock) }?;
        Ok(NlSock {
            portid: addr.port_number(),
            fd,
            seq: 1,
            rbuf: vec![0; 1 << 20],
        })
    }

    pub fn portid(&self) -> u32 {
        self.portid
    }

    /// An empty batch whose sequence numbers follow the last one used.
    pub fn batch(&self) -> Batch {
        Batch::new(self.seq)
    }

    /// Send a batch (one datagram; the kernel handles it before `send` returns) and read
    /// the replies up to the final ACK.
    pub async fn send_batch(&mut self, b: &mut Batch) -> io::Result<BatchResult> {
        self.seq = b.next_seq();
        if b.is_empty() {
            return Ok(BatchResult::default());
        }
        let last = b.next_seq().wrapping_sub(1);
        self.send(b.seal()).await?;
        let mut res = BatchResult::default();
        let mut done = false;
        let wait = tokio::time::timeout(ACK_WAIT, async {
            while !done {
                let r = self.recv_each(|h, p| {
                    if h.ty != NLMSG_ERROR {
                        return;
                    }
                    let Some(index) = b.index_of(h.seq) else {
                        return;
                    };
                    let errno = error_code(p);
                    if errno != 0 {
                        let msg = ext_ack_msg(h, p);
                        res.refused.push(Refused { index, errno, msg });
                    }
                    done |= h.seq == last;
                });
                match r.await {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => res.lost = true,
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        });
        match wait.await {
            Ok(r) => r?,
            Err(_) => res.lost = true,
        }
        Ok(res)
    }

    /// Run one dump request and call `visit` for each message of the answer. Fails with
    /// `Interrupted` when the kernel says the dump was inconsistent (NLM_F_DUMP_INTR): the
    /// caller dumps again.
    pub async fn dump(
        &mut self,
        req: impl FnOnce(&mut Batch),
        mut visit: impl FnMut(&Hdr, &[u8]),
    ) -> io::Result<()> {
        let mut b = self.batch();
        req(&mut b);
        let seq = b.first_seq();
        self.seq = b.next_seq();
        self.send(b.seal()).await?;
        let (mut done, mut err, mut intr) = (false, 0, false);
        while !done {
            self.recv_each(|h, p| {
                if h.seq != seq {
                    return;
                }
                intr |= h.flags & NLM_F_DUMP_INTR != 0;
                match h.ty {
                    NLMSG_DONE => done = true,
                    NLMSG_ERROR => {
                        err = error_code(p);
                        done = true;
                    }
                    _ => visit(h, p),
                }
            })
            .await?;
        }
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
        if intr {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "dump interrupted",
            ));
        }
        Ok(())
    }

    /// Wait until something can be read, then hand every message read to `visit`.
    /// Errors: ENOBUFS when the kernel dropped messages for lack of buffer space.
    pub async fn recv_each(&mut self, mut visit: impl FnMut(&Hdr, &[u8])) -> io::Result<()> {
        let n = loop {
            let mut guard = self.fd.readable().await?;
            let fd = guard.get_inner().as_raw_fd();
            let rbuf = &mut self.rbuf;
            match guard.try_io(|_| raw_recv(fd, rbuf)) {
                Ok(r) => break r?,
                Err(_would_block) => continue,
            }
        };
        for_each_msg(self.rbuf.get(..n).unwrap_or(&[]), &mut visit);
        Ok(())
    }

    /// Like [`NlSock::recv_each`], then also every datagram already queued (up to `max`
    /// in all), so that a burst of events is handled as one batch.
    pub async fn recv_burst(
        &mut self,
        max: usize,
        mut visit: impl FnMut(&Hdr, &[u8]),
    ) -> io::Result<()> {
        self.recv_each(&mut visit).await?;
        for _ in 1..max {
            let fd = self.fd.get_ref().as_raw_fd();
            match raw_recv(fd, &mut self.rbuf) {
                Ok(n) => for_each_msg(self.rbuf.get(..n).unwrap_or(&[]), &mut visit),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn send(&self, data: &[u8]) -> io::Result<()> {
        loop {
            let mut guard = self.fd.writable().await?;
            let fd = guard.get_inner().as_raw_fd();
            match guard.try_io(|_| raw_send(fd, data)) {
                Ok(r) => {
                    let n = r?;
                    if n != data.len() {
                        return Err(io::Error::other("short netlink send"));
                    }
                    return Ok(());
                }
                Err(_would_block) => continue,
            }
        }
    }
}

// ===== helper functions =====

/// Split a datagram into netlink messages; stops at the first malformed header.
pub(crate) fn for_each_msg(mut buf: &[u8], visit: &mut impl FnMut(&Hdr, &[u8])) {
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32_at(buf, 0) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return;
        }
        let h = Hdr {
            ty: u16_at(buf, 4),
            flags: u16_at(buf, 6),
            seq: u32_at(buf, 8),
            pid: u32_at(buf, 12),
        };
        if h.ty != NLMSG_NOOP && h.ty != NLMSG_OVERRUN {
            visit(&h, &buf[NLMSG_HDRLEN..len]);
        }
        let next = (len + 3) & !3;
        buf = buf.get(next..).unwrap_or(&[]);
    }
}

pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_ne_bytes([s[0], s[1]]),
        None => 0,
    }
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_ne_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// The positive errno of an NLMSG_ERROR payload (0 = ACK).
fn error_code(p: &[u8]) -> i32 {
    (u32_at(p, 0) as i32).saturating_neg()
}

/// NLMSGERR_ATTR_MSG of an extended ACK. With NETLINK_CAP_ACK the payload is the errno
/// and the request's header (16 bytes) only, then the TLVs.
fn ext_ack_msg(h: &Hdr, p: &[u8]) -> Option<String> {
    if h.flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let mut at = 4 + NLMSG_HDRLEN;
    while at + 4 <= p.len() {
        let len = usize::from(u16_at(p, at));
        let ty = u16_at(p, at + 2);
        if len < 4 {
            return None;
        }
        if ty == NLMSGERR_ATTR_MSG {
            let v = p.get(at + 4..at + len)?;
            let s = String::from_utf8_lossy(v);
            return Some(s.trim_end_matches('\0').to_string());
        }
        at += (len + 3) & !3;
    }
    None
}

fn raw_recv(fd: i32, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is a valid, writable region of buf.len() bytes for the whole call.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

fn raw_send(fd: i32, data: &[u8]) -> io::Result<usize> {
    // SAFETY: data is a valid, readable region of data.len() bytes for the whole call.
    let n = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// SO_RCVBUFFORCE (root) or else SO_RCVBUF (capped by net.core.rmem_max).
fn set_rcvbuf(sock: &Socket, bytes: usize) {
    let v = bytes as libc::c_int;
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: v is a c_int that outlives the call; the size passed matches it.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&v as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// A classic BPF filter that drops every message whose nlmsg_pid is `pid`:
/// `A = load32(12) (network order); if A == pid' drop; else accept`.
fn attach_pid_filter(sock: &Socket, pid: u32) -> io::Result<()> {
    let pid_be = u32::from_be_bytes(pid.to_ne_bytes());
    let mut prog = [
        bpf(0x20, 0, 0, 12),     // BPF_LD | BPF_W | BPF_ABS
        bpf(0x15, 0, 1, pid_be), // BPF_JMP | BPF_JEQ | BPF_K
        bpf(0x06, 0, 0, 0),      // BPF_RET | BPF_K: drop
        bpf(0x06, 0, 0, u32::MAX),
    ];
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: fprog points at `prog`, which lives until the call returns; the kernel copies it.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn bpf(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}
