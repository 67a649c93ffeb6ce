//! ROUTE-REFRESH message (RFC 2918 §3) with the RFC 7313 §3.2 message subtypes.
//!
//! ```text
//!  0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Subtype | SAFI|
//! +-------+-------+-------+-------+
//! ```
//!
//! Length rules (RFC 7313 §5): a BoRR or EoRR (subtype 1 or 2) whose body is not exactly
//! 4 octets is an error, "ROUTE-REFRESH Message Error / Invalid Message Length" with the
//! complete message as data. A normal request (subtype 0) may be longer: RFC 5291 puts
//! ORF entries after the 4 octets; wren does not negotiate ORF and drops them. Other
//! subtypes must be ignored by the receiver (RFC 7313 §5), so they decode whatever
//! their length. Shorter than 4 octets is refused by the header check (RFC 4271 §6.1).

use serde::{Deserialize, Serialize};

use super::error::{code, header_sub, route_refresh_sub, EncodeError, WireError};
use super::family::Family;
use super::{msg_type, HEADER_LEN};

/// A ROUTE-REFRESH. `subtype`: 0 normal request, 1 BoRR, 2 EoRR (RFC 7313), others reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteRefreshMsg {
    pub family: Family,
    #[serde(default)]
    pub subtype: u8,
}

/// Message subtypes (RFC 7313 §3.2).
pub mod subtype {
    pub const NORMAL: u8 = 0;
    /// Beginning of Route Refresh.
    pub const BORR: u8 = 1;
    /// End of Route Refresh.
    pub const EORR: u8 = 2;
}

/// Decode a ROUTE-REFRESH body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], base: usize) -> Result<RouteRefreshMsg, WireError> {
    let [a0, a1, sub, safi, rest @ ..] = body else {
        // RFC 4271 §6.1: below the 23-octet minimum -> Bad Message Length.
        let len = (HEADER_LEN + body.len()) as u16;
        return Err(WireError::new(
            base + body.len(),
            code::HEADER,
            header_sub::BAD_MESSAGE_LENGTH,
            len.to_be_bytes().to_vec(),
            format!("ROUTE-REFRESH of {len} octets is shorter than 23"),
        ));
    };
    // RFC 7313 §5: BoRR/EoRR must be exactly 4 octets; data = the complete message.
    if matches!(*sub, subtype::BORR | subtype::EORR) && !rest.is_empty() {
        return Err(WireError::new(
            base + 4,
            code::ROUTE_REFRESH,
            route_refresh_sub::INVALID_MESSAGE_LENGTH,
            whole_message(body),
            format!(
                "ROUTE-REFRESH subtype {sub} with a {}-octet body (must be 4)",
                body.len()
            ),
        ));
    }
    Ok(RouteRefreshMsg {
        family: Family::new(u16::from_be_bytes([*a0, *a1]), *safi),
        subtype: *sub,
    })
}

// ===== impl RouteRefreshMsg =====

impl RouteRefreshMsg {
    /// A normal route refresh request (RFC 2918 §3).
    pub fn request(family: Family) -> Self {
        RouteRefreshMsg {
            family,
            subtype: subtype::NORMAL,
        }
    }

    /// Beginning of Route Refresh (RFC 7313 §4).
    pub fn borr(family: Family) -> Self {
        RouteRefreshMsg {
            family,
            subtype: subtype::BORR,
        }
    }

    /// End of Route Refresh (RFC 7313 §4).
    pub fn eorr(family: Family) -> Self {
        RouteRefreshMsg {
            family,
            subtype: subtype::EORR,
        }
    }

    /// RFC 7313 §5: a receiver ignores subtypes other than 0, 1 and 2.
    pub fn is_ignored(&self) -> bool {
        self.subtype > subtype::EORR
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.family.afi.to_be_bytes());
        out.push(self.subtype);
        out.push(self.family.safi);
        Ok(())
    }
}

// ===== helper functions =====

/// The complete message (header included) rebuilt from its body, for NOTIFICATION data.
fn whole_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER_LEN + body.len());
    m.extend_from_slice(&[0xff; 16]);
    // The header check bounds the length to 65535, so this does not truncate in practice.
    let len = u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX);
    m.extend_from_slice(&len.to_be_bytes());
    m.push(msg_type::ROUTE_REFRESH);
    m.extend_from_slice(body);
    m
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_borr_eorr() {
        for (sub, m) in [
            (0, RouteRefreshMsg::request(Family::IPV4_UNICAST)),
            (1, RouteRefreshMsg::borr(Family::IPV4_UNICAST)),
            (2, RouteRefreshMsg::eorr(Family::IPV4_UNICAST)),
        ] {
            let body = [0, 1, sub, 1];
            assert_eq!(decode(&body, 19).unwrap(), m);
            let mut out = Vec::new();
            m.encode_body(&mut out).unwrap();
            assert_eq!(out, body);
            assert!(!m.is_ignored());
        }
        let m = decode(&[0, 2, 7, 128], 19).unwrap();
        assert_eq!(m.family, Family::new(2, 128));
        assert!(m.is_ignored());
    }

    #[test]
    fn bad_lengths() {
        let e = decode(&[0, 1, 1, 1, 0], 19).unwrap_err();
        assert_eq!(
            (e.offset, e.notification.code, e.notification.subcode),
            (23, 7, 1)
        );
        let mut whole = vec![0xff; 16];
        whole.extend_from_slice(&[0, 24, 5, 0, 1, 1, 1, 0]);
        assert_eq!(e.notification.data, whole);
        assert_eq!(
            decode(&[0, 1, 2, 1, 9, 9], 19)
                .unwrap_err()
                .notification
                .subcode,
            1
        );
        // Subtype 0 may carry ORF entries (RFC 5291); other subtypes are ignored.
        assert_eq!(
            decode(&[0, 1, 0, 1, 1, 2, 3], 19).unwrap(),
            RouteRefreshMsg::request(Family::IPV4_UNICAST)
        );
        assert!(decode(&[0, 1, 3, 1, 1, 2, 3], 19).unwrap().is_ignored());
        let e = decode(&[0, 1, 1], 19).unwrap_err();
        assert_eq!(
            (e.offset, e.notification.code, e.notification.subcode),
            (22, 1, 2)
        );
        assert_eq!(e.notification.data, [0, 22]);
    }
}
