//! FSM scripts: every `proto-tests/fsm/**/*.fsm` file drives one or more
//! [`wren::fsm::Session`]s with events, and lists under each event every action it must
//! produce, in order. The format is described in `proto-tests/fsm/README.md`.
//!
//! Every failure of every script is collected and reported together, each with the
//! file, the line, the expected and the actual action lists.
//! `WREN_FSM_PRINT=1 cargo test --test fsm_scripts -- --nocapture` prints the actual
//! transcript of every script (handy when writing a new one; review it against the RFC,
//! never paste it blindly).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wren::fsm::{
    resolve_collision, Action, ConnDirection, DownReason, Event, Negotiated, RemoteAs, Session,
    SessionCfg, State, Timer,
};
use wren::wire::capability::{AddPathFamily, AddPathMode, ExtNextHop, GrFamily, GracefulRestart};
use wren::wire::{
    hex, Capability, Family, Message, NotificationMsg, OpenMsg, OptParam, RouteRefreshMsg,
    UpdateMsg, WireError,
};

/// Issue 3 asks for every state × event, every timer and the collision cases.
const MIN_SCRIPTS: usize = 40;
/// The session a line without `@NAME` drives.
const MAIN: &str = "main";

/// What the peer's OPEN carries unless a `peer` line or `recv open` says otherwise.
#[derive(Debug, Clone)]
struct PeerOpen {
    version: u8,
    asn: u32,
    my_as: Option<u16>,
    hold: u16,
    id: Ipv4Addr,
    /// `None`: the 4-octet AS capability and IPv4 unicast.
    caps: Option<String>,
}

/// One event (or collision check) and what it must do.
struct Step {
    line: usize,
    text: String,
    cfg: SessionCfg,
    actual: Vec<Actual>,
    expected: Vec<String>,
}

/// An action from the FSM, or the outcome of a `collide` line.
// Test-only values, a handful per step: not worth a Box.
#[allow(clippy::large_enum_variant)]
enum Actual {
    Fsm(Action),
    Text(String),
}

/// The state of one script while it runs.
struct Runner {
    name: String,
    base_cfg: SessionCfg,
    peer: PeerOpen,
    sessions: BTreeMap<String, (SessionCfg, Session)>,
    base: Instant,
    now: Duration,
    pending: Option<Step>,
    steps: usize,
    /// The last event line was wrong: its action lines are skipped, not reported again.
    skipping: bool,
    failures: Vec<String>,
    transcript: String,
}

// ===== impl Runner =====

impl Runner {
    fn new(name: &str) -> Runner {
        Runner {
            name: name.to_string(),
            base_cfg: default_cfg(),
            peer: PeerOpen {
                version: 4,
                asn: 65001,
                my_as: None,
                hold: 90,
                id: Ipv4Addr::new(198, 18, 0, 2),
                caps: None,
            },
            sessions: BTreeMap::new(),
            base: Instant::now(),
            now: Duration::ZERO,
            pending: None,
            steps: 0,
            skipping: false,
            failures: Vec::new(),
            transcript: String::new(),
        }
    }

    fn fail(&mut self, line: usize, msg: impl AsRef<str>) {
        self.failures
            .push(format!("{}:{line}: {}", self.name, msg.as_ref()));
    }

    /// One line of the script.
    fn line(&mut self, n: usize, raw: &str) -> Result<(), String> {
        let text = strip_comment(raw);
        if text.trim().is_empty() {
            return Ok(());
        }
        if text.starts_with(char::is_whitespace) {
            let Some(step) = self.pending.as_mut() else {
                if self.skipping {
                    return Ok(());
                }
                return Err("an expected action with no event above it".into());
            };
            step.expected.push(text.trim().to_string());
            return Ok(());
        }
        self.finish_step();
        self.skipping = true;
        let (word, rest) = split_word(text.trim());
        match word {
            "config" => self.config(rest),
            "peer" => parse_peer_open(&mut self.peer, rest),
            "session" => self.new_session(rest),
            "expect" => self.expect(rest),
            "collide" => self.collide(n, text.trim(), rest),
            _ => self.event_line(n, text.trim()),
        }?;
        self.skipping = false;
        Ok(())
    }

