//! OPEN message (RFC 4271 §4.2) with RFC 9072 extended optional parameters.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+
//! |    Version    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     My Autonomous System      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Hold Time           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         BGP Identifier                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Opt Parm Len  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Optional parameter:  Parm. Type (1) | Parm. Length (1) | Parameter Value
//! ```
//!
//! The RFC 9072 extended form replaces the Opt Parm Len octet:
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Non-Ext OP Len.|Non-Ext OP Type|  Extended Opt. Parm. Length   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Optional Parameters (variable)                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! Optional parameter:  Parm. Type (1) | Parm. Length (2) | Parameter Value
//! ```
//!
//! Errors. RFC 4271 §6.2: every error found in an OPEN is an "OPEN Message Error"
//! (code 2). Version other than 4 -> subcode 1 with the 2-octet largest supported
//! version as data; a parameter type other than Capabilities -> subcode 4 (RFC 9072 §3:
//! also type 255 anywhere but the marker position). RFC 4271 defines no subcode for
//! length fields that disagree with the message, so those use subcode 0: RFC 4271 §4.5,
//! "If no appropriate Error Subcode is defined, then a zero (Unspecific) value is used".
//! Semantic checks (peer AS, hold time, BGP identifier) are the FSM's: see the
//! `validate_*` helpers.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::capability::{AddPathFamily, BgpRole, Capability, GracefulRestart};
use super::error::{code, header_sub, open_sub, EncodeError, WireError};
use super::family::Family;
use super::notification::NotificationMsg;
use super::reader::Reader;
use super::HEADER_LEN;

/// The only BGP version (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;
/// The 2-octet stand-in for a 4-octet AS number in My Autonomous System (RFC 6793).
pub const AS_TRANS: u16 = 23456;
/// Optional parameter type 2: Capabilities (RFC 5492 §4).
pub const PARAM_CAPABILITIES: u8 = 2;
/// Non-Ext OP Type marking the extended format (RFC 9072 §2).
pub const PARAM_EXTENDED_LENGTH: u8 = 255;
/// Hold time wren proposes unless told otherwise (RFC 4271 §10 suggests 90 s).
pub const DEFAULT_HOLD_TIME: u16 = 90;

/// An OPEN message. Parameters keep their grouping on the wire (one Capabilities
/// parameter may hold many capabilities), so that encoding reproduces the bytes.
///
/// One normalisation: in the extended form the Non-Ext OP Len octet is ignored on
/// receipt (RFC 9072 §2) and always sent as 255.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenMsg {
    pub version: u8,
    /// The 2-octet "My Autonomous System" field (AS_TRANS 23456 when the AS is 4-octet).
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub params: Vec<OptParam>,
    /// RFC 9072: the parameters were (or must be) sent in the extended format.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extended_params: bool,
}

/// An optional parameter (RFC 4271 §4.2, RFC 5492 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptParam {
    /// Parameter type 2: one or more capabilities.
    Capabilities(Vec<Capability>),
    /// Any other parameter type (type 1, authentication, is deprecated). Decoding
    /// refuses these (RFC 4271 §6.2); the variant exists so tests can send them.
    Unknown {
        ptype: u8,
        #[serde(with = "super::hex::serde")]
        value: Vec<u8>,
    },
}

/// Builds wren's own OPEN: every capability in one Capabilities parameter, multiprotocol
/// first, then the 4-octet AS capability, then the others in the order given.
#[derive(Debug, Clone)]
pub struct OpenBuilder {
    asn: u32,
    bgp_id: Ipv4Addr,
    hold_time: u16,
    families: Vec<Family>,
    others: Vec<Capability>,
    extended_params: bool,
}

