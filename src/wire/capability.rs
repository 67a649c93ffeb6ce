//! Capabilities advertisement (RFC 5492) and the capabilities wren knows.
//!
//! ```text
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! +------------------------------+
//! ```

use serde::{Deserialize, Serialize};

use super::family::Family;

/// One capability. Unknown codes (and known codes with unparseable values) are kept raw.
// TODO(helper-session): fill in variants for every capability of the codec issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Code 1 (RFC 4760 §8).
    Multiprotocol(Family),
    /// Code 2 (RFC 2918).
    RouteRefresh,
    /// Code 65 (RFC 6793).
    FourOctetAs(u32),
    /// Any other code, value kept as bytes.
    Unknown {
        code: u8,
        #[serde(with = "super::hex::serde")]
        value: Vec<u8>,
    },
}
