//! Socket options and outgoing connections: source address, TTL / GTSM, TCP-MD5.
//!
//! None of these options is in socket2 or nix (TCP_MD5SIG, IP_MINTTL, IPV6_MINHOPCOUNT),
//! so they are set with `libc::setsockopt` on the raw descriptor.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

use super::Transport;

/// Longest TCP-MD5 key the kernel takes (linux/tcp.h `TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_MAX_KEY_LEN: usize = 80;

/// linux/tcp.h `struct tcp_md5sig` (216 bytes).
#[repr(C)]
struct TcpMd5Sig {
    tcpm_addr: libc::sockaddr_storage,
    /// TCP_MD5SIG_FLAG_PREFIX / IFINDEX; only read with TCP_MD5SIG_EXT, unused here.
    tcpm_flags: u8,
    tcpm_prefixlen: u8,
    tcpm_keylen: u16,
    tcpm_ifindex: libc::c_int,
    tcpm_key: [u8; MD5_MAX_KEY_LEN],
}

// ===== helper functions =====

/// Set (or, with `None`, delete) the RFC 2385 TCP-MD5 key for segments to and from `peer`.
///
/// On a listening socket the key applies to connections from `peer`, and accepted sockets
/// inherit it. The socket's family must match `peer`'s.
pub fn set_md5(fd: &impl AsRawFd, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
    let key = key.unwrap_or(&[]);
    if key.len() > MD5_MAX_KEY_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "TCP-MD5 key is {} bytes; the kernel takes at most {MD5_MAX_KEY_LEN}",
                key.len()
            ),
        ));
    }
    // SAFETY: all-zero bytes are a valid `tcp_md5sig` (plain integers and arrays).
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    let sa = socket2::SockAddr::from(SocketAddr::new(peer, 0));
    let sa_len = (sa.len() as usize).min(std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `sa` holds `sa_len` valid bytes and `tcpm_addr` has room for them.
    unsafe {
        std::ptr::copy_nonoverlapping(
            sa.as_ptr() as *const u8,
            &mut sig.tcpm_addr as *mut libc::sockaddr_storage as *mut u8,
            sa_len,
        );
    }
    sig.tcpm_keylen = key.len() as u16;
    sig.tcpm_key[..key.len()].copy_from_slice(key);
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
}

/// Outgoing TTL: `ttl` (1 = directly connected, more for multihop), or 255 with GTSM
/// (RFC 5082 §3: "sending TTL ... set to 255"). IPv6 uses the hop limit.
pub fn set_ttl(fd: &impl AsRawFd, ipv6: bool, ttl: u8, gtsm: bool) -> io::Result<()> {
    let out = if gtsm { 255 } else { c_int_of(ttl.max(1)) };
    if ipv6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &out)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &out)
    }
}

/// RFC 5082 §3 GTSM: accept only packets with TTL ≥ 256 - `ttl` (the peer is at most
/// `ttl` hops away, and sends with 255).
pub fn set_min_ttl(fd: &impl AsRawFd, ipv6: bool, ttl: u8) -> io::Result<()> {
    let min = 256 - c_int_of(ttl.max(1));
    if ipv6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &min)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &min)
    }
}

/// Apply a transport's TTL and GTSM settings to a connected stream.
pub fn apply_ttl(stream: &TcpStream, t: &Transport) -> io::Result<()> {
    let ipv6 = stream.local_addr()?.is_ipv6();
    set_ttl(stream, ipv6, t.ttl, t.gtsm)?;
    if t.gtsm {
        set_min_ttl(stream, ipv6, t.ttl)?;
    }
    Ok(())
}

/// Connect to the peer: bind the source address, set the MD5 key and the TTL, connect
/// within `timeout`. The error is one sentence for the operator.
pub async fn connect(t: &Transport, timeout: Duration) -> Result<TcpStream, String> {
    let socket = prepare(t).map_err(|e| setup_reason(t, &e))?;
    match tokio::time::timeout(timeout, socket.connect(t.remote)).await {
        Ok(Ok(stream)) => {
            // BGP messages are small and latency matters for keepalives.
            let _ = stream.set_nodelay(true);
            // GTSM's minimum applies once connected: a peer's listener may answer the
            // SYN with its default TTL before its per-peer settings apply.
            if t.gtsm {
                set_min_ttl(&stream, t.remote.is_ipv6(), t.ttl)
                    .map_err(|e| format!("cannot enable GTSM (RFC 5082): {e}"))?;
            }
            Ok(stream)
        }
        Ok(Err(e)) => Err(connect_reason(t, &e)),
        Err(_) => Err(timeout_reason(t, timeout)),
    }
}

/// One sentence for an error from connect(2) (or a read or write on the connection).
pub fn connect_reason(t: &Transport, e: &io::Error) -> String {
    let addr = t.remote;
    let ip = addr.ip();
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => {
            format!("connection refused by {addr} (is BGP running there?)")
        }
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) => {
            format!("{ip} unreachable (no route)")
        }
        Some(libc::ETIMEDOUT) => timeout_text(t, "the kernel's connect timeout"),
        _ => io_reason(e),
    }
}

/// One sentence for an I/O error on an established connection.
pub fn io_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNRESET) => "connection reset by peer".to_string(),
        Some(libc::EPIPE) => "peer closed the connection".to_string(),
        Some(libc::ETIMEDOUT) => "connection timed out (the peer stopped acknowledging)".into(),
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) => "peer unreachable (no route)".into(),
        _ => format!("socket error: {e}"),
    }
}

