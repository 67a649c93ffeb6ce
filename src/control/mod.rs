//! The control socket: a unix stream socket that answers operators' questions.
//!
//! Protocol (JSON lines): one request per line, one reply per line.
//!
//! ```text
//!  client                                   wren (control::server → speaker loop)
//!    {"cmd":"show-peers"}                ──>
//!                                        <──  {"ok":true,"data":[{"name":...}, ...]}
//!    {"cmd":"show-routes","peer":null,"advertised":false}
//!    {"cmd":"show-peers-detail","name":"tor1"}   (name optional; see detail.rs)
//!    {"cmd":"show-fib"}
//!    {"cmd":"show-fib-diff"}
//!    {"cmd":"show-status"}
//!    (anything else)                     <──  {"ok":false,"error":"..."}
//! ```
//!
//! The server hands each request to the speaker's owner loop with a reply channel; the
//! loop answers from its state. The client ([`client`]) is what `wren show` uses.
//! `show-status`, `show-peers` and `show-peers-detail` are answered by the server itself,
//! from the view the owner loop publishes after each turn (src/speaker/snapshot.rs), so
//! that they stay prompt while the loop is busy with a large table (issue 6).

pub mod bird;
pub mod client;
mod detail;
pub mod server;

pub use detail::{
    AddPathDetail, CapsDetail, FibDiff, FibDiffRow, GrDetail, GrSide, LlgrDetail, LlstDetail,
    PeerDetail,
};

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::wire::{Attrs, Family};

/// One request (the `cmd` field names it). Unknown fields are ignored, so that newer
/// clients can talk to older daemons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    ShowPeers,
    /// `show peers [NAME] --detail`: capabilities, timers, session addresses (all peers,
    /// or the one named; an unknown name is an error).
    ShowPeersDetail {
        #[serde(default)]
        name: Option<String>,
    },
    /// Paths in the RIB (all peers, or one); with `advertised`, the peer's Adj-RIB-Out.
    ShowRoutes {
        #[serde(default)]
        peer: Option<String>,
        #[serde(default)]
        advertised: bool,
    },
    ShowFib,
    /// Where the kernel differs from what the RIB wants, prefix by prefix.
    ShowFibDiff,
    ShowStatus,
    /// Which path won for a prefix and why, what policy rejected, whether it is in the
    /// kernel and why (or why not).
    Explain {
        prefix: String,
    },
    /// Stop the session (Cease 6/4 Administrative Reset) and start it again.
    PeerReset {
        name: String,
    },
    /// Stop the session (Cease 6/2) and keep it down until enabled.
    PeerDisable {
        name: String,
        /// Sent in the Cease (RFC 9003 shutdown communication).
        #[serde(default)]
        message: Option<String>,
    },
    PeerEnable {
        name: String,
    },
    /// Re-read the config file (or the datastore) and apply the difference.
    Reload,
    /// Change the log filter at runtime, for everything or one peer.
    LogLevel {
        level: String,
        #[serde(default)]
        peer: Option<String>,
    },
    /// Apply a whole new config as a diff (file reload, or the Calico datastore's
    /// translation). Internal: not accepted on the socket.
    #[serde(skip)]
    Reconfigure(Box<crate::config::Config>),
    /// Stop the daemon; with `withdraw`, send Cease 6/2 and remove the kernel routes,
    /// otherwise stop gracefully (RFC 4724: no Cease, routes stay).
    Stop {
        #[serde(default)]
        withdraw: bool,
    },
}

/// The answer to a [`Request`]: its `data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Peers(Vec<PeerRow>),
    Routes(Vec<RouteRow>),
    Fib(Vec<FibRow>),
    Status(StatusRow),
    PeersDetail(Vec<PeerDetail>),
    FibDiff(FibDiff),
    /// A command done, in one sentence.
    Done(String),
    /// Any other structured answer (e.g. `explain`), with its own documented schema.
    Json(serde_json::Value),
}

/// The envelope of every reply line: `{"ok":true,"data":...}` or `{"ok":false,"error":"..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One row of `show peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRow {
    pub name: String,
    /// The peer's address.
    pub address: String,
    /// The peer's AS: negotiated when known, else the configured number; null for an
    /// "external" peer that never connected.
    pub asn: Option<u32>,
    /// "idle" | "connect" | "active" | "opensent" | "openconfirm" | "established".
    pub state: String,
    /// Seconds in the current state.
    pub uptime_secs: u64,
    /// Why the session last went down, in one sentence.
    pub last_down: Option<String>,
    pub received: u64,
    pub accepted: u64,
    pub advertised: u64,
    pub stale: u64,
    /// Negotiated families when Established, else the configured ones.
    pub families: Vec<Family>,
    /// When the current state began (seconds since the Unix epoch).
    #[serde(default)]
    pub since_unix: u64,
    /// The peer only accepts connections (`passive = true`).
    #[serde(default)]
    pub passive: bool,
    /// The peer's BGP identifier while Established.
    #[serde(default)]
    pub peer_id: Option<Ipv4Addr>,
    /// When the session last went down (seconds since the Unix epoch).
    #[serde(default)]
    pub last_down_unix: Option<u64>,
}

/// One row of `show routes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRow {
    pub prefix: String,
    /// The peer's name, or "local" for originated routes.
    pub peer: String,
    pub path_id: u32,
    pub next_hop: Option<IpAddr>,
    pub best: bool,
    pub multipath: bool,
    pub stale: bool,
    /// Carries LLGR_STALE (RFC 9494): long-lived stale, least preferred.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub llgr_stale: bool,
    pub reason: String,
    pub attrs: Attrs,
    /// The interface that reaches `next_hop` directly (a connected subnet), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iface: Option<String>,
    /// An originated route that is a blackhole in the kernel.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blackhole: bool,
}

