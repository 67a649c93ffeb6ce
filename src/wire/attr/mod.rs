//! Path attributes (RFC 4271 §4.3, §5) and the RFC 7606 rules for each.
//!
//! ```text
//!  0                   1
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Attr. Flags  |Attr. Type Code|  then Length: 1 octet, or 2 with Extended Length
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! flags: O(ptional) T(ransitive) P(artial) E(xtended length) 0 0 0 0
//! ```
//!
//! [`Attrs`] is the interned unit: every attribute except MP_REACH_NLRI and
//! MP_UNREACH_NLRI, which carry NLRI and live in [`UpdateMsg`](super::UpdateMsg).
//!
//! One file per attribute group: [`simple`] (ORIGIN, NEXT_HOP, MED, LOCAL_PREF,
//! ATOMIC_AGGREGATE, ORIGINATOR_ID, OTC), [`as_path`] (AS_PATH, AS4_PATH and the RFC 6793
//! merge), [`aggregator`], [`communities`] (COMMUNITIES, EXTENDED COMMUNITIES,
//! LARGE_COMMUNITY, CLUSTER_LIST), [`mp`] (MP_REACH_NLRI, MP_UNREACH_NLRI) and [`unknown`].
//! The attribute list walk and the RFC 7606 decisions that span attributes are in
//! [`update`](super::update).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::ctx::Ctx;
use super::error::{update_sub, EncodeError, Treatment};

pub mod aggregator;
pub mod as_path;
pub mod communities;
pub mod mp;
pub mod simple;
pub mod unknown;

/// The reserved 2-octet AS number that stands for a 4-octet one (RFC 6793 §9).
pub const AS_TRANS: u32 = 23456;

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flag {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes.
pub mod code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MED: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    /// IPv6 Address Specific Extended Community (RFC 5701): kept raw, length checked.
    pub const IPV6_EXT_COMMUNITIES: u8 = 25;
    pub const LARGE_COMMUNITY: u8 = 32;
    pub const OTC: u8 = 35;
}

/// The path attributes of a route, minus MP_REACH/MP_UNREACH. Hashable, so it can be interned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Attrs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_path: Option<AsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub med: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub atomic_aggregate: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregator: Option<Aggregator>,
    /// RFC 1997, each community as a u32 (`ASN << 16 | value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communities: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator_id: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_list: Option<Vec<Ipv4Addr>>,
    /// RFC 4360, each extended community as its 8 raw octets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_communities: Option<Vec<[u8; 8]>>,
    /// RFC 6793: kept as received; [`Attrs::effective_as_path`] merges it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as4_path: Option<AsPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as4_aggregator: Option<Aggregator>,
    /// RFC 8092: (global administrator, local data 1, local data 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub large_communities: Option<Vec<[u32; 3]>>,
    /// RFC 9234 Only-To-Customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otc: Option<u32>,
    /// Attributes wren does not interpret, passed through (RFC 4271 §5, Partial bit set on re-advertise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawAttr>,
}

/// ORIGIN (RFC 4271 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// AS_PATH or AS4_PATH (RFC 4271 §4.3, RFC 5065 confederation segments).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

/// One AS_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AsSegment {
    pub kind: SegmentKind,
    pub asns: Vec<u32>,
}

/// Segment types: 1 SET, 2 SEQUENCE (RFC 4271), 3 CONFED_SEQUENCE, 4 CONFED_SET (RFC 5065).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentKind {
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

/// AGGREGATOR or AS4_AGGREGATOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// An attribute kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RawAttr {
    pub flags: u8,
    pub type_code: u8,
    #[serde(with = "super::hex::serde")]
    pub value: Vec<u8>,
}

/// A problem with one attribute, before RFC 7606 picks the treatment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// RFC 4271 §6.3 UPDATE Message Error subcode.
    pub subcode: u8,
    /// RFC 4271 §6.3 puts the attribute (type, length, value) in the data for this subcode.
    pub with_data: bool,
    pub reason: String,
}

