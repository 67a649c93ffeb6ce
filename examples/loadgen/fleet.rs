//! `loadgen fleet`: many BGP sessions from one process, for the route-reflector fan-out,
//! mesh and churn benchmarks (proto-tests/bench/scenarios.sh).
//!
//! Session `i` binds `--local` + i, so C sessions need C addresses on the tester's side.
//! It advertises its /26 blocks (slot `i * B + j` of the block space that starts at
//! `--first-block`, B the largest block count), then counts the blocks it holds: its own
//! plus the ones the device under test (DUT) sends. With `--expect-all` (route-reflector
//! clients) a session is complete when it holds every block of every session.
//!
//! `--observer-local` adds one eBGP session that advertises nothing and counts every
//! block it receives: the DUT's routing table as seen from outside. `--flap-for S` then
//! flaps session 0's blocks (withdraw, re-announce half a period later) every
//! `--flap-every` seconds for S seconds once everything has converged, and reports how
//! long the observer took to see each change.
//!
//! JSON lines on stdout: `{"event":"converged",...}` once done (with every timestamp),
//! `{"event":"churn",...}` after the flaps, and `{"mode":"fleet",...}` last.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, watch, Mutex, Semaphore};
use wren::wire::{
    self, pack, AsPath, AsSegment, Attrs, Ctx, Message, Nlri4, Origin, Prefix4, SegmentKind,
    UpdateMsg,
};

use super::{cpu_secs, print_line, transport, unix_now, Common, Conn, Res};

/// Connections that had to be made again (see `connect_up`).
static RETRIES: AtomicU32 = AtomicU32::new(0);

#[derive(Args)]
pub struct FleetArgs {
    /// `--local` is session 0's address; session i uses the i-th address after it.
    #[command(flatten)]
    common: Common,
    #[arg(long, default_value_t = 1000)]
    sessions: u32,
    /// /26 blocks per session: "2", or "1-2" (session i advertises 1 + i % 2).
    #[arg(long, default_value = "2")]
    blocks: String,
    #[arg(long, default_value = "16.0.0.0")]
    first_block: Ipv4Addr,
    /// Each session is done when it holds every block (route-reflector clients).
    #[arg(long)]
    expect_all: bool,
    /// An extra eBGP session from this address that counts every block.
    #[arg(long)]
    observer_local: Option<Ipv4Addr>,
    #[arg(long, default_value_t = 65099)]
    observer_asn: u32,
    /// Sessions connecting (TCP and OPEN) at the same time. Many more at once overflow a
    /// daemon's listen queue, and the kernel's SYN retries (1 s, 3 s, 7 s, ...) then
    /// dominate the time.
    #[arg(long, default_value_t = 32)]
    connect_concurrency: usize,
    /// Sessions advertise only once all are up, in one burst (steadier work counts for
    /// the CI guard than sessions advertising while others connect).
    #[arg(long)]
    burst: bool,
    /// Where the observer connects (default: `--connect`).
    #[arg(long)]
    observer_connect: Option<std::net::SocketAddr>,
    /// Flap session 0's blocks for this many seconds once converged (needs the observer).
    #[arg(long, default_value_t = 0)]
    flap_for: u64,
    #[arg(long, default_value_t = 1.0)]
    flap_every: f64,
    /// Seconds to wait after convergence before the first flap.
    #[arg(long, default_value_t = 1)]
    flap_after: u64,
}

/// What the session tasks tell the controller.
enum Event {
    /// Session, when it came up, how long from its connect to up (s), its writer.
    Up(u32, f64, f64, Arc<Mutex<OwnedWriteHalf>>),
    Sent(f64),
    Complete(f64),
    Failed(u32, String),
}

/// The block space: slot `i * stride + j` is session i's j-th /26.
#[derive(Clone, Copy)]
struct Layout {
    first: u32,
    lo: u32,
    hi: u32,
    sessions: u32,
}

/// Which slots a session holds.
struct Held {
    bits: Vec<u64>,
    count: u32,
}

/// First/last timestamps of one kind of event.
#[derive(Default)]
struct Span {
    n: u32,
    first: Option<f64>,
    last: Option<f64>,
}

// ===== impl Layout =====

impl Layout {
    fn parse(a: &FleetArgs) -> Res<Layout> {
        let (lo, hi) = match a.blocks.split_once('-') {
            Some((l, h)) => (l.parse()?, h.parse()?),
            None => (a.blocks.parse()?, a.blocks.parse()?),
        };
        if lo == 0 || lo > hi || a.sessions == 0 {
            return Err("--blocks A[-B] with 1 <= A <= B, and --sessions >= 1".into());
        }
        let slots = u64::from(a.sessions) * u64::from(hi) * 64;
        if u64::from(u32::from(a.first_block)) + slots > 1 << 32 {
            return Err("the block space does not fit after --first-block".into());
        }
        Ok(Layout {
            first: u32::from(a.first_block),
            lo,
            hi,
            sessions: a.sessions,
        })
    }