fn timeout_reason(t: &Transport, timeout: Duration) -> String {
    timeout_text(t, &format!("{}s", timeout.as_secs_f64().round()))
}

fn timeout_text(t: &Transport, within: &str) -> String {
    let addr = t.remote;
    if t.md5_key.is_some() {
        // RFC 2385 §2: a segment without or with a wrong signature is dropped, and no
        // RST is sent either, so a key mismatch looks exactly like a filtered port.
        format!(
            "no answer from {addr} within {within} (filtered, down, or a TCP-MD5 key \
             mismatch: with MD5 the kernel drops unsigned or mis-signed segments silently)"
        )
    } else {
        format!("no answer from {addr} within {within} (filtered or down)")
    }
}

fn setup_reason(t: &Transport, e: &io::Error) -> String {
    match (e.raw_os_error(), t.local) {
        (Some(libc::EADDRNOTAVAIL), Some(local)) => {
            format!("source address {local} is not configured on this host")
        }
        (Some(libc::EAFNOSUPPORT), _) | (Some(libc::EINVAL), _) if is_mixed(t) => format!(
            "source address {} and peer {} are of different families",
            t.local.map_or(String::new(), |a| a.to_string()),
            t.remote.ip()
        ),
        (Some(libc::ENOENT), _) | (Some(libc::ENOPROTOOPT), _) if t.md5_key.is_some() => {
            format!("cannot set the TCP-MD5 key: {e} (kernel without CONFIG_TCP_MD5SIG?)")
        }
        _ => format!("cannot prepare the connection to {}: {e}", t.remote),
    }
}

fn is_mixed(t: &Transport) -> bool {
    t.local.is_some_and(|l| l.is_ipv4() != t.remote.is_ipv4())
}

/// A socket bound to the source address with the MD5 key and TTL set.
fn prepare(t: &Transport) -> io::Result<TcpSocket> {
    let ipv6 = t.remote.is_ipv6();
    let socket = if ipv6 {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    if let Some(local) = t.local {
        if local.is_ipv6() != ipv6 {
            return Err(io::Error::from_raw_os_error(libc::EAFNOSUPPORT));
        }
        socket.bind(SocketAddr::new(local, 0))?;
    }
    if let Some(key) = &t.md5_key {
        set_md5(&socket, t.remote.ip(), Some(key))?;
    }
    set_ttl(&socket, ipv6, t.ttl, t.gtsm)?;
    Ok(socket)
}

fn c_int_of(v: u8) -> libc::c_int {
    libc::c_int::from(v)
}

fn setsockopt<T>(
    fd: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: &T,
) -> io::Result<()> {
    // SAFETY: `v` points to a live `T` of the given size for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            v as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(remote: &str, key: Option<&[u8]>) -> Transport {
        Transport {
            remote: remote.parse().unwrap(),
            local: None,
            passive: false,
            ttl: 1,
            gtsm: false,
            md5_key: key.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn md5sig_has_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<TcpMd5Sig>(), 216);
    }

    #[tokio::test]
    async fn refused_connection_says_so() {
        // Bind then drop a listener to get a port that is (almost certainly) closed.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let t = transport(&addr.to_string(), None);
        let err = connect(&t, Duration::from_secs(2)).await.unwrap_err();
        assert_eq!(
            err,
            format!("connection refused by {addr} (is BGP running there?)")
        );
    }

    #[tokio::test]
    async fn missing_source_address_is_named() {
        let mut t = transport("127.0.0.1:179", None);
        t.local = Some("198.18.255.254".parse().unwrap());
        let err = connect(&t, Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(
            err,
            "source address 198.18.255.254 is not configured on this host"
        );
    }

    #[test]
    fn timeout_mentions_md5_only_with_a_key() {
        let with = transport("198.18.0.2:179", Some(b"k"));
        let without = transport("198.18.0.2:179", None);
        let d = Duration::from_secs(5);
        assert!(timeout_reason(&with, d).contains("TCP-MD5 key mismatch"));
        assert!(timeout_reason(&with, d).starts_with("no answer from 198.18.0.2:179 within 5s"));
        assert!(!timeout_reason(&without, d).contains("MD5"));
    }

    #[test]
    fn unreachable_and_reset_sentences() {
        let t = transport("198.18.0.2:179", None);
        let e = io::Error::from_raw_os_error(libc::ENETUNREACH);
        assert_eq!(connect_reason(&t, &e), "198.18.0.2 unreachable (no route)");
        let e = io::Error::from_raw_os_error(libc::ECONNRESET);
        assert_eq!(io_reason(&e), "connection reset by peer");
    }

    #[test]
    fn md5_key_too_long_is_refused() {
        let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let key = [b'x'; MD5_MAX_KEY_LEN + 1];
        let err = set_md5(&s, "127.0.0.2".parse().unwrap(), Some(&key)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn gtsm_sets_min_ttl() {
        let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_ttl(&s, false, 1, true).unwrap();
        set_min_ttl(&s, false, 1).unwrap();
        let sock = socket2::SockRef::from(&s);
        assert_eq!(sock.ttl_v4().unwrap(), 255);
        let mut min: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `min` and `len` are valid for the call.
        let rc = unsafe {
            libc::getsockopt(
                s.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_MINTTL,
                &mut min as *mut libc::c_int as *mut libc::c_void,
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert_eq!(min, 255);
    }
}
