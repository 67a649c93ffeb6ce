//! wren's peer state in BIRD 1.6's words: the protocol state column (`up`, `start`,
//! `wait`), the BGP state (`Established`, `Active`, `Passive`, …) and the last error
//! (`Socket: Connection refused`, `Received: Bad peer AS`, `BGP Error: Hold timer
//! expired`, …), as `show protocols` prints them and calico-node parses them.

use crate::control::PeerRow;
use crate::wire::NotificationMsg;

/// BIRD's error classes (the prefix of the last error), by what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Anything else that stopped the session.
    Misc,
    /// The transport failed (connect, read, write).
    Socket,
    /// The peer sent a NOTIFICATION.
    Received,
    /// We sent a NOTIFICATION.
    Sent,
    /// We stopped the session ourselves (a route limit).
    AutoDown,
}

/// Separates the loss cause from later failed attempts in `PeerRow::last_down`.
const SINCE_THEN: &str = "; since then: ";
/// How `DownReason::Transport` reads.
const TRANSPORT: &str = "connection failed: ";
/// How `DownReason::NotificationReceived` reads.
const RECEIVED: &str = "peer sent NOTIFICATION ";
/// How `DownReason::NotificationSent` ends.
const SENT: &str = "(sent NOTIFICATION ";

// ===== impl ErrorClass =====

impl ErrorClass {
    /// The prefix BIRD prints before the message.
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorClass::Misc => "Error: ",
            ErrorClass::Socket => "Socket: ",
            ErrorClass::Received => "Received: ",
            ErrorClass::Sent => "BGP Error: ",
            ErrorClass::AutoDown => "Automatic shutdown: ",
        }
    }
}

// ===== helper functions =====

/// The `state` column: `up` when Established (`wait` while the start-up recovery holds
/// the kernel back), `start` while connecting.
pub fn proto_state(p: &PeerRow, recovering: bool) -> &'static str {
    match (p.state.as_str(), recovering) {
        ("established", true) => "wait",
        ("established", false) => "up",
        _ => "start",
    }
}

/// When the protocol entered its state (the `since` column): BIRD's protocol stays
/// `start` while the session cycles through Connect and Active, so that is the last
/// down (or the start of the daemon), not the last FSM change.
pub fn proto_since(p: &PeerRow, daemon_start: u64) -> u64 {
    if p.state == "established" {
        p.since_unix
    } else {
        p.last_down_unix.unwrap_or(daemon_start)
    }
}

/// The BGP state word (BIRD's `bgp_state_dsc`): a passive peer that waits is `Passive`.
pub fn bgp_state(p: &PeerRow) -> &'static str {
    match p.state.as_str() {
        "idle" | "active" if p.passive => "Passive",
        "idle" => "Idle",
        "connect" => "Connect",
        "active" => "Active",
        "opensent" => "OpenSent",
        "openconfirm" => "OpenConfirm",
        "established" => "Established",
        _ => "Idle",
    }
}

/// The `info` column of a BGP protocol: the state padded to 14, then the last error.
pub fn bgp_info(p: &PeerRow) -> String {
    let err = last_error(p).unwrap_or_default();
    format!("{:<14}{err}", bgp_state(p))
}

/// The last error with its class prefix, as BIRD keeps it until the session is up again.
pub fn last_error(p: &PeerRow) -> Option<String> {
    if p.state == "established" {
        return None;
    }
    let why = p.last_down.as_deref()?;
    let (class, msg) = classify(why)?;
    Some(format!("{}{msg}", class.prefix()))
}

/// A `last_down` sentence as BIRD's error class and message; `None` for an operator's
/// stop, which BIRD does not show as an error. The sentence is the `Display` of
/// `fsm::DownReason` (tests pin that), possibly "CAUSE; since then: LATEST": BIRD shows
/// the latest.
pub fn classify(why: &str) -> Option<(ErrorClass, String)> {
    let latest = why.rsplit(SINCE_THEN).next().unwrap_or(why);
    if latest.starts_with("stopped by") {
        return None;
    }
    if latest.contains("max_prefix") {
        return Some((ErrorClass::AutoDown, "Route limit exceeded".into()));
    }
    if let Some(t) = latest.strip_prefix(TRANSPORT) {
        return Some((ErrorClass::Socket, socket_message(t)));
    }
    if let Some(n) = latest.strip_prefix(RECEIVED) {
        let (code, sub) = notification_code(n).unwrap_or((0, 0));
        return Some((ErrorClass::Received, error_dsc(code, sub)));
    }
    if let Some((code, sub)) = sent_code(latest) {
        return Some((ErrorClass::Sent, error_dsc(code, sub)));
    }
    Some((ErrorClass::Misc, latest.to_string()))
}