    fn slots(&self) -> u32 {
        self.sessions * self.hi
    }

    fn count_of(&self, i: u32) -> u32 {
        self.lo + i % (self.hi - self.lo + 1)
    }

    /// The sum of [`Layout::count_of`] over the sessions, in O(1): every client's loop
    /// compares against it after each UPDATE (summing there made the tester its own
    /// bottleneck at 1000 clients: 90 % of its CPU).
    fn total(&self) -> u32 {
        let m = self.hi - self.lo + 1;
        let (full, rem) = (self.sessions / m, self.sessions % m);
        self.sessions * self.lo + full * (m * (m - 1) / 2) + rem * rem.saturating_sub(1) / 2
    }

    fn blocks_of(&self, i: u32) -> Vec<Nlri4> {
        (0..self.count_of(i))
            .filter_map(|j| Prefix4::new(self.first + (i * self.hi + j) * 64, 26))
            .map(|prefix| Nlri4 { path_id: 0, prefix })
            .collect()
    }

    /// The slot of a received prefix, if it is one of ours.
    fn slot(&self, n: &Nlri4) -> Option<u32> {
        let off = n.prefix.addr_u32().wrapping_sub(self.first);
        (n.prefix.len() == 26 && off % 64 == 0 && off / 64 < self.slots()).then_some(off / 64)
    }
}

// ===== impl Held =====

impl Held {
    fn new(slots: u32) -> Held {
        Held {
            bits: vec![0; slots.div_ceil(64) as usize],
            count: 0,
        }
    }

    fn set(&mut self, s: u32, on: bool) {
        let (w, b) = ((s / 64) as usize, 1u64 << (s % 64));
        let Some(word) = self.bits.get_mut(w) else {
            return;
        };
        if (*word & b != 0) != on {
            *word ^= b;
            if on {
                self.count += 1;
            } else {
                self.count -= 1;
            }
        }
    }

    /// Apply one framed UPDATE (RFC 4271 §4.3, IPv4 without ADD-PATH) straight from its
    /// bytes: only the withdrawn routes and the NLRI matter here, and a full decode of
    /// a million reflected UPDATEs made the tester the busiest process of the bench.
    /// `None`: not a well-formed UPDATE of that kind.
    fn apply_raw(&mut self, frame: &[u8], l: &Layout) -> Option<bool> {
        let before = self.count;
        let body = frame.get(19..)?;
        let wlen = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
        let withdrawn = body.get(2..2 + wlen)?;
        let rest = body.get(2 + wlen..)?;
        let alen = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
        let nlri = rest.get(2 + alen..)?;
        for (bytes, on) in [(withdrawn, false), (nlri, true)] {
            for n in prefixes4(bytes)? {
                if let Some(s) = l.slot(&n) {
                    self.set(s, on);
                }
            }
        }
        Some(before != self.count)
    }

    /// Apply one UPDATE; true when the count changed.
    #[cfg(test)]
    fn apply(&mut self, u: &UpdateMsg, l: &Layout) -> bool {
        let before = self.count;
        for s in u.withdrawn.iter().filter_map(|n| l.slot(n)) {
            self.set(s, false);
        }
        for s in u.nlri.iter().filter_map(|n| l.slot(n)) {
            self.set(s, true);
        }
        before != self.count
    }
}

// ===== impl Span =====

impl Span {
    fn add(&mut self, at: f64) {
        self.n += 1;
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
    }
}

// ===== helper functions =====

