//! Prefixes and NLRI encoding (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3).
//!
//! ```text
//! +---------------------------+
//! | Path Identifier (4 octets)|   only with ADD-PATH (RFC 7911)
//! +---------------------------+
//! |   Length (1 octet)        |   prefix length in bits
//! +---------------------------+
//! |   Prefix (variable)       |   ceil(length / 8) octets
//! +---------------------------+
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 prefix in 8 bytes: host-order address (host bits zero) and length 0..=32.
/// JSON form: `"10.0.0.0/24"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix4 {
    addr: u32,
    len: u8,
}

/// An IPv6 prefix: address (host bits zero) and length 0..=128. The address is kept as
/// network-order bytes, not a `u128`: 17 bytes with alignment 1 instead of 32 with
/// alignment 16, so that every table keyed by a [`crate::rib::Prefix`] holds 20-byte keys
/// instead of 48-byte ones (the FIB adapter's maps: 80 bytes per entry before). Byte order
/// keeps the derived order numeric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix6 {
    addr: [u8; 16],
    len: u8,
}

/// An IPv4 NLRI entry. `path_id` is meaningful only when ADD-PATH is negotiated for the
/// family (the [`Ctx`](super::Ctx) says); otherwise it is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nlri4 {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub path_id: u32,
    pub prefix: Prefix4,
}

/// An IPv6 NLRI entry (see [`Nlri4`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Nlri6 {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub path_id: u32,
    pub prefix: Prefix6,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

// ===== impl Prefix4 / Prefix6 =====

// `len` is the prefix length in bits; an `is_empty` would mean nothing.
#[allow(clippy::len_without_is_empty)]
impl Prefix4 {
    /// A prefix from an address and length; host bits are cleared. `None` if `len > 32`.
    #[inline]
    pub const fn new(addr: u32, len: u8) -> Option<Prefix4> {
        if len > 32 {
            return None;
        }
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        Some(Prefix4 {
            addr: addr & mask,
            len,
        })
    }

    /// A prefix whose host bits are already known to be zero and `len <= 32`.
    #[inline]
    pub(crate) const fn from_raw(addr: u32, len: u8) -> Prefix4 {
        Prefix4 { addr, len }
    }

    #[inline]
    pub const fn addr_u32(&self) -> u32 {
        self.addr
    }

    #[inline]
    pub fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr)
    }

    #[inline]
    pub const fn len(&self) -> u8 {
        self.len
    }

    /// True for the default route 0.0.0.0/0.
    #[inline]
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }

    /// Does this prefix contain `other` (equal or more specific)?
    #[inline]
    pub fn contains(&self, other: &Prefix4) -> bool {
        other.len >= self.len && Prefix4::new(other.addr, self.len) == Some(*self)
    }
}

#[allow(clippy::len_without_is_empty)]
impl Prefix6 {
    /// A prefix from an address and length; host bits are cleared. `None` if `len > 128`.
    #[inline]
    pub const fn new(addr: u128, len: u8) -> Option<Prefix6> {
        if len > 128 {
            return None;
        }
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        Some(Prefix6 {
            addr: (addr & mask).to_be_bytes(),
            len,
        })
    }

    #[inline]
    pub(crate) const fn from_raw(addr: u128, len: u8) -> Prefix6 {
        Prefix6 {
            addr: addr.to_be_bytes(),
            len,
        }
    }

    #[inline]
    pub const fn addr_u128(&self) -> u128 {
        u128::from_be_bytes(self.addr)
    }

    #[inline]
    pub fn addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.addr)
    }

    #[inline]
    pub const fn len(&self) -> u8 {
        self.len
    }

    #[inline]
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn contains(&self, other: &Prefix6) -> bool {
        other.len >= self.len && Prefix6::new(other.addr_u128(), self.len) == Some(*self)
    }
}

impl fmt::Display for Prefix4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl fmt::Display for Prefix6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

