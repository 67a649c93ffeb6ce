#!/usr/bin/env python3
"""Generate the hand-written UPDATE, path attribute and RFC 7606 codec vectors.

Writes JSON files under update/, attr/ and rfc7606/ next to this script. Every
expectation below is written by hand from the RFC text (RFC 4271, 4760, 6793,
7606, 7911, 8950, 8092, 9234, 1997, 4360, 4456, 5065, 4724, 8654); the script
only builds the bytes (so that every length field is right) and checks the
structure of what it wrote. It never runs a decoder.

Offsets are counted from the first marker byte of the message; see
rfc7606/README.md for the convention.

Deterministic and re-runnable: `python3 gen_update_vectors.py` rewrites every
file it owns (and only those) with the same content.
"""

import ipaddress
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------- constants

MARKER = b"\xff" * 16
HDR = 19

ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF = 1, 2, 3, 4, 5
ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES = 6, 7, 8
ORIGINATOR_ID, CLUSTER_LIST = 9, 10
MP_REACH, MP_UNREACH, EXT_COMM, AS4_PATH, AS4_AGGREGATOR = 14, 15, 16, 17, 18
TE_ATTR, IPV6_EXT_COMM, LARGE_COMM, OTC = 24, 25, 32, 35

WK = 0x40  # well-known (transitive)
OPT = 0x80  # optional non-transitive
OPT_T = 0xC0  # optional transitive
PARTIAL = 0x20
EXTLEN = 0x10

STD_FLAGS = {
    ORIGIN: WK, AS_PATH: WK, NEXT_HOP: WK, MED: OPT, LOCAL_PREF: WK,
    ATOMIC_AGGREGATE: WK, AGGREGATOR: OPT_T, COMMUNITIES: OPT_T,
    ORIGINATOR_ID: OPT, CLUSTER_LIST: OPT, MP_REACH: OPT, MP_UNREACH: OPT,
    EXT_COMM: OPT_T, AS4_PATH: OPT_T, AS4_AGGREGATOR: OPT_T,
    LARGE_COMM: OPT_T, OTC: OPT_T,
}

SET, SEQ, CONFED_SEQ, CONFED_SET = 1, 2, 3, 4
SEG_NAME = {SET: "set", SEQ: "sequence", CONFED_SEQ: "confed-sequence", CONFED_SET: "confed-set"}

AS_TRANS = 23456
NO_EXPORT = 0xFFFFFF01
NO_ADVERTISE = 0xFFFFFF02
NO_EXPORT_SUBCONFED = 0xFFFFFF03
GRACEFUL_SHUTDOWN = 0xFFFF0000
BLACKHOLE = 0xFFFF029A

# NOTIFICATION UPDATE Message Error subcodes (RFC 4271 §6.3).
MAL_ATTR_LIST, UNREC_WK, MISSING_WK, FLAGS_ERR, LEN_ERR = 1, 2, 3, 4, 5
BAD_ORIGIN, BAD_NEXT_HOP, OPT_ATTR_ERR, BAD_NETWORK, MAL_AS_PATH = 6, 8, 9, 10, 11

TAW = "treat-as-withdraw"
DISCARD = "attribute-discard"
AFI_SAFI_DISABLE = "afi-safi-disable"

SRC = "hand-written"

# ---------------------------------------------------------------- byte builders


def u8(v):
    return struct.pack("!B", v)


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


def ip4(s):
    return ipaddress.IPv4Address(s).packed


def ip6(s):
    return ipaddress.IPv6Address(s).packed


def pfx4(s, path_id=None, raw_addr=None):
    """One IPv4 NLRI entry: [path id] length, ceil(len/8) octets."""
    net = ipaddress.IPv4Network(s)
    n = (net.prefixlen + 7) // 8
    addr = raw_addr if raw_addr is not None else net.network_address.packed
    out = b"" if path_id is None else u32(path_id)
    return out + u8(net.prefixlen) + addr[:n]


def pfx6(s, path_id=None):
    net = ipaddress.IPv6Network(s)
    n = (net.prefixlen + 7) // 8
    out = b"" if path_id is None else u32(path_id)
    return out + u8(net.prefixlen) + net.network_address.packed[:n]


def attr(code, value, flags=None, length=None):
    """A path attribute. Extended Length is used when the flags ask for it or
    the value is longer than 255 octets (and then added to the flags).
    `length` overrides the Length field (for malformed vectors)."""
    if flags is None:
        flags = STD_FLAGS[code]
    if len(value) > 255:
        flags |= EXTLEN
    ln = len(value) if length is None else length
    if flags & EXTLEN:
        return u8(flags) + u8(code) + u16(ln) + value
    return u8(flags) + u8(code) + u8(ln) + value


def as_path_value(segments, four=True):
    out = b""
    for kind, asns in segments:
        out += u8(kind) + u8(len(asns))
        for a in asns:
            out += u32(a) if four else u16(a)
    return out


def a_origin(v=0, **kw):
    return attr(ORIGIN, u8(v), **kw)


def a_as_path(segments, four=True, **kw):
    return attr(AS_PATH, as_path_value(segments, four), **kw)


def a_next_hop(s="198.18.0.1", **kw):
    return attr(NEXT_HOP, ip4(s), **kw)


def a_med(v, **kw):
    return attr(MED, u32(v), **kw)


def a_local_pref(v, **kw):
    return attr(LOCAL_PREF, u32(v), **kw)


def a_communities(vals, **kw):
    return attr(COMMUNITIES, b"".join(u32(v) for v in vals), **kw)


def mp_reach_value(afi, safi, nh, nlri, reserved=0):
    return u16(afi) + u8(safi) + u8(len(nh)) + nh + u8(reserved) + nlri


def mp_unreach_value(afi, safi, withdrawn):
    return u16(afi) + u8(safi) + withdrawn


class Msg:
    """An UPDATE under construction: keeps the attribute list as separate
    pieces so the vectors can name the offset of each attribute."""

    def __init__(self, withdrawn=b"", attrs=(), nlri=b"", wlen=None, alen=None):
        self.withdrawn = withdrawn
        self.attrs = list(attrs)
        self.nlri = nlri
        self.wlen = wlen
        self.alen = alen

    def attr_bytes(self):
        return b"".join(self.attrs)

    def body(self):
        a = self.attr_bytes()
        wlen = len(self.withdrawn) if self.wlen is None else self.wlen
        alen = len(a) if self.alen is None else self.alen
        return u16(wlen) + self.withdrawn + u16(alen) + a + self.nlri

    def wire(self):
        b = self.body()
        return MARKER + u16(HDR + len(b)) + u8(2) + b

    def hex(self):
        """Hex split at the field boundaries, for people reading the file."""
        b = self.body()
        parts = [MARKER.hex(), u16(HDR + len(b)).hex() + " 02"]
        wlen = len(self.withdrawn) if self.wlen is None else self.wlen
        parts.append(u16(wlen).hex())
        if self.withdrawn:
            parts.append(self.withdrawn.hex())
        alen = len(self.attr_bytes()) if self.alen is None else self.alen
        parts.append(u16(alen).hex())
        parts.extend(a.hex() for a in self.attrs)
        if self.nlri:
            parts.append(self.nlri.hex())
        return " ".join(parts)

    # Offsets (from the first marker byte).
    def off_wlen(self):
        return HDR

    def off_withdrawn(self):
        return HDR + 2

    def off_alen(self):
        return HDR + 2 + len(self.withdrawn)

    def off_attr(self, i):
        return self.off_alen() + 2 + sum(len(a) for a in self.attrs[:i])

    def off_nlri(self):
        return self.off_alen() + 2 + len(self.attr_bytes())


# ---------------------------------------------------------------- JSON builders

ATTR_KEYS = [
    "origin", "as_path", "next_hop", "med", "local_pref", "atomic_aggregate",
    "aggregator", "communities", "originator_id", "cluster_list",
    "ext_communities", "as4_path", "as4_aggregator", "large_communities", "otc",
    "unknown",
]


def A(**kw):
    """The JSON form of `Attrs`, keys in struct order."""
    for k in kw:
        assert k in ATTR_KEYS, k
    return {k: kw[k] for k in ATTR_KEYS if k in kw}


def path(*segs):
    """JSON AS path: path((SEQ, [1, 2]), (SET, [3]))."""
    return [{"kind": SEG_NAME[k], "asns": list(a)} for k, a in segs]


def n4(s, pid=0):
    d = {}
    if pid:
        d["path_id"] = pid
    d["prefix"] = str(ipaddress.IPv4Network(s))
    return d


def n6(s, pid=0):
    d = {}
    if pid:
        d["path_id"] = pid
    d["prefix"] = str(ipaddress.IPv6Network(s))
    return d


def nh6(g, ll=None):
    d = {"global": str(ipaddress.IPv6Address(g))}
    if ll is not None:
        d["link_local"] = str(ipaddress.IPv6Address(ll))
    return {"v6": d}


def raw(code, flags, value):
    return {"flags": flags, "type_code": code, "value": value.hex()}


def M(attrs, withdrawn=None, nlri=None, mp_reach=None, mp_unreach=None, layout=None):
    d = {"type": "update"}
    if withdrawn:
        d["withdrawn"] = withdrawn
    d["attrs"] = attrs
    if mp_reach is not None:
        d["mp_reach"] = mp_reach
    if mp_unreach is not None:
        d["mp_unreach"] = mp_unreach
    if nlri:
        d["nlri"] = nlri
    if layout is not None:
        d["layout"] = [list(p) for p in layout]
    return d


def reach(family, next_hop, nlri):
    return {"family": family, "next_hop": next_hop, "nlri": nlri}


def unreach(family, withdrawn):
    return {"family": family, "withdrawn": withdrawn}


def notif(code, subcode, data=b""):
    return {"code": code, "subcode": subcode, "data": data.hex()}


def upd_err(subcode, data=b""):
    return notif(3, subcode, data)


def finding(offset, attr_type, treatment, notification, reason):
    d = {"offset": offset}
    if attr_type is not None:
        d["attr_type"] = attr_type
    d["treatment"] = treatment
    d["notification"] = notification
    d["reason"] = reason
    return d


# ---------------------------------------------------------------- output

WRITTEN = {}


def vector(subdir, name, description, rfc, msg, expect, ctx=None):
    path_ = os.path.join(subdir, name + ".json")
    assert path_ not in WRITTEN, "duplicate vector name " + path_
    hexs = msg.hex() if isinstance(msg, Msg) else msg
    v = {"description": description, "rfc": rfc, "source": SRC}
    if ctx is not None:
        v["ctx"] = ctx
    v["hex"] = hexs
    v["expect"] = expect
    WRITTEN[path_] = (v, msg)


def ok(subdir, name, description, rfc, msg, m, ctx=None, roundtrip=None):
    e = {"message": m}
    if roundtrip is not None:
        e["findings"] = []
        e["roundtrip"] = roundtrip
    vector(subdir, name, description, rfc, msg, e, ctx)


def found(subdir, name, description, rfc, msg, m, findings, ctx=None):
    vector(subdir, name, description, rfc, msg,
           {"message": m, "findings": findings, "roundtrip": False}, ctx)


def err(subdir, name, description, rfc, msg, offset, notification, reason, ctx=None):
    vector(subdir, name, description, rfc, msg,
           {"error": {"offset": offset, "notification": notification, "reason": reason}}, ctx)


# ---------------------------------------------------------------- shared pieces

def base_attrs(asns=(65001,), nh="198.18.0.1", four=True):
    return [a_origin(0), a_as_path([(SEQ, list(asns))], four), a_next_hop(nh)]