/// Decode an OPEN body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], base: usize) -> Result<OpenMsg, WireError> {
    let mut r = Reader::new(body, base);
    let version = r.u8().ok_or_else(|| too_short(&r, body.len()))?;
    // RFC 4271 §6.2: unsupported version -> subcode 1, data = largest supported version.
    if version != BGP_VERSION {
        return Err(WireError::new(
            base,
            code::OPEN,
            open_sub::UNSUPPORTED_VERSION,
            u16::from(BGP_VERSION).to_be_bytes().to_vec(),
            format!("BGP version {version} is not supported (only 4)"),
        ));
    }
    let my_as = r.u16().ok_or_else(|| too_short(&r, body.len()))?;
    let hold_time = r.u16().ok_or_else(|| too_short(&r, body.len()))?;
    let id = r.u32().ok_or_else(|| too_short(&r, body.len()))?;
    let len_at = r.offset();
    let opt_len = r.u8().ok_or_else(|| too_short(&r, body.len()))?;
    // RFC 9072 §2: a non-zero Opt Parm Len followed by type 255 selects the extended
    // format, and the Opt Parm Len value is then ignored.
    let extended = opt_len != 0 && r.rest().first() == Some(&PARAM_EXTENDED_LENGTH);
    let params = if extended {
        decode_extended(&mut r)?
    } else {
        if usize::from(opt_len) != r.remaining() {
            return Err(unspecific(
                len_at,
                format!("Opt Parm Len {opt_len} but {} octets follow", r.remaining()),
            ));
        }
        decode_params(r, false)?
    };
    Ok(OpenMsg {
        version,
        my_as,
        hold_time,
        bgp_id: Ipv4Addr::from(id),
        params,
        extended_params: extended,
    })
}

// ===== impl OpenMsg =====

impl OpenMsg {
    /// Start building wren's own OPEN for AS `asn` with identifier `bgp_id`.
    pub fn builder(asn: u32, bgp_id: Ipv4Addr) -> OpenBuilder {
        OpenBuilder {
            asn,
            bgp_id,
            hold_time: DEFAULT_HOLD_TIME,
            families: Vec::new(),
            others: Vec::new(),
            extended_params: false,
        }
    }

