//! Decode and encode context: what the session negotiated that changes the bytes.

use serde::{Deserialize, Serialize};

use super::family::Family;

/// Negotiated session parameters that change how messages are framed and coded.
///
/// The same shape serves decoding (`add_path` = families for which we *receive*
/// path identifiers) and encoding (`add_path` = families for which we *send* them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ctx {
    /// RFC 6793: both sides announced the 4-octet AS capability.
    pub as4: bool,
    /// RFC 7911: families whose NLRI carry a 4-octet path identifier.
    pub add_path: Vec<Family>,
    /// RFC 8654: messages up to 65535 bytes (UPDATE, NOTIFICATION, ROUTE-REFRESH; never OPEN/KEEPALIVE).
    pub ext_msg: bool,
}

/// Context used to decode received messages.
pub type DecodeCtx = Ctx;
/// Context used to encode messages to send.
pub type EncodeCtx = Ctx;

impl Default for Ctx {
    /// A modern session: 4-octet AS, no ADD-PATH, 4096-byte messages.
    fn default() -> Self {
        Ctx {
            as4: true,
            add_path: Vec::new(),
            ext_msg: false,
        }
    }
}

impl Ctx {
    /// Does this context carry path identifiers for `family`?
    #[inline]
    pub fn add_path(&self, family: Family) -> bool {
        self.add_path.contains(&family)
    }

    /// Largest message this context allows (RFC 4271 §4.1, RFC 8654 §4).
    #[inline]
    pub fn max_len(&self) -> usize {
        if self.ext_msg {
            super::MAX_EXT_MSG_LEN
        } else {
            super::MAX_MSG_LEN
        }
    }
}
