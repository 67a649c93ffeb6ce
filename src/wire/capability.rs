//! Capabilities advertisement (RFC 5492) and the capabilities wren knows.
//!
//! ```text
//! +------------------------------+
//! | Capability Code (1 octet)    |
//! +------------------------------+
//! | Capability Length (1 octet)  |
//! +------------------------------+
//! | Capability Value (variable)  |
//! +------------------------------+
//! ```
//!
//! Decoding a capability value never fails: a known code whose value does not parse is
//! kept as [`Capability::Unknown`] with its bytes, so that the FSM (not the codec) decides
//! what to do, and so that encoding always gives back the bytes that were received.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::EncodeError;
use super::family::Family;

/// Capability codes (IANA "Capability Codes" registry).
pub mod cap_code {
    pub const MULTIPROTOCOL: u8 = 1;
    pub const ROUTE_REFRESH: u8 = 2;
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    pub const EXTENDED_MESSAGE: u8 = 6;
    pub const ROLE: u8 = 9;
    pub const GRACEFUL_RESTART: u8 = 64;
    pub const FOUR_OCTET_AS: u8 = 65;
    pub const ADD_PATH: u8 = 69;
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
    pub const LONG_LIVED_GR: u8 = 71;
    pub const FQDN: u8 = 73;
    /// Pre-standard Cisco route refresh; kept as [`super::Capability::Unknown`].
    pub const ROUTE_REFRESH_CISCO: u8 = 128;
}

/// One capability. Unknown codes (and known codes with unparseable values) are kept raw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Code 1 (RFC 4760 §8). The reserved octet is 0; a non-zero one is kept as `Unknown`
    /// (use [`Capability::multiprotocol_family`], which ignores it as §8 asks).
    Multiprotocol(Family),
    /// Code 2 (RFC 2918 §2), empty value.
    RouteRefresh,
    /// Code 5 (RFC 8950 §3).
    ExtendedNextHop(Vec<ExtNextHop>),
    /// Code 6 (RFC 8654 §3), empty value.
    ExtendedMessage,
    /// Code 9 (RFC 9234 §4.1), one octet.
    Role(BgpRole),
    /// Code 64 (RFC 4724 §3, RFC 8538 §2).
    GracefulRestart(GracefulRestart),
    /// Code 65 (RFC 6793).
    FourOctetAs(u32),
    /// Code 69 (RFC 7911 §4).
    AddPath(Vec<AddPathFamily>),
    /// Code 70 (RFC 7313 §3.1), empty value.
    EnhancedRouteRefresh,
    /// Code 71 (RFC 9494 §3).
    LongLivedGr(Vec<LlgrFamily>),
    /// Code 73 (draft-walton-bgp-hostname-capability §3).
    Fqdn { hostname: String, domain: String },
    /// Any other code, value kept as bytes.
    Unknown {
        code: u8,
        #[serde(with = "super::hex::serde")]
        value: Vec<u8>,
    },
}

/// One entry of the extended next hop capability (RFC 8950 §3).
///
/// ```text
/// +-----------------------------------------------------+
/// | NLRI AFI - 1 (2 octets)                             |
/// +-----------------------------------------------------+
/// | NLRI SAFI - 1 (2 octets)                            |
/// +-----------------------------------------------------+
/// | Nexthop AFI - 1 (2 octets)                          |
/// +-----------------------------------------------------+
/// | .....                                               |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExtNextHop {
    pub nlri_afi: u16,
    /// Two octets here (unlike everywhere else), so kept as u16.
    pub nlri_safi: u16,
    pub next_hop_afi: u16,
}

/// The BGP role of the sender (RFC 9234 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BgpRole {
    Provider,
    RouteServer,
    RouteServerClient,
    Customer,
    Peer,
    /// A value RFC 9234 does not assign (5..=255).
    Unassigned(u8),
}

