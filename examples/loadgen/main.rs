//! loadgen: a minimal BGP speaker that sends or counts many prefixes, for benchmarks.
//!
//! It uses wren's codec only (no FSM, no RIB): OPEN, KEEPALIVE, then either a burst of
//! pre-encoded UPDATEs or a counting loop. Each mode prints a JSON line on stdout when
//! its session is up (`{"event":"established"}`) and one when its job is done, with wall-clock timestamps (Unix seconds) so that a harness can
//! compare the sender's and the receiver's clocks (same machine), and the loadgen's own
//! CPU time, to show that it is not the bottleneck. It then stays up (answering nothing,
//! sending KEEPALIVEs) until `--linger` runs out or it is killed, so the device under
//! test keeps both sessions while it is measured.
//!
//! ```sh
//! # announce 500k /24s (16.0.0.0/24 upward), AS path [65001], next hop 198.18.1.2:
//! loadgen send --connect 198.18.1.1:179 --local 198.18.1.2 --asn 65001 --prefixes 500000
//! # count prefixes until 500k are held (withdrawals are subtracted):
//! loadgen recv --connect 198.18.2.1:179 --local 198.18.2.2 --asn 65002 --prefixes 500000
//! ```
//!
//! `loadgen fleet` (fleet.rs) runs many sessions at once for the route-reflector, mesh and
//! churn scenarios. Used by `proto-tests/bench/relay.sh` and `scenarios.sh`. Never point it at an address outside loopback or
//! the network namespaces the harness made.

mod fleet;

use std::collections::HashSet;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Mutex;
use wren::wire::{
    self, pack, AsPath, AsSegment, Attrs, Capability, Ctx, Family, Message, Nlri4, OpenMsg,
    OptParam, Origin, Prefix4, SegmentKind, UpdateMsg,
};

#[derive(Parser)]
#[command(about = "BGP load generator for wren's benchmarks")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Announce N /24 prefixes in as few UPDATEs as fit, then End-of-RIB, and stay up.
    Send {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 500_000)]
        prefixes: u32,
        /// The first /24; the others follow it.
        #[arg(long, default_value = "16.0.0.0")]
        first: Ipv4Addr,
        /// NEXT_HOP of the routes (default: the local address of the connection).
        #[arg(long)]
        next_hop: Option<Ipv4Addr>,
    },
    /// Count IPv4 prefixes held (announced minus withdrawn) until N, then report.
    Recv {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 500_000)]
        prefixes: u32,
    },
    /// Many sessions from consecutive local addresses, each advertising a few /26s and
    /// counting what it receives (route reflector, mesh, churn; see fleet.rs).
    Fleet(fleet::FleetArgs),
}

#[derive(Args, Clone)]
pub(crate) struct Common {
    /// Connect to the device under test (retried until it answers or --timeout).
    #[arg(long, conflicts_with = "listen")]
    connect: Option<SocketAddr>,
    /// Or wait for it to connect here.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Bind outgoing connections to this address.
    #[arg(long)]
    local: Option<IpAddr>,
    #[arg(long)]
    asn: u32,
    /// Refuse the session unless the peer's AS is this one.
    #[arg(long)]
    peer_as: Option<u32>,
    /// BGP identifier (default: the local address of the connection).
    #[arg(long)]
    id: Option<Ipv4Addr>,
    #[arg(long, default_value_t = 240)]
    hold: u16,
    /// Give up (exit 2) if the job is not done after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Stay up this many seconds after the job is done (default: until --timeout).
    #[arg(long)]
    linger: Option<u64>,
}

/// One established session: a framing reader and a shared writer.
pub(crate) struct Conn {
    rd: OwnedReadHalf,
    wr: Arc<Mutex<OwnedWriteHalf>>,
    buf: Vec<u8>,
    pos: usize,
    ctx: Ctx,
    local: SocketAddr,
    established: f64,
}

pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error>>;

// ===== impl Conn =====

impl Conn {
    /// OPEN, KEEPALIVE both ways (RFC 4271 §8.2.2, without the timers a real speaker needs).
    pub(crate) async fn establish(stream: TcpStream, c: &Common) -> Res<Conn> {
        Self::establish_sized(stream, c, 1 << 20).await
    }

