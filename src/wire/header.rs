//! The fixed 19-byte header: framing and checks (RFC 4271 §4.1, §6.1).

use super::error::{code, header_sub, EncodeError, WireError};
use super::{msg_type, DecodeCtx, HEADER_LEN, MAX_MSG_LEN};

/// Smallest OPEN: header + 10 fixed octets (RFC 4271 §4.2).
pub const OPEN_MIN_LEN: usize = 29;
/// Smallest UPDATE: header + two 2-octet length fields (RFC 4271 §4.3).
pub const UPDATE_MIN_LEN: usize = 23;
/// Smallest NOTIFICATION: header + code + subcode (RFC 4271 §4.5).
pub const NOTIFICATION_MIN_LEN: usize = 21;
/// Smallest ROUTE-REFRESH: header + AFI, subtype, SAFI (RFC 2918 §3). Longer is allowed
/// for subtype 0 (RFC 5291 ORF) and checked per subtype by `route_refresh` (RFC 7313 §5).
pub const ROUTE_REFRESH_MIN_LEN: usize = 23;

/// Bytes needed for the message starting at `buf[0]`, or `None` if the header is incomplete.
pub fn frame_len(buf: &[u8], ctx: &DecodeCtx) -> Result<Option<usize>, WireError> {
    match buf.first_chunk::<HEADER_LEN>() {
        Some(h) => check_header(h, ctx).map(|(_, len)| Some(len)),
        None => Ok(None),
    }
}

/// Check the header of a whole message in `buf`; returns (type, length).
///
/// The length field must equal `buf.len()` (the caller framed it).
pub fn check(buf: &[u8], ctx: &DecodeCtx) -> Result<(u8, usize), WireError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
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
    };
    let (typ, len) = check_header(header, ctx)?;
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
fn check_header(buf: &[u8; HEADER_LEN], ctx: &DecodeCtx) -> Result<(u8, usize), WireError> {
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
    // RFC 4271 §6.1 checks the Length field before the Type field: a length below 19,
    // or above 4096 (65535 with RFC 8654), is Bad Message Length whatever the type.
    if len < HEADER_LEN || len > ctx.max_len() {
        return Err(bad_length(len, typ, HEADER_LEN, ctx.max_len()));
    }
    let (min, max) = match typ {
        msg_type::OPEN => (OPEN_MIN_LEN, MAX_MSG_LEN),
        msg_type::UPDATE => (UPDATE_MIN_LEN, ctx.max_len()),
        msg_type::NOTIFICATION => (NOTIFICATION_MIN_LEN, ctx.max_len()),
        msg_type::KEEPALIVE => (HEADER_LEN, HEADER_LEN),
        msg_type::ROUTE_REFRESH => (ROUTE_REFRESH_MIN_LEN, ctx.max_len()),
        other => return Err(bad_type(other)),
    };
    // RFC 4271 §6.1: below the type's minimum, a KEEPALIVE not 19, or (RFC 8654 §4) an
    // OPEN above 4096 even with extended messages -> Bad Message Length, data = Length.
    if len < min || len > max {
        return Err(bad_length(len, typ, min, max));
    }
    Ok((typ, len))
}

