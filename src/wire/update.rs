//! UPDATE message (RFC 4271 §4.3) with MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760).
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```

//!
//! Decoding applies RFC 7606 (revised error handling): problems that do not need a reset
//! are returned as [`Finding`]s next to the decoded message, and the worst one decides
//! (attribute discard < treat-as-withdraw < AFI/SAFI disable < session reset). A problem
//! that needs a session reset is returned as the [`WireError`] instead. With
//! treat-as-withdraw the message still carries its NLRI: the caller withdraws them; with
//! AFI/SAFI disable the MP attribute is left out and the caller disables its family. What this codec cannot check, because it
//! does not know the peer, is left to the RIB: LOCAL_PREF and ORIGINATOR_ID/CLUSTER_LIST
//! from an external peer (RFC 7606 §7.5, §7.9, §7.10), the first AS of an eBGP path
//! (RFC 4271 §6.3), confederation segments from outside the confederation (RFC 5065 §5.3),
//! NEXT_HOP semantics (RFC 4271 §5.1.3), and families that were not negotiated
//! (RFC 4760 §6).

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::attr::{self, bit, code, flag, set_bit, std_flags, Attrs, Malformed, RawAttr};
use super::error::{update_sub, EncodeError, Finding, Treatment, WireError};
use super::family::Family;
use super::nlri::{self, Nlri4, Nlri6, NlriError};
use super::notification::NotificationMsg;
use super::Ctx;

/// An UPDATE as a batch: one shared attribute set and many NLRI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateMsg {
    /// Withdrawn Routes field (IPv4 unicast).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<Nlri4>,
    pub attrs: Attrs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp_reach: Option<MpReach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mp_unreach: Option<MpUnreach>,
    /// NLRI field (IPv4 unicast).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nlri: Vec<Nlri4>,
    /// Wire order and flags of the attributes, when they differ from wren's canonical
    /// encoding (MP attributes first, then ascending type code, Extended Length only when
    /// needed). `None` means canonical. Not part of the route's identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<Vec<(u8, u8)>>,
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: NextHop,
    pub nlri: MpNlri,
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: MpNlri,
}

/// Next hop of MP_REACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextHop {
    V4(Ipv4Addr),
    /// RFC 2545 §3: a global address, optionally followed by a link-local one.
    /// Also the RFC 8950 form for IPv4 NLRI.
    V6 {
        global: Ipv6Addr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link_local: Option<Ipv6Addr>,
    },
    /// A next hop of a family wren does not interpret.
    Raw(#[serde(with = "super::hex::serde")] Vec<u8>),
}

/// NLRI of an MP attribute, typed by its family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MpNlri {
    V4(Vec<Nlri4>),
    V6(Vec<Nlri6>),
    /// A family wren does not interpret: kept as bytes.
    Raw(#[serde(with = "super::hex::serde")] Vec<u8>),
}

/// Decode an UPDATE body; `base` is the absolute offset of `body[0]`.
pub fn decode(body: &[u8], ctx: &Ctx, base: usize) -> Result<(UpdateMsg, Vec<Finding>), WireError> {
    let f = Fields::split(body, base)?;
    let v4_add_path = ctx.add_path(Family::IPV4_UNICAST);
    let mut msg = UpdateMsg::default();
    // RFC 7606 §3 (i): the Withdrawn Routes field is checked like the NLRI field.
    nlri::decode_v4(
        f.withdrawn,
        f.withdrawn_base,
        v4_add_path,
        &mut msg.withdrawn,
    )
    .map_err(network_error)?;
    let mut walk = Walk::new(ctx, !f.nlri.is_empty());
    walk.run(f.attrs, f.attrs_base, &mut msg)?;
    // RFC 4271 §6.3: "The NLRI field in the UPDATE message is checked for syntactic
    // validity. If the field is syntactically incorrect, then the Error Subcode MUST be set
    // to Invalid Network Field." RFC 7606 §5.3 keeps this a session reset.
    nlri::decode_v4(f.nlri, f.nlri_base, v4_add_path, &mut msg.nlri).map_err(network_error)?;
    walk.check_mandatory(&msg, f.attrs_len_offset);
    walk.escalate_without_nlri(&msg)?;
    msg.layout = walk.layout();
    msg.attrs.unknown.sort_unstable_by_key(|r| r.type_code);
    Ok((msg, walk.findings))
}

/// The three variable fields of an UPDATE body.
struct Fields<'a> {
    withdrawn: &'a [u8],
    withdrawn_base: usize,
    attrs_len_offset: usize,
    attrs: &'a [u8],
    attrs_base: usize,
    nlri: &'a [u8],
    nlri_base: usize,
}

/// The state of one walk over the path attributes.
struct Walk<'c> {
    ctx: &'c Ctx,
    /// The NLRI field is non-empty (NEXT_HOP is then mandatory and checked).
    nlri_field: bool,
    /// Attribute codes met so far, kept or not (RFC 7606 §3 (g) duplicates).
    seen: [u64; 4],
    /// (type, flags) of the kept attributes, in wire order.
    order: Vec<(u8, u8)>,
    /// Wire order and flags equal the canonical encoding so far.
    canonical: bool,
    last_key: u16,
    findings: Vec<Finding>,
}

/// One attribute cut out of the list.
struct RawHeader<'a> {
    flags: u8,
    code: u8,
    value: &'a [u8],
    /// Flags, type, length and value, as on the wire (the NOTIFICATION data).
    whole: &'a [u8],
    /// Absolute offset of the flags octet.
    at: usize,
    value_at: usize,
}

// ===== impl Fields =====

impl<'a> Fields<'a> {
    /// RFC 4271 §6.3 (unchanged by RFC 7606 §3 (a)): "If the Withdrawn Routes Length or
    /// Total Attribute Length is too large (i.e., if Withdrawn Routes Length + Total
    /// Attribute Length + 23 exceeds the message Length), then the Error Subcode MUST be set
    /// to Malformed Attribute List."
    fn split(body: &'a [u8], base: usize) -> Result<Fields<'a>, WireError> {
        let too_large = |at: usize, what: &str| {
            WireError::new(
                at,
                ERR,
                update_sub::MALFORMED_ATTRIBUTE_LIST,
                Vec::new(),
                format!("{what} runs past the end of the message"),
            )
        };
        let wlen = read_u16(body, 0).ok_or_else(|| too_large(base, "Withdrawn Routes Length"))?;
        let wend = 2 + wlen;
        let withdrawn = body
            .get(2..wend)
            .ok_or_else(|| too_large(base, "Withdrawn Routes"))?;
        let alen = read_u16(body, wend)
            .ok_or_else(|| too_large(base + wend, "Total Path Attribute Length"))?;
        let aend = wend + 2 + alen;
        let attrs = body
            .get(wend + 2..aend)
            .ok_or_else(|| too_large(base + wend, "Path Attributes"))?;
        Ok(Fields {
            withdrawn,
            withdrawn_base: base + 2,
            attrs_len_offset: base + wend,
            attrs,
            attrs_base: base + wend + 2,
            nlri: body.get(aend..).unwrap_or(&[]),
            nlri_base: base + aend,
        })
    }
}

// ===== impl Walk =====

impl<'c> Walk<'c> {
    fn new(ctx: &'c Ctx, nlri_field: bool) -> Self {
        Walk {
            ctx,
            nlri_field,
            seen: [0; 4],
            order: Vec::new(),
            canonical: true,
            last_key: 0,
            findings: Vec::new(),
        }
    }

    /// Walk the Path Attributes field.
    fn run(&mut self, buf: &[u8], base: usize, msg: &mut UpdateMsg) -> Result<(), WireError> {
        let mut pos = 0;
        while pos < buf.len() {
            let Some(h) = self.cut(buf, base, pos)? else {
                break;
            };
            pos += h.whole.len();
            self.one(&h, msg)?;
        }
        Ok(())
    }

    /// Cut the attribute at `pos`. `Ok(None)`: the list overruns (RFC 7606 §4), recorded.
    fn cut<'b>(
        &mut self,
        buf: &'b [u8],
        base: usize,
        pos: usize,
    ) -> Result<Option<RawHeader<'b>>, WireError> {
        let rest = buf.get(pos..).unwrap_or(&[]);
        let at = base + pos;
        let (flags, c, hdr, len) = match rest {
            [f, c, h, l, ..] if f & flag::EXTENDED_LENGTH != 0 => {
                (*f, *c, 4, u16::from_be_bytes([*h, *l]) as usize)
            }
            [f, c, l, ..] if f & flag::EXTENDED_LENGTH == 0 => (*f, *c, 3, *l as usize),
            _ => {
                // RFC 7606 §4: "fewer than three octets remain (or fewer than four octets, if
                // the Attribute Flags field has the Extended Length bit set) when beginning
                // to parse the attribute" -> treat-as-withdraw.
                // The type code is reported when its octet is there (flags and type, but
                // no room for the length).
                self.finding(
                    at,
                    rest.get(1).copied(),
                    Treatment::TreatAsWithdraw,
                    update_sub::MALFORMED_ATTRIBUTE_LIST,
                    Vec::new(),
                    format!(
                        "{} octets left at the end of the attribute list",
                        rest.len()
                    ),
                );
                return Ok(None);
            }
        };
        let Some(whole) = rest.get(..hdr + len) else {
            return self.overrun(at, c, len, rest).map(|()| None);
        };
        Ok(Some(RawHeader {
            flags,
            code: c,
            value: &whole[hdr..],
            whole,
            at,
            value_at: at + hdr,
        }))
    }

    /// The attribute at `at` claims more octets than the list has left.
    fn overrun(&mut self, at: usize, c: u8, len: usize, rest: &[u8]) -> Result<(), WireError> {
        let reason = format!("attribute {c} of length {len} overruns the attribute list");
        if c == code::MP_REACH_NLRI || c == code::MP_UNREACH_NLRI {
            // The MP attribute cannot be read, so its NLRI cannot be withdrawn: reset
            // (RFC 7606 §7.11, §7.12; RFC 4760 §7 Optional Attribute Error).
            let sub = update_sub::OPTIONAL_ATTRIBUTE_ERROR;
            return Err(WireError::new(at, ERR, sub, rest.to_vec(), reason));
        }
        // RFC 7606 §4: "the length of the last encountered path attribute would cause the
        // Total Attribute Length to be exceeded" -> treat-as-withdraw. RFC 4271 names no
        // subcode for it: a fault in the structure of the list, so Malformed Attribute List
        // (RFC 4271 §6.3, no data), not a length that conflicts with the type.
        let sub = update_sub::MALFORMED_ATTRIBUTE_LIST;
        let t = Treatment::TreatAsWithdraw;
        self.finding(at, Some(c), t, sub, Vec::new(), reason);
        Ok(())
    }

    /// Check and decode one attribute.
    fn one(&mut self, h: &RawHeader<'_>, msg: &mut UpdateMsg) -> Result<(), WireError> {
        if let Some((t, sub, with_data, reason)) = self.precheck(h) {
            return self.report(h, t, sub, with_data, reason);
        }
        match self.decode_into(h, msg) {
            Ok(()) => {
                self.keep(h);
                Ok(())
            }
            Err(m) => {
                let mut t = attr::value_treatment(h.code);
                if t == Treatment::AfiSafiDisable && h.value.len() < 3 {
                    // RFC 7606 §7.11, §7.12: without a readable AFI/SAFI there is no family
                    // to disable; only a session reset is left (RFC 4760 §7).
                    t = Treatment::SessionReset;
                }
                self.report(h, t, m.subcode, m.with_data, m.reason)
            }
        }
    }

    /// Problems found before the value is read: repeats, AS4_* on a 4-octet session, flags.
    /// Returns (treatment, subcode, attribute as data?, reason).
    fn precheck(&mut self, h: &RawHeader<'_>) -> Option<(Treatment, u8, bool, String)> {
        let c = h.code;
        if set_bit(&mut self.seen, c) {
            // RFC 7606 §3 (g): a repeated MP attribute -> NOTIFICATION with Malformed
            // Attribute List; any other repeat: "all the occurrences of the attribute other
            // than the first one SHALL be discarded".
            let is_mp = c == code::MP_REACH_NLRI || c == code::MP_UNREACH_NLRI;
            let t = if is_mp {
                Treatment::SessionReset
            } else {
                Treatment::AttributeDiscard
            };
            let sub = update_sub::MALFORMED_ATTRIBUTE_LIST;
            return Some((t, sub, false, format!("attribute {c} repeated")));
        }
        if self.ctx.as4 && (c == code::AS4_PATH || c == code::AS4_AGGREGATOR) {
            // RFC 6793 §4.1: received from another NEW speaker, they "MUST [be] discard[ed]".
            let (t, sub) = (
                Treatment::AttributeDiscard,
                update_sub::OPTIONAL_ATTRIBUTE_ERROR,
            );
            return Some((
                t,
                sub,
                true,
                format!("attribute {c} on a 4-octet AS session"),
            ));
        }
        match std_flags(c) {
            // RFC 4271 §6.3: Attribute Flags Error with the attribute as data;
            // RFC 7606 §3 (c) sets the treatment (only Optional and Transitive count).
            Some(want) if h.flags & (flag::OPTIONAL | flag::TRANSITIVE) != want => Some((
                attr::flags_treatment(c),
                update_sub::ATTRIBUTE_FLAGS_ERROR,
                true,
                format!("attribute {c} has flags {:#04x}", h.flags),
            )),
            // RFC 4271 §6.3: "If any of the well-known mandatory attributes are not
            // recognized, then the Error Subcode MUST be set to Unrecognized Well-known
            // Attribute. The Data field MUST contain the unrecognized attribute".
            None if h.flags & flag::OPTIONAL == 0 => Some((
                Treatment::SessionReset,
                update_sub::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                true,
                format!("unrecognized well-known attribute {c}"),
            )),
            _ => None,
        }
    }

    /// Decode the value of `h` into `msg`; unknown optional attributes are kept raw.
    fn decode_into(&self, h: &RawHeader<'_>, msg: &mut UpdateMsg) -> Result<(), Malformed> {
        let (c, v) = (h.code, h.value);
        match c {
            code::MP_REACH_NLRI => msg.mp_reach = Some(MpReach::decode(v, h.value_at, self.ctx)?),
            code::MP_UNREACH_NLRI => {
                msg.mp_unreach = Some(MpUnreach::decode(v, h.value_at, self.ctx)?)
            }
            _ => {
                if !attr::decode_value(&mut msg.attrs, c, v, self.ctx, self.nlri_field)? {
                    msg.attrs.unknown.push(RawAttr::new(h.flags, c, v.to_vec()));
                }
            }
        }
        Ok(())
    }

    /// Record a kept attribute's position and flags, and whether they are canonical.
    fn keep(&mut self, h: &RawHeader<'_>) {
        let ext = if h.value.len() > 255 {
            flag::EXTENDED_LENGTH
        } else {
            0
        };
        let std = std_flags(h.code)
            .unwrap_or(h.flags & (flag::OPTIONAL | flag::TRANSITIVE | flag::PARTIAL));
        let key = canonical_key(h.code);
        if h.flags != std | ext || (!self.order.is_empty() && key <= self.last_key) {
            self.canonical = false;
        }
        self.last_key = key;
        self.order.push((h.code, h.flags));
    }

    /// A problem with attribute `h`: a finding, or the error when the treatment is a reset.
    fn report(
        &mut self,
        h: &RawHeader<'_>,
        t: Treatment,
        sub: u8,
        with_data: bool,
        reason: String,
    ) -> Result<(), WireError> {
        let data = if with_data {
            h.whole.to_vec()
        } else {
            Vec::new()
        };
        if t == Treatment::SessionReset {
            return Err(WireError::new(h.at, ERR, sub, data, reason));
        }
        self.finding(h.at, Some(h.code), t, sub, data, reason);
        Ok(())
    }

    #[cold]
    fn finding(
        &mut self,
        at: usize,
        c: Option<u8>,
        t: Treatment,
        sub: u8,
        data: Vec<u8>,
        reason: String,
    ) {
        let n = NotificationMsg {
            code: ERR,
            subcode: sub,
            data,
        };
        self.findings.push(Finding::new(at, c, t, n, reason));
    }

    /// RFC 7606 §3 (d): a missing well-known mandatory attribute -> treat-as-withdraw, only
    /// when the UPDATE announces something (without reachable NLRI the attributes are
    /// irrelevant). NEXT_HOP is mandatory only with a non-empty NLRI field (RFC 4760 §3).
    /// RFC 4271 §6.3: the data is the type code of the missing attribute. The offset is
    /// that of the Total Path Attribute Length field.
    fn check_mandatory(&mut self, msg: &UpdateMsg, at: usize) {
        let mp = msg.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty());
        if msg.nlri.is_empty() && !mp {
            return;
        }
        for (c, name) in [
            (code::ORIGIN, "ORIGIN"),
            (code::AS_PATH, "AS_PATH"),
            (code::NEXT_HOP, "NEXT_HOP"),
        ] {
            if bit(&self.seen, c) || (c == code::NEXT_HOP && msg.nlri.is_empty()) {
                continue;
            }
            self.finding(
                at,
                Some(c),
                Treatment::TreatAsWithdraw,
                update_sub::MISSING_WELL_KNOWN_ATTRIBUTE,
                vec![c],
                format!("mandatory attribute {name} is missing"),
            );
        }
    }

    /// RFC 7606 §5.2: an UPDATE that carries path attributes but no reachable NLRI (an empty
    /// NLRI field and no MP_REACH_NLRI) has nothing that "treat-as-withdraw" could withdraw,
    /// so such an error would go unnoticed; it is handled as a session reset with the
    /// NOTIFICATION of the first such error (its offset is the attribute's flags byte).
    /// Attribute-discard findings stay discards. End-of-RIB markers carry no error, so they
    /// are not affected. Any MP_REACH_NLRI on the wire counts as present, also one that was
    /// disabled (AFI/SAFI disable: its family's routes are gone anyway) or one with an empty
    /// NLRI list.
    fn escalate_without_nlri(&self, msg: &UpdateMsg) -> Result<(), WireError> {
        if !msg.nlri.is_empty() || bit(&self.seen, code::MP_REACH_NLRI) {
            return Ok(());
        }
        match self
            .findings
            .iter()
            .find(|f| f.treatment == Treatment::TreatAsWithdraw)
        {
            Some(f) => Err(escalated(f)),
            None => Ok(()),
        }
    }

    /// The layout to store: `None` when the wire form is canonical.
    fn layout(&mut self) -> Option<Vec<(u8, u8)>> {
        if self.canonical {
            None
        } else {
            Some(std::mem::take(&mut self.order))
        }
    }
}

// ===== impl UpdateMsg =====

impl UpdateMsg {
    /// Append the body (everything after the 19-octet header).
    pub fn encode_body(&self, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let v4_add_path = ctx.add_path(Family::IPV4_UNICAST);
        let start = out.len();
        out.extend_from_slice(&[0, 0]);
        nlri::encode_v4(&self.withdrawn, v4_add_path, out);
        patch_len(out, start)?;
        let astart = out.len();
        out.extend_from_slice(&[0, 0]);
        self.encode_attrs(ctx, out)?;
        patch_len(out, astart)?;
        nlri::encode_v4(&self.nlri, v4_add_path, out);
        Ok(())
    }

    /// Append the path attributes: in `layout` order and flags when set, then the rest in
    /// canonical order (MP_REACH_NLRI, MP_UNREACH_NLRI, then ascending type code; RFC 7606
    /// §5.1: the MP attributes "SHALL be encoded as the very first path attribute").
    pub fn encode_attrs(&self, ctx: &Ctx, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut done = [0u64; 4];
        for &(c, f) in self.layout.iter().flatten() {
            if !bit(&done, c) && self.encode_one(c, Some(f), ctx, out)? {
                set_bit(&mut done, c);
            }
        }
        for c in [code::MP_REACH_NLRI, code::MP_UNREACH_NLRI] {
            if !bit(&done, c) && self.encode_one(c, None, ctx, out)? {
                set_bit(&mut done, c);
            }
        }
        self.attrs.encode_except(ctx, &done, out)
    }

    fn encode_one(
        &self,
        c: u8,
        flags: Option<u8>,
        ctx: &Ctx,
        out: &mut Vec<u8>,
    ) -> Result<bool, EncodeError> {
        let f = flags.unwrap_or(flag::OPTIONAL);
        match c {
            code::MP_REACH_NLRI => match &self.mp_reach {
                Some(m) => attr::emit(out, f, c, |o| m.encode_value(ctx, o)).map(|_| true),
                None => Ok(false),
            },
            code::MP_UNREACH_NLRI => match &self.mp_unreach {
                Some(m) => attr::emit(out, f, c, |o| m.encode_value(ctx, o)).map(|_| true),
                None => Ok(false),
            },
            _ => self.attrs.encode_attr(c, flags, ctx, out),
        }
    }

    /// The End-of-RIB marker's family, if this UPDATE is one (RFC 4724 §2): for IPv4
    /// unicast an UPDATE with nothing in it; for any family an UPDATE whose only content
    /// is an MP_UNREACH_NLRI with no withdrawn routes.
    pub fn end_of_rib(&self) -> Option<Family> {
        if !self.withdrawn.is_empty()
            || !self.nlri.is_empty()
            || self.mp_reach.is_some()
            || self.attrs != Attrs::default()
        {
            return None;
        }
        match &self.mp_unreach {
            None => Some(Family::IPV4_UNICAST),
            Some(u) if u.withdrawn.is_empty() => Some(u.family),
            Some(_) => None,
        }
    }

    /// The End-of-RIB marker for `family` (RFC 4724 §2).
    pub fn eor(family: Family) -> UpdateMsg {
        if family == Family::IPV4_UNICAST {
            return UpdateMsg::default();
        }
        UpdateMsg {
            mp_unreach: Some(MpUnreach {
                family,
                withdrawn: MpNlri::empty(family),
            }),
            ..UpdateMsg::default()
        }
    }

    /// Does the UPDATE announce any route (NLRI field or MP_REACH_NLRI with NLRI)?
    pub fn has_reach(&self) -> bool {
        !self.nlri.is_empty() || self.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty())
    }
}

// ===== impl MpNlri =====

impl MpNlri {
    /// An empty list of the kind `family` decodes to.
    pub fn empty(family: Family) -> MpNlri {
        match family {
            Family::IPV4_UNICAST => MpNlri::V4(Vec::new()),
            Family::IPV6_UNICAST => MpNlri::V6(Vec::new()),
            _ => MpNlri::Raw(Vec::new()),
        }
    }
}

// ===== helper functions =====

/// The family an `afi-safi-disable` finding disables (RFC 4760 §7), read from its
/// NOTIFICATION data (the whole MP attribute: flags, type, length, AFI, SAFI, ...).
/// `None` for any other finding.
pub fn disabled_family(f: &Finding) -> Option<Family> {
    if f.treatment != Treatment::AfiSafiDisable {
        return None;
    }
    let d = &f.notification.data;
    let hdr = if d.first()? & flag::EXTENDED_LENGTH != 0 {
        4
    } else {
        3
    };
    let &[a0, a1, safi] = d.get(hdr..)?.first_chunk::<3>()?;
    Some(Family::new(u16::from_be_bytes([a0, a1]), safi))
}

const ERR: u8 = super::error::code::UPDATE;

fn read_u16(b: &[u8], at: usize) -> Option<usize> {
    let &[h, l] = b.get(at..)?.first_chunk::<2>()?;
    Some(u16::from_be_bytes([h, l]) as usize)
}

/// RFC 7606 §5.1 canonical order: MP_REACH_NLRI, MP_UNREACH_NLRI, then by type code.
fn canonical_key(c: u8) -> u16 {
    match c {
        code::MP_REACH_NLRI => 0,
        code::MP_UNREACH_NLRI => 1,
        c => 2 + c as u16,
    }
}

/// RFC 4271 §6.3 Invalid Network Field (no data) for a bad Withdrawn Routes or NLRI field.
#[cold]
fn network_error(e: NlriError) -> WireError {
    WireError::new(
        e.offset,
        ERR,
        update_sub::INVALID_NETWORK_FIELD,
        Vec::new(),
        e.to_string(),
    )
}

/// The session reset for a treat-as-withdraw finding escalated by RFC 7606 §5.2.
#[cold]
fn escalated(f: &Finding) -> WireError {
    let n = &f.notification;
    WireError::new(
        f.offset,
        n.code,
        n.subcode,
        n.data.clone(),
        format!(
            "attribute error in an UPDATE without reachable NLRI (RFC 7606 §5.2): {}",
            f.reason
        ),
    )
}

/// Patch the 2-octet length that precedes the field starting at `at + 2`.
fn patch_len(out: &mut [u8], at: usize) -> Result<(), EncodeError> {
    let len = out.len() - at - 2;
    let l = u16::try_from(len).map_err(|_| EncodeError::TooLong {
        len,
        max: u16::MAX as usize,
    })?;
    out[at..at + 2].copy_from_slice(&l.to_be_bytes());
    Ok(())
}

// ===== tests =====

#[cfg(test)]
#[path = "update_tests.rs"]
pub(crate) mod tests;