    fn config(&mut self, rest: &str) -> Result<(), String> {
        if !self.sessions.is_empty() {
            return Err("config after the first event: use `session NAME key=value`".into());
        }
        apply_cfg(&mut self.base_cfg, rest)
    }

    fn new_session(&mut self, rest: &str) -> Result<(), String> {
        let (name, overrides) = split_word(rest);
        let name = name.trim_start_matches('@');
        if name.is_empty() || self.sessions.contains_key(name) {
            return Err(format!("session needs a new name, got {name:?}"));
        }
        let mut cfg = self.base_cfg.clone();
        apply_cfg(&mut cfg, overrides)?;
        self.sessions
            .insert(name.to_string(), (cfg.clone(), Session::new(cfg)));
        Ok(())
    }

    /// The session a line names (`@NAME`), created from the base config on first use.
    fn session(&mut self, name: &str) -> &mut (SessionCfg, Session) {
        let cfg = self.base_cfg.clone();
        self.sessions
            .entry(name.to_string())
            .or_insert_with(|| (cfg.clone(), Session::new(cfg)))
    }

    /// `[t=SECONDS] [@NAME] EVENT ...` or `[@NAME] goto STATE`.
    fn event_line(&mut self, n: usize, text: &str) -> Result<(), String> {
        let mut rest = text;
        if let Some(t) = rest.strip_prefix("t=") {
            let (secs, r) = split_word(t);
            let at = parse_secs(secs)?;
            if at < self.now {
                return Err(format!("time goes backwards: t={secs}"));
            }
            self.now = at;
            rest = r;
        }
        let mut who = MAIN.to_string();
        if let Some(r) = rest.strip_prefix('@') {
            let (name, r) = split_word(r);
            who = name.to_string();
            rest = r;
        }
        if let Some(target) = rest.strip_prefix("goto ") {
            return self.goto(&who, target.trim());
        }
        let event = parse_event(rest, &self.peer)?;
        let now = self.base + self.now;
        let (cfg, session) = self.session(&who);
        let cfg = cfg.clone();
        let actual = session.handle(now, event);
        let actual = actual.into_iter().map(Actual::Fsm).collect();
        self.start_step(n, text, cfg, actual);
        Ok(())
    }

    /// Drive a fresh session to `target` along the standard path, checking only the state
    /// (the path itself is asserted step by step in `happy/`).
    fn goto(&mut self, who: &str, target: &str) -> Result<(), String> {
        let target = parse_state(target)?;
        let peer = self.peer.clone();
        let now = self.base + self.now;
        let (cfg, s) = self.session(who);
        if s.state() != State::Idle {
            return Err(format!("goto from {:?}: only from Idle", s.state()));
        }
        let path: Vec<Event> = match target {
            State::Idle => vec![],
            State::Connect if !cfg.passive => vec![Event::Start],
            State::Active if cfg.passive => vec![Event::Start],
            State::Active => vec![Event::Start, Event::TcpFailed("connection refused".into())],
            State::OpenSent => vec![Event::Start, Event::TcpConnected],
            State::OpenConfirm => vec![Event::Start, Event::TcpConnected, recv_open(&peer, "")?],
            State::Established => vec![
                Event::Start,
                Event::TcpConnected,
                recv_open(&peer, "")?,
                Event::Recv(Message::Keepalive),
            ],
            State::Connect => return Err("a passive session never goes to Connect".into()),
        };
        for e in path {
            s.handle(now, e);
        }
        if s.state() != target {
            return Err(format!("goto {target:?} ended in {:?}", s.state()));
        }
        Ok(())
    }

