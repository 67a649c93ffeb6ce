//! Path attributes (RFC 4271 §4.3, §5) and the RFC 7606 rules for each.
//!
//! ```text
//!  0                   1
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Attr. Flags  |Attr. Type Code|  then Length: 1 octet, or 2 with Extended Length
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! flags: O(ptional) T(ransitive) P(artial) E(xtended length) 0 0 0 0
//! ```
//!
//! [`Attrs`] is the interned unit: every attribute except MP_REACH_NLRI and
//! MP_UNREACH_NLRI, which carry NLRI and live in [`UpdateMsg`](super::UpdateMsg).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flag {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes.
pub mod code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MED: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const LARGE_COMMUNITY: u8 = 32;
    pub const OTC: u8 = 35;
}

/// The path attributes of a route, minus MP_REACH/MP_UNREACH. Hashable, so it can be interned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Attrs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_path: Option<AsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub med: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub atomic_aggregate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregator: Option<Aggregator>,
    /// RFC 1997, each community as a u32 (`ASN << 16 | value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communities: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator_id: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_list: Option<Vec<Ipv4Addr>>,
    /// RFC 4360, each extended community as its 8 raw octets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_communities: Option<Vec<[u8; 8]>>,
    /// RFC 6793: kept as received; [`Attrs::effective_as_path`] merges it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as4_path: Option<AsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as4_aggregator: Option<Aggregator>,
    /// RFC 8092: (global administrator, local data 1, local data 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub large_communities: Option<Vec<[u32; 3]>>,
    /// RFC 9234 Only-To-Customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otc: Option<u32>,
    /// Attributes wren does not interpret, passed through (RFC 4271 §5, Partial bit set on re-advertise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawAttr>,
}

/// ORIGIN (RFC 4271 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// AS_PATH or AS4_PATH (RFC 4271 §4.3, RFC 5065 confederation segments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

/// One AS_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsSegment {
    pub kind: SegmentKind,
    pub asns: Vec<u32>,
}

/// Segment types: 1 SET, 2 SEQUENCE (RFC 4271), 3 CONFED_SEQUENCE, 4 CONFED_SET (RFC 5065).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentKind {
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

/// AGGREGATOR or AS4_AGGREGATOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// An attribute kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RawAttr {
    pub flags: u8,
    pub type_code: u8,
    #[serde(with = "super::hex::serde")]
    pub value: Vec<u8>,
}

// TODO(helper-update): decode/encode of every attribute, RFC 7606 checks, effective_as_path().
