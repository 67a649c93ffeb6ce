//! Packing: one attribute set and many prefixes into the fewest UPDATEs.
//!
//! The shared attributes are encoded once and copied into every message; only the NLRI
//! differ. Messages are written back to back into one buffer, headers included, ready to
//! send. Prefixes are taken in the given order and each message is filled as far as
//! `ctx.max_len()` allows (4096, or 65535 with RFC 8654), which gives the fewest messages
//! for that order.
//!
//! ```text
//! IPv4, classic:  header | 0x0000 | attr len | attributes (with NEXT_HOP) | NLRI...
//! IPv4 withdraw:  header | wd len | withdrawn routes... | 0x0000
//! MP (IPv6, or IPv4 with an IPv6 next hop, RFC 8950):
//!                 header | 0x0000 | attr len | MP_REACH_NLRI(NLRI...) | attributes
//! MP withdraw:    header | 0x0000 | attr len | MP_UNREACH_NLRI(NLRI...)
//! ```

use super::attr::{code, flag, Attrs};
use super::error::EncodeError;
use super::family::Family;
use super::header;
use super::nlri::{self, Nlri4, Nlri6};
use super::update::NextHop;
use super::{msg_type, Ctx, HEADER_LEN};

/// Encoding of one NLRI type: its size on the wire and the list encoder.
struct Codec<T> {
    wire_len: fn(&T, bool) -> usize,
    encode: fn(&[T], bool, &mut Vec<u8>),
}

/// The fixed part of an MP attribute: AFI, SAFI and, for MP_REACH_NLRI, the next hop
/// and the Reserved octet.
struct MpHead {
    code: u8,
    fixed: Vec<u8>,
}

const V4: Codec<Nlri4> = Codec {
    wire_len: nlri::wire_len4,
    encode: nlri::encode_v4,
};
const V6: Codec<Nlri6> = Codec {
    wire_len: nlri::wire_len6,
    encode: nlri::encode_v6,
};

/// Withdrawn Routes Length + Total Path Attribute Length.
const TWO_LENGTHS: usize = 4;

// ===== impl MpHead =====

impl MpHead {
    fn reach(family: Family, next_hop: &NextHop) -> MpHead {
        let mut fixed = Vec::with_capacity(40);
        fixed.extend_from_slice(&family.afi.to_be_bytes());
        fixed.push(family.safi);
        next_hop.encode(&mut fixed);
        fixed.push(0);
        MpHead {
            code: code::MP_REACH_NLRI,
            fixed,
        }
    }

    fn unreach(family: Family) -> MpHead {
        let mut fixed = family.afi.to_be_bytes().to_vec();
        fixed.push(family.safi);
        MpHead {
            code: code::MP_UNREACH_NLRI,
            fixed,
        }
    }

    /// Octets of the whole attribute carrying `nlri` octets of NLRI.
    fn attr_len(&self, nlri: usize) -> usize {
        let v = self.fixed.len() + nlri;
        v + if v > 255 { 4 } else { 3 }
    }

    fn write_header(&self, nlri: usize, out: &mut Vec<u8>) {
        let v = self.fixed.len() + nlri;
        if v > 255 {
            out.extend_from_slice(&[flag::OPTIONAL | flag::EXTENDED_LENGTH, self.code]);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        } else {
            out.extend_from_slice(&[flag::OPTIONAL, self.code, v as u8]);
        }
        out.extend_from_slice(&self.fixed);
    }
}

// ===== helper functions =====

/// Announce IPv4 unicast prefixes with `attrs`.
///
/// `next_hop`: `None` uses `attrs.next_hop` in the classic NLRI field; `Some(V4)` does the
/// same with that next hop; an IPv6 (or raw) next hop sends the prefixes in MP_REACH_NLRI
/// (RFC 8950 §3) and leaves NEXT_HOP out. Returns the number of messages written.
pub fn announce4(
    attrs: &Attrs,
    next_hop: Option<&NextHop>,
    prefixes: &[Nlri4],
    ctx: &Ctx,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let add_path = ctx.add_path(Family::IPV4_UNICAST);
    match next_hop {
        None | Some(NextHop::V4(_)) => {
            let mut shared = Vec::with_capacity(128);
            if let Some(NextHop::V4(a)) = next_hop {
                let with_nh = Attrs {
                    next_hop: Some(*a),
                    ..attrs.clone()
                };
                with_nh.encode_all(ctx, &mut shared)?;
            } else {
                attrs.encode_all(ctx, &mut shared)?;
            }
            classic(&shared, prefixes, add_path, false, ctx.max_len(), out)
        }
        Some(nh) => {
            let shared = encode_without_next_hop(attrs, ctx)?;
            let head = MpHead::reach(Family::IPV4_UNICAST, nh);
            mp(&head, &shared, prefixes, &V4, add_path, ctx.max_len(), out)
        }
    }
}