    /// `collide [local-id=A] [remote-id=B] [local-as=X] [remote-as=Y]`: RFC 4271 §6.8.
    fn collide(&mut self, n: usize, text: &str, rest: &str) -> Result<(), String> {
        let (mut lid, mut rid) = (self.base_cfg.local_id, self.peer.id);
        let (mut las, mut ras) = (self.base_cfg.local_as, self.peer.asn);
        for (k, v) in key_values(rest)? {
            match k {
                "local-id" => lid = parse_ip(v)?,
                "remote-id" => rid = parse_ip(v)?,
                "local-as" => las = parse_num(v)?,
                "remote-as" => ras = parse_num(v)?,
                _ => return Err(format!("collide: unknown key {k:?}")),
            }
        }
        let keep = match resolve_collision(lid, rid, las, ras) {
            ConnDirection::Outbound => "keep outbound",
            ConnDirection::Inbound => "keep inbound",
        };
        let cfg = self.base_cfg.clone();
        self.start_step(n, text, cfg, vec![Actual::Text(keep.into())]);
        Ok(())
    }

    /// `expect [@NAME] state S | since T | last-down D | negotiated N`.
    fn expect(&mut self, rest: &str) -> Result<(), String> {
        let (mut what, mut arg) = split_word(rest);
        let mut who = MAIN.to_string();
        if let Some(name) = what.strip_prefix('@') {
            who = name.to_string();
            (what, arg) = split_word(arg);
        }
        let base = self.base;
        let (_, s) = self.session(&who);
        let (got, want) = match what {
            "state" => (render_state(s.state()), render_state(parse_state(arg)?)),
            "since" => (
                s.since().map_or("never".into(), |t| render_dur(t - base)),
                render_dur(parse_secs(arg)?),
            ),
            "last-down" => (
                s.last_down().map_or("none".into(), |(_, r)| render_down(r)),
                arg.to_string(),
            ),
            "negotiated" => (
                s.negotiated().map_or("none".into(), render_negotiated),
                arg.to_string(),
            ),
            _ => return Err(format!("unknown expectation {what:?}")),
        };
        if got != want {
            return Err(format!("expect {what}: want `{want}`, got `{got}`"));
        }
        Ok(())
    }

    fn start_step(&mut self, line: usize, text: &str, cfg: SessionCfg, actual: Vec<Actual>) {
        let _ = writeln!(self.transcript, "{text}");
        for a in &actual {
            let _ = writeln!(self.transcript, "  {}", render_actual(a));
        }
        if actual.is_empty() {
            let _ = writeln!(self.transcript, "  nothing");
        }
        self.pending = Some(Step {
            line,
            text: text.to_string(),
            cfg,
            actual,
            expected: Vec::new(),
        });
    }

    /// Compare the pending step's actions with the expected lines.
    fn finish_step(&mut self) {
        let Some(step) = self.pending.take() else {
            return;
        };
        self.steps += 1;
        if let Err(e) = check_step(&step) {
            self.fail(step.line, e);
        }
    }
}

// ===== helper functions =====

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("proto-tests/fsm")
}

fn script_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![scripts_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d)
            .expect("read proto-tests/fsm")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "fsm") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn run_script(name: &str, text: &str) -> Runner {
    let mut r = Runner::new(name);
    for (i, raw) in text.lines().enumerate() {
        if let Err(e) = r.line(i + 1, raw) {
            r.fail(i + 1, e);
        }
    }
    r.finish_step();
    if r.steps == 0 && r.failures.is_empty() {
        r.fail(
            0,
            "no step: a script needs at least one event with its actions",
        );
    }
    r
}

/// The session most scripts use (as in `src/fsm/tests.rs`).
fn default_cfg() -> SessionCfg {
    SessionCfg {
        local_as: 64512,
        local_id: Ipv4Addr::new(198, 18, 0, 1),
        remote_as: RemoteAs::Exact(65001),
        passive: false,
        hold_time: 90,
        keepalive: None,
        connect_retry: Duration::from_secs(5),
        connect_retry_max: Duration::from_secs(120),
        capabilities: parse_caps("mp:ipv4-unicast,mp:ipv6-unicast,rr,as4", 64512)
            .expect("default capabilities"),
        jitter_seed: 42,
    }
}

