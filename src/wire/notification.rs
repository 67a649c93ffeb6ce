//! NOTIFICATION message (RFC 4271 §4.5), with the RFC 8203/9003 shutdown communication.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code    | Error subcode |   Data (variable)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Shutdown communication, the data of Cease subcodes 2 and 4 (RFC 9003 §2):
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Error code 6  |    Subcode    |    Length     |     ...       \
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+               /
//! \                                                               \
//! /                 ... Shutdown Communication ...                /
//! ```

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::error::{cease_sub, code, header_sub, EncodeError, WireError};
use super::HEADER_LEN;

/// A NOTIFICATION. `data` is kept raw; [`NotificationMsg::shutdown_communication`] decodes it.
///
/// JSON: `{code, subcode, data}` plus read-only `code_name`, `subcode_name` and
/// `communication`, which deserialization ignores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct NotificationMsg {
    pub code: u8,
    pub subcode: u8,
    #[serde(with = "super::hex::serde", default)]
    pub data: Vec<u8>,
}

/// Why a shutdown communication could not be read (RFC 9003 §2). The text itself is
/// deliberately not carried: RFC 9003 §2 says a malformed one MUST NOT be logged verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShutdownCommError {
    #[error(
        "shutdown communication length {declared} does not match the {available} octets present"
    )]
    InvalidLength { declared: usize, available: usize },
    #[error("shutdown communication is not valid UTF-8")]
    InvalidUtf8,
}

/// Longest shutdown communication (RFC 9003 §2; RFC 8203 allowed 128).
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

/// Send Hold Timer Expired error code (RFC 9687 §3).
pub const SEND_HOLD_TIMER: u8 = 8;

/// Decode a NOTIFICATION body; `base` is the absolute offset of `body[0]`.
///
/// Only a body shorter than 2 octets fails (the header check refuses it first).
pub fn decode(body: &[u8], base: usize) -> Result<NotificationMsg, WireError> {
    match body {
        [code, subcode, data @ ..] => Ok(NotificationMsg {
            code: *code,
            subcode: *subcode,
            data: data.to_vec(),
        }),
        // RFC 4271 §6.1: shorter than the NOTIFICATION minimum (21) -> Bad Message Length.
        _ => {
            let len = (HEADER_LEN + body.len()) as u16;
            Err(WireError::new(
                base + body.len(),
                code::HEADER,
                header_sub::BAD_MESSAGE_LENGTH,
                len.to_be_bytes().to_vec(),
                format!("NOTIFICATION of {len} octets is shorter than 21"),
            ))
        }
    }
}

// ===== impl NotificationMsg =====

impl NotificationMsg {
    pub fn new(code: u8, subcode: u8, data: Vec<u8>) -> Self {
        NotificationMsg {
            code,
            subcode,
            data,
        }
    }

    /// Cease with `subcode` and no data (RFC 4486 §4).
    pub fn cease(subcode: u8) -> Self {
        Self::new(code::CEASE, subcode, Vec::new())
    }

    /// Cease/Administrative Shutdown (subcode 2) carrying `text` (RFC 9003 §2).
    pub fn admin_shutdown(text: &str) -> Self {
        Self::shutdown(cease_sub::ADMIN_SHUTDOWN, text)
    }

    /// Cease/Administrative Reset (subcode 4) carrying `text` (RFC 9003 §2).
    pub fn admin_reset(text: &str) -> Self {
        Self::shutdown(cease_sub::ADMIN_RESET, text)
    }

    /// Cease `subcode` with a shutdown communication: one length octet then UTF-8 text,
    /// cut at a character boundary to at most 255 octets (RFC 9003 §2). Empty text gives
    /// a Cease with no data.
    pub fn shutdown(subcode: u8, text: &str) -> Self {
        if text.is_empty() {
            return Self::cease(subcode);
        }
        let mut end = text.len().min(MAX_SHUTDOWN_COMMUNICATION);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut data = Vec::with_capacity(end + 1);
        data.push(end as u8);
        data.extend_from_slice(&text.as_bytes()[..end]);
        Self::new(code::CEASE, subcode, data)
    }

    /// Hold Timer Expired (RFC 4271 §6.5).
    pub fn hold_timer_expired() -> Self {
        Self::new(code::HOLD_TIMER, 0, Vec::new())
    }

    /// Send Hold Timer Expired (RFC 9687 §3).
    pub fn send_hold_timer_expired() -> Self {
        Self::new(SEND_HOLD_TIMER, 0, Vec::new())
    }