def base_json(asns=(65001,), nh="198.18.0.1", **more):
    return A(origin="igp", as_path=path((SEQ, list(asns))), next_hop=nh, **more)


def mp_attrs(asns=(65001,)):
    """ORIGIN and AS_PATH, as sent with MP_REACH_NLRI (no NEXT_HOP, RFC 4760 §3)."""
    return [a_origin(0), a_as_path([(SEQ, list(asns))])]


def mp_json(asns=(65001,), **more):
    return A(origin="igp", as_path=path((SEQ, list(asns))), **more)


U = "update"
AT = "attr"
R = "rfc7606"
AS4_OFF = {"as4": False}


# ================================================================ update/ (valid)

def gen_update():
    m = Msg(attrs=base_attrs(), nlri=pfx4("10.1.0.0/24"))
    ok(U, "ipv4-announce-one-prefix",
       "Announce one IPv4 prefix with the three well-known mandatory attributes in canonical order.",
       "RFC 4271 §4.3", m, M(base_json(), nlri=[n4("10.1.0.0/24")]))

    m = Msg(withdrawn=pfx4("10.0.0.0/24") + pfx4("10.2.0.0/16"))
    ok(U, "ipv4-withdraw-only",
       "Withdraw two IPv4 prefixes in the Withdrawn Routes field; no path attributes and no NLRI.",
       "RFC 4271 §4.3", m, M(A(), withdrawn=[n4("10.0.0.0/24"), n4("10.2.0.0/16")]))

    m = Msg(withdrawn=pfx4("10.9.0.0/16"), attrs=base_attrs(), nlri=pfx4("10.1.0.0/24"))
    ok(U, "ipv4-withdraw-and-announce",
       "One UPDATE both withdraws 10.9.0.0/16 and announces 10.1.0.0/24 (allowed on receipt, RFC 7606 §5.1).",
       "RFC 4271 §4.3", m,
       M(base_json(), withdrawn=[n4("10.9.0.0/16")], nlri=[n4("10.1.0.0/24")]))

    lens = ["10.0.0.0/8", "10.128.0.0/9", "10.1.128.0/17", "10.2.3.128/25", "10.2.3.4/32", "10.4.0.0/14"]
    m = Msg(attrs=base_attrs(), nlri=b"".join(pfx4(p) for p in lens))
    ok(U, "ipv4-many-prefix-lengths",
       "NLRI field with prefixes of lengths 8, 9, 17, 25, 32 and 14 (1 to 4 prefix octets each), order kept.",
       "RFC 4271 §4.3", m, M(base_json(), nlri=[n4(p) for p in lens]))

    m = Msg(attrs=base_attrs(), nlri=pfx4("0.0.0.0/0"))
    ok(U, "ipv4-default-route",
       "Announce the IPv4 default route 0.0.0.0/0: prefix length 0 and no prefix octets.",
       "RFC 4271 §4.3", m, M(base_json(), nlri=[n4("0.0.0.0/0")]))

    m = Msg(attrs=base_attrs(), nlri=pfx4("198.18.7.9/32"))
    ok(U, "ipv4-host-route-32",
       "Announce a /32 host route: prefix length 32 and four prefix octets.",
       "RFC 4271 §4.3", m, M(base_json(), nlri=[n4("198.18.7.9/32")]))

    m = Msg()
    ok(U, "eor-ipv4-empty-update",
       "IPv4 unicast End-of-RIB: an UPDATE with no withdrawn routes, no path attributes and no NLRI (23 bytes).",
       "RFC 4724 §2", m, M(A()))

    m = Msg(attrs=[attr(MP_UNREACH, mp_unreach_value(2, 1, b""))])
    ok(U, "eor-ipv6-mp-unreach-empty",
       "IPv6 unicast End-of-RIB: an UPDATE whose only attribute is MP_UNREACH_NLRI for AFI 2/SAFI 1 with no withdrawn NLRI.",
       "RFC 4724 §2", m, M(A(), mp_unreach=unreach("ipv6-unicast", {"v6": []})))

    nl = pfx6("2001:db8:1::/48") + pfx6("2001:db8:2:3::/64")
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), nl))] + mp_attrs())
    ok(U, "ipv6-mp-reach-global-next-hop",
       "IPv6 unicast announce in MP_REACH_NLRI (first attribute) with a 16-octet global next hop and two prefixes.",
       "RFC 4760 §3, RFC 2545 §3", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"),
                                   {"v6": [n6("2001:db8:1::/48"), n6("2001:db8:2:3::/64")]})))

    nh = ip6("2001:db8::1") + ip6("fe80::1:2")
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(2, 1, nh, pfx6("2001:db8:10::/44")))] + mp_attrs())
    ok(U, "ipv6-mp-reach-global-and-link-local",
       "IPv6 unicast announce whose next hop is 32 octets: a global address followed by a link-local one.",
       "RFC 2545 §3, RFC 4760 §3", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1", "fe80::1:2"),
                                   {"v6": [n6("2001:db8:10::/44")]})))

    nl = pfx6("::/0") + pfx6("2001:db8::53/128")
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), nl))] + mp_attrs())
    ok(U, "ipv6-default-and-host-128",
       "IPv6 unicast announce of ::/0 (no prefix octets) and a /128 (16 prefix octets).",
       "RFC 4760 §5", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"),
                                   {"v6": [n6("::/0"), n6("2001:db8::53/128")]})))

    wd = pfx6("2001:db8:1::/48") + pfx6("2001:db8:ff00::/40")
    m = Msg(attrs=[attr(MP_UNREACH, mp_unreach_value(2, 1, wd))])
    ok(U, "ipv6-mp-unreach-withdraw",
       "IPv6 unicast withdraw of two prefixes in MP_UNREACH_NLRI, the only attribute of the UPDATE.",
       "RFC 4760 §4", m,
       M(A(), mp_unreach=unreach("ipv6-unicast",
                                 {"v6": [n6("2001:db8:1::/48"), n6("2001:db8:ff00::/40")]})))

    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48"))),
                   attr(MP_UNREACH, mp_unreach_value(2, 1, pfx6("2001:db8:2::/48")))] + mp_attrs())
    ok(U, "ipv6-mp-reach-and-mp-unreach",
       "One UPDATE with MP_REACH_NLRI then MP_UNREACH_NLRI (canonical order: 14, 15, then ascending type codes).",
       "RFC 4760 §3, §4", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]}),
         mp_unreach=unreach("ipv6-unicast", {"v6": [n6("2001:db8:2::/48")]})))

    nl = pfx4("10.20.0.0/16") + pfx4("10.21.1.0/24")
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(1, 1, ip6("2001:db8::7"), nl))] + mp_attrs())
    ok(U, "ipv4-nlri-ipv6-next-hop-rfc8950",
       "IPv4 unicast NLRI in MP_REACH_NLRI (AFI 1/SAFI 1) with a 16-octet IPv6 next hop (extended next hop encoding).",
       "RFC 8950 §3", m,
       M(mp_json(), mp_reach=reach("ipv4-unicast", nh6("2001:db8::7"),
                                   {"v4": [n4("10.20.0.0/16"), n4("10.21.1.0/24")]})))

    nh = ip6("2001:db8::7") + ip6("fe80::7")
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(1, 1, nh, pfx4("10.22.0.0/15")))] + mp_attrs())
    ok(U, "ipv4-nlri-ipv6-next-hop-link-local-rfc8950",
       "IPv4 unicast NLRI in MP_REACH_NLRI with a 32-octet IPv6 next hop (global then link-local).",
       "RFC 8950 §3, RFC 2545 §3", m,
       M(mp_json(), mp_reach=reach("ipv4-unicast", nh6("2001:db8::7", "fe80::7"),
                                   {"v4": [n4("10.22.0.0/15")]})))

    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(1, 1, ip4("198.18.0.9"), pfx4("10.30.0.0/16")))] + mp_attrs())
    ok(U, "ipv4-nlri-in-mp-reach-ipv4-next-hop",
       "IPv4 unicast NLRI carried in MP_REACH_NLRI with a 4-octet IPv4 next hop and no NEXT_HOP attribute.",
       "RFC 4760 §3", m,
       M(mp_json(), mp_reach=reach("ipv4-unicast", {"v4": "198.18.0.9"}, {"v4": [n4("10.30.0.0/16")]})))

    m = Msg(attrs=[attr(MP_UNREACH, mp_unreach_value(1, 1, pfx4("10.30.0.0/16")))])
    ok(U, "ipv4-withdraw-in-mp-unreach",
       "IPv4 unicast withdraw carried in MP_UNREACH_NLRI (AFI 1/SAFI 1) instead of the Withdrawn Routes field.",
       "RFC 4760 §4", m,
       M(A(), mp_unreach=unreach("ipv4-unicast", {"v4": [n4("10.30.0.0/16")]})))

    m = Msg(withdrawn=pfx4("10.8.0.0/16", 3), attrs=base_attrs(),
            nlri=pfx4("10.1.0.0/24", 7) + pfx4("10.1.0.0/24", 8) + pfx4("10.2.0.0/24", 1))
    ok(U, "add-path-ipv4",
       "ADD-PATH for IPv4 unicast: every withdrawn route and NLRI entry starts with a 4-octet path identifier; two paths for one prefix.",
       "RFC 7911 §3", m,
       M(base_json(), withdrawn=[n4("10.8.0.0/16", 3)],
         nlri=[n4("10.1.0.0/24", 7), n4("10.1.0.0/24", 8), n4("10.2.0.0/24", 1)]),
       ctx={"add_path": ["ipv4-unicast"]})

    nl = pfx6("2001:db8:1::/48", 1) + pfx6("2001:db8:1::/48", 2)
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), nl))] + mp_attrs())
    ok(U, "add-path-ipv6-mp-reach",
       "ADD-PATH for IPv6 unicast: MP_REACH_NLRI entries carry path identifiers 1 and 2 for the same prefix.",
       "RFC 7911 §3", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"),
                                   {"v6": [n6("2001:db8:1::/48", 1), n6("2001:db8:1::/48", 2)]})),
       ctx={"add_path": ["ipv6-unicast"]})

    m = Msg(attrs=[attr(MP_UNREACH, mp_unreach_value(2, 1, pfx6("2001:db8:1::/48", 2)))])
    ok(U, "add-path-ipv6-mp-unreach",
       "ADD-PATH for IPv6 unicast: MP_UNREACH_NLRI withdraws path 2 of 2001:db8:1::/48.",
       "RFC 7911 §3", m,
       M(A(), mp_unreach=unreach("ipv6-unicast", {"v6": [n6("2001:db8:1::/48", 2)]})),
       ctx={"add_path": ["ipv6-unicast"]})

    m = Msg(attrs=base_attrs(), nlri=pfx4("10.1.0.0/24") + pfx4("10.2.0.0/24"))
    ok(U, "add-path-other-family-only",
       "ADD-PATH negotiated for IPv6 only: IPv4 NLRI in the NLRI field carry no path identifier.",
       "RFC 7911 §3", m, M(base_json(), nlri=[n4("10.1.0.0/24"), n4("10.2.0.0/24")]),
       ctx={"add_path": ["ipv6-unicast"]})

    big = [f"10.{i // 256}.{i % 256}.0/24" for i in range(1100)]
    m = Msg(attrs=base_attrs(), nlri=b"".join(pfx4(p) for p in big))
    assert len(m.wire()) > 4096
    ok(U, "extended-message-4k-plus",
       f"A {len(m.wire())}-byte UPDATE (1100 /24 prefixes), valid only because the extended message capability was negotiated.",
       "RFC 8654 §4", m, M(base_json(), nlri=[n4(p) for p in big]), ctx={"ext_msg": True})
    err(U, "extended-message-without-capability",
        f"The same {len(m.wire())}-byte UPDATE without the extended message capability: Bad Message Length, data = the Length field.",
        "RFC 8654 §4, RFC 4271 §6.1", m, 16, notif(1, 2, u16(len(m.wire()))),
        "UPDATE longer than 4096 bytes without extended messages")

    at = [a_next_hop(), a_as_path([(SEQ, [65001])]), a_origin(0), a_med(5)]
    m = Msg(attrs=at, nlri=pfx4("10.1.0.0/24"))
    ok(U, "non-canonical-attribute-order",
       "Attributes in the order NEXT_HOP, AS_PATH, ORIGIN, MED are accepted; layout records the wire order.",
       "RFC 4271 §5, RFC 7606 §5.1", m,
       M(base_json(med=5), nlri=[n4("10.1.0.0/24")],
         layout=[(3, 0x40), (2, 0x40), (1, 0x40), (4, 0x80)]))

    at = [a_origin(0, flags=WK | EXTLEN), a_as_path([(SEQ, [65001])]), a_next_hop()]
    m = Msg(attrs=at, nlri=pfx4("10.1.0.0/24"))
    ok(U, "extended-length-on-short-attribute",
       "ORIGIN sent with the Extended Length flag (2-octet length 1): legal, and layout records flags 0x50.",
       "RFC 4271 §4.3", m,
       M(base_json(), nlri=[n4("10.1.0.0/24")], layout=[(1, 0x50), (2, 0x40), (3, 0x40)]))

    at = mp_attrs() + [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")))]
    m = Msg(attrs=at)
    ok(U, "mp-reach-not-first",
       "MP_REACH_NLRI after ORIGIN and AS_PATH: a receiver must accept it in any position; layout records the order.",
       "RFC 7606 §5.1", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]}),
         layout=[(1, 0x40), (2, 0x40), (14, 0x80)]))

    at = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")))] + base_attrs()
    m = Msg(withdrawn=pfx4("10.9.0.0/16"), attrs=at, nlri=pfx4("10.1.0.0/24"))
    ok(U, "ipv4-and-ipv6-in-one-update",
       "Withdrawn Routes, MP_REACH_NLRI (IPv6) and the NLRI field (IPv4) in one UPDATE: a receiver must accept any combination.",
       "RFC 7606 §5.1, RFC 4760 §3", m,
       M(base_json(), withdrawn=[n4("10.9.0.0/16")],
         mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]}),
         nlri=[n4("10.1.0.0/24")]))

    m = Msg(attrs=[a_origin(0), a_as_path([(SEQ, [65001])]), a_local_pref(100)])
    ok(U, "attributes-without-nlri",
       "Correct path attributes but no NLRI at all: a valid UPDATE; the missing NEXT_HOP is not an error without NLRI.",
       "RFC 4271 §6.3, RFC 7606 §3 (d)", m,
       M(A(origin="igp", as_path=path((SEQ, [65001])), local_pref=100)))

    at = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")))] + base_attrs()
    m = Msg(attrs=at)
    ok(U, "mp-reach-with-next-hop-attribute",
       "MP_REACH_NLRI only, yet a NEXT_HOP attribute is present: the receiver ignores it for routing but the codec keeps it.",
       "RFC 4760 §3", m,
       M(base_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]})))

    # EVPN route type 3 (inclusive multicast), length 17: RD type 1 198.18.0.1:1, tag 0, /32 originator.
    evpn_nlri = bytes.fromhex("0311" "0001c61200010001" "00000000" "20" "c6120001")
    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(25, 70, ip4("198.18.0.1"), evpn_nlri))] + mp_attrs())
    ok(U, "mp-reach-uninterpreted-family-raw",
       "MP_REACH_NLRI for AFI 25/SAFI 70 (a family wren does not interpret): next hop and NLRI are kept as raw bytes.",
       "RFC 4760 §3", m,
       M(mp_json(), mp_reach=reach("25/70", {"raw": ip4("198.18.0.1").hex()}, {"raw": evpn_nlri.hex()})))

    m = Msg(attrs=base_attrs(), nlri=pfx4("10.1.2.0/23", raw_addr=bytes([10, 1, 3, 0])))
    ok(U, "nlri-trailing-bits-ignored",
       "NLRI 10.1.3.x/23: the bit after the 23rd is set; trailing bits are irrelevant, so the prefix is 10.1.2.0/23 (encoding gives 0a0102).",
       "RFC 4271 §4.3", m, M(base_json(), nlri=[n4("10.1.2.0/23")]), roundtrip=False)

    m = Msg(attrs=[attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48"), reserved=7))]
            + mp_attrs())
    ok(U, "mp-reach-reserved-octet-ignored",
       "MP_REACH_NLRI with the Reserved octet set to 7: it SHOULD be ignored on receipt (encoding writes 0).",
       "RFC 4760 §3", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]})),
       roundtrip=False)

    at = [a_origin(0, flags=0x4F), a_as_path([(SEQ, [65001])]), a_next_hop()]
    m = Msg(attrs=at, nlri=pfx4("10.1.0.0/24"))
    ok(U, "unused-flag-bits-ignored",
       "ORIGIN with the four unused low-order flag bits set (0x4f): they MUST be ignored on receipt; layout keeps the octet.",
       "RFC 4271 §4.3", m,
       M(base_json(), nlri=[n4("10.1.0.0/24")], layout=[(1, 0x4F), (2, 0x40), (3, 0x40)]))

    at = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")), flags=OPT | EXTLEN)] + mp_attrs()
    m = Msg(attrs=at)
    ok(U, "mp-reach-extended-length",
       "MP_REACH_NLRI sent with the Extended Length flag although it is short (as many speakers do): accepted, layout records 0x90.",
       "RFC 4271 §4.3, RFC 4760 §3", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]}),
         layout=[(14, 0x90), (1, 0x40), (2, 0x40)]))


