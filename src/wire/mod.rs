//! BGP-4 messages: framing, decoding and encoding.
//!
//! Pure, no I/O: takes bytes and a [`Ctx`], returns typed messages (and the reverse).
//! It never panics on any input. Framing ([`frame_len`]) is separate from decoding
//! ([`decode`]), so a session reader can cut messages out of a stream before decoding.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                                                               +
//! |                           Marker (16 x 0xff)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Length               |      Type     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+       RFC 4271 §4.1
//! ```

pub mod attr;
pub mod capability;
pub mod ctx;
pub mod error;
pub mod family;
pub mod header;
pub mod hex;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod pack;
pub mod reader;
pub mod route_refresh;
pub mod update;

use serde::{Deserialize, Serialize};

pub use attr::{Aggregator, AsPath, AsSegment, Attrs, Origin, RawAttr, SegmentKind};
pub use capability::Capability;
pub use ctx::{Ctx, DecodeCtx, EncodeCtx};
pub use error::{EncodeError, Finding, Treatment, WireError};
pub use family::Family;
pub use nlri::{Nlri4, Nlri6, Prefix4, Prefix6};
pub use notification::NotificationMsg;
pub use open::{OpenMsg, OptParam};
pub use route_refresh::RouteRefreshMsg;
pub use update::{MpNlri, MpReach, MpUnreach, NextHop, UpdateMsg};

/// Length of the fixed header (RFC 4271 §4.1).
pub const HEADER_LEN: usize = 19;
/// Largest message without the extended message capability (RFC 4271 §4.1).
pub const MAX_MSG_LEN: usize = 4096;
/// Largest message with the extended message capability (RFC 8654 §4).
pub const MAX_EXT_MSG_LEN: usize = 65535;

/// Message type codes (RFC 4271 §4.1, RFC 2918 §3).
pub mod msg_type {
    pub const OPEN: u8 = 1;
    pub const UPDATE: u8 = 2;
    pub const NOTIFICATION: u8 = 3;
    pub const KEEPALIVE: u8 = 4;
    pub const ROUTE_REFRESH: u8 = 5;
}

/// One BGP message. The JSON form is `{"type": "update", ...fields}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Message {
    Open(OpenMsg),
    Update(UpdateMsg),
    Notification(NotificationMsg),
    Keepalive,
    RouteRefresh(RouteRefreshMsg),
}

/// How many bytes the next message occupies, once the header is in `buf`.
///
/// `Ok(None)`: fewer than 19 bytes buffered. `Err`: the header is bad (marker, length or
/// type), with the NOTIFICATION to send (RFC 4271 §6.1).
pub fn frame_len(buf: &[u8], ctx: &DecodeCtx) -> Result<Option<usize>, WireError> {
    header::frame_len(buf, ctx)
}

/// Decode one whole message (header included). Total: never panics.
///
/// Returns the message and any RFC 7606 findings (only UPDATEs have findings).
pub fn decode(buf: &[u8], ctx: &DecodeCtx) -> Result<(Message, Vec<Finding>), WireError> {
    let (typ, len) = header::check(buf, ctx)?;
    let body = &buf[HEADER_LEN..len];
    let msg = match typ {
        msg_type::OPEN => Message::Open(open::decode(body, HEADER_LEN)?),
        msg_type::UPDATE => {
            let (u, findings) = update::decode(body, ctx, HEADER_LEN)?;
            return Ok((Message::Update(u), findings));
        }
        msg_type::NOTIFICATION => Message::Notification(notification::decode(body, HEADER_LEN)?),
        msg_type::KEEPALIVE => Message::Keepalive,
        msg_type::ROUTE_REFRESH => Message::RouteRefresh(route_refresh::decode(body, HEADER_LEN)?),
        // header::check has already refused other types.
        other => return Err(header::bad_type(other)),
    };
    Ok((msg, Vec::new()))
}

/// Encode one message (header included), appending to `out`.
pub fn encode(msg: &Message, ctx: &EncodeCtx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    let typ = match msg {
        Message::Open(_) => msg_type::OPEN,
        Message::Update(_) => msg_type::UPDATE,
        Message::Notification(_) => msg_type::NOTIFICATION,
        Message::Keepalive => msg_type::KEEPALIVE,
        Message::RouteRefresh(_) => msg_type::ROUTE_REFRESH,
    };
    header::begin(out, typ);
    let res = match msg {
        Message::Open(m) => m.encode_body(out),
        Message::Update(m) => m.encode_body(ctx, out),
        Message::Notification(m) => m.encode_body(out),
        Message::Keepalive => Ok(()),
        Message::RouteRefresh(m) => m.encode_body(out),
    };
    if let Err(e) = res {
        out.truncate(start);
        return Err(e);
    }
    // RFC 8654 §4: OPEN and KEEPALIVE never exceed 4096 bytes.
    let max = match msg {
        Message::Open(_) | Message::Keepalive => MAX_MSG_LEN,
        _ => ctx.max_len(),
    };
    header::finish(out, start, max)
}

/// Encode `msg` into a fresh buffer.
pub fn encode_to_vec(msg: &Message, ctx: &EncodeCtx) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    encode(msg, ctx, &mut out)?;
    Ok(out)
}