/// Known attribute codes in canonical (ascending) order, MP attributes excluded.
pub const CANONICAL_CODES: [u8; 15] = [
    code::ORIGIN,
    code::AS_PATH,
    code::NEXT_HOP,
    code::MED,
    code::LOCAL_PREF,
    code::ATOMIC_AGGREGATE,
    code::AGGREGATOR,
    code::COMMUNITIES,
    code::ORIGINATOR_ID,
    code::CLUSTER_LIST,
    code::EXTENDED_COMMUNITIES,
    code::AS4_PATH,
    code::AS4_AGGREGATOR,
    code::LARGE_COMMUNITY,
    code::OTC,
];

// ===== impl Malformed =====

impl Malformed {
    /// RFC 4271 §6.3: "If any recognized attribute has Attribute Length that conflicts with
    /// the expected length (based on the attribute type code), then the Error Subcode MUST be
    /// set to Attribute Length Error. The Data field MUST contain the erroneous attribute".
    #[cold]
    pub fn length(name: &str, got: usize, want: &str) -> Malformed {
        Malformed {
            subcode: update_sub::ATTRIBUTE_LENGTH_ERROR,
            with_data: true,
            reason: format!("{name} length {got} is not {want}"),
        }
    }

    #[cold]
    pub fn value(subcode: u8, with_data: bool, reason: impl Into<String>) -> Malformed {
        Malformed {
            subcode,
            with_data,
            reason: reason.into(),
        }
    }
}

// ===== impl Attrs =====

impl Attrs {
    /// Is the attribute with this type code present?
    pub fn has(&self, c: u8) -> bool {
        (match c {
            code::ORIGIN => self.origin.is_some(),
            code::AS_PATH => self.as_path.is_some(),
            code::NEXT_HOP => self.next_hop.is_some(),
            code::MED => self.med.is_some(),
            code::LOCAL_PREF => self.local_pref.is_some(),
            code::ATOMIC_AGGREGATE => self.atomic_aggregate,
            code::AGGREGATOR => self.aggregator.is_some(),
            code::COMMUNITIES => self.communities.is_some(),
            code::ORIGINATOR_ID => self.originator_id.is_some(),
            code::CLUSTER_LIST => self.cluster_list.is_some(),
            code::EXTENDED_COMMUNITIES => self.ext_communities.is_some(),
            code::AS4_PATH => self.as4_path.is_some(),
            code::AS4_AGGREGATOR => self.as4_aggregator.is_some(),
            code::LARGE_COMMUNITY => self.large_communities.is_some(),
            code::OTC => self.otc.is_some(),
            _ => false,
        }) || self.unknown.iter().any(|r| r.type_code == c)
    }

    /// Encode the attribute `c` if present, with `flags` (or its canonical flags when `None`).
    /// Returns whether something was written. AS4_PATH and AS4_AGGREGATOR are never sent on
    /// a 4-octet session (RFC 6793 §4.1: "MUST NOT be carried ... between NEW BGP speakers").
    pub fn encode_attr(
        &self,
        c: u8,
        flags: Option<u8>,
        ctx: &Ctx,
        out: &mut Vec<u8>,
    ) -> Result<bool, EncodeError> {
        let f = |c: u8| flags.unwrap_or_else(|| std_flags(c).unwrap_or(0));
        match c {
            code::ORIGIN | code::NEXT_HOP | code::MED | code::LOCAL_PREF => {
                simple::encode(self, c, f(c), out)
            }
            code::ATOMIC_AGGREGATE | code::ORIGINATOR_ID | code::OTC => {
                simple::encode(self, c, f(c), out)
            }
            code::AS_PATH => match &self.as_path {
                Some(p) => emit(out, f(c), c, |o| p.encode(ctx.as4, o)).map(|_| true),
                None => Ok(false),
            },
            code::AS4_PATH => match &self.as4_path {
                Some(p) if !ctx.as4 => emit(out, f(c), c, |o| p.encode(true, o)).map(|_| true),
                _ => Ok(false),
            },
            code::AGGREGATOR => match &self.aggregator {
                Some(a) => emit(out, f(c), c, |o| a.encode(ctx.as4, o)).map(|_| true),
                None => Ok(false),
            },
            code::AS4_AGGREGATOR => match &self.as4_aggregator {
                Some(a) if !ctx.as4 => emit(out, f(c), c, |o| a.encode(true, o)).map(|_| true),
                _ => Ok(false),
            },
            code::COMMUNITIES | code::CLUSTER_LIST => communities::encode(self, c, f(c), out),
            code::EXTENDED_COMMUNITIES | code::LARGE_COMMUNITY => {
                communities::encode(self, c, f(c), out)
            }
            _ => Ok(false),
        }
        .and_then(|known| match known {
            true => Ok(true),
            false => self.encode_raw(c, flags, out),
        })
    }