/// Announce IPv6 unicast prefixes with `attrs` and `next_hop` in MP_REACH_NLRI
/// (RFC 4760 §3, RFC 2545 §3). NEXT_HOP, if set in `attrs`, is left out (RFC 4760 §3).
pub fn announce6(
    attrs: &Attrs,
    next_hop: &NextHop,
    prefixes: &[Nlri6],
    ctx: &Ctx,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let shared = encode_without_next_hop(attrs, ctx)?;
    let head = MpHead::reach(Family::IPV6_UNICAST, next_hop);
    let add_path = ctx.add_path(Family::IPV6_UNICAST);
    mp(&head, &shared, prefixes, &V6, add_path, ctx.max_len(), out)
}

/// Withdraw IPv4 unicast prefixes in the Withdrawn Routes field.
pub fn withdraw4(prefixes: &[Nlri4], ctx: &Ctx, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
    let add_path = ctx.add_path(Family::IPV4_UNICAST);
    classic(&[], prefixes, add_path, true, ctx.max_len(), out)
}

/// Withdraw IPv6 unicast prefixes in MP_UNREACH_NLRI (RFC 4760 §4).
pub fn withdraw6(prefixes: &[Nlri6], ctx: &Ctx, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
    let head = MpHead::unreach(Family::IPV6_UNICAST);
    let add_path = ctx.add_path(Family::IPV6_UNICAST);
    mp(&head, &[], prefixes, &V6, add_path, ctx.max_len(), out)
}

fn encode_without_next_hop(attrs: &Attrs, ctx: &Ctx) -> Result<Vec<u8>, EncodeError> {
    let mut shared = Vec::with_capacity(128);
    let mut skip = [0u64; 4];
    super::attr::set_bit(&mut skip, code::NEXT_HOP);
    attrs.encode_except(ctx, &skip, &mut shared)?;
    Ok(shared)
}

#[cold]
fn too_long(len: usize, max: usize) -> EncodeError {
    EncodeError::TooLong { len, max }
}

/// The next chunk: how many items from `items` fit in `budget(nlri_octets) <= max`,
/// and their NLRI octets. At least one item, or an error.
fn chunk<T>(
    items: &[T],
    codec: &Codec<T>,
    add_path: bool,
    max: usize,
    total: impl Fn(usize) -> usize,
) -> Result<(usize, usize), EncodeError> {
    let mut octets = 0;
    let mut n = 0;
    for it in items {
        let w = (codec.wire_len)(it, add_path);
        if total(octets + w) > max {
            break;
        }
        octets += w;
        n += 1;
    }
    if n == 0 {
        let w = items.first().map_or(0, |it| (codec.wire_len)(it, add_path));
        return Err(too_long(total(w), max));
    }
    Ok((n, octets))
}

/// Classic IPv4 packing: NLRI after `shared` attributes, or Withdrawn Routes when `withdraw`.
fn classic(
    shared: &[u8],
    mut items: &[Nlri4],
    add_path: bool,
    withdraw: bool,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let fixed = HEADER_LEN + TWO_LENGTHS + shared.len();
    let mut count = 0;
    out.reserve(items.len() * 5 + (fixed * (items.len() / 500 + 1)));
    while !items.is_empty() {
        let (n, octets) = chunk(items, &V4, add_path, max, |o| fixed + o)?;
        let (now, rest) = items.split_at(n);
        let start = out.len();
        header::begin(out, msg_type::UPDATE);
        if withdraw {
            out.extend_from_slice(&(octets as u16).to_be_bytes());
            nlri::encode_v4(now, add_path, out);
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(shared.len() as u16).to_be_bytes());
            out.extend_from_slice(shared);
            nlri::encode_v4(now, add_path, out);
        }
        header::finish(out, start, max)?;
        items = rest;
        count += 1;
    }
    Ok(count)
}