fn check_step(step: &Step) -> Result<(), String> {
    if step.expected.is_empty() {
        return Err(format!(
            "`{}` has no expected actions (write `nothing` for none)",
            step.text
        ));
    }
    let expected: Vec<&str> = if step.expected == ["nothing"] {
        Vec::new()
    } else {
        step.expected.iter().map(String::as_str).collect()
    };
    let mut ok = expected.len() == step.actual.len();
    for (e, a) in expected.iter().zip(&step.actual) {
        ok &= match_action(e, a, &step.cfg)?;
    }
    if ok {
        return Ok(());
    }
    let mut msg = format!("`{}`: actions differ\n  expected:", step.text);
    for e in &expected {
        let _ = write!(msg, "\n    {e}");
    }
    msg.push_str("\n  actual:");
    for a in &step.actual {
        let _ = write!(msg, "\n    {}", render_actual(a));
    }
    Err(msg)
}

/// Does `actual` match the expected line? Errors are script mistakes.
fn match_action(expected: &str, actual: &Actual, cfg: &SessionCfg) -> Result<bool, String> {
    if let (Some(rest), Actual::Fsm(Action::Arm(t, d))) = (expected.strip_prefix("arm "), actual) {
        let (timer, dur) = split_word(rest);
        if dur.contains("..") {
            return Ok(timer == render_timer(*t) && match_duration(dur, *d)?);
        }
    }
    if expected == "send open" {
        let want = Action::Send(Message::Open(expected_open(cfg)));
        return Ok(matches!(actual, Actual::Fsm(a) if *a == want));
    }
    Ok(render_actual(actual) == expected)
}

/// `A..B` (inclusive) against a duration.
fn match_duration(range: &str, d: Duration) -> Result<bool, String> {
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| format!("not a range: {range:?}"))?;
    Ok(parse_secs(lo)? <= d && d <= parse_secs(hi)?)
}

/// Our OPEN as RFC 4271 §4.2 and RFC 6793 §3 describe it, built here independently of
/// `fsm::our_open`: AS_TRANS in My AS for a 4-octet AS, capabilities as configured.
fn expected_open(cfg: &SessionCfg) -> OpenMsg {
    OpenMsg {
        version: 4,
        my_as: u16::try_from(cfg.local_as).unwrap_or(23456),
        hold_time: cfg.hold_time,
        bgp_id: cfg.local_id,
        params: vec![OptParam::Capabilities(cfg.capabilities.clone())],
        extended_params: false,
    }
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    line.split_once(" # ").map_or(line, |(a, _)| a).trim_end()
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    s.split_once(char::is_whitespace)
        .map_or((s, ""), |(a, b)| (a, b.trim()))
}

fn key_values(s: &str) -> Result<Vec<(&str, &str)>, String> {
    s.split_whitespace()
        .map(|kv| {
            Ok(match kv.split_once('=') {
                Some(p) => p,
                None => (kv, "true"),
            })
        })
        .collect()
}

fn parse_num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("not a number: {v:?}"))
}

fn parse_ip(v: &str) -> Result<Ipv4Addr, String> {
    v.parse().map_err(|_| format!("not an IPv4 address: {v:?}"))
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("not true/false: {v:?}")),
    }
}

