//! Address family identifiers (AFI/SAFI), RFC 4760 §3.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// AFI 1: IPv4.
pub const AFI_IPV4: u16 = 1;
/// AFI 2: IPv6.
pub const AFI_IPV6: u16 = 2;
/// SAFI 1: unicast.
pub const SAFI_UNICAST: u8 = 1;

/// An AFI/SAFI pair. Any value is representable; IPv4 and IPv6 unicast are the ones
/// wren routes. JSON form: `"ipv4-unicast"`, `"ipv6-unicast"`, or `"AFI/SAFI"` numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Family {
    pub afi: u16,
    pub safi: u8,
}

impl Family {
    pub const IPV4_UNICAST: Family = Family {
        afi: AFI_IPV4,
        safi: SAFI_UNICAST,
    };
    pub const IPV6_UNICAST: Family = Family {
        afi: AFI_IPV6,
        safi: SAFI_UNICAST,
    };

    pub const fn new(afi: u16, safi: u8) -> Family {
        Family { afi, safi }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Family::IPV4_UNICAST => f.write_str("ipv4-unicast"),
            Family::IPV6_UNICAST => f.write_str("ipv6-unicast"),
            Family { afi, safi } => write!(f, "{afi}/{safi}"),
        }
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ipv4-unicast" | "ipv4" => Ok(Family::IPV4_UNICAST),
            "ipv6-unicast" | "ipv6" => Ok(Family::IPV6_UNICAST),
            _ => {
                let (a, b) = s
                    .split_once('/')
                    .ok_or_else(|| format!("unknown address family {s:?}"))?;
                let afi = a.parse().map_err(|_| format!("bad AFI in {s:?}"))?;
                let safi = b.parse().map_err(|_| format!("bad SAFI in {s:?}"))?;
                Ok(Family { afi, safi })
            }
        }
    }
}

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Family {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