    /// `establish` with a read buffer of `cap` bytes (many small sessions want little).
    pub(crate) async fn establish_sized(stream: TcpStream, c: &Common, cap: usize) -> Res<Conn> {
        stream.set_nodelay(true)?;
        let local = stream.local_addr()?;
        let (rd, wr) = stream.into_split();
        let mut conn = Conn {
            rd,
            wr: Arc::new(Mutex::new(wr)),
            buf: Vec::with_capacity(cap),
            pos: 0,
            ctx: Ctx::default(),
            local,
            established: 0.0,
        };
        let id = c.id.unwrap_or(match local.ip() {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => Ipv4Addr::new(198, 18, 255, 1),
        });
        conn.send(&Message::Open(open_msg(c.asn, id, c.hold)))
            .await?;
        let peer_hold = loop {
            match conn.next_msg().await? {
                Message::Open(o) => break check_peer(&o, c)?,
                Message::Notification(n) => return Err(format!("peer refused: {n:?}").into()),
                _ => {}
            }
        };
        conn.send(&Message::Keepalive).await?;
        loop {
            match conn.next_msg().await? {
                Message::Keepalive => break,
                Message::Notification(n) => return Err(format!("peer refused: {n:?}").into()),
                _ => {}
            }
        }
        conn.established = unix_now();
        conn.keepalives(c.hold.min(peer_hold));
        Ok(conn)
    }

    /// Send KEEPALIVEs every third of the hold time (RFC 4271 §10) in the background.
    fn keepalives(&self, hold: u16) {
        if hold == 0 {
            return;
        }
        let wr = Arc::clone(&self.wr);
        let every = Duration::from_secs(u64::from(hold / 3).max(1));
        let ka = wire::encode_to_vec(&Message::Keepalive, &Ctx::default()).expect("keepalive");
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if wr.lock().await.write_all(&ka).await.is_err() {
                    return;
                }
            }
        });
    }

    pub(crate) async fn send(&self, m: &Message) -> Res<()> {
        let bytes = wire::encode_to_vec(m, &self.ctx)?;
        self.wr.lock().await.write_all(&bytes).await?;
        Ok(())
    }

    /// The next whole message's bytes: `self.buf[range]`.
    pub(crate) async fn next_frame(&mut self) -> Res<std::ops::Range<usize>> {
        loop {
            let avail = &self.buf[self.pos..];
            match wire::frame_len(avail, &self.ctx) {
                Ok(Some(n)) if avail.len() >= n => {
                    let r = self.pos..self.pos + n;
                    self.pos += n;
                    return Ok(r);
                }
                Ok(_) => {}
                Err(e) => return Err(format!("framing: {}", e.reason).into()),
            }
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            // Room for one more read: at least 4 KiB, and more for a buffer that has
            // needed more (up to 256 KiB). (`reserve(capacity)` doubled the buffer on
            // every read that left a partial message behind.)
            let want = self.buf.capacity().clamp(4096, 256 * 1024) / 2;
            if self.buf.capacity() - self.buf.len() < want {
                self.buf.reserve(want);
            }
            if self.rd.read_buf(&mut self.buf).await? == 0 {
                return Err("the peer closed the connection".into());
            }
        }
    }

    /// The bytes of a frame [`Conn::next_frame`] returned.
    pub(crate) fn frame(&self, r: std::ops::Range<usize>) -> &[u8] {
        self.buf.get(r).unwrap_or_default()
    }

    pub(crate) async fn next_msg(&mut self) -> Res<Message> {
        let r = self.next_frame().await?;
        let (m, _) = wire::decode(&self.buf[r], &self.ctx).map_err(|e| e.reason)?;
        Ok(m)
    }
}

// ===== helper functions =====

fn main() -> Res<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        match cli.mode {
            Mode::Send {
                common,
                prefixes,
                first,
                next_hop,
            } => send(&common, prefixes, first, next_hop).await,
            Mode::Recv { common, prefixes } => recv(&common, prefixes).await,
            Mode::Fleet(args) => fleet::run(args).await,
        }
    })
}

async fn send(c: &Common, n: u32, first: Ipv4Addr, next_hop: Option<Ipv4Addr>) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(c.timeout);
    let stream = transport(c, deadline).await?;
    let nh = match (next_hop, stream.local_addr()?.ip()) {
        (Some(a), _) | (None, IpAddr::V4(a)) => a,
        (None, IpAddr::V6(_)) => return Err("IPv4 next hop needed: give --next-hop".into()),
    };
    // Encode everything before the session comes up, so that the burst is a plain write.
    let t0 = Instant::now();
    let (bytes, updates) = encode_burst(c.asn, nh, first, n)?;
    let encode_secs = t0.elapsed().as_secs_f64();
    let mut conn = Conn::establish(stream, c).await?;
    print_established(&conn)?;
    let first_sent = unix_now();
    conn.wr.lock().await.write_all(&bytes).await?;
    let last_sent = unix_now();
    // RFC 4724 §2: End-of-RIB for IPv4 unicast is an UPDATE with nothing in it.
    conn.send(&Message::Update(UpdateMsg::default())).await?;
    let report = json!({
        "mode": "send", "prefixes": n, "updates": updates, "bytes": bytes.len(),
        "local": conn.local.to_string(), "encode_secs": encode_secs,
        "established": conn.established, "first_sent": first_sent, "last_sent": last_sent,
        "eor_sent": unix_now(), "cpu_secs": cpu_secs(), "complete": true,
    });
    print_line(&report)?;
    linger(&mut conn, c, deadline).await
}