    /// Encode the raw attribute with code `c`, if any.
    fn encode_raw(&self, c: u8, flags: Option<u8>, out: &mut Vec<u8>) -> Result<bool, EncodeError> {
        match self.unknown.iter().find(|r| r.type_code == c) {
            Some(r) => emit(out, flags.unwrap_or(r.flags), c, |o| {
                o.extend_from_slice(&r.value)
            })
            .map(|_| true),
            None => Ok(false),
        }
    }

    /// Encode every attribute in canonical order (ascending type code, unknown ones merged in).
    pub fn encode_all(&self, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_except(ctx, &[0u64; 4], out)
    }

    /// Encode, in canonical order, every attribute whose code is not set in `done` (a 256-bit set).
    pub fn encode_except(
        &self,
        ctx: &Ctx,
        done: &[u64; 4],
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let mut done = *done;
        let mut put = |c: u8, out: &mut Vec<u8>| -> Result<(), EncodeError> {
            if !bit(&done, c) && self.encode_attr(c, None, ctx, out)? {
                set_bit(&mut done, c);
            }
            Ok(())
        };
        if self.unknown.is_empty() {
            return CANONICAL_CODES.iter().try_for_each(|&c| put(c, out));
        }
        let mut unknown: Vec<u8> = self.unknown.iter().map(|r| r.type_code).collect();
        unknown.sort_unstable();
        let mut u = unknown.iter().peekable();
        for &c in CANONICAL_CODES.iter() {
            while let Some(&uc) = u.next_if(|&&uc| uc <= c) {
                put(uc, out)?;
            }
            put(c, out)?;
        }
        u.try_for_each(|&uc| put(uc, out))
    }

    /// The merged AS path (RFC 6793 §4.2.3); see [`as_path::effective`].
    pub fn effective_as_path(&self) -> Option<std::borrow::Cow<'_, AsPath>> {
        as_path::effective(self)
    }

    /// The attributes to send to a 2-octet AS ("OLD") peer, RFC 6793 §4.2.2: AS_PATH and
    /// AGGREGATOR go out with AS_TRANS in place of 4-octet AS numbers, so when there are any,
    /// AS4_PATH (without confederation segments) and AS4_AGGREGATOR carry the real ones.
    pub fn for_old_speaker(&self) -> Attrs {
        let as4_path = self
            .as_path
            .as_ref()
            .filter(|p| p.has_as4())
            .map(|p| AsPath {
                segments: p
                    .segments
                    .iter()
                    .filter(|s| !s.kind.is_confed())
                    .cloned()
                    .collect(),
            });
        let as4_aggregator = self.aggregator.filter(|a| a.asn > 0xffff);
        Attrs {
            as4_path,
            as4_aggregator,
            ..self.clone()
        }
    }

    /// The aggregator after the RFC 6793 §4.2.3 AS4_AGGREGATOR rules; see [`aggregator::effective`].
    pub fn effective_aggregator(&self) -> Option<Aggregator> {
        aggregator::effective(self)
    }
}

