//! Fixed-size attributes: ORIGIN, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF, ATOMIC_AGGREGATE,
//! ORIGINATOR_ID and OTC.
//!
//! ```text
//! ORIGIN (RFC 4271 §5.1.1)          1 octet: 0 IGP, 1 EGP, 2 INCOMPLETE
//! NEXT_HOP (RFC 4271 §5.1.3)        4 octets: IPv4 address
//! MULTI_EXIT_DISC (RFC 4271 §5.1.4) 4 octets
//! LOCAL_PREF (RFC 4271 §5.1.5)      4 octets
//! ATOMIC_AGGREGATE (§5.1.6)         0 octets
//! ORIGINATOR_ID (RFC 4456 §8)       4 octets: BGP Identifier
//! OTC (RFC 9234 §5)                 4 octets: AS number
//! ```
//!
//! Session-level rules are not checked here, because the codec does not know the peer:
//! LOCAL_PREF from an external peer "SHALL be discarded" (RFC 7606 §7.5) and ORIGINATOR_ID
//! from an external peer is discarded too (RFC 7606 §7.9); the RIB applies both.

use std::net::Ipv4Addr;

use super::{code, emit, Attrs, Malformed, Origin};
use crate::wire::error::{update_sub, EncodeError};

// ===== impl Origin =====

impl Origin {
    pub const fn from_u8(v: u8) -> Option<Origin> {
        match v {
            0 => Some(Origin::Igp),
            1 => Some(Origin::Egp),
            2 => Some(Origin::Incomplete),
            _ => None,
        }
    }
}

// ===== helper functions =====

/// RFC 7606 §7.1: malformed if the length is not 1 or the value is undefined.
pub fn decode_origin(v: &[u8]) -> Result<Origin, Malformed> {
    let &[b] = v else {
        return Err(Malformed::length("ORIGIN", v.len(), "1"));
    };
    // RFC 4271 §6.3: "If the ORIGIN attribute has an undefined value, then the Error Sub-code
    // MUST be set to Invalid Origin Attribute. The Data field MUST contain the unrecognized
    // attribute (type, length, and value)."
    Origin::from_u8(b).ok_or_else(|| {
        Malformed::value(
            update_sub::INVALID_ORIGIN_ATTRIBUTE,
            true,
            format!("ORIGIN value {b} is undefined"),
        )
    })
}

/// A 4-octet attribute (MED, LOCAL_PREF, ORIGINATOR_ID, OTC, NEXT_HOP).
pub fn decode_u32(v: &[u8], name: &str) -> Result<u32, Malformed> {
    match v.first_chunk::<4>() {
        Some(b) if v.len() == 4 => Ok(u32::from_be_bytes(*b)),
        _ => Err(Malformed::length(name, v.len(), "4")),
    }
}

/// RFC 7606 §7.3: NEXT_HOP is malformed if its length is not 4. RFC 4271 §6.3: "Syntactic
/// correctness means that the NEXT_HOP attribute represents a valid IP host address", else
/// Invalid NEXT_HOP Attribute with the attribute as data. wren refuses 0.0.0.0/8 and
/// 224.0.0.0/3 (multicast, reserved, broadcast), which are never host addresses. The value
/// is checked only when the NLRI field is non-empty: otherwise the attribute is ignored
/// (RFC 4760 §3: a receiver "SHOULD ignore" NEXT_HOP in an MP-only UPDATE).
pub fn decode_next_hop(v: &[u8], check: bool) -> Result<Ipv4Addr, Malformed> {
    let a = Ipv4Addr::from(decode_u32(v, "NEXT_HOP")?);
    let first = a.octets()[0];
    if check && (first == 0 || first >= 224) {
        return Err(Malformed::value(
            update_sub::INVALID_NEXT_HOP_ATTRIBUTE,
            true,
            format!("NEXT_HOP {a} is not a host address"),
        ));
    }
    Ok(a)
}

/// RFC 7606 §7.6: ATOMIC_AGGREGATE is malformed if its length is not 0.
pub fn decode_atomic(v: &[u8]) -> Result<bool, Malformed> {
    if v.is_empty() {
        Ok(true)
    } else {
        Err(Malformed::length("ATOMIC_AGGREGATE", v.len(), "0"))
    }
}

/// Encode one of this file's attributes if present.
pub fn encode(a: &Attrs, c: u8, flags: u8, out: &mut Vec<u8>) -> Result<bool, EncodeError> {
    match c {
        code::ORIGIN => match a.origin {
            Some(o) => put(out, flags, c, &[o as u8]),
            None => Ok(false),
        },
        code::ATOMIC_AGGREGATE if a.atomic_aggregate => put(out, flags, c, &[]),
        code::NEXT_HOP => put4(out, flags, c, a.next_hop.map(u32::from)),
        code::MED => put4(out, flags, c, a.med),
        code::LOCAL_PREF => put4(out, flags, c, a.local_pref),
        code::ORIGINATOR_ID => put4(out, flags, c, a.originator_id.map(u32::from)),
        code::OTC => put4(out, flags, c, a.otc),
        _ => Ok(false),
    }
}

fn put(out: &mut Vec<u8>, flags: u8, c: u8, v: &[u8]) -> Result<bool, EncodeError> {
    emit(out, flags, c, |o| o.extend_from_slice(v)).map(|_| true)
}

fn put4(out: &mut Vec<u8>, flags: u8, c: u8, v: Option<u32>) -> Result<bool, EncodeError> {
    match v {
        Some(x) => put(out, flags, c, &x.to_be_bytes()),
        None => Ok(false),
    }
}
