//! The fixed 19-byte header: framing and checks (RFC 4271 §4.1, §6.1).

use super::error::{code, header_sub, EncodeError, WireError};
use super::{msg_type, DecodeCtx, HEADER_LEN, MAX_MSG_LEN};

/// Bytes needed for the message starting at `buf[0]`, or `None` if the header is incomplete.
pub fn frame_len(buf: &[u8], ctx: &DecodeCtx) -> Result<Option<usize>, WireError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let (_, len) = check_header(buf, ctx)?;
    Ok(Some(len))
}

/// Check the header of a whole message in `buf`; returns (type, length).
///
/// The length field must equal `buf.len()` (the caller framed it).
pub fn check(buf: &[u8], ctx: &DecodeCtx) -> Result<(u8, usize), WireError> {
    if buf.len() < HEADER_LEN {
        return Err(WireError::new(
            buf.len(),
            code::HEADER,
            header_sub::BAD_MESSAGE_LENGTH,
            (buf.len() as u16).to_be_bytes().to_vec(),
            format!(
                "message of {} bytes is shorter than the 19-byte header",
                buf.len()
            ),
        ));
    }
    let (typ, len) = check_header(buf, ctx)?;
    if len != buf.len() {
        return Err(WireError::new(
            16,
            code::HEADER,
            header_sub::BAD_MESSAGE_LENGTH,
            (len as u16).to_be_bytes().to_vec(),
            format!("length field says {len} bytes but {} were given", buf.len()),
        ));
    }
    Ok((typ, len))
}

/// Marker, length and type checks (RFC 4271 §6.1).
fn check_header(buf: &[u8], ctx: &DecodeCtx) -> Result<(u8, usize), WireError> {
    // RFC 4271 §6.1: "If the Marker field of the message header is not as expected, then
    // a synchronization error has occurred" -> Connection Not Synchronized, no data.
    if let Some(i) = buf[..16].iter().position(|&b| b != 0xff) {
        return Err(WireError::new(
            i,
            code::HEADER,
            header_sub::CONNECTION_NOT_SYNCHRONIZED,
            Vec::new(),
            "marker is not all ones",
        ));
    }
    let len = u16::from_be_bytes([buf[16], buf[17]]) as usize;
    let typ = buf[18];
    let (min, max) = match typ {
        msg_type::OPEN => (29, MAX_MSG_LEN),
        msg_type::UPDATE => (23, ctx.max_len()),
        msg_type::NOTIFICATION => (21, ctx.max_len()),
        msg_type::KEEPALIVE => (19, 19),
        msg_type::ROUTE_REFRESH => (23, ctx.max_len()),
        other => return Err(bad_type(other)),
    };
    // RFC 4271 §6.1: bad length -> Bad Message Length, data = the erroneous Length field.
    if len < min || len > max {
        return Err(WireError::new(
            16,
            code::HEADER,
            header_sub::BAD_MESSAGE_LENGTH,
            (len as u16).to_be_bytes().to_vec(),
            format!("length {len} is outside {min}..={max} for message type {typ}"),
        ));
    }
    Ok((typ, len))
}

/// RFC 4271 §6.1: unrecognized type -> Bad Message Type, data = the erroneous Type field.
#[cold]
pub fn bad_type(typ: u8) -> WireError {
    WireError::new(
        18,
        code::HEADER,
        header_sub::BAD_MESSAGE_TYPE,
        vec![typ],
        format!("unknown message type {typ}"),
    )
}

/// Append a header with a zero length; [`finish`] patches it.
pub fn begin(out: &mut Vec<u8>, typ: u8) {
    out.extend_from_slice(&[0xff; 16]);
    out.extend_from_slice(&[0, 0, typ]);
}

/// Patch the length of the message that starts at `start`, checking `max`.
pub fn finish(out: &mut Vec<u8>, start: usize, max: usize) -> Result<(), EncodeError> {
    let len = out.len() - start;
    if len > max {
        out.truncate(start);
        return Err(EncodeError::TooLong { len, max });
    }
    out[start + 16..start + 18].copy_from_slice(&(len as u16).to_be_bytes());
    Ok(())
}