// ===== helper functions =====

/// The Optional and Transitive bits each known attribute must carry (RFC 4271 §5,
/// RFC 4456 §8, RFC 4760 §3-4, RFC 1997, RFC 4360 §2, RFC 6793 §3, RFC 8092 §3, RFC 9234 §5).
/// `None` for codes wren does not know.
pub const fn std_flags(c: u8) -> Option<u8> {
    use flag::{OPTIONAL, TRANSITIVE};
    Some(match c {
        code::ORIGIN | code::AS_PATH | code::NEXT_HOP | code::LOCAL_PREF => TRANSITIVE,
        code::ATOMIC_AGGREGATE => TRANSITIVE,
        code::MED | code::ORIGINATOR_ID | code::CLUSTER_LIST => OPTIONAL,
        code::MP_REACH_NLRI | code::MP_UNREACH_NLRI => OPTIONAL,
        code::AGGREGATOR | code::COMMUNITIES | code::EXTENDED_COMMUNITIES => OPTIONAL | TRANSITIVE,
        code::AS4_PATH | code::AS4_AGGREGATOR => OPTIONAL | TRANSITIVE,
        code::LARGE_COMMUNITY | code::OTC => OPTIONAL | TRANSITIVE,
        _ => return None,
    })
}

/// Is `c` set in the 256-bit set `s`?
#[inline]
pub fn bit(s: &[u64; 4], c: u8) -> bool {
    s[(c >> 6) as usize] & (1u64 << (c & 63)) != 0
}

/// Add `c` to the 256-bit set `s`; returns whether it was already there.
#[inline]
pub fn set_bit(s: &mut [u64; 4], c: u8) -> bool {
    let was = bit(s, c);
    s[(c >> 6) as usize] |= 1u64 << (c & 63);
    was
}

/// Append one attribute: flags, type, length, then the value written by `value`.
///
/// The length is one octet unless `flags` asks for Extended Length or the value is longer
/// than 255 octets, in which case Extended Length is set (RFC 4271 §4.3).
pub fn emit(
    out: &mut Vec<u8>,
    flags: u8,
    c: u8,
    value: impl FnOnce(&mut Vec<u8>),
) -> Result<(), EncodeError> {
    let start = out.len();
    let ext = flags & flag::EXTENDED_LENGTH != 0;
    out.extend_from_slice(&[flags, c, 0]);
    if ext {
        out.push(0);
    }
    let hdr = out.len() - start;
    value(out);
    let vlen = out.len() - start - hdr;
    if vlen > u16::MAX as usize {
        out.truncate(start);
        return Err(EncodeError::Field {
            field: "attribute",
            detail: format!("type {c} value of {vlen} octets exceeds 65535"),
        });
    }
    if !ext && vlen > 255 {
        // Rare: widen the length field in place.
        out.insert(start + 3, 0);
        out[start] |= flag::EXTENDED_LENGTH;
    }
    if out[start] & flag::EXTENDED_LENGTH != 0 {
        out[start + 2..start + 4].copy_from_slice(&(vlen as u16).to_be_bytes());
    } else {
        out[start + 2] = vlen as u8;
    }
    Ok(())
}

