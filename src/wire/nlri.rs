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

/// An IPv6 prefix: host-order address (host bits zero) and length 0..=128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix6 {
    addr: u128,
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
            addr: addr & mask,
            len,
        })
    }

    #[inline]
    pub(crate) const fn from_raw(addr: u128, len: u8) -> Prefix6 {
        Prefix6 { addr, len }
    }

    #[inline]
    pub const fn addr_u128(&self) -> u128 {
        self.addr
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
        other.len >= self.len && Prefix6::new(other.addr, self.len) == Some(*self)
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
        if p.addr != u128::from(a) {
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

// TODO(helper-update): the fast decode/encode of NLRI lists.

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
}