/// The graceful restart capability (RFC 4724 §3, RFC 8538 §2).
///
/// ```text
/// +--------------------------------------------------+
/// | Restart Flags (4 bits)                           |
/// +--------------------------------------------------+
/// | Restart Time in seconds (12 bits)                |
/// +--------------------------------------------------+
/// | Address Family Identifier (16 bits)              |
/// +--------------------------------------------------+
/// | Subsequent Address Family Identifier (8 bits)    |
/// +--------------------------------------------------+
/// | Flags for Address Family (8 bits)                |
/// +--------------------------------------------------+
/// | ...                                              |
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GracefulRestart {
    /// R bit: the sender has restarted (RFC 4724 §3).
    #[serde(default)]
    pub restart: bool,
    /// N bit: the sender supports graceful NOTIFICATION (RFC 8538 §2).
    #[serde(default)]
    pub notification: bool,
    /// The two other (reserved) bits of the 4-bit flags field, in its low bits (0..=3).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reserved_flags: u8,
    /// Restart time in seconds (12 bits, 0..=4095).
    pub time: u16,
    #[serde(default)]
    pub families: Vec<GrFamily>,
}

/// One family of the graceful restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GrFamily {
    pub family: Family,
    /// F bit: forwarding state was preserved (RFC 4724 §3).
    #[serde(default)]
    pub forwarding: bool,
    /// The seven reserved bits of the flags octet (0..=0x7f).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reserved_flags: u8,
}

/// One family of the ADD-PATH capability (RFC 7911 §4).
///
/// ```text
/// +------------------------------------------------+
/// | Address Family Identifier (2 octets)           |
/// +------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet) |
/// +------------------------------------------------+
/// | Send/Receive (1 octet)                         |
/// +------------------------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddPathFamily {
    pub family: Family,
    pub mode: AddPathMode,
}

/// RFC 7911 §4 Send/Receive: 1 receive, 2 send, 3 both. Other values make the
/// capability `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddPathMode {
    Receive,
    Send,
    Both,
}

/// One family of the long-lived graceful restart capability (RFC 9494 §3).
///
/// ```text
/// +--------------------------------------------------+
/// | Address Family Identifier (16 bits)              |
/// +--------------------------------------------------+
/// | Subsequent Address Family Identifier (8 bits)    |
/// +--------------------------------------------------+
/// | Flags for Address Family (8 bits)                |
/// +--------------------------------------------------+
/// | Long-lived Stale Time (24 bits)                  |
/// +--------------------------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LlgrFamily {
    pub family: Family,
    /// F bit: forwarding state was preserved.
    #[serde(default)]
    pub forwarding: bool,
    /// The seven reserved bits of the flags octet (0..=0x7f).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reserved_flags: u8,
    /// Long-lived stale time in seconds (24 bits).
    pub stale_time: u32,
}

// ===== impl Capability =====