/// MP packing: MP attribute (with the NLRI) first, then the `shared` attributes.
fn mp<T>(
    head: &MpHead,
    shared: &[u8],
    mut items: &[T],
    codec: &Codec<T>,
    add_path: bool,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<usize, EncodeError> {
    let fixed = HEADER_LEN + TWO_LENGTHS + shared.len();
    let mut count = 0;
    while !items.is_empty() {
        let (n, octets) = chunk(items, codec, add_path, max, |o| fixed + head.attr_len(o))?;
        let (now, rest) = items.split_at(n);
        let start = out.len();
        header::begin(out, msg_type::UPDATE);
        out.extend_from_slice(&[0, 0]);
        let alen = head.attr_len(octets) + shared.len();
        out.extend_from_slice(&(alen as u16).to_be_bytes());
        head.write_header(octets, out);
        (codec.encode)(now, add_path, out);
        out.extend_from_slice(shared);
        header::finish(out, start, max)?;
        items = rest;
        count += 1;
    }
    Ok(count)
}

// ===== tests =====

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::attr::{AsPath, Origin};
    use crate::wire::update::{MpNlri, UpdateMsg};
    use crate::wire::{decode, frame_len, Message, Prefix4, Prefix6};

    fn attrs() -> Attrs {
        Attrs {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(&[65001, 65002])),
            next_hop: Some("198.18.0.1".parse().unwrap()),
            communities: Some(vec![1, 2, 3]),
            ..Attrs::default()
        }
    }

    /// Split `buf` into messages, check each against `ctx`, decode them all.
    fn unpack(buf: &[u8], ctx: &Ctx) -> Vec<UpdateMsg> {
        let mut out = Vec::new();
        let mut rest = buf;
        while !rest.is_empty() {
            let n = frame_len(rest, ctx).unwrap().unwrap();
            assert!(n <= ctx.max_len());
            let (m, f) = decode(&rest[..n], ctx).unwrap();
            assert!(f.is_empty(), "{f:?}");
            let Message::Update(u) = m else {
                panic!("not an UPDATE")
            };
            out.push(u);
            rest = &rest[n..];
        }
        out
    }

    fn v4(n: u32, len: u8) -> Vec<Nlri4> {
        (0..n)
            .map(|i| Nlri4 {
                path_id: i,
                prefix: Prefix4::new(0x0a00_0000 + (i << (32 - len)), len).unwrap(),
            })
            .collect()
    }

    fn v6(n: u32) -> Vec<Nlri6> {
        (0..n)
            .map(|i| Nlri6 {
                path_id: 0,
                prefix: Prefix6::new(0x2001_0db8u128 << 96 | (i as u128) << 64, 64).unwrap(),
            })
            .collect()
    }

    #[test]
    fn ipv4_announcements_fill_messages() {
        for ctx in [
            Ctx::default(),
            Ctx {
                ext_msg: true,
                ..Ctx::default()
            },
        ] {
            let a = attrs();
            let p = v4(20000, 24);
            let p: Vec<Nlri4> = p.into_iter().map(|x| Nlri4 { path_id: 0, ..x }).collect();
            let mut buf = Vec::new();
            let n = announce4(&a, None, &p, &ctx, &mut buf).unwrap();
            let mut shared = Vec::new();
            a.encode_all(&ctx, &mut shared).unwrap();
            let fits = (ctx.max_len() - 23 - shared.len()) / 4;
            assert_eq!(n, p.len().div_ceil(fits));
            let msgs = unpack(&buf, &ctx);
            assert_eq!(msgs.len(), n);
            assert!(msgs.iter().all(|m| m.attrs == a && m.withdrawn.is_empty()));
            let all: Vec<Nlri4> = msgs.into_iter().flat_map(|m| m.nlri).collect();
            assert_eq!(all, p);
        }
    }

    #[test]
    fn ipv4_with_add_path_and_next_hop_override() {
        let ctx = Ctx {
            add_path: vec![Family::IPV4_UNICAST],
            ..Ctx::default()
        };
        let p = v4(3000, 26);
        let nh = NextHop::V4("198.18.0.7".parse().unwrap());
        let mut buf = Vec::new();
        let n = announce4(&attrs(), Some(&nh), &p, &ctx, &mut buf).unwrap();
        let msgs = unpack(&buf, &ctx);
        assert_eq!(msgs.len(), n);
        assert!(msgs
            .iter()
            .all(|m| m.attrs.next_hop == Some("198.18.0.7".parse().unwrap())));
        let all: Vec<Nlri4> = msgs.into_iter().flat_map(|m| m.nlri).collect();
        assert_eq!(all, p);
    }

    #[test]
    fn ipv4_with_ipv6_next_hop_goes_in_mp_reach() {
        let ctx = Ctx::default();
        let p: Vec<Nlri4> = v4(2000, 26)
            .into_iter()
            .map(|x| Nlri4 { path_id: 0, ..x })
            .collect();
        let nh = NextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: None,
        };
        let mut buf = Vec::new();
        let n = announce4(&attrs(), Some(&nh), &p, &ctx, &mut buf).unwrap();
        let msgs = unpack(&buf, &ctx);
        assert_eq!(msgs.len(), n);
        let mut all = Vec::new();
        for m in msgs {
            assert!(m.attrs.next_hop.is_none() && m.nlri.is_empty());
            let r = m.mp_reach.unwrap();
            assert_eq!((r.family, &r.next_hop), (Family::IPV4_UNICAST, &nh));
            let MpNlri::V4(v) = r.nlri else { panic!() };
            all.extend(v);
        }
        assert_eq!(all, p);
    }

    #[test]
    fn ipv6_announcements_and_withdrawals() {
        for ctx in [
            Ctx::default(),
            Ctx {
                ext_msg: true,
                ..Ctx::default()
            },
        ] {
            let p = v6(10000);
            let nh = NextHop::V6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: Some("fe80::1".parse().unwrap()),
            };
            let a = Attrs {
                next_hop: None,
                ..attrs()
            };
            let mut buf = Vec::new();
            let n = announce6(&a, &nh, &p, &ctx, &mut buf).unwrap();
            let mut shared = Vec::new();
            a.encode_all(&ctx, &mut shared).unwrap();
            // header, two lengths, MP attribute header (extended), AFI/SAFI, next hop, reserved.
            let fixed = 23 + shared.len() + 4 + 3 + 33 + 1;
            assert_eq!(n, p.len().div_ceil((ctx.max_len() - fixed) / 9));
            let msgs = unpack(&buf, &ctx);
            let mut all = Vec::new();
            for m in msgs {
                assert_eq!(m.attrs, a);
                let MpNlri::V6(v) = m.mp_reach.unwrap().nlri else {
                    panic!()
                };
                all.extend(v);
            }
            assert_eq!(all, p);

            let mut buf = Vec::new();
            let n = withdraw6(&p, &ctx, &mut buf).unwrap();
            assert_eq!(n, p.len().div_ceil((ctx.max_len() - 23 - 4 - 3) / 9));
            let all: Vec<Nlri6> = unpack(&buf, &ctx)
                .into_iter()
                .flat_map(|m| match m.mp_unreach.unwrap().withdrawn {
                    MpNlri::V6(v) => v,
                    _ => panic!(),
                })
                .collect();
            assert_eq!(all, p);
        }
    }

    #[test]
    fn ipv4_withdrawals() {
        let ctx = Ctx::default();
        let p: Vec<Nlri4> = v4(5000, 32)
            .into_iter()
            .map(|x| Nlri4 { path_id: 0, ..x })
            .collect();
        let mut buf = Vec::new();
        let n = withdraw4(&p, &ctx, &mut buf).unwrap();
        assert_eq!(n, p.len().div_ceil((4096 - 23) / 5));
        let all: Vec<Nlri4> = unpack(&buf, &ctx)
            .into_iter()
            .flat_map(|m| m.withdrawn)
            .collect();
        assert_eq!(all, p);
    }

    #[test]
    fn small_mp_messages_use_a_one_octet_length_and_empty_input_writes_nothing() {
        let ctx = Ctx::default();
        let mut buf = Vec::new();
        assert_eq!(withdraw6(&[], &ctx, &mut buf).unwrap(), 0);
        assert!(buf.is_empty());
        withdraw6(&v6(2), &ctx, &mut buf).unwrap();
        assert_eq!(&buf[23..26], &[0x80, 15, 3 + 18]);
        let (m, _) = decode(&buf, &ctx).unwrap();
        let Message::Update(u) = m else { panic!() };
        assert_eq!(u.layout, None);
    }

    #[test]
    fn attributes_too_big_for_a_message_are_an_error() {
        let a = Attrs {
            communities: Some(vec![0; 1100]),
            ..attrs()
        };
        let mut buf = Vec::new();
        assert!(matches!(
            announce4(&a, None, &v4(1, 24), &Ctx::default(), &mut buf),
            Err(EncodeError::TooLong { .. })
        ));
    }
}