# ================================================================ attr/ (valid)

def announce(at, nlri="10.1.0.0/24"):
    return Msg(attrs=at, nlri=pfx4(nlri))


def gen_attr():
    N = [n4("10.1.0.0/24")]

    m = announce([a_origin(1), a_as_path([(SEQ, [65001])]), a_next_hop()])
    ok(AT, "origin-egp", "ORIGIN value 1 (EGP).", "RFC 4271 §5.1.1", m,
       M(A(origin="egp", as_path=path((SEQ, [65001])), next_hop="198.18.0.1"), nlri=N))

    m = announce([a_origin(2), a_as_path([(SEQ, [65001])]), a_next_hop()])
    ok(AT, "origin-incomplete", "ORIGIN value 2 (INCOMPLETE).", "RFC 4271 §5.1.1", m,
       M(A(origin="incomplete", as_path=path((SEQ, [65001])), next_hop="198.18.0.1"), nlri=N))

    m = announce([a_origin(0), a_as_path([(SEQ, [65001, 65002, 3])], four=False), a_next_hop()])
    ok(AT, "as-path-2-octet-sequence",
       "AS_PATH with one AS_SEQUENCE of three 2-octet ASNs on a session without the 4-octet AS capability.",
       "RFC 4271 §4.3, RFC 6793 §4", m,
       M(base_json(asns=(65001, 65002, 3)), nlri=N), ctx=AS4_OFF)

    m = announce([a_origin(0), a_as_path([(SEQ, [4200000001, 65001, 1])]), a_next_hop()])
    ok(AT, "as-path-4-octet-sequence",
       "AS_PATH with one AS_SEQUENCE of 4-octet ASNs (4200000001, 65001, 1) on a 4-octet AS session.",
       "RFC 6793 §3", m, M(base_json(asns=(4200000001, 65001, 1)), nlri=N))

    segs = [(SEQ, [65001, 65002]), (SET, [65010, 65011, 65012])]
    m = announce([a_origin(0), a_as_path(segs), a_next_hop()])
    ok(AT, "as-path-sequence-then-set",
       "AS_PATH of an AS_SEQUENCE followed by an AS_SET (as left by aggregation), segment order kept.",
       "RFC 4271 §4.3, §9.2.2.2", m,
       M(A(origin="igp", as_path=path(*segs), next_hop="198.18.0.1"), nlri=N))

    segs = [(SET, [65020, 65021])]
    m = announce([a_origin(0), a_as_path(segs, four=False), a_next_hop()])
    ok(AT, "as-path-2-octet-set",
       "AS_PATH holding only an AS_SET of two 2-octet ASNs on a 2-octet AS session.",
       "RFC 4271 §4.3", m,
       M(A(origin="igp", as_path=path(*segs), next_hop="198.18.0.1"), nlri=N), ctx=AS4_OFF)

    segs = [(CONFED_SEQ, [64512, 64513]), (CONFED_SET, [64520]), (SEQ, [65001])]
    m = announce([a_origin(0), a_as_path(segs), a_next_hop()])
    ok(AT, "as-path-confed-segments",
       "AS_PATH with AS_CONFED_SEQUENCE (type 3), AS_CONFED_SET (type 4) and then AS_SEQUENCE.",
       "RFC 5065 §3", m,
       M(A(origin="igp", as_path=path(*segs), next_hop="198.18.0.1"), nlri=N))

    segs = [(CONFED_SEQ, [64512]), (SEQ, [65001, 65002])]
    m = announce([a_origin(0), a_as_path(segs, four=False), a_next_hop()])
    ok(AT, "as-path-2-octet-confed-sequence",
       "AS_PATH with an AS_CONFED_SEQUENCE and an AS_SEQUENCE of 2-octet ASNs on a 2-octet AS session.",
       "RFC 5065 §3, RFC 4271 §4.3", m,
       M(A(origin="igp", as_path=path(*segs), next_hop="198.18.0.1"), nlri=N), ctx=AS4_OFF)

    m = announce([a_origin(0), attr(AS_PATH, b""), a_next_hop()])
    ok(AT, "as-path-empty",
       "Zero-length AS_PATH (a route originated inside the AS, as sent over iBGP): valid, an empty path.",
       "RFC 4271 §5.1.2, RFC 7606 §4", m,
       M(A(origin="igp", as_path=[], next_hop="198.18.0.1"), nlri=N))

    asns = list(range(65100, 65100 + 255)) + [65001, 65002]
    segs = [(SEQ, asns[:255]), (SEQ, asns[255:])]
    m = announce([a_origin(0), a_as_path(segs), a_next_hop()])
    ok(AT, "as-path-long-two-sequences",
       "AS_PATH of 257 ASNs: a full AS_SEQUENCE of 255 then a second AS_SEQUENCE of 2; the attribute (1032 octets) uses Extended Length.",
       "RFC 4271 §4.3, §5.1.2", m,
       M(A(origin="igp", as_path=path(*segs), next_hop="198.18.0.1"), nlri=N))

    m = announce(base_attrs() + [a_med(0)])
    ok(AT, "med-zero", "MULTI_EXIT_DISC with value 0.", "RFC 4271 §5.1.4", m,
       M(base_json(med=0), nlri=N))

    m = announce(base_attrs() + [a_med(4294967295), a_local_pref(200)])
    ok(AT, "med-max-and-local-pref",
       "MULTI_EXIT_DISC 4294967295 and LOCAL_PREF 200 (optional non-transitive and well-known flags).",
       "RFC 4271 §5.1.4, §5.1.5", m,
       M(base_json(med=4294967295, local_pref=200), nlri=N))

    m = announce(base_attrs() + [attr(ATOMIC_AGGREGATE, b""), attr(AGGREGATOR, u32(65001) + ip4("198.18.0.1"))])
    ok(AT, "atomic-aggregate-and-aggregator-4-octet",
       "ATOMIC_AGGREGATE (length 0) and an 8-octet AGGREGATOR on a 4-octet AS session.",
       "RFC 4271 §5.1.6, §5.1.7, RFC 6793 §3", m,
       M(base_json(atomic_aggregate=True, aggregator={"asn": 65001, "address": "198.18.0.1"}), nlri=N))

    m = announce(base_attrs(four=False) + [attr(AGGREGATOR, u16(65001) + ip4("198.18.0.2"))])
    ok(AT, "aggregator-2-octet",
       "A 6-octet AGGREGATOR (2-octet ASN) on a 2-octet AS session.",
       "RFC 4271 §4.3, RFC 6793 §4", m,
       M(base_json(aggregator={"asn": 65001, "address": "198.18.0.2"}), nlri=N), ctx=AS4_OFF)

    cs = [(65001 << 16) | 100, NO_EXPORT, NO_ADVERTISE, NO_EXPORT_SUBCONFED, GRACEFUL_SHUTDOWN, BLACKHOLE]
    m = announce(base_attrs() + [a_communities(cs)])
    ok(AT, "communities-with-well-known",
       "COMMUNITIES 65001:100, NO_EXPORT, NO_ADVERTISE, NO_EXPORT_SUBCONFED, GRACEFUL_SHUTDOWN and BLACKHOLE, order kept.",
       "RFC 1997, RFC 8326, RFC 7999", m, M(base_json(communities=cs), nlri=N))

    cs = [(65001 << 16) | i for i in range(70)]
    m = announce(base_attrs() + [a_communities(cs)])
    ok(AT, "communities-extended-length",
       "COMMUNITIES with 70 values (280 octets): canonically encoded with the Extended Length flag (0xd0).",
       "RFC 1997, RFC 4271 §4.3", m, M(base_json(communities=cs), nlri=N))

    m = announce(base_attrs() + [a_local_pref(100), attr(ORIGINATOR_ID, ip4("198.18.0.5")),
                                 attr(CLUSTER_LIST, ip4("198.18.0.10") + ip4("198.18.0.11"))])
    ok(AT, "originator-id-and-cluster-list",
       "A reflected route: LOCAL_PREF, ORIGINATOR_ID 198.18.0.5 and CLUSTER_LIST [198.18.0.10, 198.18.0.11].",
       "RFC 4456 §8", m,
       M(base_json(local_pref=100, originator_id="198.18.0.5",
                   cluster_list=["198.18.0.10", "198.18.0.11"]), nlri=N))

    ecs = [[0, 2, 0xFD, 0xE9, 0, 0, 0, 100], [1, 3, 198, 18, 0, 1, 0, 7],
           [2, 2, 0xFA, 0x56, 0xEA, 0x01, 0, 5], [3, 11, 0, 0, 0, 0, 0, 100]]
    m = announce(base_attrs() + [attr(EXT_COMM, b"".join(bytes(e) for e in ecs))])
    ok(AT, "extended-communities",
       "EXTENDED COMMUNITIES: route target 65001:100, IPv4 route origin 198.18.0.1:7, 4-octet-AS route target 4200000001:5 and a color, each kept as 8 raw octets.",
       "RFC 4360 §3, §4, §5, RFC 5668 §2, RFC 9012 §4.3", m, M(base_json(ext_communities=ecs), nlri=N))

    segs4 = [(SEQ, [4200000001, 65001])]
    at = [a_origin(0), a_as_path([(SEQ, [AS_TRANS, 65001])], four=False), a_next_hop(),
          attr(AS4_PATH, as_path_value(segs4))]
    m = announce(at)
    ok(AT, "as4-path-on-2-octet-session",
       "2-octet session: AS_PATH [23456 (AS_TRANS), 65001] and AS4_PATH [4200000001, 65001]; both kept as received.",
       "RFC 6793 §4.2.2, §4.2.3", m,
       M(A(origin="igp", as_path=path((SEQ, [AS_TRANS, 65001])), next_hop="198.18.0.1",
           as4_path=path(*segs4)), nlri=N), ctx=AS4_OFF)

    at = [a_origin(0), a_as_path([(SEQ, [AS_TRANS])], four=False), a_next_hop(),
          attr(AGGREGATOR, u16(AS_TRANS) + ip4("198.18.0.3")),
          attr(AS4_PATH, as_path_value([(SEQ, [4200000002])])),
          attr(AS4_AGGREGATOR, u32(4200000002) + ip4("198.18.0.3"))]
    m = announce(at)
    ok(AT, "as4-aggregator-on-2-octet-session",
       "2-octet session: AGGREGATOR with AS_TRANS, AS4_PATH and an 8-octet AS4_AGGREGATOR carrying AS 4200000002.",
       "RFC 6793 §4.2.2, §4.2.3", m,
       M(A(origin="igp", as_path=path((SEQ, [AS_TRANS])), next_hop="198.18.0.1",
           aggregator={"asn": AS_TRANS, "address": "198.18.0.3"},
           as4_path=path((SEQ, [4200000002])),
           as4_aggregator={"asn": 4200000002, "address": "198.18.0.3"}), nlri=N), ctx=AS4_OFF)

    lcs = [[4200000001, 1, 2], [65001, 0, 4294967295]]
    m = announce(base_attrs() + [attr(LARGE_COMM, b"".join(u32(x) for lc in lcs for x in lc))])
    ok(AT, "large-communities",
       "LARGE_COMMUNITY with two 12-octet values (4200000001:1:2 and 65001:0:4294967295), order kept.",
       "RFC 8092 §2", m, M(base_json(large_communities=lcs), nlri=N))

    lcs = [[65001, 7, 7]]
    m = announce(base_attrs() + [attr(LARGE_COMM, b"".join(u32(x) for x in lcs[0]), flags=OPT_T | PARTIAL)])
    ok(AT, "large-communities-partial",
       "LARGE_COMMUNITY received with the Partial bit set (0xe0): accepted; layout records the flags.",
       "RFC 4271 §4.3, RFC 8092 §2", m,
       M(base_json(large_communities=lcs), nlri=N,
         layout=[(1, 0x40), (2, 0x40), (3, 0x40), (32, 0xE0)]))

    v = b"".join(u32(x) for x in [65001, 1, 1, 65001, 2, 2, 65001, 1, 1])
    m = announce(base_attrs() + [attr(LARGE_COMM, v)])
    ok(AT, "large-communities-duplicate-removed",
       "LARGE_COMMUNITY 65001:1:1, 65001:2:2, 65001:1:1: the receiver MUST silently remove the repeated value (no finding).",
       "RFC 8092 §2", m, M(base_json(large_communities=[[65001, 1, 1], [65001, 2, 2]]), nlri=N),
       roundtrip=False)

    m = announce(base_attrs() + [attr(OTC, u32(65010))])
    ok(AT, "only-to-customer", "OTC (type 35, optional transitive) carrying AS 65010.",
       "RFC 9234 §5", m, M(base_json(otc=65010), nlri=N))

    val = bytes.fromhex("0102030405")
    m = announce(base_attrs() + [attr(99, val, flags=OPT_T | PARTIAL)])
    ok(AT, "unknown-optional-transitive-partial",
       "An unrecognized optional transitive attribute (type 99) with the Partial bit: kept raw with its flags 0xe0.",
       "RFC 4271 §5, §9", m, M(base_json(unknown=[raw(99, 0xE0, val)]), nlri=N))

    val2 = bytes.fromhex("ab")
    m = announce(base_attrs() + [attr(99, val, flags=OPT_T), attr(200, val2, flags=OPT_T)])
    ok(AT, "unknown-optional-transitive-two",
       "Two unrecognized optional transitive attributes (types 99 and 200, no Partial bit): both kept raw in wire order.",
       "RFC 4271 §5", m,
       M(base_json(unknown=[raw(99, 0xC0, val), raw(200, 0xC0, val2)]), nlri=N))

    val = bytes.fromhex("0002" + "20010db8000000000000000000000001" + "0064")
    m = announce(base_attrs() + [attr(IPV6_EXT_COMM, val, flags=OPT_T)])
    ok(AT, "ipv6-address-specific-ext-community",
       "IPv6 Address Specific Extended Community (type 25, one 20-octet value, length a multiple of 20): not interpreted, kept raw.",
       "RFC 5701 §2, RFC 7606 §7.15", m,
       M(base_json(unknown=[raw(IPV6_EXT_COMM, 0xC0, val)]), nlri=N))

    full = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48"))),
            a_origin(2), a_as_path([(SEQ, [65001, 65002]), (SET, [65003])]), a_next_hop(),
            a_med(10), a_local_pref(300), attr(ATOMIC_AGGREGATE, b""),
            attr(AGGREGATOR, u32(65002) + ip4("198.18.0.2")), a_communities([NO_EXPORT]),
            attr(ORIGINATOR_ID, ip4("198.18.0.5")), attr(CLUSTER_LIST, ip4("198.18.0.10")),
            attr(EXT_COMM, bytes([0, 2, 0xFD, 0xE9, 0, 0, 0, 1])),
            attr(LARGE_COMM, u32(65001) + u32(3) + u32(4)), attr(OTC, u32(65002)),
            attr(99, b"\x01", flags=OPT_T)]
    m = Msg(attrs=full, nlri=pfx4("10.1.0.0/24"))
    ok(AT, "all-attributes-canonical",
       "Every attribute wren interprets plus one unknown, in canonical order (MP_REACH_NLRI first, then ascending type code).",
       "RFC 4271 §5, RFC 4760, RFC 1997, RFC 4360, RFC 4456, RFC 8092, RFC 9234", m,
       M(A(origin="incomplete", as_path=path((SEQ, [65001, 65002]), (SET, [65003])),
           next_hop="198.18.0.1", med=10, local_pref=300, atomic_aggregate=True,
           aggregator={"asn": 65002, "address": "198.18.0.2"}, communities=[NO_EXPORT],
           originator_id="198.18.0.5", cluster_list=["198.18.0.10"],
           ext_communities=[[0, 2, 0xFD, 0xE9, 0, 0, 0, 1]], large_communities=[[65001, 3, 4]],
           otc=65002, unknown=[raw(99, 0xC0, b"\x01")]),
         mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]}),
         nlri=[n4("10.1.0.0/24")]))