/// Parse `addr/len`; the host bits must be zero (so a typo is not silently "fixed").
fn parse_prefix<A: FromStr>(s: &str, max: u8) -> Result<(A, u8), String> {
    let (a, l) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not a prefix (want address/length)"))?;
    let addr = a
        .parse::<A>()
        .map_err(|_| format!("{a:?} is not a valid address in {s:?}"))?;
    let len = l
        .parse::<u8>()
        .ok()
        .filter(|&l| l <= max)
        .ok_or_else(|| format!("{l:?} is not a prefix length 0..={max} in {s:?}"))?;
    Ok((addr, len))
}

impl FromStr for Prefix4 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, len) = parse_prefix::<Ipv4Addr>(s, 32)?;
        let p = Prefix4::new(u32::from(a), len).ok_or_else(|| format!("bad prefix {s:?}"))?;
        if p.addr != u32::from(a) {
            return Err(format!("{s:?} has host bits set (did you mean {p}?)"));
        }
        Ok(p)
    }
}

impl FromStr for Prefix6 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, len) = parse_prefix::<Ipv6Addr>(s, 128)?;
        let p = Prefix6::new(u128::from(a), len).ok_or_else(|| format!("bad prefix {s:?}"))?;
        if p.addr_u128() != u128::from(a) {
            return Err(format!("{s:?} has host bits set (did you mean {p}?)"));
        }
        Ok(p)
    }
}

macro_rules! serde_via_str {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_str!(Prefix4);
serde_via_str!(Prefix6);

// ===== NLRI list codec =====

/// Why a prefix list is syntactically incorrect (RFC 7606 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlriError {
    /// Absolute offset of the entry that is wrong (its path identifier, or its length octet).
    pub offset: usize,
    pub kind: NlriErrorKind,
}

/// The two ways RFC 7606 §5.3 names for a prefix list to be malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NlriErrorKind {
    /// "The length of any of the included NLRI is greater than the maximum length for its
    /// address family."
    PrefixTooLong(u8),
    /// "When the length of the last included NLRI is considered, the field length ... is
    /// exceeded" (also: a path identifier cut short).
    Truncated,
}

impl fmt::Display for NlriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            NlriErrorKind::PrefixTooLong(l) => write!(f, "prefix length {l} is too long"),
            NlriErrorKind::Truncated => f.write_str("prefix runs past the end of its field"),
        }
    }
}

/// Octets taken by the address part of a prefix of `len` bits: ceil(len / 8).
#[inline(always)]
pub const fn prefix_octets(len: u8) -> usize {
    (len as usize + 7) >> 3
}

/// Octets one IPv4 entry takes on the wire.
#[inline]
pub fn wire_len4(n: &Nlri4, add_path: bool) -> usize {
    1 + prefix_octets(n.prefix.len) + if add_path { 4 } else { 0 }
}

/// Octets one IPv6 entry takes on the wire.
#[inline]
pub fn wire_len6(n: &Nlri6, add_path: bool) -> usize {
    1 + prefix_octets(n.prefix.len) + if add_path { 4 } else { 0 }
}

#[inline(always)]
fn mask4(len: u8) -> u32 {
    // len <= 32 here; a shift by 32 (len 0) gives None -> mask 0.
    u32::MAX.checked_shl(32 - len as u32).unwrap_or(0)
}

#[inline(always)]
fn mask6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - len as u32).unwrap_or(0)
}

#[cold]
fn nlri_err(base: usize, pos: usize, kind: NlriErrorKind) -> NlriError {
    NlriError {
        offset: base + pos,
        kind,
    }
}

/// Decode an IPv4 prefix list (Withdrawn Routes, NLRI, or MP NLRI of AFI 1), appending to `out`.
///
/// `base` is the absolute offset of `buf[0]`. Host bits past the prefix length are cleared:
/// RFC 4271 §4.3 says "the value of trailing bits is irrelevant", so a prefix received with
/// them set is the same route as without (and encodes back with them zero).
pub fn decode_v4(
    buf: &[u8],
    base: usize,
    add_path: bool,
    out: &mut Vec<Nlri4>,
) -> Result<(), NlriError> {
    if add_path {
        decode_v4_path_id(buf, base, out)
    } else {
        decode_v4_plain(buf, base, out)
    }
}