/// `5`, `5s`, `1.5s`, `500ms`.
fn parse_secs(v: &str) -> Result<Duration, String> {
    let bad = || format!("not a duration: {v:?}");
    if let Some(ms) = v.strip_suffix("ms") {
        return ms.parse().map(Duration::from_millis).map_err(|_| bad());
    }
    let secs: f64 = v
        .strip_suffix('s')
        .unwrap_or(v)
        .parse()
        .map_err(|_| bad())?;
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

fn parse_state(s: &str) -> Result<State, String> {
    Ok(match s {
        "idle" => State::Idle,
        "connect" => State::Connect,
        "active" => State::Active,
        "opensent" => State::OpenSent,
        "openconfirm" => State::OpenConfirm,
        "established" => State::Established,
        _ => return Err(format!("unknown state {s:?}")),
    })
}

fn parse_timer(s: &str) -> Result<Timer, String> {
    Ok(match s {
        "connect-retry" => Timer::ConnectRetry,
        "hold" => Timer::Hold,
        "keepalive" => Timer::Keepalive,
        "send-hold" => Timer::SendHold,
        _ => return Err(format!("unknown timer {s:?}")),
    })
}

fn parse_family(s: &str) -> Result<Family, String> {
    s.parse()
}

/// `config` keys, applied over `cfg`.
fn apply_cfg(cfg: &mut SessionCfg, rest: &str) -> Result<(), String> {
    let mut caps = None;
    for (k, v) in key_values(rest)? {
        match k {
            "local-as" => cfg.local_as = parse_num(v)?,
            "local-id" => cfg.local_id = parse_ip(v)?,
            "remote-as" => {
                cfg.remote_as = match v {
                    "internal" => RemoteAs::Internal,
                    "external" => RemoteAs::External,
                    n => RemoteAs::Exact(parse_num(n)?),
                }
            }
            "passive" => cfg.passive = parse_bool(v)?,
            "hold" => cfg.hold_time = parse_num(v)?,
            "keepalive" if v == "none" => cfg.keepalive = None,
            "keepalive" => cfg.keepalive = Some(parse_num(v)?),
            "connect-retry" => cfg.connect_retry = parse_secs(v)?,
            "connect-retry-max" => cfg.connect_retry_max = parse_secs(v)?,
            "seed" => cfg.jitter_seed = parse_num(v)?,
            "caps" => caps = Some(v.to_string()),
            _ => return Err(format!("unknown config key {k:?}")),
        }
    }
    // The capability list is read last: `as4` stands for the (maybe new) local AS.
    if let Some(c) = caps {
        cfg.capabilities = parse_caps(&c, cfg.local_as)?;
    } else {
        for c in &mut cfg.capabilities {
            if let Capability::FourOctetAs(a) = c {
                *a = cfg.local_as;
            }
        }
    }
    Ok(())
}

/// `peer` keys (and `recv open` overrides), applied over `p`.
fn parse_peer_open(p: &mut PeerOpen, rest: &str) -> Result<(), String> {
    for (k, v) in key_values(rest)? {
        match k {
            "version" => p.version = parse_num(v)?,
            "as" => p.asn = parse_num(v)?,
            "my-as" => p.my_as = Some(parse_num(v)?),
            "hold" => p.hold = parse_num(v)?,
            "id" => p.id = parse_ip(v)?,
            "caps" => p.caps = Some(v.to_string()),
            _ => return Err(format!("unknown OPEN key {k:?}")),
        }
    }
    Ok(())
}

/// A capability list: `none` or comma-separated `mp:FAMILY`, `rr`, `err`, `ext-msg`,
/// `as4[:N]`, `add-path:FAMILY:send|receive|both`, `ext-nh:FAMILY:ipv6`,
/// `gr:TIME[:r][:n][:FAMILY[+f]]...`. `as4` alone carries `asn`.
fn parse_caps(s: &str, asn: u32) -> Result<Vec<Capability>, String> {
    if s == "none" {
        return Ok(Vec::new());
    }
    s.split(',').map(|c| parse_cap(c, asn)).collect()
}

fn parse_cap(c: &str, asn: u32) -> Result<Capability, String> {
    let parts: Vec<&str> = c.split(':').collect();
    Ok(match parts.as_slice() {
        ["mp", f] => Capability::Multiprotocol(parse_family(f)?),
        ["rr"] => Capability::RouteRefresh,
        ["err"] => Capability::EnhancedRouteRefresh,
        ["ext-msg"] => Capability::ExtendedMessage,
        ["as4"] => Capability::FourOctetAs(asn),
        ["as4", n] => Capability::FourOctetAs(parse_num(n)?),
        ["add-path", f, m] => Capability::AddPath(vec![AddPathFamily {
            family: parse_family(f)?,
            mode: match *m {
                "send" => AddPathMode::Send,
                "receive" => AddPathMode::Receive,
                "both" => AddPathMode::Both,
                _ => return Err(format!("bad ADD-PATH mode {m:?}")),
            },
        }]),
        ["ext-nh", f, "ipv6"] => {
            let f = parse_family(f)?;
            Capability::ExtendedNextHop(vec![ExtNextHop {
                nlri_afi: f.afi,
                nlri_safi: u16::from(f.safi),
                next_hop_afi: 2,
            }])
        }
        ["gr", time, rest @ ..] => parse_gr(time, rest)?,
        _ => return Err(format!("unknown capability {c:?}")),
    })
}

fn parse_gr(time: &str, rest: &[&str]) -> Result<Capability, String> {
    let mut gr = GracefulRestart {
        restart: false,
        notification: false,
        reserved_flags: 0,
        time: parse_num(time)?,
        families: Vec::new(),
    };
    for p in rest {
        match *p {
            "r" => gr.restart = true,
            "n" => gr.notification = true,
            f => {
                let (f, fwd) = f.strip_suffix("+f").map_or((f, false), |f| (f, true));
                gr.families.push(GrFamily {
                    family: parse_family(f)?,
                    forwarding: fwd,
                    reserved_flags: 0,
                });
            }
        }
    }
    Ok(Capability::GracefulRestart(gr))
}

/// `recv open [overrides]`: the peer's OPEN from the `peer` defaults.
fn recv_open(defaults: &PeerOpen, overrides: &str) -> Result<Event, String> {
    let mut p = defaults.clone();
    parse_peer_open(&mut p, overrides)?;
    let caps = parse_caps(p.caps.as_deref().unwrap_or("as4,mp:ipv4-unicast"), p.asn)?;
    Ok(Event::Recv(Message::Open(OpenMsg {
        version: p.version,
        my_as: p
            .my_as
            .unwrap_or_else(|| u16::try_from(p.asn).unwrap_or(23456)),
        hold_time: p.hold,
        bgp_id: p.id,
        params: if caps.is_empty() {
            Vec::new()
        } else {
            vec![OptParam::Capabilities(caps)]
        },
        extended_params: false,
    })))
}

/// `C/S [data=HEX]`.
fn parse_notification(s: &str) -> Result<NotificationMsg, String> {
    let (cs, rest) = split_word(s);
    let (c, sub) = cs
        .split_once('/')
        .ok_or_else(|| format!("want CODE/SUBCODE, got {cs:?}"))?;
    let mut data = Vec::new();
    for (k, v) in key_values(rest)? {
        match k {
            "data" => data = hex::decode(v)?,
            _ => return Err(format!("unknown NOTIFICATION key {k:?}")),
        }
    }
    Ok(NotificationMsg {
        code: parse_num(c)?,
        subcode: parse_num(sub)?,
        data,
    })
}

fn parse_event(s: &str, peer: &PeerOpen) -> Result<Event, String> {
    let (word, rest) = split_word(s);
    Ok(match word {
        "start" => Event::Start,
        "stop" if rest.is_empty() => Event::Stop(None),
        "stop" => Event::Stop(Some(parse_notification(rest)?)),
        "tcp-connected" => Event::TcpConnected,
        "tcp-failed" => Event::TcpFailed(rest.to_string()),
        "recv" => parse_recv(rest, peer)?,
        "recv-error" => {
            let (cs, mut reason) = split_word(rest);
            let mut n = parse_notification(cs)?;
            if let Some(d) = reason.strip_prefix("data=") {
                let (h, r) = split_word(d);
                n.data = hex::decode(h)?;
                reason = r;
            }
            Event::RecvError(WireError::new(19, n.code, n.subcode, n.data, reason))
        }
        "timer" => Event::TimerFired(parse_timer(rest)?),
        "send-progress" => Event::SendProgress,
        _ => return Err(format!("unknown event {word:?}")),
    })
}

fn parse_recv(s: &str, peer: &PeerOpen) -> Result<Event, String> {
    let (what, rest) = split_word(s);
    let msg = match what {
        "open" => return recv_open(peer, rest),
        "keepalive" => Message::Keepalive,
        "update" => Message::Update(UpdateMsg::default()),
        "notification" => Message::Notification(parse_notification(rest)?),
        "route-refresh" => {
            let (f, sub) = split_word(rest);
            let family = if f.is_empty() {
                Family::IPV4_UNICAST
            } else {
                parse_family(f)?
            };
            let subtype = match sub.strip_prefix("subtype=") {
                Some(n) => parse_num(n)?,
                None => 0,
            };
            Message::RouteRefresh(RouteRefreshMsg { family, subtype })
        }
        _ => return Err(format!("unknown message {what:?}")),
    };
    Ok(Event::Recv(msg))
}

fn render_actual(a: &Actual) -> String {
    match a {
        Actual::Fsm(a) => render_action(a),
        Actual::Text(t) => t.clone(),
    }
}

fn render_action(a: &Action) -> String {
    match a {
        Action::Connect => "connect".into(),
        Action::Send(m) => format!("send {}", render_message(m)),
        Action::CloseTcp => "close".into(),
        Action::Arm(t, d) => format!("arm {} {}", render_timer(*t), render_dur(*d)),
        Action::Disarm(t) => format!("disarm {}", render_timer(*t)),
        Action::Established(n) => format!("established {}", render_negotiated(n)),
        Action::Down(r) => render_down(r),
        Action::StateChanged { from, to } => {
            format!("state {} -> {}", render_state(*from), render_state(*to))
        }
    }
}

fn render_message(m: &Message) -> String {
    match m {
        Message::Open(o) => {
            let caps = o.params.iter().flat_map(|p| match p {
                OptParam::Capabilities(c) => c.as_slice(),
                OptParam::Unknown { .. } => &[],
            });
            let caps: Vec<String> = caps.map(render_cap).collect();
            format!(
                "open version={} my-as={} hold={} id={} caps={}",
                o.version,
                o.my_as,
                o.hold_time,
                o.bgp_id,
                if caps.is_empty() {
                    "none".into()
                } else {
                    caps.join(",")
                }
            )
        }
        Message::Keepalive => "keepalive".into(),
        Message::Update(_) => "update".into(),
        Message::Notification(n) => format!("notification {}", render_notification(n)),
        Message::RouteRefresh(r) => format!("route-refresh {} subtype={}", r.family, r.subtype),
    }
}

fn render_cap(c: &Capability) -> String {
    match c {
        Capability::Multiprotocol(f) => format!("mp:{f}"),
        Capability::RouteRefresh => "rr".into(),
        Capability::EnhancedRouteRefresh => "err".into(),
        Capability::ExtendedMessage => "ext-msg".into(),
        Capability::FourOctetAs(a) => format!("as4:{a}"),
        other => format!("{other:?}"),
    }
}

fn render_notification(n: &NotificationMsg) -> String {
    if n.data.is_empty() {
        format!("{}/{}", n.code, n.subcode)
    } else {
        format!("{}/{} data={}", n.code, n.subcode, hex::encode(&n.data))
    }
}

fn render_down(r: &DownReason) -> String {
    match r {
        DownReason::Stopped => "down stopped".into(),
        DownReason::Transport(why) => format!("down transport: {why}"),
        DownReason::NotificationReceived(n) => format!("down received {}", render_notification(n)),
        DownReason::NotificationSent(n, why) => {
            format!("down sent {}: {why}", render_notification(n))
        }
        DownReason::FsmError(why) => format!("down fsm-error: {why}"),
    }
}

/// `as=A id=I hold=H keepalive=K [as4] families=F,... [add-path-rx=..] [add-path-tx=..]
/// [rr] [err] [ext-msg] [ext-nh=..] [gr=TIME[:r][:n][:FAMILY...]]`.
fn render_negotiated(n: &Negotiated) -> String {
    let list = |v: &[Family]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut s = format!(
        "as={} id={} hold={} keepalive={}",
        n.peer_as, n.peer_id, n.hold_time, n.keepalive
    );
    let mut flag = |on: bool, text: String| {
        if on {
            s.push(' ');
            s.push_str(&text);
        }
    };
    flag(n.as4, "as4".into());
    flag(true, format!("families={}", list(&n.families)));
    flag(
        !n.add_path_rx.is_empty(),
        format!("add-path-rx={}", list(&n.add_path_rx)),
    );
    flag(
        !n.add_path_tx.is_empty(),
        format!("add-path-tx={}", list(&n.add_path_tx)),
    );
    flag(n.route_refresh, "rr".into());
    flag(n.enhanced_route_refresh, "err".into());
    flag(n.ext_msg, "ext-msg".into());
    flag(
        !n.ext_next_hop.is_empty(),
        format!("ext-nh={}", list(&n.ext_next_hop)),
    );
    if let Some(gr) = &n.peer_gr {
        let mut g = format!("gr={}", gr.restart_time);
        g.push_str(if gr.restarting { ":r" } else { "" });
        g.push_str(if gr.notification { ":n" } else { "" });
        for f in &gr.preserved {
            let _ = write!(g, ":{f}");
        }
        flag(true, g);
    }
    s
}

fn render_state(s: State) -> String {
    format!("{s:?}").to_lowercase()
}

fn render_timer(t: Timer) -> &'static str {
    match t {
        Timer::ConnectRetry => "connect-retry",
        Timer::Hold => "hold",
        Timer::Keepalive => "keepalive",
        Timer::SendHold => "send-hold",
    }
}