# ================================================================ rfc7606/ (errors and findings)

NLRI1 = pfx4("10.1.0.0/24")
N1 = [n4("10.1.0.0/24")]


def one_bad(name, description, rfc, attrs, idx, treatment, subcode, m_json, reason,
            ctx=None, withdrawn=b"", nlri=NLRI1, data=None):
    """An UPDATE whose attrs[idx] is malformed, with one finding at its flags byte.
    The NOTIFICATION data defaults to the whole attribute (flags, type, length, value)."""
    m = Msg(withdrawn=withdrawn, attrs=attrs, nlri=nlri)
    bad = attrs[idx]
    d = bad if data is None else data
    f = finding(m.off_attr(idx), bad[1], treatment, upd_err(subcode, d), reason)
    found(R, name, description, rfc, m, m_json, [f], ctx)


def taw(name, description, rfc, bad, subcode, reason, extra_json=None, data=None, ctx=None,
        four=True):
    """Base attributes + one malformed attribute (last, canonical order) -> treat-as-withdraw:
    the NLRI stay in the message and the malformed attribute is absent."""
    at = base_attrs(four=four) + [bad]
    one_bad(name, description, rfc, at, 3, TAW, subcode,
            M(base_json(**(extra_json or {})), nlri=N1), reason, ctx=ctx, data=data)