/// N /24s from `first` with ORIGIN IGP, AS_PATH [asn] and NEXT_HOP `nh`, packed into
/// 4096-byte UPDATEs by `wire::pack`.
fn encode_burst(asn: u32, nh: Ipv4Addr, first: Ipv4Addr, n: u32) -> Res<(Vec<u8>, usize)> {
    let attrs = Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath {
            segments: vec![AsSegment {
                kind: SegmentKind::Sequence,
                asns: vec![asn],
            }],
        }),
        next_hop: Some(nh),
        ..Attrs::default()
    };
    let base = u32::from(first) >> 8;
    let prefixes: Vec<Nlri4> = (0..n)
        .map(|i| {
            let addr = base.wrapping_add(i) << 8;
            let prefix = Prefix4::new(addr, 24).ok_or("bad prefix")?;
            Ok(Nlri4 { path_id: 0, prefix })
        })
        .collect::<Res<_>>()?;
    let mut out = Vec::with_capacity(prefixes.len() * 4 + 64 * 1024);
    let updates = pack::announce4(&attrs, None, &prefixes, &Ctx::default(), &mut out)?;
    Ok((out, updates))
}

async fn recv(c: &Common, n: u32) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(c.timeout);
    let stream = transport(c, deadline).await?;
    let mut conn = Conn::establish(stream, c).await?;
    print_established(&conn)?;
    let mut held: HashSet<u64> = HashSet::with_capacity(n as usize);
    let (mut updates, mut withdrawn, mut first, mut sample) = (0u64, 0u64, None, None);
    let mut eor = None;
    let target = n as usize;
    let work = async {
        while held.len() < target {
            let m = conn.next_msg().await?;
            let Message::Update(u) = m else { continue };
            updates += 1;
            if u == UpdateMsg::default() {
                eor = Some(unix_now());
                continue;
            }
            for w in &u.withdrawn {
                withdrawn += u64::from(held.remove(&key(w)));
            }
            if !u.nlri.is_empty() {
                first.get_or_insert_with(unix_now);
                sample.get_or_insert_with(|| u.attrs.clone());
            }
            held.extend(u.nlri.iter().map(key));
        }
        Res::Ok(())
    };
    let done = tokio::time::timeout_at(deadline.into(), work).await;
    let last = unix_now();
    let complete = matches!(done, Ok(Ok(())));
    let report = json!({
        "mode": "recv", "prefixes": held.len(), "target": n, "withdrawn": withdrawn,
        "updates": updates, "local": conn.local.to_string(),
        "established": conn.established, "first_prefix": first, "last_prefix": last,
        "eor_received": eor, "cpu_secs": cpu_secs(), "complete": complete,
        "error": match &done { Ok(Err(e)) => Some(e.to_string()), Err(_) => Some("timeout".into()), _ => None },
        "sample_attrs": sample,
    });
    print_line(&report)?;
    if !complete {
        std::process::exit(2);
    }
    linger(&mut conn, c, deadline).await
}

/// Keep the session up, reading and dropping whatever the peer sends.
pub(crate) async fn linger(conn: &mut Conn, c: &Common, deadline: Instant) -> Res<()> {
    let until = match c.linger {
        Some(s) => Instant::now() + Duration::from_secs(s),
        None => deadline,
    };
    let drain = async {
        loop {
            conn.next_frame().await?;
        }
    };
    match tokio::time::timeout_at(until.into(), drain).await {
        Ok(r) => r,
        Err(_) => Ok(()),
    }
}