fn decode_v4_plain(buf: &[u8], base: usize, out: &mut Vec<Nlri4>) -> Result<(), NlriError> {
    // Every entry but /0 takes at least 2 octets: one reservation covers any real list.
    out.reserve(buf.len() / 2 + 1);
    let mut pos = 0usize;
    // Fast path: 5 octets readable, so the address can be loaded whole and masked; the
    // octets past the prefix belong to the next entry and the mask clears them.
    while let Some(&[len, a, b, c, d]) = buf.get(pos..).and_then(<[u8]>::first_chunk::<5>) {
        if len > 32 {
            return Err(nlri_err(base, pos, NlriErrorKind::PrefixTooLong(len)));
        }
        let addr = u32::from_be_bytes([a, b, c, d]) & mask4(len);
        out.push(Nlri4 {
            path_id: 0,
            prefix: Prefix4::from_raw(addr, len),
        });
        pos += 1 + prefix_octets(len);
    }
    while pos < buf.len() {
        let (p, next) = tail_v4(buf, base, pos)?;
        out.push(Nlri4 {
            path_id: 0,
            prefix: p,
        });
        pos = next;
    }
    Ok(())
}

fn decode_v4_path_id(buf: &[u8], base: usize, out: &mut Vec<Nlri4>) -> Result<(), NlriError> {
    out.reserve(buf.len() / 5 + 1);
    let mut pos = 0usize;
    while let Some(&[i0, i1, i2, i3, len, a, b, c, d]) =
        buf.get(pos..).and_then(<[u8]>::first_chunk::<9>)
    {
        if len > 32 {
            return Err(nlri_err(base, pos, NlriErrorKind::PrefixTooLong(len)));
        }
        let addr = u32::from_be_bytes([a, b, c, d]) & mask4(len);
        out.push(Nlri4 {
            path_id: u32::from_be_bytes([i0, i1, i2, i3]),
            prefix: Prefix4::from_raw(addr, len),
        });
        pos += 5 + prefix_octets(len);
    }
    while pos < buf.len() {
        let Some(&[i0, i1, i2, i3]) = buf.get(pos..).and_then(<[u8]>::first_chunk::<4>) else {
            return Err(nlri_err(base, pos, NlriErrorKind::Truncated));
        };
        let (p, next) = tail_v4(buf, base, pos + 4).map_err(|e| NlriError {
            offset: base + pos,
            ..e
        })?;
        out.push(Nlri4 {
            path_id: u32::from_be_bytes([i0, i1, i2, i3]),
            prefix: p,
        });
        pos = next;
    }
    Ok(())
}

/// One IPv4 prefix at `pos` near the end of `buf` (checked, zero-padded).
fn tail_v4(buf: &[u8], base: usize, pos: usize) -> Result<(Prefix4, usize), NlriError> {
    let Some(&len) = buf.get(pos) else {
        return Err(nlri_err(base, pos, NlriErrorKind::Truncated));
    };
    if len > 32 {
        return Err(nlri_err(base, pos, NlriErrorKind::PrefixTooLong(len)));
    }
    let end = pos + 1 + prefix_octets(len);
    let Some(bytes) = buf.get(pos + 1..end) else {
        return Err(nlri_err(base, pos, NlriErrorKind::Truncated));
    };
    let mut o = [0u8; 4];
    o[..bytes.len()].copy_from_slice(bytes);
    let addr = u32::from_be_bytes(o) & mask4(len);
    Ok((Prefix4::from_raw(addr, len), end))
}

/// Decode an IPv6 prefix list (MP NLRI of AFI 2), appending to `out`. Same rules as
/// [`decode_v4`].
pub fn decode_v6(
    buf: &[u8],
    base: usize,
    add_path: bool,
    out: &mut Vec<Nlri6>,
) -> Result<(), NlriError> {
    let id_len = if add_path { 4 } else { 0 };
    out.reserve(buf.len() / (4 + id_len) + 1);
    let mut pos = 0usize;
    while pos < buf.len() {
        let mut path_id = 0;
        if add_path {
            let Some(id) = buf.get(pos..).and_then(<[u8]>::first_chunk::<4>) else {
                return Err(nlri_err(base, pos, NlriErrorKind::Truncated));
            };
            path_id = u32::from_be_bytes(*id);
        }
        let at = pos + id_len;
        let (prefix, next) = one_v6(buf, at).map_err(|kind| nlri_err(base, pos, kind))?;
        out.push(Nlri6 { path_id, prefix });
        pos = next;
    }
    Ok(())
}