/// p50, p90 and max of `v` (connect to Established per session: where bring-up waits).
fn quantiles(v: &mut [f64]) -> serde_json::Value {
    if v.is_empty() {
        return serde_json::Value::Null;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    json!({"p50": at(0.5), "p90": at(0.9), "max": at(1.0)})
}

pub async fn run(a: FleetArgs) -> Res<()> {
    let started = unix_now();
    let layout = Layout::parse(&a)?;
    let deadline = Instant::now() + Duration::from_secs(a.common.timeout);
    let first_local = match a.common.local {
        Some(IpAddr::V4(l)) => u32::from(l),
        _ => return Err("fleet needs --local IPv4 (session 0's address)".into()),
    };
    if a.flap_for > 0 && a.observer_local.is_none() {
        return Err("--flap-for needs --observer-local".into());
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(a.connect_concurrency.max(1)));
    let (go_tx, go) = watch::channel(!a.burst);
    for i in 0..a.sessions {
        let mut c = a.common.clone();
        c.local = Some(IpAddr::V4(Ipv4Addr::from(first_local + i)));
        let (tx, all, gate, go) = (tx.clone(), a.expect_all, Arc::clone(&gate), go.clone());
        tokio::spawn(async move {
            if let Err(e) = session(i, c, layout, all, (deadline, &gate, go), &tx).await {
                let _ = tx.send(Event::Failed(i, e.to_string()));
            }
        });
    }
    let observer = a.observer_local.map(|l| {
        let (otx, orx) = watch::channel((0u32, 0.0f64, None::<f64>));
        let mut c = a.common.clone();
        (c.local, c.asn) = (Some(IpAddr::V4(l)), a.observer_asn);
        c.connect = a.observer_connect.or(c.connect);
        tokio::spawn(async move {
            if let Err(e) = observe(c, layout, deadline, otx).await {
                eprintln!("loadgen fleet: observer: {e}");
                std::process::exit(2);
            }
        });
        orx
    });
    let mut spans = [Span::default(), Span::default(), Span::default()];
    let mut flapper = None;
    let mut establish: Vec<f64> = Vec::new();
    let need = if a.expect_all { a.sessions } else { 0 };
    let wait = async {
        while spans[0].n < a.sessions || spans[1].n < a.sessions || spans[2].n < need {
            match rx.recv().await.ok_or("all sessions ended")? {
                Event::Up(i, at, took, wr) => {
                    spans[0].add(at);
                    establish.push(took);
                    if spans[0].n == a.sessions {
                        go_tx.send_replace(true);
                    }
                    if i == 0 {
                        flapper = Some(wr);
                    }
                }
                Event::Sent(at) => spans[1].add(at),
                Event::Complete(at) => spans[2].add(at),
                Event::Failed(i, e) => return Err(format!("session {i}: {e}").into()),
            }
        }
        if let Some(o) = &observer {
            let mut o = o.clone();
            o.wait_for(|v| v.0 == layout.total()).await?;
        }
        Res::Ok(())
    };
    let done = tokio::time::timeout_at(deadline.into(), wait).await;
    let (obs_count, obs_last, obs_first) = observer.as_ref().map_or((0, None, None), |o| {
        let v = *o.borrow();
        (v.0, (v.1 > 0.0).then_some(v.1), v.2)
    });
    let converged = json!({
        "event": "converged", "sessions": a.sessions, "blocks": layout.total(),
        "started": started, "first_up": spans[0].first, "all_up": spans[0].last,
        "first_sent": spans[1].first, "all_sent": spans[1].last,
        "complete_sessions": spans[2].n, "first_complete": spans[2].first,
        "last_complete": spans[2].last, "observer_blocks": obs_count,
        "observer_first": obs_first, "observer_last": obs_last, "cpu_secs": cpu_secs(),
        "retries": RETRIES.load(Ordering::Relaxed),
        "establish_secs": quantiles(&mut establish),
        "error": match &done { Ok(Err(e)) => Some(e.to_string()), Err(_) => Some("timeout".into()), _ => None },
    });
    print_line(&converged)?;
    if !matches!(done, Ok(Ok(()))) {
        std::process::exit(2);
    }
    if let (Some(o), Some(wr)) = (observer, flapper) {
        if a.flap_for > 0 {
            tokio::time::sleep(Duration::from_secs(a.flap_after)).await;
            churn(&a, layout, o, wr).await?;
        }
    }
    print_line(&json!({"mode": "fleet", "complete": true, "cpu_secs": cpu_secs()}))?;
    let until = Instant::now() + Duration::from_secs(a.common.linger.unwrap_or(a.common.timeout));
    tokio::time::sleep_until(until.into()).await;
    Ok(())
}

/// One client session: up, advertise, count until it holds everything (or forever).
async fn session(
    i: u32,
    c: Common,
    l: Layout,
    expect_all: bool,
    (deadline, gate, mut go): (Instant, &Semaphore, watch::Receiver<bool>),
    tx: &mpsc::UnboundedSender<Event>,
) -> Res<()> {
    let bytes = encode_blocks(&c, &l.blocks_of(i), true)?;
    let permit = gate.acquire().await?;
    let t0 = unix_now();
    let mut conn = connect_up(&c, deadline, 16 * 1024).await?;
    drop(permit);
    let took = conn.established - t0;
    let _ = tx.send(Event::Up(i, conn.established, took, Arc::clone(&conn.wr)));
    go.wait_for(|go| *go).await?;
    conn.wr.lock().await.write_all(&bytes).await?;
    let _ = tx.send(Event::Sent(unix_now()));
    let mut held = Held::new(l.slots());
    for s in l.blocks_of(i).iter().filter_map(|n| l.slot(n)) {
        held.set(s, true);
    }
    let mut done = !expect_all;
    loop {
        let r = conn.next_frame().await?;
        let frame = conn.frame(r);
        // Only UPDATEs (type 2) count; a NOTIFICATION ends the session with a close.
        if frame.get(18) != Some(&2) {
            continue;
        }
        let changed = held.apply_raw(frame, &l).ok_or("a malformed UPDATE")?;
        if changed && !done && held.count == l.total() {
            done = true;
            let _ = tx.send(Event::Complete(unix_now()));
        }
    }
}

/// Connect and establish, again after 250 ms when the DUT refuses or resets the
/// connection (a daemon may accept connections before its peers are ready), until
/// `deadline`. Retries are counted in `RETRIES`.
async fn connect_up(c: &Common, deadline: Instant, cap: usize) -> Res<Conn> {
    loop {
        // Errors become Strings at once: a boxed error is not Send across an await.
        let up = transport(c, deadline).await.map_err(|e| e.to_string());
        let e = match up {
            Ok(stream) => match Conn::establish_sized(stream, c, cap).await {
                Ok(conn) => return Ok(conn),
                Err(e) => e.to_string(),
            },
            Err(e) => e,
        };
        if Instant::now() >= deadline {
            return Err(e.into());
        }
        RETRIES.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The observer: counts every block it holds; publishes (count, last change, first block).
async fn observe(
    c: Common,
    l: Layout,
    deadline: Instant,
    out: watch::Sender<(u32, f64, Option<f64>)>,
) -> Res<()> {
    let mut conn = connect_up(&c, deadline, 256 * 1024).await?;
    let mut held = Held::new(l.slots());
    let mut first = None;
    loop {
        let r = conn.next_frame().await?;
        let frame = conn.frame(r);
        if frame.get(18) != Some(&2) {
            continue;
        }
        if held.apply_raw(frame, &l).ok_or("a malformed UPDATE")? {
            let now = unix_now();
            first.get_or_insert(now);
            out.send_replace((held.count, now, first));
        }
    }
}

/// Withdraw and re-announce session 0's blocks every `flap_every` s; time the observer.
async fn churn(
    a: &FleetArgs,
    l: Layout,
    mut obs: watch::Receiver<(u32, f64, Option<f64>)>,
    wr: Arc<Mutex<OwnedWriteHalf>>,
) -> Res<()> {
    let mine = l.blocks_of(0);
    let mut c = a.common.clone();
    c.local = a.common.local;
    let announce = encode_blocks(&c, &mine, false)?;
    let mut withdraw = Vec::new();
    pack::withdraw4(&mine, &Ctx::default(), &mut withdraw)?;
    let (total, k) = (l.total(), mine.len() as u32);
    let cpu0 = cpu_secs();
    let (t_start, mut down, mut up) = (Instant::now(), Vec::new(), Vec::new());
    let period = Duration::from_secs_f64(a.flap_every);
    let limit = Duration::from_secs(10);
    let mut n = 0u32;
    while t_start.elapsed() < Duration::from_secs(a.flap_for) {
        let tick = t_start + period * n;
        tokio::time::sleep_until(tick.into()).await;
        for (bytes, want, out) in [
            (&withdraw, total - k, &mut down),
            (&announce, total, &mut up),
        ] {
            let t0 = unix_now();
            wr.lock().await.write_all(bytes).await?;
            tokio::time::timeout(limit, obs.wait_for(|v| v.0 == want)).await??;
            out.push(obs.borrow().1 - t0);
            tokio::time::sleep_until((tick + period / 2).into()).await;
        }
        n += 1;
    }
    print_line(&json!({
        "event": "churn", "flaps": n, "withdraw_secs": down, "announce_secs": up,
        "cpu_secs": cpu_secs() - cpu0,
    }))?;
    Ok(())
}

/// The IPv4 prefixes of a withdrawn-routes or NLRI field (RFC 4271 §4.3); `None` when
/// a length runs past the end or over /32.
fn prefixes4(mut b: &[u8]) -> Option<Vec<Nlri4>> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = b.split_first() {
        let n = usize::from(len).div_ceil(8);
        let bytes = rest.get(..n)?;
        let mut a = [0u8; 4];
        a.get_mut(..n)?.copy_from_slice(bytes);
        let prefix = Prefix4::new(u32::from_be_bytes(a), len)?;
        out.push(Nlri4 { path_id: 0, prefix });
        b = rest.get(n..)?;
    }
    Some(out)
}

/// UPDATEs announcing `blocks` from this session (iBGP unless `--peer-as` differs from
/// `--asn`), optionally followed by End-of-RIB (RFC 4724 §2).
fn encode_blocks(c: &Common, blocks: &[Nlri4], eor: bool) -> Res<Vec<u8>> {
    let Some(IpAddr::V4(nh)) = c.local else {
        return Err("IPv4 --local needed".into());
    };
    let ebgp = c.peer_as.is_some_and(|p| p != c.asn);
    let attrs = Attrs {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath {
            segments: if ebgp {
                vec![AsSegment {
                    kind: SegmentKind::Sequence,
                    asns: vec![c.asn],
                }]
            } else {
                Vec::new()
            },
        }),
        next_hop: Some(nh),
        // RFC 4271 §5.1.5: LOCAL_PREF goes to internal peers only.
        local_pref: (!ebgp).then_some(100),
        ..Attrs::default()
    };
    let mut out = Vec::with_capacity(256);
    pack::announce4(&attrs, None, blocks, &Ctx::default(), &mut out)?;
    if eor {
        out.extend(wire::encode_to_vec(
            &Message::Update(UpdateMsg::default()),
            &Ctx::default(),
        )?);
    }
    Ok(out)
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(sessions: u32, lo: u32, hi: u32) -> Layout {
        Layout {
            first: u32::from(Ipv4Addr::new(16, 0, 0, 0)),
            lo,
            hi,
            sessions,
        }
    }

    #[test]
    fn mixed_block_counts_alternate_and_map_back_to_their_slots() {
        let l = layout(5, 1, 2);
        assert_eq!(l.total(), 1 + 2 + 1 + 2 + 1);
        for (n, lo, hi) in [(1, 1, 1), (7, 1, 3), (1000, 2, 2), (999, 1, 2), (10, 2, 5)] {
            let l = layout(n, lo, hi);
            let summed: u32 = (0..n).map(|i| l.count_of(i)).sum();
            assert_eq!(l.total(), summed, "{n} sessions, {lo}-{hi} blocks");
        }
        let b3 = l.blocks_of(3);
        assert_eq!(b3.len(), 2);
        assert_eq!(
            b3[0].prefix.addr(),
            Ipv4Addr::new(16, 0, 1, 128),
            "slot 6 * 64"
        );
        assert_eq!(l.slot(&b3[1]), Some(7));
        let outside = Nlri4 {
            path_id: 0,
            prefix: Prefix4::new(u32::from(Ipv4Addr::new(16, 0, 2, 128)), 26).unwrap(),
        };
        assert_eq!(l.slot(&outside), None, "slot 10 is past the last");
    }

    #[test]
    fn held_counts_announcements_and_withdrawals_once() {
        let l = layout(3, 2, 2);
        let mut h = Held::new(l.slots());
        let u = UpdateMsg {
            nlri: l.blocks_of(1),
            ..UpdateMsg::default()
        };
        assert!(h.apply(&u, &l));
        assert!(!h.apply(&u, &l), "a repeat changes nothing");
        assert_eq!(h.count, 2);
        let w = UpdateMsg {
            withdrawn: l.blocks_of(1)[..1].to_vec(),
            ..UpdateMsg::default()
        };
        assert!(h.apply(&w, &l));
        assert_eq!(h.count, 1);
    }

    #[test]
    fn raw_updates_count_like_decoded_ones() {
        let l = layout(3, 2, 2);
        let mut h = Held::new(l.slots());
        let u = UpdateMsg {
            withdrawn: l.blocks_of(0)[..1].to_vec(),
            attrs: wire::Attrs {
                origin: Some(Origin::Igp),
                next_hop: Some(Ipv4Addr::new(198, 18, 0, 1)),
                ..wire::Attrs::default()
            },
            nlri: l.blocks_of(2),
            ..UpdateMsg::default()
        };
        let bytes = wire::encode_to_vec(&Message::Update(u), &Ctx::default()).unwrap();
        h.set(0, true);
        assert_eq!(h.apply_raw(&bytes, &l), Some(true));
        assert_eq!(h.count, 2, "slot 0 withdrawn, slots 4 and 5 announced");
        assert_eq!(h.apply_raw(&bytes, &l), Some(false));
        assert_eq!(h.apply_raw(&bytes[..bytes.len() - 1], &l), None);
    }
}