/// Connect (retrying every 100 ms) or accept one connection.
pub(crate) async fn transport(c: &Common, deadline: Instant) -> Res<TcpStream> {
    if let Some(l) = c.listen {
        let lis = TcpListener::bind(l).await?;
        let (s, _) = tokio::time::timeout_at(deadline.into(), lis.accept()).await??;
        return Ok(s);
    }
    let to = c.connect.ok_or("give --connect or --listen")?;
    loop {
        let sock = if to.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(l) = c.local {
            sock.bind(SocketAddr::new(l, 0))?;
        }
        match sock.connect(to).await {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Our OPEN: IPv4 unicast and the 4-octet AS capability (RFC 4760, RFC 6793).
pub(crate) fn open_msg(asn: u32, id: Ipv4Addr, hold: u16) -> OpenMsg {
    OpenMsg {
        version: 4,
        my_as: u16::try_from(asn).unwrap_or(wire::open::AS_TRANS),
        hold_time: hold,
        bgp_id: id,
        params: vec![OptParam::Capabilities(vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::FourOctetAs(asn),
        ])],
        extended_params: false,
    }
}

/// The peer's hold time, after checking its AS if asked.
pub(crate) fn check_peer(o: &OpenMsg, c: &Common) -> Res<u16> {
    let peer_as = wren::fsm::peer_asn(o);
    if let Some(want) = c.peer_as {
        if peer_as != want {
            return Err(format!("peer AS {peer_as}, expected {want}").into());
        }
    }
    Ok(o.hold_time)
}

pub(crate) fn key(n: &Nlri4) -> u64 {
    (u64::from(n.prefix.addr_u32()) << 8) | u64::from(n.prefix.len())
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// User + system CPU seconds of this process so far.
pub(crate) fn cpu_secs() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass and reads nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A first line for the harness: this side is up.
fn print_established(conn: &Conn) -> io::Result<()> {
    print_line(&json!({"event": "established", "at": conn.established}))
}

pub(crate) fn print_line(v: &serde_json::Value) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{v}")?;
    out.flush()
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn common(asn: u32) -> Common {
        Common {
            connect: None,
            listen: None,
            local: None,
            asn,
            peer_as: None,
            id: None,
            hold: 240,
            timeout: 10,
            linger: None,
        }
    }

    #[test]
    fn burst_is_full_updates_of_consecutive_slash_24s() {
        let nh = Ipv4Addr::new(198, 18, 1, 2);
        let (bytes, updates) = encode_burst(65001, nh, Ipv4Addr::new(16, 0, 0, 0), 2500).unwrap();
        let (mut pos, mut got, ctx) = (0, Vec::new(), Ctx::default());
        while pos < bytes.len() {
            let n = wire::frame_len(&bytes[pos..], &ctx).unwrap().unwrap();
            let (Message::Update(u), _) = wire::decode(&bytes[pos..pos + n], &ctx).unwrap() else {
                panic!("not an UPDATE");
            };
            assert_eq!(u.attrs.next_hop, Some(nh));
            assert_eq!(u.attrs.as_path.as_ref().unwrap().segments[0].asns, [65001]);
            got.extend(u.nlri);
            pos += n;
        }
        assert_eq!(updates, 3, "1013 /24s fit in one 4096-byte UPDATE");
        assert_eq!(got.len(), 2500);
        assert_eq!(got[0].prefix.addr(), Ipv4Addr::new(16, 0, 0, 0));
        assert_eq!(got[2499].prefix.addr(), Ipv4Addr::new(16, 9, 195, 0));
        assert!(got.iter().all(|n| n.prefix.len() == 24));
    }

    #[tokio::test]
    async fn two_loadgens_peer_over_loopback_and_pass_every_prefix() {
        let lis = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = lis.local_addr().unwrap();
        let (out, inc) = tokio::join!(TcpStream::connect(addr), lis.accept());
        let (mut a, mut b) = (common(65001), common(65002));
        a.peer_as = Some(65002);
        b.peer_as = Some(65001);
        let (sender, receiver) = tokio::join!(
            Conn::establish(out.unwrap(), &a),
            Conn::establish(inc.unwrap().0, &b)
        );
        let (sender, mut receiver) = (sender.unwrap(), receiver.unwrap());
        let (bytes, _) =
            encode_burst(65001, Ipv4Addr::LOCALHOST, Ipv4Addr::new(16, 0, 0, 0), 3000).unwrap();
        sender.wr.lock().await.write_all(&bytes).await.unwrap();
        let mut held = HashSet::new();
        while held.len() < 3000 {
            if let Message::Update(u) = receiver.next_msg().await.unwrap() {
                held.extend(u.nlri.iter().map(key));
            }
        }
        assert_eq!(held.len(), 3000);
    }

    #[test]
    fn a_wrong_peer_as_is_refused() {
        let mut c = common(65002);
        c.peer_as = Some(65001);
        let o = open_msg(65003, Ipv4Addr::new(198, 18, 0, 1), 90);
        assert!(check_peer(&o, &c).is_err());
        let o = open_msg(4_200_000_000, Ipv4Addr::new(198, 18, 0, 1), 90);
        c.peer_as = Some(4_200_000_000);
        assert_eq!(
            check_peer(&o, &c).unwrap(),
            90,
            "4-octet AS from the capability"
        );
    }
}
