//! Decode errors, RFC 7606 findings and their NOTIFICATIONs.
//!
//! A fatal problem is a [`WireError`]: it carries the byte offset (from the start of the
//! message, marker included) and the exact NOTIFICATION that RFC 4271 §6 prescribes.
//! A non-fatal problem in an UPDATE is a [`Finding`] with an RFC 7606 [`Treatment`];
//! the UPDATE still decodes, and the worst finding decides what the receiver does.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::notification::NotificationMsg;

/// NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5).
pub mod code {
    pub const HEADER: u8 = 1;
    pub const OPEN: u8 = 2;
    pub const UPDATE: u8 = 3;
    pub const HOLD_TIMER: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    pub const ROUTE_REFRESH: u8 = 7;
}

/// Message Header Error subcodes (RFC 4271 §6.1).
pub mod header_sub {
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492 §5, RFC 9234 §4.2).
pub mod open_sub {
    pub const UNSPECIFIC: u8 = 0;
    pub const UNSUPPORTED_VERSION: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    pub const ROLE_MISMATCH: u8 = 11;
}

/// UPDATE Message Error subcodes (RFC 4271 §6.3).
pub mod update_sub {
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
pub mod route_refresh_sub {
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// Cease subcodes (RFC 4486, RFC 8203/9003).
pub mod cease_sub {
    pub const MAX_PREFIXES: u8 = 1;
    pub const ADMIN_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMIN_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIG_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    pub const HARD_RESET: u8 = 9;
    pub const BFD_DOWN: u8 = 10;
}

/// What RFC 7606 tells the receiver to do with an UPDATE. Ordered: the worst wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Treatment {
    /// RFC 7606 §2 "attribute discard": drop the attribute, keep the route.
    AttributeDiscard,
    /// RFC 7606 §2 "treat-as-withdraw": withdraw every NLRI in the UPDATE.
    TreatAsWithdraw,
    /// RFC 7606 §2 / RFC 4760 §7 "AFI/SAFI disable".
    AfiSafiDisable,
    /// RFC 7606 §2 "session reset": send the NOTIFICATION and close.
    SessionReset,
}

/// A fatal decode error: where it was found and the NOTIFICATION to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireError {
    /// Byte offset from the first marker byte where the problem was found.
    pub offset: usize,
    /// The NOTIFICATION that RFC 4271 §6 (or a later RFC) prescribes.
    pub notification: NotificationMsg,
    /// One human sentence for logs and `wren decode`.
    pub reason: String,
}

/// A non-fatal problem found in an UPDATE (RFC 7606).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Byte offset from the first marker byte (the attribute's flags byte for attribute errors).
    pub offset: usize,
    /// Attribute type code concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attr_type: Option<u8>,
    pub treatment: Treatment,
    /// The NOTIFICATION RFC 4271 would have sent; used if the treatment escalates to a reset.
    pub notification: NotificationMsg,
    pub reason: String,
}

/// An error while encoding (the value cannot be put on the wire as asked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLong { len: usize, max: usize },
    #[error("field {field} value does not fit: {detail}")]
    Field { field: &'static str, detail: String },
}

// ===== impl WireError =====

impl WireError {
    /// Build an error with a NOTIFICATION `code`/`subcode` and its data field.
    #[cold]
    pub fn new(
        offset: usize,
        code: u8,
        subcode: u8,
        data: Vec<u8>,
        reason: impl Into<String>,
    ) -> Self {
        WireError {
            offset,
            notification: NotificationMsg {
                code,
                subcode,
                data,
            },
            reason: reason.into(),
        }
    }

    /// The NOTIFICATION to send for this error.
    pub fn notification(&self) -> &NotificationMsg {
        &self.notification
    }

    /// Every fatal decode error is a session reset.
    pub fn treatment(&self) -> Treatment {
        Treatment::SessionReset
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at byte {}: {} (NOTIFICATION {}/{})",
            self.offset, self.reason, self.notification.code, self.notification.subcode
        )
    }
}

impl std::error::Error for WireError {}

// ===== impl Finding =====

impl Finding {
    #[cold]
    pub fn new(
        offset: usize,
        attr_type: Option<u8>,
        treatment: Treatment,
        notification: NotificationMsg,
        reason: impl Into<String>,
    ) -> Self {
        Finding {
            offset,
            attr_type,
            treatment,
            notification,
            reason: reason.into(),
        }
    }
}

/// The treatment that decides for a set of findings (the worst one), if any.
pub fn worst(findings: &[Finding]) -> Option<Treatment> {
    findings.iter().map(|f| f.treatment).max()
}
