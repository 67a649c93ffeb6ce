//! Row types of `show peers --detail` and `show fib --diff`. Their JSON (the `data` of
//! the reply, and `wren show ... -o json`) is a stable schema: fields are only ever
//! added, never renamed or removed.
//!
//! `{"cmd":"show-peers-detail","name":"tor1"}` (name optional) answers a list of
//! [`PeerDetail`]:
//!
//! ```text
//! { ...every field of a show-peers row (PeerRow)...,
//!   "down_count": 3, "disabled": false, "disabled_message": null,
//!   "local_address": "198.18.0.1", "local_port": 40123,      // null unless Established
//!   "remote_address": "198.18.0.2", "remote_port": 179,
//!   "hold_time": 90, "keepalive": 30,                        // configured, seconds
//!   "negotiated_hold_time": 90, "negotiated_keepalive": 30,  // null unless Established
//!   "capabilities": null | {                                 // negotiated (both sides)
//!     "families": ["ipv4-unicast"], "four_octet_as": true,
//!     "add_path": [{"family": "ipv4-unicast", "receive": true, "send": false}],
//!     "route_refresh": true, "enhanced_route_refresh": true,
//!     "extended_message": true, "extended_next_hop": ["ipv4-unicast"],
//!     "graceful_restart": {
//!       "local": {"restart": false, "notification": true, "time": 120,
//!                 "forwarding": ["ipv4-unicast"]} | null,   // what we announced
//!       "peer":  { same } | null },                         // what the peer announced
//!     "long_lived_gr": {                                     // RFC 9494 (absent: none)
//!       "local": [{"family": "ipv4-unicast", "forwarding": true, "stale_time": 3600}] | null,
//!       "peer":  [ same ] | null } },
//!   "long_lived_stale": [                                    // RFC 9494 periods running
//!     {"family": "ipv4-unicast", "remaining_secs": 3550}] }  // (we keep its routes)
//! ```
//!
//! `{"cmd":"show-fib-diff"}` answers a [`FibDiff`]:
//!
//! ```text
//! { "wanted": 12,        // best routes passing the kernel policy ([fib] export)
//!   "installed": 11,     // kernel: our routes in the table; in-memory FIB: what it holds
//!   "differing": 1,      // rows below (before truncation)
//!   "kernel": true,      // the kernel's side was asked (false: in-memory FIB / dry run)
//!   "rows": [ { "prefix": "10.65.1.0/26",
//!               "reason": "unresolved",       // code, see FibDiffRow::reason
//!               "detail": "next hop 198.18.0.9 does not resolve (no route or link to it)",
//!               "wanted": {"prefix": ..., "kind": "unicast", "next_hops": [...]} | null,
//!               "held":   { same } | null } ],
//!   "truncated": 0 }     // rows left out (at most 10000 are listed)
//! ```

use serde::{Deserialize, Serialize};

use super::{FibRow, PeerRow};
use crate::wire::capability::LlgrFamily;
use crate::wire::Family;

/// One peer of `show peers --detail` (schema in the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerDetail {
    #[serde(flatten)]
    pub row: PeerRow,
    /// How many times the session went down since wren started.
    #[serde(default)]
    pub down_count: u64,
    /// `wren peer disable`: the session stays down until enabled.
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub disabled_message: Option<String>,
    /// The TCP connection of the Established session.
    #[serde(default)]
    pub local_address: Option<std::net::IpAddr>,
    #[serde(default)]
    pub local_port: Option<u16>,
    #[serde(default)]
    pub remote_address: Option<std::net::IpAddr>,
    #[serde(default)]
    pub remote_port: Option<u16>,
    /// Configured hold time and keepalive, seconds.
    #[serde(default)]
    pub hold_time: u16,
    #[serde(default)]
    pub keepalive: u16,
    /// Negotiated (RFC 4271 §4.2: the smaller hold time of both OPENs).
    #[serde(default)]
    pub negotiated_hold_time: Option<u16>,
    #[serde(default)]
    pub negotiated_keepalive: Option<u16>,
    /// What both sides agreed on; null unless Established.
    #[serde(default)]
    pub capabilities: Option<CapsDetail>,
    /// RFC 9494: families whose routes we keep as long-lived stale, and for how long.
    #[serde(default)]
    pub long_lived_stale: Vec<LlstDetail>,
}