    /// Every capability of every Capabilities parameter, in wire order.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> + '_ {
        self.params.iter().flat_map(|p| match p {
            OptParam::Capabilities(caps) => caps.as_slice(),
            OptParam::Unknown { .. } => &[],
        })
    }

    /// The first capability with `code`, if any.
    pub fn capability(&self, code: u8) -> Option<&Capability> {
        self.capabilities().find(|c| c.code() == code)
    }

    /// The 4-octet AS capability value (RFC 6793), if announced.
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
    }

    /// The sender's AS: the 4-octet AS capability if present, else My Autonomous System.
    pub fn asn(&self) -> u32 {
        self.four_octet_as().unwrap_or(self.my_as.into())
    }

    /// Families announced with the multiprotocol capability, in order, without
    /// duplicates. Empty when none is announced (RFC 4760 §8: the peer then speaks only
    /// IPv4 unicast; deciding that is the FSM's job).
    pub fn families(&self) -> Vec<Family> {
        let mut out: Vec<Family> = Vec::new();
        for f in self
            .capabilities()
            .filter_map(Capability::multiprotocol_family)
        {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// RFC 4271 §6.2 / §4.2: a Hold Time of 1 or 2 seconds MUST be rejected with
    /// "Unacceptable Hold Time" (2/6). 0 and 3.. are acceptable.
    pub fn validate_hold_time(&self) -> Result<(), NotificationMsg> {
        match self.hold_time {
            1 | 2 => Err(NotificationMsg::open_error(
                open_sub::UNACCEPTABLE_HOLD_TIME,
                Vec::new(),
            )),
            _ => Ok(()),
        }
    }

    /// RFC 6286 §2.2: a BGP Identifier of 0, or (for an internal peer) equal to ours,
    /// is a "Bad BGP Identifier" (2/3).
    pub fn validate_bgp_id(
        &self,
        local_id: Ipv4Addr,
        internal: bool,
    ) -> Result<(), NotificationMsg> {
        if self.bgp_id.is_unspecified() || (internal && self.bgp_id == local_id) {
            return Err(NotificationMsg::open_error(
                open_sub::BAD_BGP_IDENTIFIER,
                Vec::new(),
            ));
        }
        Ok(())
    }

    /// RFC 4271 §6.2 / RFC 6793: the AS the peer announces (see [`OpenMsg::asn`]) must
    /// be the one configured, else "Bad Peer AS" (2/2).
    pub fn validate_peer_as(&self, expected: u32) -> Result<(), NotificationMsg> {
        if self.asn() != expected {
            return Err(NotificationMsg::open_error(
                open_sub::BAD_PEER_AS,
                Vec::new(),
            ));
        }
        Ok(())
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let params = self
            .params
            .iter()
            .map(|p| p.encode_value().map(|v| (p.ptype(), v)))
            .collect::<Result<Vec<_>, _>>()?;
        let classic: usize = params.iter().map(|(_, v)| 2 + v.len()).sum();
        // RFC 9072 §2: the extended form when asked, or when the parameters (or one of
        // them) do not fit one-octet lengths.
        let extended =
            self.extended_params || classic > 255 || params.iter().any(|(_, v)| v.len() > 255);
        out.push(self.version);
        out.extend_from_slice(&self.my_as.to_be_bytes());
        out.extend_from_slice(&self.hold_time.to_be_bytes());
        out.extend_from_slice(&self.bgp_id.octets());
        if extended {
            let total: usize = params.iter().map(|(_, v)| 3 + v.len()).sum();
            let total = u16::try_from(total).map_err(|_| field("optional parameters", total))?;
            // RFC 9072 §2: Non-Ext OP Len SHOULD be 255, Non-Ext OP Type MUST be 255.
            out.extend_from_slice(&[255, PARAM_EXTENDED_LENGTH]);
            out.extend_from_slice(&total.to_be_bytes());
            for (t, v) in &params {
                out.push(*t);
                out.extend_from_slice(&(v.len() as u16).to_be_bytes());
                out.extend_from_slice(v);
            }
        } else {
            out.push(classic as u8);
            for (t, v) in &params {
                out.extend_from_slice(&[*t, v.len() as u8]);
                out.extend_from_slice(v);
            }
        }
        Ok(())
    }
}

// ===== impl OptParam =====

impl OptParam {
    /// The parameter type code.
    pub fn ptype(&self) -> u8 {
        match self {
            OptParam::Capabilities(_) => PARAM_CAPABILITIES,
            OptParam::Unknown { ptype, .. } => *ptype,
        }
    }

    fn encode_value(&self) -> Result<Vec<u8>, EncodeError> {
        match self {
            OptParam::Capabilities(caps) => {
                let mut v = Vec::new();
                for c in caps {
                    c.encode(&mut v)?;
                }
                Ok(v)
            }
            // RFC 9072 §3: type 255 MUST NOT be used other than as the marker.
            OptParam::Unknown {
                ptype: PARAM_EXTENDED_LENGTH,
                ..
            } => Err(EncodeError::Field {
                field: "optional parameter type",
                detail: "255 is reserved for the RFC 9072 marker".into(),
            }),
            OptParam::Unknown { value, .. } => Ok(value.clone()),
        }
    }
}

// ===== impl OpenBuilder =====

impl OpenBuilder {
    pub fn hold_time(mut self, secs: u16) -> Self {
        self.hold_time = secs;
        self
    }

    /// Announce a family with the multiprotocol capability (RFC 4760 §8).
    pub fn family(mut self, f: Family) -> Self {
        if !self.families.contains(&f) {
            self.families.push(f);
        }
        self
    }

    /// Any other capability.
    pub fn capability(mut self, c: Capability) -> Self {
        self.others.push(c);
        self
    }

    /// Route refresh (RFC 2918) and enhanced route refresh (RFC 7313).
    pub fn route_refresh(self) -> Self {
        self.capability(Capability::RouteRefresh)
            .capability(Capability::EnhancedRouteRefresh)
    }

    pub fn extended_message(self) -> Self {
        self.capability(Capability::ExtendedMessage)
    }

    pub fn graceful_restart(self, gr: GracefulRestart) -> Self {
        self.capability(Capability::GracefulRestart(gr))
    }

    pub fn add_path(self, families: Vec<AddPathFamily>) -> Self {
        self.capability(Capability::AddPath(families))
    }

    pub fn role(self, role: BgpRole) -> Self {
        self.capability(Capability::Role(role))
    }

    pub fn fqdn(self, hostname: &str, domain: &str) -> Self {
        self.capability(Capability::Fqdn {
            hostname: hostname.into(),
            domain: domain.into(),
        })
    }

    /// Force the RFC 9072 extended format (RFC 9072 §2 allows it by configuration).
    pub fn extended_params(mut self, on: bool) -> Self {
        self.extended_params = on;
        self
    }

    pub fn build(self) -> OpenMsg {
        let mut caps: Vec<Capability> = self
            .families
            .into_iter()
            .map(Capability::Multiprotocol)
            .collect();
        // RFC 6793: the 4-octet AS capability always; AS_TRANS when it does not fit.
        caps.push(Capability::FourOctetAs(self.asn));
        caps.extend(self.others);
        OpenMsg {
            version: BGP_VERSION,
            my_as: u16::try_from(self.asn).unwrap_or(AS_TRANS),
            hold_time: self.hold_time,
            bgp_id: self.bgp_id,
            params: vec![OptParam::Capabilities(caps)],
            extended_params: self.extended_params,
        }
    }
}

// ===== helper functions =====

/// RFC 9072 §2: Non-Ext OP Type (255), Extended Opt. Parm. Length (2), parameters with
/// 2-octet lengths.
fn decode_extended(r: &mut Reader<'_>) -> Result<Vec<OptParam>, WireError> {
    let _marker = r.u8();
    let len_at = r.offset();
    let Some(len) = r.u16() else {
        return Err(unspecific(
            len_at,
            "Extended Opt. Parm. Length is truncated",
        ));
    };
    if usize::from(len) != r.remaining() {
        return Err(unspecific(
            len_at,
            format!(
                "Extended Opt. Parm. Length {len} but {} octets follow",
                r.remaining()
            ),
        ));
    }
    decode_params(*r, true)
}

/// Walk the optional parameters, which fill `r` exactly.
fn decode_params(mut r: Reader<'_>, extended: bool) -> Result<Vec<OptParam>, WireError> {
    let mut params = Vec::new();
    while !r.is_empty() {
        let type_at = r.offset();
        let ptype = r.u8().unwrap_or_default();
        let len_at = r.offset();
        let len = if extended {
            r.u16()
        } else {
            r.u8().map(u16::from)
        };
        let Some(mut value) = len.and_then(|l| r.sub(l.into())) else {
            return Err(unspecific(
                len_at,
                "optional parameter overruns the parameters",
            ));
        };
        // RFC 4271 §6.2 (and RFC 9072 §3 for type 255): unrecognized parameter.
        if ptype != PARAM_CAPABILITIES {
            return Err(WireError::new(
                type_at,
                code::OPEN,
                open_sub::UNSUPPORTED_OPTIONAL_PARAMETER,
                Vec::new(),
                format!("optional parameter type {ptype} is not supported"),
            ));
        }
        params.push(OptParam::Capabilities(decode_capabilities(&mut value)?));
    }
    Ok(params)
}

/// RFC 5492 §4: code (1), length (1), value; the values themselves never fail.
fn decode_capabilities(r: &mut Reader<'_>) -> Result<Vec<Capability>, WireError> {
    let mut caps = Vec::new();
    while let Some(code) = r.u8() {
        let len_at = r.offset();
        let Some(value) = r.u8().and_then(|l| r.take(l.into())) else {
            return Err(unspecific(
                len_at,
                format!("capability {code} overruns its parameter"),
            ));
        };
        caps.push(Capability::decode(code, value));
    }
    Ok(caps)
}

#[cold]
fn unspecific(offset: usize, reason: impl Into<String>) -> WireError {
    WireError::new(offset, code::OPEN, open_sub::UNSPECIFIC, Vec::new(), reason)
}

/// Below the 10 fixed octets: RFC 4271 §6.1 Bad Message Length (the header check
/// refuses such a message before the body is read). `r` stopped at the missing field.
#[cold]
fn too_short(r: &Reader<'_>, body_len: usize) -> WireError {
    let len = (HEADER_LEN + body_len) as u16;
    WireError::new(
        r.offset(),
        code::HEADER,
        header_sub::BAD_MESSAGE_LENGTH,
        len.to_be_bytes().to_vec(),
        format!("OPEN of {len} octets is shorter than 29"),
    )
}

fn field(field: &'static str, len: usize) -> EncodeError {
    EncodeError::Field {
        field,
        detail: format!("{len} octets do not fit"),
    }
}

// ===== tests =====

#[cfg(test)]
mod tests;