/// One row of `show fib`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FibRow {
    pub prefix: String,
    /// "unicast" | "blackhole".
    pub kind: String,
    pub next_hops: Vec<IpAddr>,
}

/// `show status`: the speaker as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRow {
    pub version: String,
    pub router_id: Ipv4Addr,
    pub asn: u32,
    pub uptime_secs: u64,
    pub peers: usize,
    pub established: usize,
    /// Paths in the RIB: accepted from peers, plus the originated ones.
    pub paths: usize,
    pub fib_routes: usize,
    /// When the speaker started (seconds since the Unix epoch).
    #[serde(default)]
    pub since_unix: u64,
    /// When the config was last applied (start, or the last reconfiguration).
    #[serde(default)]
    pub last_reconfig_unix: u64,
    /// `[[originate]]` prefixes, IPv4 and IPv6.
    #[serde(default)]
    pub originated_v4: usize,
    #[serde(default)]
    pub originated_v6: usize,
    /// The initial sync after start is still waiting for peers' End-of-RIB (the kernel
    /// FIB keeps the routes it found until then): BIRD's "graceful restart recovery".
    #[serde(default)]
    pub gr_recovering: bool,
    /// While recovering: configured peers still owing their End-of-RIB.
    #[serde(default)]
    pub gr_waiting: usize,
    /// While recovering: seconds left of the wait, and the whole wait.
    #[serde(default)]
    pub gr_wait_left_secs: u64,
    #[serde(default)]
    pub gr_wait_secs: u64,
}

// ===== impl Request =====

impl Request {
    /// The `cmd` name, as the client sends it.
    pub fn name(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("cmd").and_then(|c| c.as_str()).map(String::from))
            .unwrap_or_else(|| "this request".into())
    }
}

// ===== impl Reply =====

impl Reply {
    pub fn ok(data: &Response) -> Reply {
        match serde_json::to_value(data) {
            Ok(v) => Reply {
                ok: true,
                data: Some(v),
                error: None,
            },
            Err(e) => Reply::err(format!("cannot encode the reply: {e}")),
        }
    }

    pub fn err(msg: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            data: None,
            error: Some(msg.into()),
        }
    }

    /// The reply as one line of JSON (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|_| r#"{"ok":false,"error":"cannot encode the reply"}"#.into())
    }
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_from_the_documented_lines() {
        let cases = [
            (r#"{"cmd":"show-peers"}"#, Request::ShowPeers),
            (r#"{"cmd":"show-fib"}"#, Request::ShowFib),
            (r#"{"cmd":"show-fib-diff"}"#, Request::ShowFibDiff),
            (
                r#"{"cmd":"show-peers-detail"}"#,
                Request::ShowPeersDetail { name: None },
            ),
            (
                r#"{"cmd":"show-peers-detail","name":"tor1"}"#,
                Request::ShowPeersDetail {
                    name: Some("tor1".into()),
                },
            ),
            (r#"{"cmd":"show-status"}"#, Request::ShowStatus),
            (
                r#"{"cmd":"show-routes","peer":null,"advertised":false}"#,
                Request::ShowRoutes {
                    peer: None,
                    advertised: false,
                },
            ),
            (
                r#"{"cmd":"show-routes","peer":"n2","advertised":true}"#,
                Request::ShowRoutes {
                    peer: Some("n2".into()),
                    advertised: true,
                },
            ),
            (
                r#"{"cmd":"show-routes"}"#,
                Request::ShowRoutes {
                    peer: None,
                    advertised: false,
                },
            ),
        ];
        for (line, want) in cases {
            let got: Request = serde_json::from_str(line).unwrap();
            assert_eq!(got, want, "{line}");
        }
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"reboot"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"peer":"x"}"#).is_err());
    }

    #[test]
    fn replies_have_the_documented_envelope() {
        let ok = Reply::ok(&Response::Fib(vec![FibRow {
            prefix: "10.65.0.64/26".into(),
            kind: "unicast".into(),
            next_hops: vec!["127.0.0.2".parse().unwrap()],
        }]));
        assert_eq!(
            ok.to_line(),
            r#"{"ok":true,"data":[{"prefix":"10.65.0.64/26","kind":"unicast","next_hops":["127.0.0.2"]}]}"#
        );
        assert_eq!(
            Reply::err("no peer named \"x\"").to_line(),
            r#"{"ok":false,"error":"no peer named \"x\""}"#
        );
    }

    #[test]
    fn peer_row_fields_match_the_schema() {
        let row = PeerRow {
            name: "n2".into(),
            address: "127.0.0.2".into(),
            asn: Some(64512),
            state: "established".into(),
            uptime_secs: 3,
            last_down: None,
            received: 1,
            accepted: 1,
            advertised: 2,
            stale: 0,
            families: vec![Family::IPV4_UNICAST],
            since_unix: 1_700_000_000,
            passive: false,
            peer_id: None,
            last_down_unix: None,
        };
        let v = serde_json::to_value(&row).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "accepted",
                "address",
                "advertised",
                "asn",
                "families",
                "last_down",
                "last_down_unix",
                "name",
                "passive",
                "peer_id",
                "received",
                "since_unix",
                "stale",
                "state",
                "uptime_secs"
            ]
        );
        assert_eq!(v["families"][0], "ipv4-unicast");
        assert_eq!(v["last_down"], serde_json::Value::Null);
    }
}