/// One family in its long-lived stale period (RFC 9494 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlstDetail {
    pub family: Family,
    /// Seconds until its long-lived stale routes are removed.
    pub remaining_secs: u64,
}

/// Long-lived graceful restart (RFC 9494 §3) as announced by each side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlgrDetail {
    pub local: Option<Vec<LlgrFamily>>,
    pub peer: Option<Vec<LlgrFamily>>,
}

/// Negotiated capabilities of an Established session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapsDetail {
    /// RFC 4760 families both sides announced.
    pub families: Vec<Family>,
    /// RFC 6793.
    pub four_octet_as: bool,
    /// RFC 7911, per family: we receive / we send path identifiers.
    pub add_path: Vec<AddPathDetail>,
    /// RFC 2918, RFC 7313.
    pub route_refresh: bool,
    pub enhanced_route_refresh: bool,
    /// RFC 8654.
    pub extended_message: bool,
    /// RFC 8950: families whose routes may carry an IPv6 next hop.
    pub extended_next_hop: Vec<Family>,
    pub graceful_restart: GrDetail,
    /// RFC 9494.
    #[serde(default)]
    pub long_lived_gr: LlgrDetail,
}

/// ADD-PATH of one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddPathDetail {
    pub family: Family,
    pub receive: bool,
    pub send: bool,
}

/// Graceful restart (RFC 4724 §3, RFC 8538 N bit) as announced by each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrDetail {
    pub local: Option<GrSide>,
    pub peer: Option<GrSide>,
}

/// One side's graceful-restart capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrSide {
    /// R: the speaker has restarted.
    pub restart: bool,
    /// N: RFC 8538 graceful NOTIFICATION support.
    pub notification: bool,
    /// Restart time, seconds.
    pub time: u16,
    /// Families with the F (forwarding state preserved) bit.
    pub forwarding: Vec<Family>,
}

/// `show fib --diff`: where the kernel differs from what the RIB wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FibDiff {
    pub wanted: usize,
    pub installed: usize,
    pub differing: usize,
    /// The kernel's side was asked (a netlink FIB); false for the in-memory FIB.
    pub kernel: bool,
    pub rows: Vec<FibDiffRow>,
    /// Rows left out of `rows` (the list is capped).
    #[serde(default)]
    pub truncated: usize,
}

/// One prefix where the kernel (or the FIB adapter) differs from the RIB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FibDiffRow {
    pub prefix: String,
    /// One of:
    /// - `missing`: the RIB wants it, the FIB adapter does not hold it (held back during
    ///   the initial sync after a restart, or until a blackhole is in the kernel);
    /// - `extra`: the FIB adapter holds it, the RIB does not want it (same causes);
    /// - `next-hops`: the FIB adapter holds other next hops than the RIB wants;
    /// - `unresolved`: the kernel cannot install it, no route or link reaches a next hop;
    /// - `conflict`: another program's route holds the prefix (wren leaves it alone);
    /// - `refused`: the kernel refused the write (retried after the next link/address
    ///   change; the error is in the log);
    /// - `pending`: the write is not done yet;
    /// - `stale`: ours from the previous run, kept until the initial sync ends;
    /// - `modified`: our route was changed by someone else; it is being put back.
    pub reason: String,
    /// The reason in one sentence.
    pub detail: String,
    /// What the RIB wants (null: nothing).
    pub wanted: Option<FibRow>,
    /// What the FIB adapter holds (null: nothing).
    pub held: Option<FibRow>,
}
