//! List attributes: COMMUNITIES (RFC 1997), CLUSTER_LIST (RFC 4456 §8), EXTENDED
//! COMMUNITIES (RFC 4360 §2) and LARGE_COMMUNITY (RFC 8092 §3); also the length check of
//! the IPv6 Address Specific Extended Community (RFC 5701), which wren keeps raw.
//!
//! ```text
//! COMMUNITIES          n x 4 octets  (global AS << 16 | local value)
//! CLUSTER_LIST         n x 4 octets  (CLUSTER_ID)
//! EXTENDED COMMUNITIES n x 8 octets  (type, sub-type, value)
//! IPV6 ADDR. SPEC. EC  n x 20 octets (type, sub-type, IPv6 address, local admin)
//! LARGE_COMMUNITY      n x 12 octets (global admin, local data 1, local data 2)
//! ```
//!
//! Each is malformed when its length is not a non-zero multiple of the item size, and is then
//! handled by "treat-as-withdraw" (RFC 7606 §7.8, §7.10, §7.14, §7.15; RFC 8092 §6).
//! Duplicate values are not an error (RFC 8092 §6); duplicate LARGE_COMMUNITY values are
//! silently removed on receipt (RFC 8092 §2), the others are kept as received.

use std::net::Ipv4Addr;

use super::{code, emit, Attrs, Malformed};
use crate::wire::error::EncodeError;

// ===== helper functions =====

fn check(v: &[u8], size: usize, name: &str) -> Result<(), Malformed> {
    if v.is_empty() || v.len() % size != 0 {
        return Err(Malformed::length(
            name,
            v.len(),
            &format!("a non-zero multiple of {size}"),
        ));
    }
    Ok(())
}

fn u32s(v: &[u8]) -> impl Iterator<Item = u32> + '_ {
    v.chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
}

pub fn decode_communities(v: &[u8]) -> Result<Vec<u32>, Malformed> {
    check(v, 4, "COMMUNITIES")?;
    Ok(u32s(v).collect())
}

pub fn decode_cluster_list(v: &[u8]) -> Result<Vec<Ipv4Addr>, Malformed> {
    check(v, 4, "CLUSTER_LIST")?;
    Ok(u32s(v).map(Ipv4Addr::from).collect())
}

pub fn decode_ext(v: &[u8]) -> Result<Vec<[u8; 8]>, Malformed> {
    check(v, 8, "EXTENDED COMMUNITIES")?;
    Ok(v.chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            a
        })
        .collect())
}

/// RFC 8092 §2: "A receiving speaker MUST silently remove redundant BGP Large Community
/// values": the first occurrence of each value is kept, in wire order, with no finding.
pub fn decode_large(v: &[u8]) -> Result<Vec<[u32; 3]>, Malformed> {
    check(v, 12, "LARGE_COMMUNITY")?;
    let mut it = u32s(v);
    let mut out = Vec::with_capacity(v.len() / 12);
    while let (Some(a), Some(b), Some(c)) = (it.next(), it.next(), it.next()) {
        out.push([a, b, c]);
    }
    dedup_keep_first(&mut out);
    Ok(out)
}

/// RFC 7606 §7.15: an IPv6 Address Specific Extended Community attribute whose length is
/// not a non-zero multiple of 20 is malformed (treat-as-withdraw). The value is not
/// interpreted otherwise.
pub fn check_ipv6_ext(v: &[u8]) -> Result<(), Malformed> {
    check(v, 20, "IPv6 Address Specific Extended Community")
}

/// Remove repeated values, keeping the first of each in order. Short lists (the usual
/// case) are scanned in place; long ones use a set so that a crafted attribute with
/// thousands of values stays linear.
fn dedup_keep_first(v: &mut Vec<[u32; 3]>) {
    const SCAN_MAX: usize = 32;
    if v.len() <= SCAN_MAX {
        let mut n = 0;
        for i in 0..v.len() {
            let x = v[i];
            if !v[..n].contains(&x) {
                v[n] = x;
                n += 1;
            }
        }
        v.truncate(n);
    } else {
        let mut seen = std::collections::HashSet::with_capacity(v.len());
        v.retain(|x| seen.insert(*x));
    }
}

/// Encode one of this file's attributes if present.
pub fn encode(a: &Attrs, c: u8, flags: u8, out: &mut Vec<u8>) -> Result<bool, EncodeError> {
    let written = match c {
        code::COMMUNITIES => a.communities.as_ref().map(|v| {
            emit(out, flags, c, |o| {
                v.iter().for_each(|x| o.extend_from_slice(&x.to_be_bytes()))
            })
        }),
        code::CLUSTER_LIST => a.cluster_list.as_ref().map(|v| {
            emit(out, flags, c, |o| {
                v.iter().for_each(|x| o.extend_from_slice(&x.octets()))
            })
        }),
        code::EXTENDED_COMMUNITIES => a.ext_communities.as_ref().map(|v| {
            emit(out, flags, c, |o| {
                v.iter().for_each(|x| o.extend_from_slice(x))
            })
        }),
        code::LARGE_COMMUNITY => a.large_communities.as_ref().map(|v| {
            emit(out, flags, c, |o| {
                v.iter()
                    .flatten()
                    .for_each(|x| o.extend_from_slice(&x.to_be_bytes()))
            })
        }),
        _ => None,
    };
    written.transpose().map(|w| w.is_some())
}