    /// Finite State Machine Error (RFC 4271 §6.6) with an RFC 6608 subcode.
    pub fn fsm_error(subcode: u8) -> Self {
        Self::new(code::FSM, subcode, Vec::new())
    }

    /// OPEN Message Error with `subcode` and `data` (RFC 4271 §6.2).
    pub fn open_error(subcode: u8, data: Vec<u8>) -> Self {
        Self::new(code::OPEN, subcode, data)
    }

    /// The shutdown communication of Cease/Administrative Shutdown or Reset (RFC 9003 §2).
    ///
    /// `None` for other codes, and when there is none (no data, or length 0).
    pub fn shutdown_communication(&self) -> Option<Result<String, ShutdownCommError>> {
        if self.code != code::CEASE
            || !matches!(
                self.subcode,
                cease_sub::ADMIN_SHUTDOWN | cease_sub::ADMIN_RESET
            )
        {
            return None;
        }
        let (&len, text) = self.data.split_first()?;
        if len == 0 && text.is_empty() {
            return None;
        }
        if usize::from(len) != text.len() {
            return Some(Err(ShutdownCommError::InvalidLength {
                declared: len.into(),
                available: text.len(),
            }));
        }
        Some(
            std::str::from_utf8(text)
                .map(str::to_owned)
                .map_err(|_| ShutdownCommError::InvalidUtf8),
        )
    }

    /// Name of the error code (IANA "BGP Error (Notification) Codes").
    pub fn code_name(&self) -> Option<&'static str> {
        code_name(self.code)
    }

    /// Name of the error subcode, if the code defines it.
    pub fn subcode_name(&self) -> Option<&'static str> {
        subcode_name(self.code, self.subcode)
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.code);
        out.push(self.subcode);
        out.extend_from_slice(&self.data);
        Ok(())
    }
}

impl Serialize for NotificationMsg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let comm = self.shutdown_communication().and_then(Result::ok);
        let code_name = self.code_name();
        let subcode_name = self.subcode_name();
        let n = 3
            + usize::from(code_name.is_some())
            + usize::from(subcode_name.is_some())
            + usize::from(comm.is_some());
        let mut st = s.serialize_struct("NotificationMsg", n)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("subcode", &self.subcode)?;
        st.serialize_field("data", &super::hex::encode(&self.data))?;
        if let Some(name) = code_name {
            st.serialize_field("code_name", name)?;
        }
        if let Some(name) = subcode_name {
            st.serialize_field("subcode_name", name)?;
        }
        if let Some(c) = comm {
            st.serialize_field("communication", &c)?;
        }
        st.end()
    }
}

/// `Cease/Administrative Shutdown: "maintenance"`, `OPEN Message Error/Bad Peer AS`,
/// or numbers for what has no name; other data is shown as hex.
impl fmt::Display for NotificationMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code_name() {
            Some(n) => f.write_str(n)?,
            None => write!(f, "error code {}", self.code)?,
        }
        // Subcode 0 means "no specific subcode" (RFC 4271 §4.5): not worth printing.
        match self.subcode_name() {
            _ if self.subcode == 0 => {}
            Some(n) => write!(f, "/{n}")?,
            None => write!(f, "/subcode {}", self.subcode)?,
        }
        match self.shutdown_communication() {
            Some(Ok(text)) => write!(f, ": {text:?}"),
            Some(Err(e)) => write!(f, " ({e})"),
            None if self.data.is_empty() => Ok(()),
            None => write!(f, " (data {})", super::hex::encode(&self.data)),
        }
    }
}

// ===== helper functions =====

/// Error code names (RFC 4271 §4.5, RFC 7313 §5, RFC 9687 §3).
pub fn code_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "Message Header Error",
        2 => "OPEN Message Error",
        3 => "UPDATE Message Error",
        4 => "Hold Timer Expired",
        5 => "Finite State Machine Error",
        6 => "Cease",
        7 => "ROUTE-REFRESH Message Error",
        SEND_HOLD_TIMER => "Send Hold Timer Expired",
        _ => return None,
    })
}

