//! OPEN message (RFC 4271 §4.2) with RFC 9072 extended optional parameters.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::capability::Capability;
use super::error::{EncodeError, WireError};

/// An OPEN message. Parameters keep their grouping on the wire (one Capabilities
/// parameter may hold many capabilities), so that encoding reproduces the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenMsg {
    pub version: u8,
    /// The 2-octet "My Autonomous System" field (AS_TRANS 23456 when the AS is 4-octet).
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub params: Vec<OptParam>,
    /// RFC 9072: the parameters were (or must be) sent in the extended format.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extended_params: bool,
}

/// An optional parameter (RFC 4271 §4.2, RFC 5492 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptParam {
    /// Parameter type 2: one or more capabilities.
    Capabilities(Vec<Capability>),
    /// Any other parameter type (type 1, authentication, is deprecated).
    Unknown {
        ptype: u8,
        #[serde(with = "super::hex::serde")]
        value: Vec<u8>,
    },
}

/// Decode an OPEN body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], base: usize) -> Result<OpenMsg, WireError> {
    // TODO(helper-session)
    let _ = (body, base);
    Err(WireError::new(
        base,
        2,
        0,
        Vec::new(),
        "OPEN decoding not implemented yet",
    ))
}

impl OpenMsg {
    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        // TODO(helper-session)
        let _ = out;
        Err(EncodeError::Field {
            field: "open",
            detail: "not implemented".into(),
        })
    }
}