def discard(name, description, rfc, bad, subcode, reason, ctx=None, four=True, data=None):
    at = base_attrs(four=four) + [bad]
    one_bad(name, description, rfc, at, 3, DISCARD, subcode,
            M(base_json(), nlri=N1), reason, ctx=ctx, data=data)


def gen_rfc7606():
    # ---------------------------------------------------------- §3 (b): length fields
    m = Msg(withdrawn=pfx4("10.0.0.0/24"), wlen=200)
    err(R, "withdrawn-length-overruns-message",
        "Withdrawn Routes Length 200 runs past the end of the message: Malformed Attribute List, session reset.",
        "RFC 7606 §3 (b), RFC 4271 §6.3", m, m.off_wlen(), upd_err(MAL_ATTR_LIST),
        "Withdrawn Routes Length exceeds the message")

    m = Msg(attrs=base_attrs(), nlri=NLRI1)
    m.alen = len(m.attr_bytes()) + len(NLRI1) + 1
    err(R, "total-attribute-length-overruns-message",
        "Total Path Attribute Length is one more than the octets left in the message: Malformed Attribute List, session reset.",
        "RFC 7606 §3 (b), RFC 4271 §6.3", m, m.off_alen(), upd_err(MAL_ATTR_LIST),
        "Withdrawn Routes Length + Total Attribute Length + 23 exceeds the message length")

    # ---------------------------------------------------------- §4: attribute lengths
    at = base_attrs() + [attr(MED, u32(5), length=10)]
    m = Msg(attrs=at, nlri=NLRI1)
    found(R, "attribute-length-overruns-attribute-list",
          "MED claims 10 octets but only 4 remain in the path attributes: treat-as-withdraw; the Total Path Attribute Length still locates the NLRI.",
          "RFC 7606 §4", m, M(base_json(), nlri=N1),
          [finding(m.off_attr(3), MED, TAW, upd_err(MAL_ATTR_LIST),
                   "attribute length runs past the Total Path Attribute Length")])

    at = base_attrs() + [b"\x80"]
    m = Msg(attrs=at, nlri=NLRI1)
    found(R, "attribute-list-trailing-octet",
          "One octet is left in the path attributes after NEXT_HOP, too few for an attribute header: treat-as-withdraw.",
          "RFC 7606 §4", m, M(base_json(), nlri=N1),
          [finding(m.off_attr(3), None, TAW, upd_err(MAL_ATTR_LIST),
                   "fewer than 3 octets left for an attribute header")])

    at = base_attrs() + [bytes([OPT_T | EXTLEN, COMMUNITIES, 0])]
    m = Msg(attrs=at, nlri=NLRI1)
    found(R, "attribute-list-truncated-extended-header",
          "Three octets are left (flags 0xd0, type 8, one length octet) but an Extended Length header needs four: treat-as-withdraw.",
          "RFC 7606 §4", m, M(base_json(), nlri=N1),
          [finding(m.off_attr(3), COMMUNITIES, TAW, upd_err(MAL_ATTR_LIST),
                   "fewer than 4 octets left for an Extended Length attribute header")])

    taw("zero-length-med",
        "MULTI_EXIT_DISC with length 0: only AS_PATH and ATOMIC_AGGREGATE may be empty, so it is malformed: treat-as-withdraw.",
        "RFC 7606 §4, §7.4", attr(MED, b""), LEN_ERR, "zero-length MED")
    taw("zero-length-communities",
        "COMMUNITIES with length 0 (not a non-zero multiple of 4): treat-as-withdraw.",
        "RFC 7606 §4, §7.8", attr(COMMUNITIES, b""), LEN_ERR, "zero-length COMMUNITIES")

    m = Msg(attrs=[a_origin(0), attr(AS_PATH, b""), a_next_hop(), a_local_pref(100),
                   attr(ATOMIC_AGGREGATE, b"")], nlri=NLRI1)
    ok(R, "zero-length-as-path-and-atomic-aggregate-valid",
       "AS_PATH and ATOMIC_AGGREGATE with length 0 are the two attributes that may validly be empty: no finding.",
       "RFC 7606 §4", m,
       M(A(origin="igp", as_path=[], next_hop="198.18.0.1", local_pref=100, atomic_aggregate=True),
         nlri=N1))

    # ---------------------------------------------------------- §3 (c): flags
    at = [a_origin(0, flags=OPT_T), a_as_path([(SEQ, [65001])]), a_next_hop()]
    one_bad("flags-origin-optional-bit",
            "ORIGIN with flags 0xc0 (Optional bit set on a well-known attribute): Attribute Flags Error, treat-as-withdraw.",
            "RFC 7606 §3 (c), §7.1", at, 0, TAW, FLAGS_ERR,
            M(A(as_path=path((SEQ, [65001])), next_hop="198.18.0.1"), nlri=N1),
            "ORIGIN flags conflict with a well-known attribute")

    at = [a_origin(0), a_as_path([(SEQ, [65001])], flags=0x00), a_next_hop()]
    one_bad("flags-as-path-transitive-clear",
            "AS_PATH with flags 0x00 (Transitive bit clear on a well-known attribute): Attribute Flags Error, treat-as-withdraw.",
            "RFC 7606 §3 (c), §7.2", at, 1, TAW, FLAGS_ERR,
            M(A(origin="igp", next_hop="198.18.0.1"), nlri=N1),
            "AS_PATH flags conflict with a well-known attribute")

    taw("flags-med-transitive-set",
        "MULTI_EXIT_DISC with flags 0xc0 (Transitive bit set on an optional non-transitive attribute): Attribute Flags Error, treat-as-withdraw.",
        "RFC 7606 §3 (c), §7.4", a_med(5, flags=OPT_T), FLAGS_ERR, "MED flags conflict")
    taw("flags-local-pref-optional-bit",
        "LOCAL_PREF with flags 0x80 (Optional set, Transitive clear on a well-known attribute): Attribute Flags Error, treat-as-withdraw.",
        "RFC 7606 §3 (c), §7.5", a_local_pref(100, flags=OPT), FLAGS_ERR, "LOCAL_PREF flags conflict")
    taw("flags-communities-well-known",
        "COMMUNITIES with flags 0x40 (Optional bit clear on an optional transitive attribute): Attribute Flags Error, treat-as-withdraw.",
        "RFC 7606 §3 (c), §7.8", a_communities([NO_EXPORT], flags=WK), FLAGS_ERR,
        "COMMUNITIES flags conflict")

    at = [a_origin(0, flags=WK | PARTIAL), a_as_path([(SEQ, [65001])]), a_next_hop()]
    m = Msg(attrs=at, nlri=NLRI1)
    ok(R, "flags-partial-on-well-known-not-an-error",
       "ORIGIN with flags 0x60: only a conflict in the Optional or Transitive bit is a flags error, so the Partial bit alone is no finding.",
       "RFC 7606 §3 (c)", m,
       M(base_json(), nlri=N1, layout=[(1, 0x60), (2, 0x40), (3, 0x40)]))

    # ---------------------------------------------------------- §3 (d): missing attributes
    for code, name, at, mj in [
        (ORIGIN, "origin", [a_as_path([(SEQ, [65001])]), a_next_hop()],
         A(as_path=path((SEQ, [65001])), next_hop="198.18.0.1")),
        (AS_PATH, "as-path", [a_origin(0), a_next_hop()], A(origin="igp", next_hop="198.18.0.1")),
        (NEXT_HOP, "next-hop", [a_origin(0), a_as_path([(SEQ, [65001])])],
         A(origin="igp", as_path=path((SEQ, [65001])))),
    ]:
        m = Msg(attrs=at, nlri=NLRI1)
        found(R, f"missing-{name}-with-nlri",
              f"An UPDATE with IPv4 NLRI but no {name.upper().replace('-', '_')}: Missing Well-known Attribute (data = type code {code}), treat-as-withdraw.",
              "RFC 7606 §3 (d), RFC 4271 §6.3", m, M(mj, nlri=N1),
              [finding(m.off_alen(), code, TAW, upd_err(MISSING_WK, u8(code)),
                       "missing well-known mandatory attribute")])

    at = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48"))),
          a_as_path([(SEQ, [65001])])]
    m = Msg(attrs=at)
    found(R, "missing-origin-with-mp-reach",
          "An UPDATE whose only NLRI are in MP_REACH_NLRI lacks ORIGIN: Missing Well-known Attribute, treat-as-withdraw (the MP NLRI stay in the message).",
          "RFC 7606 §3 (d), RFC 4760 §3", m,
          M(A(as_path=path((SEQ, [65001]))),
            mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]})),
          [finding(m.off_alen(), ORIGIN, TAW, upd_err(MISSING_WK, u8(ORIGIN)),
                   "missing well-known mandatory attribute")])

    at = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")))] + mp_attrs()
    m = Msg(attrs=at)
    ok(R, "missing-next-hop-mp-reach-only-valid",
       "MP_REACH_NLRI with ORIGIN and AS_PATH but no NEXT_HOP and no NLRI field: NEXT_HOP is not required, no finding.",
       "RFC 7606 §3 (d), RFC 4760 §3", m,
       M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]})))

    m = Msg(withdrawn=pfx4("10.0.0.0/24"), attrs=[a_local_pref(100)])
    ok(R, "missing-mandatory-without-nlri-valid",
       "Withdrawn routes and a LOCAL_PREF but no ORIGIN, AS_PATH or NEXT_HOP and no NLRI: mandatory attributes are only required with NLRI, no finding.",
       "RFC 7606 §3 (d), RFC 4271 §5, §6.3", m,
       M(A(local_pref=100), withdrawn=[n4("10.0.0.0/24")]))

    # ---------------------------------------------------------- §3 (g): duplicates
    at = base_attrs() + [a_med(5), a_med(6)]
    m = Msg(attrs=at, nlri=NLRI1)
    found(R, "duplicate-med-keep-first",
          "MULTI_EXIT_DISC appears twice (5 then 6): the second occurrence is discarded and the first kept.",
          "RFC 7606 §3 (g)", m, M(base_json(med=5), nlri=N1),
          [finding(m.off_attr(4), MED, DISCARD, upd_err(MAL_ATTR_LIST), "duplicate attribute")])

    at = [a_origin(0), a_origin(1), a_as_path([(SEQ, [65001])]), a_next_hop()]
    m = Msg(attrs=at, nlri=NLRI1)
    found(R, "duplicate-origin-keep-first",
          "ORIGIN appears twice (IGP then EGP): the second is discarded, ORIGIN stays IGP and the route is kept.",
          "RFC 7606 §3 (g)", m, M(base_json(), nlri=N1),
          [finding(m.off_attr(1), ORIGIN, DISCARD, upd_err(MAL_ATTR_LIST), "duplicate attribute")])

    at = base_attrs() + [attr(99, b"\x01", flags=OPT_T), attr(99, b"\x02\x03", flags=OPT_T)]
    m = Msg(attrs=at, nlri=NLRI1)
    found(R, "duplicate-unknown-keep-first",
          "An unrecognized optional transitive attribute (type 99) appears twice: the second occurrence is discarded.",
          "RFC 7606 §3 (g)", m, M(base_json(unknown=[raw(99, 0xC0, b"\x01")]), nlri=N1),
          [finding(m.off_attr(4), 99, DISCARD, upd_err(MAL_ATTR_LIST), "duplicate attribute")])

    r1 = attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")))
    r2 = attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::2"), pfx6("2001:db8:2::/48")))
    m = Msg(attrs=[r1, r2] + mp_attrs())
    err(R, "duplicate-mp-reach",
        "MP_REACH_NLRI appears twice: Malformed Attribute List, session reset (at the second occurrence).",
        "RFC 7606 §3 (g)", m, m.off_attr(1), upd_err(MAL_ATTR_LIST), "MP_REACH_NLRI appears twice")

    u1 = attr(MP_UNREACH, mp_unreach_value(2, 1, pfx6("2001:db8:1::/48")))
    u2 = attr(MP_UNREACH, mp_unreach_value(1, 1, pfx4("10.1.0.0/24")))
    m = Msg(attrs=[u1, u2])
    err(R, "duplicate-mp-unreach",
        "MP_UNREACH_NLRI appears twice (IPv6 then IPv4): Malformed Attribute List, session reset (at the second occurrence).",
        "RFC 7606 §3 (g)", m, m.off_attr(1), upd_err(MAL_ATTR_LIST), "MP_UNREACH_NLRI appears twice")

    # ---------------------------------------------------------- §3 (h): several errors
    med_bad = attr(MED, b"\x00\x00\x05")
    aa_bad = attr(ATOMIC_AGGREGATE, b"\x01")
    m = Msg(attrs=base_attrs() + [med_bad, aa_bad], nlri=NLRI1)
    found(R, "two-errors-strongest-wins",
          "A malformed MED (treat-as-withdraw) and a malformed ATOMIC_AGGREGATE (attribute discard): both findings, treat-as-withdraw decides.",
          "RFC 7606 §3 (h), §7.4, §7.6", m, M(base_json(), nlri=N1),
          [finding(m.off_attr(3), MED, TAW, upd_err(LEN_ERR, med_bad), "MED length 3"),
           finding(m.off_attr(4), ATOMIC_AGGREGATE, DISCARD, upd_err(LEN_ERR, aa_bad),
                   "ATOMIC_AGGREGATE length 1")])

    # ---------------------------------------------------------- unrecognized well-known
    bad = attr(99, b"\x01\x02", flags=WK)
    m = Msg(attrs=base_attrs() + [bad], nlri=NLRI1)
    err(R, "unrecognized-well-known-attribute",
        "Type 99 with the Optional bit clear (well-known) is not recognized: Unrecognized Well-known Attribute, data = the attribute, session reset.",
        "RFC 4271 §6.3, RFC 7606 §3", m, m.off_attr(3), upd_err(UNREC_WK, bad),
        "unrecognized well-known attribute")

    # ---------------------------------------------------------- §3 (i), (j), §5.3: NLRI fields
    m = Msg(withdrawn=pfx4("10.0.0.0/24") + bytes([33, 10, 0, 0, 0, 0]))
    err(R, "withdrawn-prefix-length-33",
        "The second withdrawn route has prefix length 33 (> 32 for IPv4): Invalid Network Field, session reset.",
        "RFC 7606 §3 (i), §5.3, RFC 4271 §6.3", m, m.off_withdrawn() + 4, upd_err(BAD_NETWORK),
        "withdrawn prefix length 33")

    m = Msg(withdrawn=bytes([24, 10, 1]))
    err(R, "withdrawn-prefix-overruns-field",
        "A /24 withdrawn route with only two prefix octets before the field ends: Invalid Network Field, session reset.",
        "RFC 7606 §3 (i), §5.3", m, m.off_withdrawn(), upd_err(BAD_NETWORK),
        "withdrawn prefix runs past the Withdrawn Routes field")

    m = Msg(attrs=base_attrs(), nlri=bytes([33, 10, 1, 0, 0, 0]))
    err(R, "nlri-prefix-length-33",
        "NLRI prefix length 33: Invalid Network Field, session reset (treat-as-withdraw needs parsable NLRI).",
        "RFC 7606 §3 (j), §5.3, RFC 4271 §6.3", m, m.off_nlri(), upd_err(BAD_NETWORK),
        "NLRI prefix length 33")

    m = Msg(attrs=base_attrs(), nlri=pfx4("10.1.0.0/24") + bytes([24, 10, 2]))
    err(R, "nlri-second-prefix-overruns-message",
        "The second NLRI is a /24 with only two prefix octets left in the message: Invalid Network Field, session reset.",
        "RFC 7606 §3 (j), §5.3, RFC 4271 §6.3", m, m.off_nlri() + 4, upd_err(BAD_NETWORK),
        "NLRI prefix runs past the end of the message")

    mr = attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), bytes([129]) + b"\x20" * 17))
    m = Msg(attrs=[mr] + mp_attrs())
    found(R, "mp-reach-prefix-length-129",
          "MP_REACH_NLRI (IPv6) holds a prefix of length 129: its NLRI are not parsable, so AFI/SAFI disable (data = the attribute).",
          "RFC 7606 §5.3, §7.11, RFC 4760 §7", m, M(mp_json()),
          [finding(m.off_attr(0), MP_REACH, AFI_SAFI_DISABLE, upd_err(OPT_ATTR_ERR, mr),
                   "IPv6 prefix length 129 in MP_REACH_NLRI")])

    mu = attr(MP_UNREACH, mp_unreach_value(2, 1, bytes([64, 0x20, 0x01, 0x0d, 0xb8])))
    m = Msg(attrs=[mu])
    found(R, "mp-unreach-prefix-overruns-attribute",
          "MP_UNREACH_NLRI (IPv6) withdraws a /64 but only 4 prefix octets remain in the attribute: AFI/SAFI disable.",
          "RFC 7606 §5.3, §7.12, RFC 4760 §7", m, M(A()),
          [finding(m.off_attr(0), MP_UNREACH, AFI_SAFI_DISABLE, upd_err(OPT_ATTR_ERR, mu),
                   "withdrawn prefix runs past MP_UNREACH_NLRI")])

    mu = attr(MP_UNREACH, mp_unreach_value(2, 1, bytes([129]) + b"\x20" * 17))
    m = Msg(attrs=[mu])
    found(R, "mp-unreach-prefix-length-129",
          "MP_UNREACH_NLRI (IPv6) withdraws a prefix of length 129: AFI/SAFI disable (data = the attribute).",
          "RFC 7606 §5.3, §7.12, RFC 4760 §7", m, M(A()),
          [finding(m.off_attr(0), MP_UNREACH, AFI_SAFI_DISABLE, upd_err(OPT_ATTR_ERR, mu),
                   "IPv6 prefix length 129 in MP_UNREACH_NLRI")])

    # ---------------------------------------------------------- §5.2: attributes without NLRI
    med_bad = attr(MED, b"\x00\x00\x05")
    m = Msg(attrs=mp_attrs() + [med_bad])
    err(R, "no-nlri-treat-as-withdraw-escalates",
        "Path attributes but no NLRI anywhere, and a malformed MED (treat-as-withdraw): the NLRI cannot be trusted, so session reset.",
        "RFC 7606 §5.2, §7.4", m, m.off_attr(2), upd_err(LEN_ERR, med_bad),
        "attribute error in an UPDATE without reachable NLRI")

    cm_bad = attr(COMMUNITIES, b"\xff\xff\xff\x01\x00\x00")
    m = Msg(withdrawn=pfx4("10.0.0.0/24"), attrs=mp_attrs() + [a_next_hop(), cm_bad])
    err(R, "withdraw-with-attributes-error-escalates",
        "Withdrawn routes plus path attributes with a malformed COMMUNITIES (length 6) and no reachable NLRI: session reset.",
        "RFC 7606 §5.2, §7.8", m, m.off_attr(3), upd_err(LEN_ERR, cm_bad),
        "attribute error in an UPDATE without reachable NLRI")

    aa_bad = attr(ATOMIC_AGGREGATE, b"\x01")
    m = Msg(attrs=mp_attrs() + [aa_bad])
    found(R, "no-nlri-attribute-discard-stays",
          "Path attributes but no NLRI, and a malformed ATOMIC_AGGREGATE: attribute discard is not escalated.",
          "RFC 7606 §5.2, §7.6", m, M(mp_json()),
          [finding(m.off_attr(2), ATOMIC_AGGREGATE, DISCARD, upd_err(LEN_ERR, aa_bad),
                   "ATOMIC_AGGREGATE length 1")])

    # ---------------------------------------------------------- §7.1 ORIGIN
    at = [a_origin(3), a_as_path([(SEQ, [65001])]), a_next_hop()]
    one_bad("origin-undefined-value-3",
            "ORIGIN value 3 is undefined: Invalid ORIGIN Attribute (data = the attribute), treat-as-withdraw.",
            "RFC 7606 §7.1, RFC 4271 §6.3", at, 0, TAW, BAD_ORIGIN,
            M(A(as_path=path((SEQ, [65001])), next_hop="198.18.0.1"), nlri=N1), "ORIGIN value 3")

    at = [attr(ORIGIN, b"\x00\x00"), a_as_path([(SEQ, [65001])]), a_next_hop()]
    one_bad("origin-length-2",
            "ORIGIN with length 2: Attribute Length Error, treat-as-withdraw.",
            "RFC 7606 §7.1, RFC 4271 §6.3", at, 0, TAW, LEN_ERR,
            M(A(as_path=path((SEQ, [65001])), next_hop="198.18.0.1"), nlri=N1), "ORIGIN length 2")

    # ---------------------------------------------------------- §7.2 AS_PATH
    no_path = M(A(origin="igp", next_hop="198.18.0.1"), nlri=N1)
    for name, value, desc in [
        ("as-path-zero-length-segment", bytes([2, 0]) + u8(2) + u8(1) + u32(65001),
         "an AS_SEQUENCE with Path Segment Length 0 (then a valid segment)"),
        ("as-path-segment-type-5", bytes([5, 1]) + u32(65001), "a segment of undefined type 5"),
        ("as-path-segment-type-0", bytes([0, 1]) + u32(65001), "a segment of undefined type 0"),
        ("as-path-segment-overrun", bytes([2, 3]) + u32(65001) + u32(65002),
         "an AS_SEQUENCE claiming 3 ASNs with room for 2 in the attribute"),
        ("as-path-trailing-octet", bytes([2, 1]) + u32(65001) + b"\x02",
         "one octet left after the last segment, too short for a segment header"),
        ("as-path-2-octet-encoding-on-4-octet-session", bytes([2, 2]) + u16(65001) + u16(65002),
         "2-octet ASNs on a 4-octet session, so the segment claims 8 octets of ASNs with 4 present"),
    ]:
        at = [a_origin(0), attr(AS_PATH, value), a_next_hop()]
        one_bad(name, f"AS_PATH with {desc}: Malformed AS_PATH, treat-as-withdraw.",
                "RFC 7606 §7.2, RFC 4271 §6.3", at, 1, TAW, MAL_AS_PATH, no_path,
                "malformed AS_PATH", data=b"")

    at = [a_origin(0), attr(AS_PATH, bytes([2, 3]) + u16(65001) + u16(65002)), a_next_hop()]
    one_bad("as-path-2-octet-segment-overrun",
            "2-octet session: an AS_SEQUENCE claiming 3 ASNs with room for 2: Malformed AS_PATH, treat-as-withdraw.",
            "RFC 7606 §7.2, RFC 4271 §6.3", at, 1, TAW, MAL_AS_PATH, no_path, "malformed AS_PATH",
            ctx=AS4_OFF, data=b"")

    # ---------------------------------------------------------- §7.3 NEXT_HOP
    at = [a_origin(0), a_as_path([(SEQ, [65001])]), attr(NEXT_HOP, ip4("198.18.0.1") + b"\x00")]
    nh_gone = M(A(origin="igp", as_path=path((SEQ, [65001]))), nlri=N1)
    one_bad("next-hop-length-5",
            "NEXT_HOP with length 5: Attribute Length Error, treat-as-withdraw.",
            "RFC 7606 §7.3, RFC 4271 §6.3", at, 2, TAW, LEN_ERR, nh_gone, "NEXT_HOP length 5")

    at = [a_origin(0), a_as_path([(SEQ, [65001])]), a_next_hop("224.0.0.5")]
    one_bad("next-hop-multicast",
            "NEXT_HOP 224.0.0.5 is not a valid IP host address: Invalid NEXT_HOP Attribute, treat-as-withdraw.",
            "RFC 7606 §7.3, §3 (e), RFC 4271 §6.3", at, 2, TAW, BAD_NEXT_HOP, nh_gone,
            "NEXT_HOP is a multicast address")

    # ---------------------------------------------------------- §7.4–§7.10
    taw("med-length-3", "MULTI_EXIT_DISC with length 3: Attribute Length Error, treat-as-withdraw.",
        "RFC 7606 §7.4", attr(MED, b"\x00\x00\x05"), LEN_ERR, "MED length 3")
    taw("local-pref-length-5", "LOCAL_PREF with length 5: Attribute Length Error, treat-as-withdraw.",
        "RFC 7606 §7.5", attr(LOCAL_PREF, b"\x00\x00\x00\x64\x00"), LEN_ERR, "LOCAL_PREF length 5")
    discard("atomic-aggregate-length-1",
            "ATOMIC_AGGREGATE with length 1: Attribute Length Error, attribute discard (the route is kept).",
            "RFC 7606 §7.6, §3 (f)", attr(ATOMIC_AGGREGATE, b"\x01"), LEN_ERR, "ATOMIC_AGGREGATE length 1")
    discard("aggregator-length-6-on-4-octet-session",
            "A 6-octet AGGREGATOR on a session where both sides sent the 4-octet AS capability (8 expected): attribute discard.",
            "RFC 7606 §7.7", attr(AGGREGATOR, u16(65001) + ip4("198.18.0.1")), LEN_ERR,
            "AGGREGATOR length 6, 8 expected")
    discard("aggregator-length-8-on-2-octet-session",
            "An 8-octet AGGREGATOR on a 2-octet AS session (6 expected): attribute discard.",
            "RFC 7606 §7.7", attr(AGGREGATOR, u32(65001) + ip4("198.18.0.1")), LEN_ERR,
            "AGGREGATOR length 8, 6 expected", ctx=AS4_OFF, four=False)
    discard("aggregator-length-7",
            "AGGREGATOR with length 7 on a 4-octet AS session: attribute discard.",
            "RFC 7606 §7.7", attr(AGGREGATOR, u16(65001) + ip4("198.18.0.1") + b"\x00"), LEN_ERR,
            "AGGREGATOR length 7")
    taw("communities-length-6", "COMMUNITIES with length 6 (not a multiple of 4): treat-as-withdraw.",
        "RFC 7606 §7.8", attr(COMMUNITIES, b"\xff\xff\xff\x01\x00\x00"), LEN_ERR, "COMMUNITIES length 6")
    taw("originator-id-length-5", "ORIGINATOR_ID with length 5: treat-as-withdraw.",
        "RFC 7606 §7.9", attr(ORIGINATOR_ID, ip4("198.18.0.5") + b"\x00"), LEN_ERR,
        "ORIGINATOR_ID length 5")
    taw("cluster-list-length-6", "CLUSTER_LIST with length 6 (not a multiple of 4): treat-as-withdraw.",
        "RFC 7606 §7.10", attr(CLUSTER_LIST, ip4("198.18.0.10") + b"\x00\x00"), LEN_ERR,
        "CLUSTER_LIST length 6")
    taw("cluster-list-length-0", "CLUSTER_LIST with length 0 (must be a non-zero multiple of 4): treat-as-withdraw.",
        "RFC 7606 §7.10, §4", attr(CLUSTER_LIST, b""), LEN_ERR, "CLUSTER_LIST length 0")

    # ---------------------------------------------------------- §7.11 MP_REACH_NLRI
    def mp_bad(name, description, value, reason, family_ok=True):
        mr = attr(MP_REACH, value)
        m = Msg(attrs=[mr] + mp_attrs())
        if family_ok:
            found(R, name, description, "RFC 7606 §7.11, RFC 4760 §7", m, M(mp_json()),
                  [finding(m.off_attr(0), MP_REACH, AFI_SAFI_DISABLE, upd_err(OPT_ATTR_ERR, mr), reason)])
        else:
            err(R, name, description, "RFC 7606 §7.11, RFC 4760 §7", m, m.off_attr(0),
                upd_err(OPT_ATTR_ERR, mr), reason)

    mp_bad("mp-reach-ipv6-next-hop-length-20",
           "MP_REACH_NLRI for IPv6 unicast with a 20-octet next hop (16 or 32 expected): the NLRI cannot be located, AFI/SAFI disable.",
           mp_reach_value(2, 1, ip6("2001:db8::1") + ip4("198.18.0.1"), pfx6("2001:db8:1::/48")),
           "IPv6 next hop length 20")
    mp_bad("mp-reach-ipv6-next-hop-length-4",
           "MP_REACH_NLRI for IPv6 unicast with a 4-octet (IPv4) next hop: not a length IPv6 unicast allows, AFI/SAFI disable.",
           mp_reach_value(2, 1, ip4("198.18.0.1"), pfx6("2001:db8:1::/48")), "IPv6 next hop length 4")
    mp_bad("mp-reach-ipv4-next-hop-length-12",
           "MP_REACH_NLRI for IPv4 unicast with a 12-octet next hop (4, 16 or 32 expected with RFC 8950): AFI/SAFI disable.",
           mp_reach_value(1, 1, bytes(8) + ip4("198.18.0.1"), pfx4("10.1.0.0/24")),
           "IPv4 unicast next hop length 12")
    mp_bad("mp-reach-next-hop-overruns-attribute",
           "MP_REACH_NLRI for IPv6 unicast whose next hop length 32 runs past the 21-octet attribute: AFI/SAFI disable.",
           u16(2) + u8(1) + u8(32) + ip6("2001:db8::1") + u8(0), "next hop runs past the attribute")
    mp_bad("mp-reach-no-reserved-octet",
           "MP_REACH_NLRI for IPv6 unicast that ends right after a 16-octet next hop (no Reserved octet): AFI/SAFI disable.",
           u16(2) + u8(1) + u8(16) + ip6("2001:db8::1"), "MP_REACH_NLRI ends before the Reserved octet")
    mp_bad("mp-reach-too-short-for-afi-safi",
           "MP_REACH_NLRI of length 2: the AFI/SAFI cannot even be read, so only a session reset is possible.",
           u16(2), "MP_REACH_NLRI shorter than AFI and SAFI", family_ok=False)

    mu = attr(MP_UNREACH, u16(2))
    m = Msg(attrs=[mu])
    err(R, "mp-unreach-too-short-for-afi-safi",
        "MP_UNREACH_NLRI of length 2: the AFI/SAFI cannot be read, so only a session reset is possible.",
        "RFC 7606 §7.12, RFC 4760 §7", m, m.off_attr(0), upd_err(OPT_ATTR_ERR, mu),
        "MP_UNREACH_NLRI shorter than AFI and SAFI")

    # ---------------------------------------------------------- §7.14, §7.15
    taw("ext-communities-length-12",
        "EXTENDED COMMUNITIES with length 12 (not a multiple of 8): treat-as-withdraw.",
        "RFC 7606 §7.14", attr(EXT_COMM, bytes([0, 2, 0xFD, 0xE9, 0, 0, 0, 1, 0, 0, 0, 0])), LEN_ERR,
        "EXTENDED COMMUNITIES length 12")
    taw("ext-communities-length-0",
        "EXTENDED COMMUNITIES with length 0 (must be a non-zero multiple of 8): treat-as-withdraw.",
        "RFC 7606 §7.14, §4", attr(EXT_COMM, b""), LEN_ERR, "EXTENDED COMMUNITIES length 0")
    taw("ipv6-ext-communities-length-21",
        "IPv6 Address Specific Extended Community (type 25) with length 21 (not a multiple of 20): treat-as-withdraw.",
        "RFC 7606 §7.15", attr(IPV6_EXT_COMM, bytes(21), flags=OPT_T), LEN_ERR,
        "IPv6 Address Specific Extended Community length 21")

    # ---------------------------------------------------------- RFC 6793 §6
    def as4(name, description, bad, reason, subcode=OPT_ATTR_ERR, ctx=AS4_OFF):
        four = ctx is None
        first = 65001 if four else AS_TRANS
        at = [a_origin(0), a_as_path([(SEQ, [first])], four=four), a_next_hop(), bad]
        one_bad(name, description, "RFC 6793 §6", at, 3, DISCARD, subcode,
                M(A(origin="igp", as_path=path((SEQ, [first])), next_hop="198.18.0.1"), nlri=N1),
                reason, ctx=ctx)

    as4("as4-path-zero-length-segment",
        "2-octet session: AS4_PATH with a Path Segment Length of 0 is malformed: attribute discard.",
        attr(AS4_PATH, bytes([2, 0]) + u8(2) + u8(1) + u32(4200000001)), "AS4_PATH segment length 0")
    as4("as4-path-segment-type-5",
        "2-octet session: AS4_PATH with undefined segment type 5: attribute discard.",
        attr(AS4_PATH, bytes([5, 1]) + u32(4200000001)), "AS4_PATH segment type 5")
    as4("as4-path-too-short",
        "2-octet session: AS4_PATH of length 4 (less than 6, cannot hold one AS number): attribute discard.",
        attr(AS4_PATH, bytes([2, 1, 0, 1])), "AS4_PATH length 4")
    as4("as4-path-segment-overrun",
        "2-octet session: AS4_PATH segment claims 2 ASNs with room for 1: attribute discard.",
        attr(AS4_PATH, bytes([2, 2]) + u32(4200000001)), "AS4_PATH segment runs past the attribute")
    as4("as4-aggregator-length-6",
        "2-octet session: AS4_AGGREGATOR of length 6 (8 expected): attribute discard.",
        attr(AS4_AGGREGATOR, u16(65001) + ip4("198.18.0.1")), "AS4_AGGREGATOR length 6",
        subcode=LEN_ERR)
    as4("as4-path-between-new-speakers",
        "4-octet session: AS4_PATH MUST NOT be sent between NEW speakers; the receiver discards it and goes on.",
        attr(AS4_PATH, as_path_value([(SEQ, [4200000001])])), "AS4_PATH on a 4-octet AS session",
        ctx=None)
    as4("as4-aggregator-between-new-speakers",
        "4-octet session: AS4_AGGREGATOR MUST NOT be sent between NEW speakers; the receiver discards it and goes on.",
        attr(AS4_AGGREGATOR, u32(4200000001) + ip4("198.18.0.1")),
        "AS4_AGGREGATOR on a 4-octet AS session", ctx=None)

    # ---------------------------------------------------------- RFC 7607: AS 0
    at = [a_origin(0), a_as_path([(SEQ, [65001, 0])]), a_next_hop()]
    one_bad("as-path-asn-zero",
            "AS_PATH [65001, 0]: an AS_PATH holding AS 0 is malformed: Malformed AS_PATH, treat-as-withdraw.",
            "RFC 7607 §2, RFC 7606 §7.2", at, 1, TAW, MAL_AS_PATH, no_path, "AS 0 in AS_PATH", data=b"")
    discard("aggregator-asn-zero",
            "AGGREGATOR with AS 0 is malformed: attribute discard, the route is kept.",
            "RFC 7607 §2, RFC 7606 §7.7", attr(AGGREGATOR, u32(0) + ip4("198.18.0.1")), OPT_ATTR_ERR,
            "AS 0 in AGGREGATOR")
    at = [a_origin(0), a_as_path([(SEQ, [AS_TRANS])], four=False), a_next_hop(),
          attr(AS4_PATH, as_path_value([(SEQ, [0])]))]
    one_bad("as4-path-asn-zero",
            "2-octet session: AS4_PATH holding AS 0 is malformed: attribute discard.",
            "RFC 7607 §2, RFC 6793 §6", at, 3, DISCARD, OPT_ATTR_ERR,
            M(A(origin="igp", as_path=path((SEQ, [AS_TRANS])), next_hop="198.18.0.1"), nlri=N1),
            "AS 0 in AS4_PATH", ctx=AS4_OFF)

    # ---------------------------------------------------------- RFC 8092 §6, RFC 9234 §5
    taw("large-communities-length-13",
        "LARGE_COMMUNITY with length 13 (not a non-zero multiple of 12): treat-as-withdraw.",
        "RFC 8092 §6", attr(LARGE_COMM, u32(65001) + u32(1) + u32(2) + b"\x00"), LEN_ERR,
        "LARGE_COMMUNITY length 13")
    taw("large-communities-length-0",
        "LARGE_COMMUNITY with length 0: treat-as-withdraw.",
        "RFC 8092 §6, RFC 7606 §4", attr(LARGE_COMM, b""), LEN_ERR, "LARGE_COMMUNITY length 0")
    taw("otc-length-3", "OTC with length 3 (must be 4): treat-as-withdraw.",
        "RFC 9234 §5", attr(OTC, b"\x00\xfd\xe9"), LEN_ERR, "OTC length 3")
    taw("otc-length-8", "OTC with length 8 (must be 4): treat-as-withdraw.",
        "RFC 9234 §5", attr(OTC, u32(65001) + u32(65002)), LEN_ERR, "OTC length 8")

    # ---------------------------------------------------------- treat-as-withdraw keeps MP NLRI
    cm_bad = attr(COMMUNITIES, b"\xff\xff\xff\x01\x00\x00")
    at = [attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48")))] + mp_attrs() + [cm_bad]
    m = Msg(attrs=at)
    found(R, "treat-as-withdraw-with-mp-reach",
          "Malformed COMMUNITIES in an UPDATE whose NLRI are in MP_REACH_NLRI: treat-as-withdraw applies to the MP NLRI, which stay in the message.",
          "RFC 7606 §2, §7.8", m,
          M(mp_json(), mp_reach=reach("ipv6-unicast", nh6("2001:db8::1"), {"v6": [n6("2001:db8:1::/48")]})),
          [finding(m.off_attr(3), COMMUNITIES, TAW, upd_err(LEN_ERR, cm_bad), "COMMUNITIES length 6")])

    # ---------------------------------------------------------- RFC 7911: ADD-PATH mismatch
    m = Msg(attrs=base_attrs(), nlri=pfx4("10.1.0.0/24", 100))
    err(R, "add-path-nlri-without-add-path",
        "NLRI sent with path identifier 100 to a receiver that did not negotiate ADD-PATH: read as lengths 0, 0, 0, 100, the fourth is > 32: Invalid Network Field.",
        "RFC 7911 §3, RFC 7606 §5.3", m, m.off_nlri() + 3, upd_err(BAD_NETWORK),
        "NLRI prefix length 100")

    m = Msg(attrs=base_attrs(), nlri=pfx4("10.1.0.0/24"))
    err(R, "plain-nlri-with-add-path",
        "NLRI sent without path identifier to a receiver expecting ADD-PATH: 180a0100 is read as a path identifier and no length octet follows: Invalid Network Field.",
        "RFC 7911 §3, RFC 7606 §5.3", m, m.off_nlri(), upd_err(BAD_NETWORK),
        "NLRI entry ends inside the path identifier / length", ctx={"add_path": ["ipv4-unicast"]})

    mr = attr(MP_REACH, mp_reach_value(2, 1, ip6("2001:db8::1"), pfx6("2001:db8:1::/48", 1)))
    m = Msg(attrs=[mr] + mp_attrs())
    found(R, "add-path-mp-reach-without-add-path",
          "IPv6 MP_REACH_NLRI with a path identifier sent to a receiver without ADD-PATH: the NLRI overrun the attribute, AFI/SAFI disable.",
          "RFC 7911 §3, RFC 7606 §5.3, RFC 4760 §7", m, M(mp_json()),
          [finding(m.off_attr(0), MP_REACH, AFI_SAFI_DISABLE, upd_err(OPT_ATTR_ERR, mr),
                   "IPv6 NLRI run past MP_REACH_NLRI")])


# ================================================================ checks and writing

def parse_hex(h):
    return bytes.fromhex("".join(h.split()).replace(":", ""))


def walk_attrs(buf):
    """Split a well-formed attribute list; asserts it is well-formed."""
    out, i = [], 0
    while i < len(buf):
        flags, code = buf[i], buf[i + 1]
        if flags & EXTLEN:
            ln = struct.unpack("!H", buf[i + 2:i + 4])[0]
            hl = 4
        else:
            ln, hl = buf[i + 2], 3
        assert i + hl + ln <= len(buf), "attribute overruns the list"
        out.append((flags, code, buf[i + hl:i + hl + ln]))
        i += hl + ln
    assert i == len(buf)
    return out


def count_prefixes(buf, add_path, max_len):
    n, i = 0, 0
    while i < len(buf):
        if add_path:
            i += 4
        ln = buf[i]
        assert ln <= max_len
        i += 1 + (ln + 7) // 8
        n += 1
    assert i == len(buf), "prefix overruns the field"
    return n


def check(path_, v, msg):
    b = parse_hex(v["hex"])
    assert b[:16] == MARKER, path_
    assert struct.unpack("!H", b[16:18])[0] == len(b), path_ + ": length field != byte count"
    assert b[18] == 2, path_
    if isinstance(msg, Msg):
        assert b == msg.wire(), path_
    ctx = v.get("ctx", {})
    e = v["expect"]
    assert set(e) in ({"message"}, {"message", "findings", "roundtrip"}, {"error"}), path_
    wl = struct.unpack("!H", b[19:21])[0]
    for x in e.get("findings", []) + ([e["error"]] if "error" in e else []):
        o, n = x["offset"], x["notification"]
        assert 0 <= o < len(b), path_
        data = bytes.fromhex(n["data"])
        if n["code"] == 3 and n["subcode"] == MISSING_WK:
            # Missing attribute: at the Total Path Attribute Length, data = the type code.
            assert o == HDR + 2 + wl and data == u8(x["attr_type"]), path_
            continue
        if x.get("attr_type") is not None:
            assert b[o + 1] == x["attr_type"], path_ + ": offset is not at the attribute"
        if n["code"] == 3 and data:
            assert b[o:o + len(data)] == data, path_ + ": data is not the attribute at offset"
    if "error" in e:
        assert set(e["error"]) == {"offset", "notification", "reason"}
        return
    if e.get("findings"):
        return
    # A vector without findings must be structurally sound.
    wd = b[21:21 + wl]
    al = struct.unpack("!H", b[21 + wl:23 + wl])[0]
    attrs = walk_attrs(b[23 + wl:23 + wl + al])
    nlri = b[23 + wl + al:]
    ap4 = "ipv4-unicast" in ctx.get("add_path", [])
    ap6 = "ipv6-unicast" in ctx.get("add_path", [])
    m = e["message"]
    if wl or nlri:
        # roundtrip=false vectors may carry bits the expectation normalises; lengths still agree.
        assert count_prefixes(wd, ap4, 32) == len(m.get("withdrawn", [])), path_
        assert count_prefixes(nlri, ap4, 32) == len(m.get("nlri", [])), path_
    codes = [c for _, c, _ in attrs]
    if "layout" in m:
        assert [tuple(p) for p in m["layout"]] == [(c, f) for f, c, _ in attrs], path_
    else:
        # Canonical: MP attributes first, then ascending, standard or stored flags.
        mp = [c for c in codes if c in (MP_REACH, MP_UNREACH)]
        rest = [c for c in codes if c not in (MP_REACH, MP_UNREACH)]
        assert codes == mp + rest and mp == sorted(mp) and rest == sorted(rest), path_
        for f, c, val in attrs:
            want = STD_FLAGS.get(c, f & ~EXTLEN)
            if len(val) > 255:
                want |= EXTLEN
            assert f == want, f"{path_}: attribute {c} flags {f:#x}, canonical {want:#x}"
    for f, c, val in attrs:
        if c == MP_REACH:
            afi, safi, nhl = struct.unpack("!HBB", val[:4])
            if (afi, safi) in ((1, 1), (2, 1)):
                mx = 32 if afi == 1 else 128
                ap = ap4 if afi == 1 else ap6
                got = count_prefixes(val[5 + nhl:], ap, mx)
                key = "v4" if afi == 1 else "v6"
                assert got == len(m["mp_reach"]["nlri"][key]), path_
        if c == MP_UNREACH:
            afi, safi = struct.unpack("!HB", val[:3])
            mx = 32 if afi == 1 else 128
            ap = ap4 if afi == 1 else ap6
            key = "v4" if afi == 1 else "v6"
            assert count_prefixes(val[3:], ap, mx) == len(m["mp_unreach"]["withdrawn"][key]), path_


def dumps(v, indent=0):
    """JSON with short objects and arrays on one line, for readable diffs."""
    flat = json.dumps(v, ensure_ascii=False)
    if len(flat) + indent <= 100 or not isinstance(v, (dict, list)) or not v:
        return flat
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(x, indent + 2)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    # Lists of scalars or small objects: pack several per line.
    if all(len(json.dumps(x)) < 40 for x in v):
        lines, cur = [], ""
        for x in v:
            s = json.dumps(x, ensure_ascii=False)
            if cur and len(pad) + len(cur) + len(s) + 2 > 100:
                lines.append(cur + ",")
                cur = ""
            cur = s if not cur else cur + ", " + s
        lines.append(cur)
        return "[\n" + "\n".join(pad + ln for ln in lines) + "\n" + " " * indent + "]"
    items = [pad + dumps(x, indent + 2) for x in v]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main():
    gen_update()
    gen_attr()
    gen_rfc7606()
    counts = {}
    for rel, (v, msg) in sorted(WRITTEN.items()):
        check(rel, v, msg)
        full = os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        text = dumps(v) + "\n"
        assert json.loads(text) == v
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
        d = rel.split(os.sep)[0]
        counts[d] = counts.get(d, 0) + 1
    for d in sorted(counts):
        print(f"{d}/: {counts[d]} files")
    # Files in these directories that this script did not write (renamed vectors?).
    for d in (U, AT, R):
        for fn in sorted(os.listdir(os.path.join(HERE, d))):
            rel = os.path.join(d, fn)
            if fn.endswith(".json") and rel not in WRITTEN:
                print("note: not generated by this script:", rel, file=sys.stderr)


if __name__ == "__main__":
    main()