/// Decode the value of a known attribute other than MP_REACH/MP_UNREACH into `attrs`.
///
/// `Ok(false)`: `c` is not an attribute wren interprets. `nlri_field` says whether the
/// UPDATE's NLRI field is non-empty (NEXT_HOP is checked only then, RFC 4760 §3).
pub fn decode_value(
    attrs: &mut Attrs,
    c: u8,
    value: &[u8],
    ctx: &Ctx,
    nlri_field: bool,
) -> Result<bool, Malformed> {
    match c {
        code::ORIGIN => attrs.origin = Some(simple::decode_origin(value)?),
        code::AS_PATH => attrs.as_path = Some(AsPath::decode(value, ctx.as4, c)?),
        code::NEXT_HOP => attrs.next_hop = Some(simple::decode_next_hop(value, nlri_field)?),
        code::MED => attrs.med = Some(simple::decode_u32(value, "MULTI_EXIT_DISC")?),
        code::LOCAL_PREF => attrs.local_pref = Some(simple::decode_u32(value, "LOCAL_PREF")?),
        code::ATOMIC_AGGREGATE => attrs.atomic_aggregate = simple::decode_atomic(value)?,
        code::AGGREGATOR => attrs.aggregator = Some(Aggregator::decode(value, ctx.as4, c)?),
        code::COMMUNITIES => attrs.communities = Some(communities::decode_communities(value)?),
        code::ORIGINATOR_ID => {
            attrs.originator_id = Some(simple::decode_u32(value, "ORIGINATOR_ID")?.into())
        }
        code::CLUSTER_LIST => attrs.cluster_list = Some(communities::decode_cluster_list(value)?),
        code::EXTENDED_COMMUNITIES => attrs.ext_communities = Some(communities::decode_ext(value)?),
        code::AS4_PATH => attrs.as4_path = Some(AsPath::decode(value, true, c)?),
        code::AS4_AGGREGATOR => attrs.as4_aggregator = Some(Aggregator::decode(value, true, c)?),
        code::LARGE_COMMUNITY => attrs.large_communities = Some(communities::decode_large(value)?),
        code::OTC => attrs.otc = Some(simple::decode_u32(value, "OTC")?),
        code::IPV6_EXT_COMMUNITIES => {
            // Not interpreted (kept raw by the caller), but RFC 7606 §7.15 makes a length
            // that is not a non-zero multiple of 20 malformed: treat-as-withdraw.
            communities::check_ipv6_ext(value)?;
            return Ok(false);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// RFC 7606 treatment for a malformed value of the known attribute `c`.
pub const fn value_treatment(c: u8) -> Treatment {
    match c {
        // RFC 7606 §7.6 ATOMIC_AGGREGATE, §7.7 AGGREGATOR: "attribute discard".
        // RFC 6793 §6: a malformed AS4_PATH / AS4_AGGREGATOR is discarded.
        code::ATOMIC_AGGREGATE | code::AGGREGATOR => Treatment::AttributeDiscard,
        code::AS4_PATH | code::AS4_AGGREGATOR => Treatment::AttributeDiscard,
        // RFC 7606 §7.11, §7.12 allow "AFI/SAFI disable" or "session reset"; RFC 4760 §7
        // makes deleting the family's routes and ignoring it the primary action, so wren
        // disables the AFI/SAFI. The walk resets instead when the value is too short to name
        // the family (fewer than 3 octets): there is no AFI/SAFI to disable.
        code::MP_REACH_NLRI | code::MP_UNREACH_NLRI => Treatment::AfiSafiDisable,
        // §7.1-§7.5, §7.8-§7.10, §7.14, §7.15; RFC 8092 §6; RFC 9234 §5: "treat-as-withdraw".
        _ => Treatment::TreatAsWithdraw,
    }
}

/// RFC 7606 treatment when the Optional or Transitive bit of known attribute `c` is wrong.
///
/// §3 (c): "treat-as-withdraw ... unless the specification for the attribute mandates
/// different handling": RFC 6793 §6 makes a malformed AS4_* attribute a discard, and an MP
/// attribute that cannot be trusted takes the session down (RFC 4760 §7, RFC 7606 §5.3).
pub const fn flags_treatment(c: u8) -> Treatment {
    match c {
        code::AS4_PATH | code::AS4_AGGREGATOR => Treatment::AttributeDiscard,
        code::MP_REACH_NLRI | code::MP_UNREACH_NLRI => Treatment::SessionReset,
        _ => Treatment::TreatAsWithdraw,
    }
}

// ===== tests =====

#[cfg(test)]
mod tests;
