//! AGGREGATOR (RFC 4271 §5.1.7) and AS4_AGGREGATOR (RFC 6793 §3).
//!
//! ```text
//! +---------------------------------+-------------------------+
//! | AS number (2 octets, or 4 with  | IPv4 address (4 octets) |
//! | ctx.as4; always 4 in AS4_AGGR.) |                         |
//! +---------------------------------+-------------------------+
//! ```

use std::net::Ipv4Addr;

use super::{code, Aggregator, Attrs, Malformed, AS_TRANS};
use crate::wire::error::update_sub;

// ===== impl Aggregator =====

impl Aggregator {
    /// RFC 7606 §7.7: AGGREGATOR is malformed if its length is not 6 (2-octet session) or
    /// 8 (4-octet session); RFC 6793 §6: AS4_AGGREGATOR must be 8.
    /// RFC 7607 §2: AS 0 in AGGREGATOR or AS4_AGGREGATOR makes the attribute malformed
    /// (Optional Attribute Error with the attribute as data); the caller discards it
    /// (RFC 7606 §7.7, RFC 6793 §6).
    pub fn decode(v: &[u8], four: bool, attr: u8) -> Result<Aggregator, Malformed> {
        let name = if attr == code::AGGREGATOR {
            "AGGREGATOR"
        } else {
            "AS4_AGGREGATOR"
        };
        let a = Self::decode_fields(v, four, name)?;
        if a.asn == 0 {
            let sub = update_sub::OPTIONAL_ATTRIBUTE_ERROR;
            return Err(Malformed::value(sub, true, format!("AS 0 in {name}")));
        }
        Ok(a)
    }

    fn decode_fields(v: &[u8], four: bool, name: &str) -> Result<Aggregator, Malformed> {
        match (four, v) {
            (true, &[a, b, c, d, e, f, g, h]) => Ok(Aggregator {
                asn: u32::from_be_bytes([a, b, c, d]),
                address: Ipv4Addr::new(e, f, g, h),
            }),
            (false, &[a, b, e, f, g, h]) => Ok(Aggregator {
                asn: u16::from_be_bytes([a, b]) as u32,
                address: Ipv4Addr::new(e, f, g, h),
            }),
            _ => Err(Malformed::length(
                name,
                v.len(),
                if four { "8" } else { "6" },
            )),
        }
    }

    /// Append the value; with `four` false an AS above 65535 becomes AS_TRANS (RFC 6793 §4.2.2).
    pub fn encode(&self, four: bool, out: &mut Vec<u8>) {
        if four {
            out.extend_from_slice(&self.asn.to_be_bytes());
        } else {
            let a = if self.asn > 0xffff {
                AS_TRANS
            } else {
                self.asn
            };
            out.extend_from_slice(&(a as u16).to_be_bytes());
        }
        out.extend_from_slice(&self.address.octets());
    }
}

// ===== helper functions =====

/// The aggregator after RFC 6793 §4.2.3: if AGGREGATOR carries AS_TRANS and AS4_AGGREGATOR
/// is present, AS4_AGGREGATOR is the aggregator; if AGGREGATOR carries any other AS,
/// AS4_AGGREGATOR is ignored. AS4_AGGREGATOR without AGGREGATOR is ignored too.
pub fn effective(a: &Attrs) -> Option<Aggregator> {
    match (a.aggregator, a.as4_aggregator) {
        (Some(agg), Some(agg4)) if agg.asn == AS_TRANS => Some(agg4),
        (agg, _) => agg,
    }
}
