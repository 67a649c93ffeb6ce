//! NOTIFICATION message (RFC 4271 §4.5), with the RFC 8203/9003 shutdown communication.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use serde::{Deserialize, Serialize};

use super::error::{EncodeError, WireError};

/// A NOTIFICATION. `data` is kept raw; [`NotificationMsg::shutdown_communication`] decodes it.
// TODO(helper-session): custom Serialize adding code/subcode names and the decoded communication.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NotificationMsg {
    pub code: u8,
    pub subcode: u8,
    #[serde(with = "super::hex::serde", default)]
    pub data: Vec<u8>,
}

/// Decode a NOTIFICATION body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], base: usize) -> Result<NotificationMsg, WireError> {
    // TODO(helper-session)
    let _ = base;
    Ok(NotificationMsg {
        code: body.first().copied().unwrap_or(0),
        subcode: body.get(1).copied().unwrap_or(0),
        data: body.get(2..).unwrap_or(&[]).to_vec(),
    })
}

impl NotificationMsg {
    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}