/// Subcode names. Subcode 0 is "Unspecific" for every code (IANA registries).
pub fn subcode_name(code: u8, sub: u8) -> Option<&'static str> {
    let names: &[&str] = match code {
        // RFC 4271 §6.1.
        1 => &[
            "Unspecific",
            "Connection Not Synchronized",
            "Bad Message Length",
            "Bad Message Type",
        ],
        // RFC 4271 §6.2, RFC 5492 §5 (7), RFC 9234 §4.2 (11); 5, 8-10 deprecated.
        2 => &[
            "Unspecific",
            "Unsupported Version Number",
            "Bad Peer AS",
            "Bad BGP Identifier",
            "Unsupported Optional Parameter",
            "Authentication Failure (deprecated)",
            "Unacceptable Hold Time",
            "Unsupported Capability",
            "Deprecated",
            "Deprecated",
            "Deprecated",
            "Role Mismatch",
        ],
        // RFC 4271 §6.3; 7 (AS routing loop) deprecated.
        3 => &[
            "Unspecific",
            "Malformed Attribute List",
            "Unrecognized Well-known Attribute",
            "Missing Well-known Attribute",
            "Attribute Flags Error",
            "Attribute Length Error",
            "Invalid ORIGIN Attribute",
            "AS Routing Loop (deprecated)",
            "Invalid NEXT_HOP Attribute",
            "Optional Attribute Error",
            "Invalid Network Field",
            "Malformed AS_PATH",
        ],
        // RFC 4271 §6.5, RFC 9687 §3: no subcodes defined.
        4 | SEND_HOLD_TIMER => &["Unspecific"],
        // RFC 6608 §3.
        5 => &[
            "Unspecified Error",
            "Receive Unexpected Message in OpenSent State",
            "Receive Unexpected Message in OpenConfirm State",
            "Receive Unexpected Message in Established State",
        ],
        // RFC 4486 §4, RFC 8538 §3 (9), RFC 9384 (10).
        6 => &[
            "Unspecific",
            "Maximum Number of Prefixes Reached",
            "Administrative Shutdown",
            "Peer De-configured",
            "Administrative Reset",
            "Connection Rejected",
            "Other Configuration Change",
            "Connection Collision Resolution",
            "Out of Resources",
            "Hard Reset",
            "BFD Down",
        ],
        // RFC 7313 §5.
        7 => &["Reserved", "Invalid Message Length"],
        _ => return None,
    };
    names.get(usize::from(sub)).copied()
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_and_encode() {
        let n = decode(&[6, 2, 3, b'a', b'b', b'c'], 19).unwrap();
        assert_eq!(n, NotificationMsg::new(6, 2, b"\x03abc".to_vec()));
        let mut out = Vec::new();
        n.encode_body(&mut out).unwrap();
        assert_eq!(out, [6, 2, 3, b'a', b'b', b'c']);
        assert_eq!(
            decode(&[4, 0], 19).unwrap(),
            NotificationMsg::hold_timer_expired()
        );
        let e = decode(&[6], 19).unwrap_err();
        assert_eq!(
            (e.offset, e.notification.code, e.notification.subcode),
            (20, 1, 2)
        );
        assert_eq!(e.notification.data, [0, 20]);
        assert_eq!(decode(&[], 19).unwrap_err().notification.data, [0, 19]);
    }

    #[test]
    fn shutdown_communication() {
        let n = NotificationMsg::admin_shutdown("maintenance");
        assert_eq!((n.code, n.subcode), (6, 2));
        assert_eq!(n.data, b"\x0bmaintenance");
        assert_eq!(n.shutdown_communication(), Some(Ok("maintenance".into())));
        assert_eq!(NotificationMsg::admin_reset("x").data, b"\x01x");
        assert_eq!(NotificationMsg::admin_reset("x").subcode, 4);
        assert_eq!(
            NotificationMsg::admin_shutdown(""),
            NotificationMsg::cease(2)
        );
        assert_eq!(NotificationMsg::cease(2).shutdown_communication(), None);
        assert_eq!(
            NotificationMsg::new(6, 2, vec![0]).shutdown_communication(),
            None
        );
        assert_eq!(
            NotificationMsg::new(6, 3, b"\x01x".to_vec()).shutdown_communication(),
            None
        );
        assert_eq!(
            NotificationMsg::new(2, 2, b"\x01x".to_vec()).shutdown_communication(),
            None
        );
        assert_eq!(
            NotificationMsg::new(6, 2, b"\x05ab".to_vec()).shutdown_communication(),
            Some(Err(ShutdownCommError::InvalidLength {
                declared: 5,
                available: 2
            }))
        );
        assert_eq!(
            NotificationMsg::new(6, 4, b"\x00ab".to_vec()).shutdown_communication(),
            Some(Err(ShutdownCommError::InvalidLength {
                declared: 0,
                available: 2
            }))
        );
        assert_eq!(
            NotificationMsg::new(6, 4, b"\x02\xc3\x28".to_vec()).shutdown_communication(),
            Some(Err(ShutdownCommError::InvalidUtf8))
        );
    }

    #[test]
    fn shutdown_text_is_cut_at_255_octets_on_a_char_boundary() {
        let text = "é".repeat(200); // 400 octets
        let n = NotificationMsg::admin_shutdown(&text);
        assert_eq!(n.data[0], 254);
        assert_eq!(n.data.len(), 255);
        assert_eq!(n.shutdown_communication(), Some(Ok("é".repeat(127))));
        let n = NotificationMsg::admin_shutdown(&"a".repeat(300));
        assert_eq!((n.data[0], n.data.len()), (255, 256));
    }

    #[test]
    fn display() {
        assert_eq!(
            NotificationMsg::admin_shutdown("maintenance").to_string(),
            "Cease/Administrative Shutdown: \"maintenance\""
        );
        assert_eq!(
            NotificationMsg::new(2, 2, vec![]).to_string(),
            "OPEN Message Error/Bad Peer AS"
        );
        assert_eq!(
            NotificationMsg::new(1, 2, vec![0, 5]).to_string(),
            "Message Header Error/Bad Message Length (data 0005)"
        );
        assert_eq!(
            NotificationMsg::new(9, 0, vec![]).to_string(),
            "error code 9"
        );
        assert_eq!(
            NotificationMsg::new(9, 3, vec![]).to_string(),
            "error code 9/subcode 3"
        );
        assert_eq!(
            NotificationMsg::new(6, 99, vec![]).to_string(),
            "Cease/subcode 99"
        );
        assert_eq!(
            NotificationMsg::send_hold_timer_expired().to_string(),
            "Send Hold Timer Expired"
        );
        let bad = NotificationMsg::new(6, 2, b"\x09secret".to_vec()).to_string();
        assert!(
            !bad.contains("secret"),
            "RFC 9003: not logged verbatim: {bad}"
        );
    }

    #[test]
    fn names() {
        assert_eq!(subcode_name(2, 11), Some("Role Mismatch"));
        assert_eq!(subcode_name(2, 12), None);
        assert_eq!(subcode_name(3, 11), Some("Malformed AS_PATH"));
        assert_eq!(
            subcode_name(5, 3),
            Some("Receive Unexpected Message in Established State")
        );
        assert_eq!(subcode_name(6, 10), Some("BFD Down"));
        assert_eq!(subcode_name(6, 9), Some("Hard Reset"));
        assert_eq!(subcode_name(7, 1), Some("Invalid Message Length"));
        assert_eq!(subcode_name(8, 0), Some("Unspecific"));
        assert_eq!(subcode_name(8, 1), None);
        assert_eq!(subcode_name(0, 0), None);
        assert_eq!(code_name(8), Some("Send Hold Timer Expired"));
        assert_eq!(code_name(0), None);
        assert_eq!(
            NotificationMsg::fsm_error(1).code_name(),
            Some("Finite State Machine Error")
        );
        assert_eq!(
            NotificationMsg::open_error(6, vec![]).subcode_name(),
            Some("Unacceptable Hold Time")
        );
    }

    #[test]
    fn json_adds_names_and_ignores_them_back() {
        let n = NotificationMsg::admin_shutdown("bye");
        let j = serde_json::to_value(&n).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"code": 6, "subcode": 2, "data": "03627965", "code_name": "Cease",
                "subcode_name": "Administrative Shutdown", "communication": "bye"})
        );
        assert_eq!(serde_json::from_value::<NotificationMsg>(j).unwrap(), n);
        let j = serde_json::json!({"code": 9, "subcode": 9, "data": "", "code_name": "whatever"});
        let back: NotificationMsg = serde_json::from_value(j).unwrap();
        assert_eq!(back, NotificationMsg::new(9, 9, vec![]));
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::json!({"code": 9, "subcode": 9, "data": ""})
        );
        let no_data: NotificationMsg = serde_json::from_str(r#"{"code":4,"subcode":0}"#).unwrap();
        assert_eq!(no_data, NotificationMsg::hold_timer_expired());
    }

    #[test]
    fn wire_error_still_round_trips_through_json() {
        let e = WireError::new(16, 1, 2, vec![0, 5], "short");
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<WireError>(&j).unwrap(), e);
    }
}
