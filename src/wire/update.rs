//! UPDATE message (RFC 4271 §4.3) with MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760).
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::attr::Attrs;
use super::error::{EncodeError, Finding, WireError};
use super::family::Family;
use super::nlri::{Nlri4, Nlri6};
use super::Ctx;

/// An UPDATE as a batch: one shared attribute set and many NLRI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateMsg {
    /// Withdrawn Routes field (IPv4 unicast).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<Nlri4>,
    pub attrs: Attrs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp_reach: Option<MpReach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp_unreach: Option<MpUnreach>,
    /// NLRI field (IPv4 unicast).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nlri: Vec<Nlri4>,
    /// Wire order and flags of the attributes, when they differ from wren's canonical
    /// encoding (MP attributes first, then ascending type code, Extended Length only when
    /// needed). `None` means canonical. Not part of the route's identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<Vec<(u8, u8)>>,
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: NextHop,
    pub nlri: MpNlri,
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: MpNlri,
}

/// Next hop of MP_REACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextHop {
    V4(Ipv4Addr),
    /// RFC 2545 §3: a global address, optionally followed by a link-local one.
    /// Also the RFC 8950 form for IPv4 NLRI.
    V6 {
        global: Ipv6Addr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link_local: Option<Ipv6Addr>,
    },
    /// A next hop of a family wren does not interpret.
    Raw(#[serde(with = "super::hex::serde")] Vec<u8>),
}

/// NLRI of an MP attribute, typed by its family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpNlri {
    V4(Vec<Nlri4>),
    V6(Vec<Nlri6>),
    /// A family wren does not interpret: kept as bytes.
    Raw(#[serde(with = "super::hex::serde")] Vec<u8>),
}

/// Decode an UPDATE body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], ctx: &Ctx, base: usize) -> Result<(UpdateMsg, Vec<Finding>), WireError> {
    // TODO(helper-update)
    let _ = (body, ctx);
    Err(WireError::new(
        base,
        3,
        1,
        Vec::new(),
        "UPDATE decoding not implemented yet",
    ))
}

impl UpdateMsg {
    pub fn encode_body(&self, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        // TODO(helper-update)
        let _ = (ctx, out);
        Err(EncodeError::Field {
            field: "update",
            detail: "not implemented".into(),
        })
    }
}