#[inline(always)]
fn one_v6(buf: &[u8], pos: usize) -> Result<(Prefix6, usize), NlriErrorKind> {
    let Some(&len) = buf.get(pos) else {
        return Err(NlriErrorKind::Truncated);
    };
    if len > 128 {
        return Err(NlriErrorKind::PrefixTooLong(len));
    }
    let end = pos + 1 + prefix_octets(len);
    let raw = if let Some(whole) = buf.get(pos + 1..).and_then(<[u8]>::first_chunk::<16>) {
        if end > buf.len() {
            return Err(NlriErrorKind::Truncated);
        }
        u128::from_be_bytes(*whole)
    } else {
        let bytes = buf.get(pos + 1..end).ok_or(NlriErrorKind::Truncated)?;
        let mut o = [0u8; 16];
        o[..bytes.len()].copy_from_slice(bytes);
        u128::from_be_bytes(o)
    };
    Ok((Prefix6::from_raw(raw & mask6(len), len), end))
}

/// Append IPv4 entries: (path id,) length octet, ceil(length / 8) address octets.
pub fn encode_v4(nlri: &[Nlri4], add_path: bool, out: &mut Vec<u8>) {
    out.reserve(nlri.len() * if add_path { 9 } else { 5 });
    for n in nlri {
        if add_path {
            out.extend_from_slice(&n.path_id.to_be_bytes());
        }
        let len = n.prefix.len;
        let [a, b, c, d] = n.prefix.addr.to_be_bytes();
        // Write all 5 octets, then drop the unused tail: no variable-length copy.
        out.extend_from_slice(&[len, a, b, c, d]);
        out.truncate(out.len() - (4 - prefix_octets(len)));
    }
}