impl Capability {
    /// The capability code (RFC 5492 §4).
    pub fn code(&self) -> u8 {
        use cap_code::*;
        match self {
            Capability::Multiprotocol(_) => MULTIPROTOCOL,
            Capability::RouteRefresh => ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => EXTENDED_MESSAGE,
            Capability::Role(_) => ROLE,
            Capability::GracefulRestart(_) => GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => FOUR_OCTET_AS,
            Capability::AddPath(_) => ADD_PATH,
            Capability::EnhancedRouteRefresh => ENHANCED_ROUTE_REFRESH,
            Capability::LongLivedGr(_) => LONG_LIVED_GR,
            Capability::Fqdn { .. } => FQDN,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Interpret one capability value. Never fails: see the module comment.
    pub fn decode(code: u8, value: &[u8]) -> Capability {
        decode_known(code, value).unwrap_or_else(|| Capability::Unknown {
            code,
            value: value.to_vec(),
        })
    }

    /// Append code, length and value (RFC 5492 §4).
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&[self.code(), 0]);
        if let Err(e) = self.encode_value(out) {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start - 2;
        let Ok(len) = u8::try_from(len) else {
            out.truncate(start);
            return Err(field(
                "capability length",
                format!("{len} octets exceed 255"),
            ));
        };
        out[start + 1] = len;
        Ok(())
    }

    /// The family of a multiprotocol capability, reserved octet ignored (RFC 4760 §8:
    /// "ignored by the receiver"), whether it decoded typed or was kept raw.
    pub fn multiprotocol_family(&self) -> Option<Family> {
        match self {
            Capability::Multiprotocol(f) => Some(*f),
            Capability::Unknown {
                code: cap_code::MULTIPROTOCOL,
                value,
            } => match value.as_slice() {
                [a0, a1, _, safi] => Some(Family::new(u16::from_be_bytes([*a0, *a1]), *safi)),
                _ => None,
            },
            _ => None,
        }
    }

    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Capability::Multiprotocol(f) => {
                out.extend_from_slice(&f.afi.to_be_bytes());
                out.extend_from_slice(&[0, f.safi]);
            }
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(v) => {
                for e in v {
                    out.extend_from_slice(&e.nlri_afi.to_be_bytes());
                    out.extend_from_slice(&e.nlri_safi.to_be_bytes());
                    out.extend_from_slice(&e.next_hop_afi.to_be_bytes());
                }
            }
            Capability::Role(r) => out.push(u8::from(*r)),
            Capability::GracefulRestart(gr) => gr.encode_value(out)?,
            Capability::FourOctetAs(asn) => out.extend_from_slice(&asn.to_be_bytes()),
            Capability::AddPath(v) => {
                for e in v {
                    put_family(out, e.family);
                    out.push(e.mode.into());
                }
            }
            Capability::LongLivedGr(v) => {
                for e in v {
                    encode_llgr_family(e, out)?;
                }
            }
            Capability::Fqdn { hostname, domain } => {
                put_short_string(out, "FQDN hostname", hostname)?;
                put_short_string(out, "FQDN domain", domain)?;
            }
            Capability::Unknown { value, .. } => out.extend_from_slice(value),
        }
        Ok(())
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Multiprotocol(fam) => write!(f, "multiprotocol {fam}"),
            Capability::RouteRefresh => f.write_str("route refresh"),
            Capability::ExtendedNextHop(v) => write!(f, "extended next hop ({} entries)", v.len()),
            Capability::ExtendedMessage => f.write_str("extended message"),
            Capability::Role(r) => write!(f, "role {r}"),
            Capability::GracefulRestart(gr) => write!(f, "graceful restart {}s", gr.time),
            Capability::FourOctetAs(asn) => write!(f, "4-octet AS {asn}"),
            Capability::AddPath(v) => write!(f, "ADD-PATH ({} families)", v.len()),
            Capability::EnhancedRouteRefresh => f.write_str("enhanced route refresh"),
            Capability::LongLivedGr(v) => {
                write!(f, "long-lived graceful restart ({} families)", v.len())
            }
            Capability::Fqdn { hostname, domain } => write!(f, "FQDN {hostname:?} {domain:?}"),
            Capability::Unknown { code, value } => {
                write!(f, "capability {code} ({} octets)", value.len())
            }
        }
    }
}

// ===== impl GracefulRestart =====

impl GracefulRestart {
    /// Restart flag bits in the first octet (RFC 4724 §3, RFC 8538 §2).
    const R: u8 = 0x8;
    const N: u8 = 0x4;

    fn decode(value: &[u8]) -> Option<GracefulRestart> {
        let (head, rest) = value.split_first_chunk::<2>()?;
        if rest.len() % 4 != 0 {
            return None;
        }
        let nibble = head[0] >> 4;
        let families = rest
            .chunks_exact(4)
            .map(|c| GrFamily {
                family: Family::new(u16::from_be_bytes([c[0], c[1]]), c[2]),
                forwarding: c[3] & 0x80 != 0,
                reserved_flags: c[3] & 0x7f,
            })
            .collect();
        Some(GracefulRestart {
            restart: nibble & Self::R != 0,
            notification: nibble & Self::N != 0,
            reserved_flags: nibble & 0x3,
            time: u16::from_be_bytes(*head) & 0x0fff,
            families,
        })
    }

    fn encode_value(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.time > 0x0fff || self.reserved_flags > 0x3 {
            return Err(field(
                "graceful restart",
                format!(
                    "time {} or flags {} too large",
                    self.time, self.reserved_flags
                ),
            ));
        }
        let mut nibble = self.reserved_flags;
        if self.restart {
            nibble |= Self::R;
        }
        if self.notification {
            nibble |= Self::N;
        }
        out.extend_from_slice(&(u16::from(nibble) << 12 | self.time).to_be_bytes());
        for f in &self.families {
            put_family(out, f.family);
            out.push(flags_octet(f.forwarding, f.reserved_flags)?);
        }
        Ok(())
    }
}

