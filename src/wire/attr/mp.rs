//! MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4), with the next hops of RFC 2545 §3
//! (IPv6 global + link-local) and RFC 8950 §3 (IPv4 NLRI with an IPv6 next hop).
//!
//! ```text
//! MP_REACH_NLRI                                  MP_UNREACH_NLRI
//! +--------------------------------------------+ +--------------------------------------+
//! | AFI (2) | SAFI (1)                         | | AFI (2) | SAFI (1)                   |
//! | Length of Next Hop Network Address (1)     | | Withdrawn Routes (variable)          |
//! | Network Address of Next Hop (variable)     | +--------------------------------------+
//! | Reserved (1)                               |
//! | Network Layer Reachability Information     |
//! +--------------------------------------------+
//! ```
//!
//! Any error here is reported as UPDATE Message Error / Optional Attribute Error with the
//! attribute as data (RFC 4760 §7). The walk in [`update`](crate::wire::update) picks the
//! treatment: "AFI/SAFI disable" when the AFI and SAFI can be read (RFC 4760 §7; RFC 7606
//! §7.11, §7.12), a session reset when the value is shorter than 3 octets. Families other
//! than IPv4 and IPv6 unicast are kept as bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Malformed;
use crate::wire::error::update_sub;
use crate::wire::family::Family;
use crate::wire::nlri::{self, NlriError};
use crate::wire::update::{MpNlri, MpReach, MpUnreach, NextHop};
use crate::wire::Ctx;

// ===== impl MpReach =====

impl MpReach {
    /// Decode the value; `base` is the absolute offset of `v[0]`.
    pub fn decode(v: &[u8], base: usize, ctx: &Ctx) -> Result<MpReach, Malformed> {
        let Some(&[a0, a1, safi, nh_len]) = v.first_chunk::<4>() else {
            return Err(bad(format!(
                "MP_REACH_NLRI of {} octets is too short",
                v.len()
            )));
        };
        let family = Family::new(u16::from_be_bytes([a0, a1]), safi);
        let nh_end = 4 + nh_len as usize;
        let nh = v
            .get(4..nh_end)
            .ok_or_else(|| bad("next hop runs past the attribute"))?;
        // RFC 4760 §3: the Reserved octet "MUST be set to 0, and SHOULD be ignored upon receipt".
        if v.len() <= nh_end {
            return Err(bad("MP_REACH_NLRI has no Reserved octet"));
        }
        let next_hop = decode_next_hop(family, nh)?;
        let nlri = decode_nlri(family, &v[nh_end + 1..], base + nh_end + 1, ctx)?;
        Ok(MpReach {
            family,
            next_hop,
            nlri,
        })
    }

    /// Append the value.
    pub fn encode_value(&self, ctx: &Ctx, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.family.afi.to_be_bytes());
        out.push(self.family.safi);
        self.next_hop.encode(out);
        out.push(0);
        self.nlri.encode(ctx.add_path(self.family), out);
    }
}

// ===== impl MpUnreach =====

impl MpUnreach {
    /// Decode the value; `base` is the absolute offset of `v[0]`.
    pub fn decode(v: &[u8], base: usize, ctx: &Ctx) -> Result<MpUnreach, Malformed> {
        let Some(&[a0, a1, safi]) = v.first_chunk::<3>() else {
            return Err(bad(format!(
                "MP_UNREACH_NLRI of {} octets is too short",
                v.len()
            )));
        };
        let family = Family::new(u16::from_be_bytes([a0, a1]), safi);
        let withdrawn = decode_nlri(family, &v[3..], base + 3, ctx)?;
        Ok(MpUnreach { family, withdrawn })
    }

    /// Append the value.
    pub fn encode_value(&self, ctx: &Ctx, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.family.afi.to_be_bytes());
        out.push(self.family.safi);
        self.withdrawn.encode(ctx.add_path(self.family), out);
    }
}

// ===== impl NextHop =====