/// Whole seconds as `90s`; anything else to the millisecond, `4.213s`.
fn render_dur(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        return format!("{}s", d.as_secs());
    }
    let s = format!("{:.3}", d.as_secs_f64());
    format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
}

// ===== tests =====

#[test]
fn fsm_scripts() {
    let print = std::env::var("WREN_FSM_PRINT").is_ok_and(|v| v == "1");
    let files = script_files();
    let mut failures = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(scripts_dir())
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).expect("read script");
        let r = run_script(&name, &text);
        if print {
            println!("=== {name}\n{}", r.transcript);
        }
        failures.extend(r.failures);
    }
    assert!(
        files.len() >= MIN_SCRIPTS,
        "only {} scripts under {} (want {MIN_SCRIPTS}+)",
        files.len(),
        scripts_dir().display()
    );
    assert!(
        failures.is_empty(),
        "{} failure(s) in {} scripts:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
    println!("{} FSM scripts passed", files.len());
}

#[test]
fn runner_reports_a_wrong_action_list() {
    let script = "t=0 start\n  connect\n";
    let r = run_script("selftest", script);
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert!(
        r.failures[0].contains("arm connect-retry"),
        "{}",
        r.failures[0]
    );
}

#[test]
fn runner_reports_parse_errors_with_the_line() {
    let r = run_script("selftest", "t=0 start\n  connect\nt=1 nonsense here\n");
    assert!(
        r.failures.iter().any(|f| f.contains("selftest:3")),
        "{:?}",
        r.failures
    );
    let r = run_script("selftest", "t=0 warp-drive\n  nothing\n");
    assert!(
        r.failures.iter().any(|f| f.contains("unknown event")),
        "{:?}",
        r.failures
    );
    let r = run_script("selftest", "# only a comment\n");
    assert!(
        r.failures.iter().any(|f| f.contains("no step")),
        "{:?}",
        r.failures
    );
}

#[test]
fn runner_checks_duration_ranges_inclusively() {
    let d = Duration::from_millis(3750);
    assert!(match_duration("3.75s..5s", d).unwrap());
    assert!(match_duration("3s..3.75s", d).unwrap());
    assert!(!match_duration("3.76s..5s", d).unwrap());
    assert!(match_duration("nonsense", d).is_err());
}