// ===== impl BgpRole =====

impl BgpRole {
    /// The name used in JSON and logs (RFC 9234 §4.1 role names, kebab-case).
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            BgpRole::Provider => "provider",
            BgpRole::RouteServer => "rs",
            BgpRole::RouteServerClient => "rs-client",
            BgpRole::Customer => "customer",
            BgpRole::Peer => "peer",
            BgpRole::Unassigned(_) => return None,
        })
    }

    /// The role a correctly configured peer must announce opposite ours (RFC 9234 §4.2
    /// table 2), or `None` for unassigned values.
    pub fn expected_peer_role(&self) -> Option<BgpRole> {
        Some(match self {
            BgpRole::Provider => BgpRole::Customer,
            BgpRole::Customer => BgpRole::Provider,
            BgpRole::RouteServer => BgpRole::RouteServerClient,
            BgpRole::RouteServerClient => BgpRole::RouteServer,
            BgpRole::Peer => BgpRole::Peer,
            BgpRole::Unassigned(_) => return None,
        })
    }
}

impl From<u8> for BgpRole {
    fn from(v: u8) -> Self {
        match v {
            0 => BgpRole::Provider,
            1 => BgpRole::RouteServer,
            2 => BgpRole::RouteServerClient,
            3 => BgpRole::Customer,
            4 => BgpRole::Peer,
            other => BgpRole::Unassigned(other),
        }
    }
}

impl From<BgpRole> for u8 {
    fn from(r: BgpRole) -> u8 {
        match r {
            BgpRole::Provider => 0,
            BgpRole::RouteServer => 1,
            BgpRole::RouteServerClient => 2,
            BgpRole::Customer => 3,
            BgpRole::Peer => 4,
            BgpRole::Unassigned(v) => v,
        }
    }
}

impl fmt::Display for BgpRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", u8::from(*self)),
        }
    }
}

impl std::str::FromStr for BgpRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        (0..=4u8)
            .map(BgpRole::from)
            .find(|r| r.name() == Some(s))
            .or_else(|| s.parse::<u8>().ok().map(BgpRole::from))
            .ok_or_else(|| format!("unknown BGP role {s:?}"))
    }
}

/// JSON: the role name, or the number for unassigned values (as a string too).
impl Serialize for BgpRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BgpRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// ===== impl AddPathMode =====

impl TryFrom<u8> for AddPathMode {
    type Error = u8;
    fn try_from(v: u8) -> Result<Self, u8> {
        match v {
            1 => Ok(AddPathMode::Receive),
            2 => Ok(AddPathMode::Send),
            3 => Ok(AddPathMode::Both),
            other => Err(other),
        }
    }
}

impl From<AddPathMode> for u8 {
    fn from(m: AddPathMode) -> u8 {
        match m {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
        }
    }
}

impl AddPathMode {
    /// The sender will send path identifiers.
    pub fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }

    /// The sender can receive path identifiers.
    pub fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }
}

// ===== impl ExtNextHop =====

impl ExtNextHop {
    /// The NLRI family, if its SAFI fits the usual one octet.
    pub fn family(&self) -> Option<Family> {
        u8::try_from(self.nlri_safi)
            .ok()
            .map(|safi| Family::new(self.nlri_afi, safi))
    }
}

// ===== helper functions =====