impl NextHop {
    /// Append the length octet and the address(es).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            NextHop::V4(a) => {
                out.push(4);
                out.extend_from_slice(&a.octets());
            }
            NextHop::V6 { global, link_local } => {
                out.push(if link_local.is_some() { 32 } else { 16 });
                out.extend_from_slice(&global.octets());
                if let Some(ll) = link_local {
                    out.extend_from_slice(&ll.octets());
                }
            }
            NextHop::Raw(b) => {
                // Longer than 255 cannot be expressed; the length octet wraps and the
                // caller's own checks never build such a value.
                out.push(b.len().min(255) as u8);
                out.extend_from_slice(&b[..b.len().min(255)]);
            }
        }
    }

    /// Octets taken by the length octet and the address(es).
    pub fn wire_len(&self) -> usize {
        1 + match self {
            NextHop::V4(_) => 4,
            NextHop::V6 { link_local, .. } => 16 + if link_local.is_some() { 16 } else { 0 },
            NextHop::Raw(b) => b.len().min(255),
        }
    }
}

// ===== impl MpNlri =====

impl MpNlri {
    pub fn is_empty(&self) -> bool {
        match self {
            MpNlri::V4(v) => v.is_empty(),
            MpNlri::V6(v) => v.is_empty(),
            MpNlri::Raw(v) => v.is_empty(),
        }
    }

    pub fn encode(&self, add_path: bool, out: &mut Vec<u8>) {
        match self {
            MpNlri::V4(v) => nlri::encode_v4(v, add_path, out),
            MpNlri::V6(v) => nlri::encode_v6(v, add_path, out),
            MpNlri::Raw(b) => out.extend_from_slice(b),
        }
    }
}

// ===== helper functions =====

#[cold]
fn bad(reason: impl Into<String>) -> Malformed {
    Malformed::value(update_sub::OPTIONAL_ATTRIBUTE_ERROR, true, reason)
}

/// RFC 4760 §3 / RFC 2545 §3 / RFC 8950 §3: the next-hop length must fit the family.
fn decode_next_hop(family: Family, nh: &[u8]) -> Result<NextHop, Malformed> {
    let v6 = |b: &[u8]| -> Ipv6Addr {
        let mut o = [0u8; 16];
        o.copy_from_slice(b);
        Ipv6Addr::from(o)
    };
    let ok_v4 = family == Family::IPV4_UNICAST;
    let ok_v6 = ok_v4 || family == Family::IPV6_UNICAST;
    if !ok_v6 {
        return Ok(NextHop::Raw(nh.to_vec()));
    }
    match nh.len() {
        4 if ok_v4 => Ok(NextHop::V4(Ipv4Addr::new(nh[0], nh[1], nh[2], nh[3]))),
        16 => Ok(NextHop::V6 {
            global: v6(nh),
            link_local: None,
        }),
        32 => Ok(NextHop::V6 {
            global: v6(&nh[..16]),
            link_local: Some(v6(&nh[16..])),
        }),
        n => Err(bad(format!("next hop length {n} does not fit {family}"))),
    }
}

/// RFC 7606 §5.3: the NLRI of MP_REACH/MP_UNREACH must be syntactically correct.
fn decode_nlri(family: Family, b: &[u8], base: usize, ctx: &Ctx) -> Result<MpNlri, Malformed> {
    let add_path = ctx.add_path(family);
    let err = |e: NlriError| bad(format!("NLRI at byte {}: {e}", e.offset));
    match family {
        Family::IPV4_UNICAST => {
            let mut v = Vec::new();
            nlri::decode_v4(b, base, add_path, &mut v).map_err(err)?;
            Ok(MpNlri::V4(v))
        }
        Family::IPV6_UNICAST => {
            let mut v = Vec::new();
            nlri::decode_v6(b, base, add_path, &mut v).map_err(err)?;
            Ok(MpNlri::V6(v))
        }
        _ => Ok(MpNlri::Raw(b.to_vec())),
    }
}