/// Append IPv6 entries (see [`encode_v4`]).
pub fn encode_v6(nlri: &[Nlri6], add_path: bool, out: &mut Vec<u8>) {
    out.reserve(nlri.len() * if add_path { 21 } else { 17 });
    for n in nlri {
        if add_path {
            out.extend_from_slice(&n.path_id.to_be_bytes());
        }
        let len = n.prefix.len;
        out.push(len);
        out.extend_from_slice(&n.prefix.addr[..prefix_octets(len)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_mask_parse_and_print() {
        let p = Prefix4::new(0x0a01_02ff, 24).unwrap();
        assert_eq!(p.to_string(), "10.1.2.0/24");
        assert_eq!("10.1.2.0/24".parse::<Prefix4>().unwrap(), p);
        assert!("10.1.2.1/24".parse::<Prefix4>().is_err());
        assert!("10.1.2.0/33".parse::<Prefix4>().is_err());
        assert!(Prefix4::new(0, 33).is_none());
        let q: Prefix6 = "2001:db8::/32".parse().unwrap();
        assert_eq!(q.len(), 32);
        assert!(q.contains(&"2001:db8:1::/48".parse().unwrap()));
        assert!(!q.contains(&"2001:db9::/32".parse().unwrap()));
        assert_eq!(Prefix4::new(u32::MAX, 0).unwrap().to_string(), "0.0.0.0/0");
    }

    /// A small deterministic generator (xorshift) for round-trip tests.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn random4(n: usize, seed: &mut u64) -> Vec<Nlri4> {
        (0..n)
            .map(|_| {
                let r = rng(seed);
                Nlri4 {
                    path_id: (r >> 40) as u32,
                    prefix: Prefix4::new(r as u32, (r >> 32) as u8 % 33).unwrap(),
                }
            })
            .collect()
    }

    #[test]
    fn v4_lists_round_trip_fast_and_tail_paths() {
        let mut seed = 0x1234_5678_9abc_def1;
        for add_path in [false, true] {
            for n in [0, 1, 2, 3, 7, 100, 1000] {
                let mut v = random4(n, &mut seed);
                if !add_path {
                    v.iter_mut().for_each(|x| x.path_id = 0);
                }
                let mut b = Vec::new();
                encode_v4(&v, add_path, &mut b);
                assert_eq!(
                    b.len(),
                    v.iter().map(|x| wire_len4(x, add_path)).sum::<usize>()
                );
                let mut back = Vec::new();
                decode_v4(&b, 0, add_path, &mut back).unwrap();
                assert_eq!(back, v, "n={n} add_path={add_path}");
            }
        }
    }

    #[test]
    fn v6_lists_round_trip() {
        let mut seed = 0x0fed_cba9_8765_4321;
        for add_path in [false, true] {
            let v: Vec<Nlri6> = (0..300)
                .map(|_| {
                    let hi = rng(&mut seed) as u128;
                    let lo = rng(&mut seed);
                    Nlri6 {
                        path_id: if add_path { lo as u32 } else { 0 },
                        prefix: Prefix6::new(hi << 64 | lo as u128, (lo >> 32) as u8 % 129)
                            .unwrap(),
                    }
                })
                .collect();
            let mut b = Vec::new();
            encode_v6(&v, add_path, &mut b);
            let mut back = Vec::new();
            decode_v6(&b, 0, add_path, &mut back).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn host_bits_are_cleared_on_decode() {
        let mut v = Vec::new();
        // 10.1.2.255/24 with the host octet on the wire, then 10.1.2.3/23 at the tail.
        decode_v4(&[24, 10, 1, 2, 23, 10, 1, 3], 0, false, &mut v).unwrap();
        assert_eq!(v[0].prefix.to_string(), "10.1.2.0/24");
        assert_eq!(v[1].prefix.to_string(), "10.1.2.0/23");
        let mut w = Vec::new();
        decode_v6(
            &[65, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0xff],
            0,
            false,
            &mut w,
        )
        .unwrap();
        assert_eq!(w[0].prefix.to_string(), "2001:db8:0:0:8000::/65");
    }

    #[test]
    fn malformed_lists_give_the_offset_of_the_bad_entry() {
        let mut v = Vec::new();
        let e = decode_v4(&[24, 10, 1, 2, 33, 1, 2, 3, 4, 5], 100, false, &mut v).unwrap_err();
        assert_eq!((e.offset, e.kind), (104, NlriErrorKind::PrefixTooLong(33)));
        let e = decode_v4(&[24, 10, 1, 2, 24, 1, 2], 100, false, &mut v).unwrap_err();
        assert_eq!((e.offset, e.kind), (104, NlriErrorKind::Truncated));
        let e = decode_v4(&[0, 0, 0, 1, 8, 10, 0, 0], 0, true, &mut v).unwrap_err();
        assert_eq!((e.offset, e.kind), (6, NlriErrorKind::Truncated));
        let e = decode_v4(&[0, 0, 0, 1, 8, 10, 0, 0, 0, 8], 0, true, &mut v).unwrap_err();
        assert_eq!((e.offset, e.kind), (6, NlriErrorKind::Truncated));
        let e = decode_v4(&[0, 0, 0, 1, 40, 10, 0, 0, 0], 0, true, &mut v).unwrap_err();
        assert_eq!((e.offset, e.kind), (0, NlriErrorKind::PrefixTooLong(40)));
        let mut w = Vec::new();
        let e = decode_v6(&[129], 7, false, &mut w).unwrap_err();
        assert_eq!((e.offset, e.kind), (7, NlriErrorKind::PrefixTooLong(129)));
        let e = decode_v6(&[64, 0x20, 1], 7, false, &mut w).unwrap_err();
        assert_eq!((e.offset, e.kind), (7, NlriErrorKind::Truncated));
        let e = decode_v6(&[0, 0, 1], 0, true, &mut w).unwrap_err();
        assert_eq!((e.offset, e.kind), (0, NlriErrorKind::Truncated));
    }

    #[test]
    fn every_length_decodes_at_every_alignment() {
        for len in 0..=32u8 {
            for pad in 0..6 {
                let mut b = vec![0u8; pad];
                b.push(len);
                b.extend_from_slice(&[0xff; 4][..prefix_octets(len)]);
                let mut v = Vec::new();
                decode_v4(&b, 0, false, &mut v).unwrap();
                let last = v.last().unwrap().prefix;
                assert_eq!(last.len(), len);
                assert_eq!(last.addr_u32(), mask4(len));
            }
        }
    }
}