/// Typed decoding of a known code; `None` for unknown codes and malformed values.
fn decode_known(code: u8, v: &[u8]) -> Option<Capability> {
    use cap_code::*;
    Some(match code {
        // RFC 4760 §8: AFI (2), Reserved (1), SAFI (1). A non-zero reserved octet
        // would be lost by the typed form, so such a value stays raw.
        MULTIPROTOCOL => match v {
            [a0, a1, 0, safi] => {
                Capability::Multiprotocol(Family::new(u16::from_be_bytes([*a0, *a1]), *safi))
            }
            _ => return None,
        },
        ROUTE_REFRESH if v.is_empty() => Capability::RouteRefresh,
        EXTENDED_MESSAGE if v.is_empty() => Capability::ExtendedMessage,
        ENHANCED_ROUTE_REFRESH if v.is_empty() => Capability::EnhancedRouteRefresh,
        EXTENDED_NEXT_HOP if v.len() % 6 == 0 => Capability::ExtendedNextHop(
            v.chunks_exact(6)
                .map(|c| ExtNextHop {
                    nlri_afi: u16::from_be_bytes([c[0], c[1]]),
                    nlri_safi: u16::from_be_bytes([c[2], c[3]]),
                    next_hop_afi: u16::from_be_bytes([c[4], c[5]]),
                })
                .collect(),
        ),
        ROLE => match v {
            [r] => Capability::Role(BgpRole::from(*r)),
            _ => return None,
        },
        GRACEFUL_RESTART => Capability::GracefulRestart(GracefulRestart::decode(v)?),
        FOUR_OCTET_AS => Capability::FourOctetAs(u32::from_be_bytes(v.try_into().ok()?)),
        ADD_PATH if v.len() % 4 == 0 => Capability::AddPath(
            v.chunks_exact(4)
                .map(|c| {
                    let mode = AddPathMode::try_from(c[3]).ok()?;
                    Some(AddPathFamily {
                        family: Family::new(u16::from_be_bytes([c[0], c[1]]), c[2]),
                        mode,
                    })
                })
                .collect::<Option<_>>()?,
        ),
        LONG_LIVED_GR if v.len() % 7 == 0 => Capability::LongLivedGr(
            v.chunks_exact(7)
                .map(|c| LlgrFamily {
                    family: Family::new(u16::from_be_bytes([c[0], c[1]]), c[2]),
                    forwarding: c[3] & 0x80 != 0,
                    reserved_flags: c[3] & 0x7f,
                    stale_time: u32::from_be_bytes([0, c[4], c[5], c[6]]),
                })
                .collect(),
        ),
        FQDN => decode_fqdn(v)?,
        _ => return None,
    })
}

/// draft-walton-bgp-hostname-capability §3: hostname length, hostname, domain length,
/// domain; nothing after. Non-UTF-8 names stay raw.
fn decode_fqdn(v: &[u8]) -> Option<Capability> {
    let (&hlen, rest) = v.split_first()?;
    let host = rest.get(..usize::from(hlen))?;
    let rest = &rest[host.len()..];
    let (&dlen, rest) = rest.split_first()?;
    if rest.len() != usize::from(dlen) {
        return None;
    }
    Some(Capability::Fqdn {
        hostname: std::str::from_utf8(host).ok()?.to_owned(),
        domain: std::str::from_utf8(rest).ok()?.to_owned(),
    })
}

fn encode_llgr_family(e: &LlgrFamily, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if e.stale_time > 0x00ff_ffff {
        return Err(field(
            "LLGR stale time",
            format!("{} exceeds 24 bits", e.stale_time),
        ));
    }
    put_family(out, e.family);
    out.push(flags_octet(e.forwarding, e.reserved_flags)?);
    out.extend_from_slice(&e.stale_time.to_be_bytes()[1..]);
    Ok(())
}

fn put_family(out: &mut Vec<u8>, f: Family) {
    out.extend_from_slice(&f.afi.to_be_bytes());
    out.push(f.safi);
}

/// A per-family flags octet: F bit on top, seven reserved bits below.
fn flags_octet(forwarding: bool, reserved: u8) -> Result<u8, EncodeError> {
    if reserved > 0x7f {
        return Err(field(
            "family flags",
            format!("reserved bits {reserved:#x} exceed 7 bits"),
        ));
    }
    Ok(if forwarding {
        0x80 | reserved
    } else {
        reserved
    })
}

fn put_short_string(out: &mut Vec<u8>, what: &'static str, s: &str) -> Result<(), EncodeError> {
    let len =
        u8::try_from(s.len()).map_err(|_| field(what, format!("{} octets exceed 255", s.len())))?;
    out.push(len);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn field(field: &'static str, detail: String) -> EncodeError {
    EncodeError::Field { field, detail }
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

// ===== tests =====

#[cfg(test)]
mod tests;