#[cold]
fn bad_length(len: usize, typ: u8, min: usize, max: usize) -> WireError {
    WireError::new(
        16,
        code::HEADER,
        header_sub::BAD_MESSAGE_LENGTH,
        (len as u16).to_be_bytes().to_vec(),
        format!("length {len} is outside {min}..={max} for message type {typ}"),
    )
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

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(len: u16, typ: u8, total: usize) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&len.to_be_bytes());
        m.push(typ);
        m.resize(total, 0);
        m
    }

    fn err(buf: &[u8], ctx: &DecodeCtx) -> (usize, u8, u8, Vec<u8>) {
        let e = check(buf, ctx).unwrap_err();
        (
            e.offset,
            e.notification.code,
            e.notification.subcode,
            e.notification.data,
        )
    }

    #[test]
    fn frame_len_waits_for_a_whole_header() {
        let ctx = DecodeCtx::default();
        let m = msg(19, 4, 19);
        for n in 0..19 {
            assert_eq!(frame_len(&m[..n], &ctx), Ok(None));
        }
        assert_eq!(frame_len(&m, &ctx), Ok(Some(19)));
        // Only the header is needed to know the length.
        assert_eq!(frame_len(&msg(100, 2, 19), &ctx), Ok(Some(100)));
        assert_eq!(check(&m, &ctx), Ok((4, 19)));
    }

    #[test]
    fn marker_error() {
        let ctx = DecodeCtx::default();
        let mut m = msg(19, 4, 19);
        m[5] = 0xfe;
        assert_eq!(err(&m, &ctx), (5, 1, 1, vec![]));
        m[0] = 0;
        assert!(frame_len(&m, &ctx).unwrap_err().offset == 0);
    }

    #[test]
    fn length_bounds() {
        let ctx = DecodeCtx::default();
        // Below 19, whatever the type (the length is checked before the type).
        assert_eq!(err(&msg(18, 4, 19), &ctx), (16, 1, 2, vec![0, 18]));
        assert_eq!(err(&msg(0, 99, 19), &ctx), (16, 1, 2, vec![0, 0]));
        // Above 4096 without extended messages.
        assert_eq!(err(&msg(4097, 2, 19), &ctx), (16, 1, 2, vec![0x10, 0x01]));
        assert_eq!(err(&msg(4097, 99, 19), &ctx), (16, 1, 2, vec![0x10, 0x01]));
        // Per-type minimums (RFC 4271 §6.1).
        assert_eq!(err(&msg(28, 1, 28), &ctx), (16, 1, 2, vec![0, 28]));
        assert_eq!(err(&msg(22, 2, 22), &ctx), (16, 1, 2, vec![0, 22]));
        assert_eq!(err(&msg(20, 3, 20), &ctx), (16, 1, 2, vec![0, 20]));
        assert_eq!(err(&msg(20, 4, 20), &ctx), (16, 1, 2, vec![0, 20]));
        assert_eq!(err(&msg(22, 5, 22), &ctx), (16, 1, 2, vec![0, 22]));
        assert_eq!(check(&msg(29, 1, 29), &ctx), Ok((1, 29)));
        assert_eq!(check(&msg(21, 3, 21), &ctx), Ok((3, 21)));
        assert_eq!(check(&msg(4096, 2, 4096), &ctx), Ok((2, 4096)));
    }

    #[test]
    fn extended_messages_only_for_some_types() {
        let ext = DecodeCtx {
            ext_msg: true,
            ..DecodeCtx::default()
        };
        assert_eq!(frame_len(&msg(5000, 2, 19), &ext), Ok(Some(5000)));
        assert_eq!(frame_len(&msg(65535, 3, 19), &ext), Ok(Some(65535)));
        assert_eq!(frame_len(&msg(5000, 5, 19), &ext), Ok(Some(5000)));
        // RFC 8654 §4: never for OPEN or KEEPALIVE.
        assert_eq!(
            frame_len(&msg(4097, 1, 19), &ext)
                .unwrap_err()
                .notification
                .data,
            [0x10, 0x01]
        );
        assert_eq!(
            frame_len(&msg(20, 4, 19), &ext)
                .unwrap_err()
                .notification
                .subcode,
            2
        );
        assert_eq!(frame_len(&msg(4096, 1, 19), &ext), Ok(Some(4096)));
    }

    #[test]
    fn bad_types() {
        let ctx = DecodeCtx::default();
        assert_eq!(err(&msg(19, 0, 19), &ctx), (18, 1, 3, vec![0]));
        assert_eq!(err(&msg(19, 6, 19), &ctx), (18, 1, 3, vec![6]));
        assert_eq!(err(&msg(40, 255, 40), &ctx), (18, 1, 3, vec![255]));
    }

    #[test]
    fn check_wants_exactly_the_framed_bytes() {
        let ctx = DecodeCtx::default();
        assert_eq!(err(&msg(19, 4, 20), &ctx), (16, 1, 2, vec![0, 19]));
        assert_eq!(err(&msg(23, 2, 20), &ctx), (16, 1, 2, vec![0, 23]));
        assert_eq!(err(&[0xff; 10], &ctx), (10, 1, 2, vec![0, 10]));
    }

    #[test]
    fn frame_len_is_total() {
        let ctx = DecodeCtx::default();
        let ext = DecodeCtx {
            ext_msg: true,
            ..DecodeCtx::default()
        };
        let mut m = msg(0, 0, 19);
        for len in (0..=65535u16)
            .step_by(97)
            .chain([0, 18, 19, 20, 4096, 4097, 65535])
        {
            m[16..18].copy_from_slice(&len.to_be_bytes());
            for typ in 0..=255u8 {
                m[18] = typ;
                for c in [&ctx, &ext] {
                    if let Ok(Some(n)) = frame_len(&m, c) {
                        assert_eq!(n, usize::from(len));
                        assert!((1..=5).contains(&typ) && n >= 19 && n <= c.max_len());
                    }
                }
            }
        }
    }

    #[test]
    fn finish_patches_and_limits() {
        let mut out = vec![1, 2];
        begin(&mut out, 4);
        assert_eq!(finish(&mut out, 2, 4096), Ok(()));
        assert_eq!(out[2 + 16..], [0, 19, 4]);
        let mut out = Vec::new();
        begin(&mut out, 2);
        out.resize(5000, 0);
        assert_eq!(
            finish(&mut out, 0, 4096),
            Err(EncodeError::TooLong {
                len: 5000,
                max: 4096
            })
        );
        assert!(out.is_empty());
    }
}