/// A transport failure as the C library's `strerror` text BIRD prints.
fn socket_message(t: &str) -> String {
    let l = t.to_ascii_lowercase();
    let known = [
        ("connection refused", "Connection refused"),
        ("connection reset", "Connection reset by peer"),
        ("peer closed the connection", "Connection closed"),
        ("no route", "No route to host"),
        ("unreachable", "No route to host"),
        ("no answer", "Connection timed out"),
        ("timed out", "Connection timed out"),
    ];
    if let Some((_, m)) = known.iter().find(|(k, _)| l.contains(k)) {
        return (*m).to_string();
    }
    // "socket error: Permission denied (os error 13)" → "Permission denied".
    let t = t.strip_prefix("socket error: ").unwrap_or(t);
    let t = t.split(" (os error").next().unwrap_or(t);
    capitalize(t)
}

/// (code, subcode) of a NOTIFICATION from its `Display` text (the longest known
/// code/subcode whose text begins `n`).
fn notification_code(n: &str) -> Option<(u8, u8)> {
    let mut best: Option<(usize, (u8, u8))> = None;
    for code in 1..=7u8 {
        for sub in 0..=12u8 {
            let text = NotificationMsg::new(code, sub, Vec::new()).to_string();
            let fits = n.starts_with(&text) && best.is_none_or(|(len, _)| text.len() > len);
            if fits {
                best = Some((text.len(), (code, sub)));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// (code, subcode) from a sentence ending "(sent NOTIFICATION c/s)" or
/// "(sent NOTIFICATION c/s: Names)".
fn sent_code(s: &str) -> Option<(u8, u8)> {
    let tail = &s[s.rfind(SENT)? + SENT.len()..];
    let (c, rest) = tail.split_once('/')?;
    let s = rest.split([')', ':']).next()?;
    Some((c.parse().ok()?, s.parse().ok()?))
}

/// BIRD 1.6's description of a NOTIFICATION code and subcode (`bgp_error_dsc`).
pub fn error_dsc(code: u8, sub: u8) -> String {
    let known = match (code, sub) {
        (1, 0) => "Invalid message header",
        (1, 1) => "Connection not synchronized",
        (1, 2) => "Bad message length",
        (1, 3) => "Bad message type",
        (2, 0) => "Invalid OPEN message",
        (2, 1) => "Unsupported version number",
        (2, 2) => "Bad peer AS",
        (2, 3) => "Bad BGP identifier",
        (2, 4) => "Unsupported optional parameter",
        (2, 5) => "Authentication failure",
        (2, 6) => "Unacceptable hold time",
        (2, 7) => "Required capability missing",
        (2, 8) => "No supported AFI/SAFI",
        (3, 0) => "Invalid UPDATE message",
        (3, 1) => "Malformed attribute list",
        (3, 2) => "Unrecognized well-known attribute",
        (3, 3) => "Missing mandatory attribute",
        (3, 4) => "Invalid attribute flags",
        (3, 5) => "Invalid attribute length",
        (3, 6) => "Invalid ORIGIN attribute",
        (3, 7) => "AS routing loop",
        (3, 8) => "Invalid NEXT_HOP attribute",
        (3, 9) => "Optional attribute error",
        (3, 10) => "Invalid network field",
        (3, 11) => "Malformed AS_PATH",
        (4, 0) => "Hold timer expired",
        (5, 0) => "Finite state machine error",
        (5, 1) => "Unexpected message in OpenSent state",
        (5, 2) => "Unexpected message in OpenConfirm state",
        (5, 3) => "Unexpected message in Established state",
        (6, 0) => "Cease",
        (6, 1) => "Maximum number of prefixes reached",
        (6, 2) => "Administrative shutdown",
        (6, 3) => "Peer de-configured",
        (6, 4) => "Administrative reset",
        (6, 5) => "Connection rejected",
        (6, 6) => "Other configuration change",
        (6, 7) => "Connection collision resolution",
        (6, 8) => "Out of Resources",
        (7, 0) => "Invalid ROUTE-REFRESH message",
        (7, 1) => "Invalid ROUTE-REFRESH message length",
        _ => return format!("Unknown error {code}.{sub}"),
    };
    known.to_string()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::DownReason;

    fn classified(r: DownReason) -> Option<String> {
        classify(&r.to_string()).map(|(c, m)| format!("{}{m}", c.prefix()))
    }

    #[test]
    fn down_reasons_read_like_bird() {
        let refused = "connection refused by 198.18.0.2:179 (is BGP running there?)";
        let cases = [
            (
                DownReason::Transport(refused.into()),
                "Socket: Connection refused",
            ),
            (
                DownReason::Transport("connection reset by peer".into()),
                "Socket: Connection reset by peer",
            ),
            (
                DownReason::Transport("peer closed the connection".into()),
                "Socket: Connection closed",
            ),
            (
                DownReason::Transport(
                    "no answer from 198.18.0.2:179 within 5s (filtered or down)".into(),
                ),
                "Socket: Connection timed out",
            ),
            (
                DownReason::NotificationReceived(NotificationMsg::new(2, 2, Vec::new())),
                "Received: Bad peer AS",
            ),
            (
                DownReason::NotificationReceived(NotificationMsg::admin_shutdown("bye")),
                "Received: Administrative shutdown",
            ),
            (
                DownReason::NotificationSent(
                    NotificationMsg::new(4, 0, Vec::new()),
                    "hold timer expired".into(),
                ),
                "BGP Error: Hold timer expired",
            ),
            (
                DownReason::NotificationSent(
                    NotificationMsg::new(2, 2, vec![0xfd, 0xe8]),
                    "peer AS 65000, expected 64512".into(),
                ),
                "BGP Error: Bad peer AS",
            ),
            (
                DownReason::FsmError("unexpected OPEN".into()),
                "Error: unexpected OPEN",
            ),
        ];
        for (r, want) in cases {
            let text = r.to_string();
            assert_eq!(classified(r).as_deref(), Some(want), "{text}");
        }
        assert_eq!(classified(DownReason::Stopped), None);
    }

    #[test]
    fn the_latest_failure_wins_and_limits_are_automatic_shutdowns() {
        let why = "peer sent NOTIFICATION Cease/Administrative Reset; since then: \
                   connection failed: connection refused by 198.18.0.2:179 (is BGP running there?)";
        let (c, m) = classify(why).unwrap();
        assert_eq!((c, m.as_str()), (ErrorClass::Socket, "Connection refused"));
        let why = "more than max_prefix = 10 prefixes received (sent NOTIFICATION 6/1)";
        let (c, m) = classify(why).unwrap();
        assert_eq!(
            (c, m.as_str()),
            (ErrorClass::AutoDown, "Route limit exceeded")
        );
        assert_eq!(error_dsc(9, 9), "Unknown error 9.9");
    }

    fn row(state: &str, passive: bool, last_down: Option<&str>) -> PeerRow {
        PeerRow {
            name: "Mesh_198_18_0_2".into(),
            address: "198.18.0.2".into(),
            asn: Some(64512),
            state: state.into(),
            uptime_secs: 0,
            last_down: last_down.map(String::from),
            received: 0,
            accepted: 0,
            advertised: 0,
            stale: 0,
            families: Vec::new(),
            since_unix: 0,
            passive,
            peer_id: None,
            last_down_unix: None,
        }
    }

    #[test]
    fn states_and_info_columns() {
        let refused = "connection failed: connection refused by 198.18.0.2:179 (x)";
        let p = row("active", false, Some(refused));
        assert_eq!(bgp_info(&p), "Active        Socket: Connection refused");
        assert_eq!(proto_state(&p, false), "start");
        let p = row("established", false, Some(refused));
        assert_eq!(bgp_info(&p), "Established   ", "no error once up");
        assert_eq!(proto_state(&p, false), "up");
        assert_eq!(proto_state(&p, true), "wait");
        assert_eq!(bgp_info(&row("idle", true, None)), "Passive       ");
        assert_eq!(bgp_info(&row("active", true, None)), "Passive       ");
        assert_eq!(bgp_info(&row("connect", true, None)), "Connect       ");
        let bad = "peer AS 1, expected 2 (sent NOTIFICATION 2/2)";
        assert_eq!(
            bgp_info(&row("idle", false, Some(bad))),
            "Idle          BGP Error: Bad peer AS"
        );
        assert_eq!(bgp_state(&row("opensent", false, None)), "OpenSent");
        assert_eq!(bgp_state(&row("openconfirm", false, None)), "OpenConfirm");
    }
}
