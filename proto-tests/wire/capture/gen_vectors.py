#!/usr/bin/env python3
"""Turn captured BGP messages into wren wire vectors.

    gen_vectors.py WORKDIR OUTDIR

WORKDIR is what capture.sh wrote: pcap/<scenario>.pcap, peers.tsv (address ->
daemon label), versions.tsv (label -> version string), scenarios.tsv
(scenario -> one-line description), date. For every distinct message (by bytes)
one JSON file <label>-<what>.json is written to OUTDIR, with the decoding
context the receiver negotiated (from the two OPENs of that TCP connection).

The small decoder here only names and describes messages; it is not the codec.
"""

import glob
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bgpsplit  # noqa: E402

MAX_MSG = 4000  # bytes; keeps each file under ~8 KB of hex

FAMILIES = {(1, 1): "ipv4-unicast", (2, 1): "ipv6-unicast"}

CAP_NAMES = {
    1: "multiprotocol",
    2: "route-refresh",
    5: "extended-next-hop",
    6: "extended-message",
    9: "bgp-role",
    64: "graceful-restart",
    65: "4-octet-as",
    69: "add-path",
    70: "enhanced-route-refresh",
    71: "long-lived-gr",
    73: "fqdn",
    128: "route-refresh-old-cisco",
}
CAP_RFC = {
    1: "RFC 4760",
    2: "RFC 2918",
    5: "RFC 8950",
    6: "RFC 8654",
    9: "RFC 9234",
    64: "RFC 4724",
    65: "RFC 6793",
    69: "RFC 7911",
    70: "RFC 7313",
    71: "RFC 9494",
}
ATTR_NAMES = {
    1: "ORIGIN",
    2: "AS_PATH",
    3: "NEXT_HOP",
    4: "MULTI_EXIT_DISC",
    5: "LOCAL_PREF",
    6: "ATOMIC_AGGREGATE",
    7: "AGGREGATOR",
    8: "COMMUNITIES",
    9: "ORIGINATOR_ID",
    10: "CLUSTER_LIST",
    14: "MP_REACH_NLRI",
    15: "MP_UNREACH_NLRI",
    16: "EXTENDED_COMMUNITIES",
    17: "AS4_PATH",
    18: "AS4_AGGREGATOR",
    32: "LARGE_COMMUNITY",
    35: "OTC",
}
ATTR_TAG = {
    4: "med",
    5: "localpref",
    6: "atomic",
    7: "aggregator",
    8: "comm",
    9: "rr",
    16: "extcomm",
    17: "as4path",
    18: "as4aggr",
    32: "lcomm",
    35: "otc",
}
ATTR_RFC = {
    4: "RFC 4271 §5.1.4",
    5: "RFC 4271 §5.1.5",
    7: "RFC 4271 §5.1.7",
    8: "RFC 1997",
    9: "RFC 4456",
    10: "RFC 4456",
    14: "RFC 4760",
    15: "RFC 4760",
    16: "RFC 4360",
    17: "RFC 6793",
    18: "RFC 6793",
    32: "RFC 8092",
    35: "RFC 9234",
}
NOTIF = {
    (1, 0): "message header error",
    (2, 0): "OPEN message error",
    (3, 0): "UPDATE message error",
    (3, 1): "UPDATE error / malformed attribute list",
    (3, 3): "UPDATE error / missing well-known attribute",
    (3, 4): "UPDATE error / attribute flags error",
    (3, 5): "UPDATE error / attribute length error",
    (3, 10): "UPDATE error / invalid network field",
    (3, 11): "UPDATE error / malformed AS_PATH",
    (4, 0): "hold timer expired",
    (5, 0): "FSM error",
    (6, 2): "Cease / administrative shutdown",
    (6, 3): "Cease / peer de-configured",
    (6, 4): "Cease / administrative reset",
    (6, 6): "Cease / other configuration change",
    (6, 7): "Cease / connection collision resolution",
    (6, 8): "Cease / out of resources",
    (6, 9): "Cease / hard reset",
    (6, 11): "Cease / BFD down",
}
NOTIF_TAG = {
    (6, 2): "cease-shutdown",
    (6, 3): "cease-deconfigured",
    (6, 4): "cease-reset",
    (6, 6): "cease-config-change",
    (6, 7): "cease-collision",
    (6, 9): "cease-hard-reset",
}


def load_tsv(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.rstrip("\n")
            if line:
                k, v = line.split("\t", 1)
                out[k] = v
    return out


def fam_name(afi, safi):
    return FAMILIES.get((afi, safi), f"{afi}/{safi}")


# ------------------------------------------------------------------ OPEN


def parse_open(body):
    """Return dict(asn, hold, id, caps=[(code, value)])."""
    ver, asn, hold = struct.unpack("!BHH", body[:5])
    bgp_id = ".".join(str(b) for b in body[5:9])
    optlen = body[9]
    params = body[10 : 10 + optlen]
    caps = []
    extended_params = False
    if optlen == 255 and len(body) > 10 and body[10] == 255:  # RFC 9072
        extended_params = True
        optlen = struct.unpack("!H", body[11:13])[0]
        params = body[13 : 13 + optlen]
    i = 0
    while i < len(params):
        ptype = params[i]
        if extended_params:
            plen = struct.unpack("!H", params[i + 1 : i + 3])[0]
            pval = params[i + 3 : i + 3 + plen]
            i += 3 + plen
        else:
            plen = params[i + 1]
            pval = params[i + 2 : i + 2 + plen]
            i += 2 + plen
        if ptype != 2:
            continue
        j = 0
        while j + 2 <= len(pval):
            code, clen = pval[j], pval[j + 1]
            caps.append((code, pval[j + 2 : j + 2 + clen]))
            j += 2 + clen
    return {"asn": asn, "hold": hold, "id": bgp_id, "caps": caps, "ver": ver}


def open_info(o):
    """Facts used for the session context."""
    info = {"as4": False, "ext_msg": False, "addpath": {}, "mp": []}
    for code, val in o["caps"]:
        if code == 65:
            info["as4"] = True
            info["as4_asn"] = struct.unpack("!I", val[:4])[0]
        elif code == 6:
            info["ext_msg"] = True
        elif code == 1 and len(val) >= 4:
            info["mp"].append(fam_name(struct.unpack("!H", val[:2])[0], val[3]))
        elif code == 69:
            for k in range(0, len(val) - 3, 4):
                afi, safi, sr = struct.unpack("!HBB", val[k : k + 4])
                info["addpath"][fam_name(afi, safi)] = sr
    return info


def describe_open(o):
    parts = []
    for code, val in o["caps"]:
        name = CAP_NAMES.get(code, f"capability {code}")
        if code == 1:
            name += " " + fam_name(struct.unpack("!H", val[:2])[0], val[3])
        elif code == 65:
            name += f" (AS {struct.unpack('!I', val[:4])[0]})"
        elif code == 69:
            fams = []
            for k in range(0, len(val) - 3, 4):
                afi, safi, sr = struct.unpack("!HBB", val[k : k + 4])
                fams.append(f"{fam_name(afi, safi)} {['none', 'receive', 'send', 'send/receive'][sr & 3]}")
            name += " " + ", ".join(fams)
        elif code == 5:
            ents = []
            for k in range(0, len(val) - 5, 6):
                afi, safi, nh = struct.unpack("!HHH", val[k : k + 6])
                ents.append(f"{fam_name(afi, safi)} via AFI {nh}")
            name += " " + ", ".join(ents)
        elif code == 9 and val:
            name += " " + {0: "provider", 1: "rs", 2: "rs-client", 3: "customer", 4: "peer"}.get(val[0], str(val[0]))
        elif code == 73 and val:
            hn = val[1 : 1 + val[0]].decode(errors="replace")
            name += f' "{hn}"'
        parts.append(name)
    rfcs = sorted({CAP_RFC[c] for c, _ in o["caps"] if c in CAP_RFC}, key=rfc_key)
    return f"AS {o['asn']}, hold {o['hold']}, capabilities: " + ", ".join(parts), rfcs


def rfc_key(r):
    """Base message section first, then by RFC number."""
    try:
        return (0 if "§4" in r else 1, int(r.split()[1]), r)
    except (IndexError, ValueError):
        return (2, 0, r)


# ------------------------------------------------------------------ UPDATE


def parse_update(body):
    wlen = struct.unpack("!H", body[:2])[0]
    withdrawn = body[2 : 2 + wlen]
    alen = struct.unpack("!H", body[2 + wlen : 4 + wlen])[0]
    attrs_raw = body[4 + wlen : 4 + wlen + alen]
    nlri = body[4 + wlen + alen :]
    attrs = []
    i = 0
    while i + 3 <= len(attrs_raw):
        flags, code = attrs_raw[i], attrs_raw[i + 1]
        if flags & 0x10:
            ln = struct.unpack("!H", attrs_raw[i + 2 : i + 4])[0]
            val = attrs_raw[i + 4 : i + 4 + ln]
            i += 4 + ln
        else:
            ln = attrs_raw[i + 2]
            val = attrs_raw[i + 3 : i + 3 + ln]
            i += 3 + ln
        attrs.append((flags, code, val))
    return withdrawn, attrs, nlri


def as_path_info(val, as4):
    """(has_set, has_prepend, segments) for an AS_PATH value."""
    width = 4 if as4 else 2
    has_set = False
    prepend = False
    asns = []
    i = 0
    while i + 2 <= len(val):
        stype, cnt = val[i], val[i + 1]
        seg = []
        for k in range(cnt):
            off = i + 2 + k * width
            seg.append(int.from_bytes(val[off : off + width], "big"))
        if stype in (1, 4):
            has_set = True
        else:
            prepend = prepend or any(seg[k] == seg[k + 1] for k in range(len(seg) - 1))
        asns.extend(seg)
        i += 2 + cnt * width
    return has_set, prepend, asns


def describe_update(body, ctx, tag_fams):
    """Return (what tags, description, rfcs)."""
    withdrawn, attrs, nlri = parse_update(body)
    codes = [c for _, c, _ in attrs]
    rfcs = {"RFC 4271 §4.3"}
    tags = []
    desc = []
    fam = "ipv4"
    if not withdrawn and not attrs and not nlri:
        return ["eor-ipv4"], "End-of-RIB marker for IPv4 unicast (empty UPDATE)", ["RFC 4724 §2"]
    if codes == [15] and len(attrs[0][2]) == 3:
        afi, safi = struct.unpack("!HB", attrs[0][2])
        f = fam_name(afi, safi)
        return [f"eor-{f.split('-')[0]}"], f"End-of-RIB marker for {f} (MP_UNREACH_NLRI with no NLRI)", ["RFC 4724 §2", "RFC 4760"]
    addp = False
    for flags, code, val in attrs:
        if code == 14:
            afi, safi, nhl = struct.unpack("!HBB", val[:4])
            f = fam_name(afi, safi)
            fam = f.split("-")[0]
            addp = addp or f in ctx["add_path"]
            nh = val[4 : 4 + nhl]
            if afi == 2 and nhl == 32:
                tags.append("llnh")
                desc.append(f"MP_REACH_NLRI {f} with global + link-local next hop")
            elif afi == 1 and nhl in (16, 32):
                tags.append("extnh")
                desc.append(f"MP_REACH_NLRI {f} with an IPv6 next hop ({nhl} bytes, RFC 8950)")
                rfcs.add("RFC 8950")
            else:
                if afi == 1:
                    tags.append("mpreach")
                desc.append(f"MP_REACH_NLRI {f} with a {nhl}-byte next hop")
            del nh
        elif code == 15:
            afi, safi = struct.unpack("!HB", val[:3])
            f = fam_name(afi, safi)
            fam = f.split("-")[0]
            addp = addp or f in ctx["add_path"]
            tags.append("withdraw")
            desc.append(f"MP_UNREACH_NLRI withdrawing {f} routes")
        elif code == 2:
            has_set, prepend, asns = as_path_info(val, ctx["as4"])
            if has_set:
                tags.append("asset")
            if prepend:
                tags.append("prepend")
            width = "4" if ctx["as4"] else "2"
            desc.append(f"AS_PATH ({width}-octet) {asns if asns else 'empty'}" + (" with an AS_SET" if has_set else ""))
        elif code in ATTR_TAG:
            if ATTR_TAG[code] not in tags:
                tags.append(ATTR_TAG[code])
        if code in ATTR_RFC:
            rfcs.add(ATTR_RFC[code])
        if code not in ATTR_NAMES:
            tags.append(f"attr{code}")
            desc.append(f"unknown attribute type {code} (flags 0x{flags:02x})")
    if 14 not in codes and 15 not in codes:
        addp = "ipv4-unicast" in ctx["add_path"]
    if addp:
        tags.insert(0, "addpath")
        rfcs.add("RFC 7911")
    if withdrawn and not nlri and 14 not in codes:
        tags.insert(0, "withdraw")
        desc.insert(0, "withdrawn IPv4 routes")
    elif withdrawn:
        desc.insert(0, "withdrawn IPv4 routes")
    if nlri:
        desc.insert(0, "IPv4 NLRI")
    names = [ATTR_NAMES.get(c, str(c)) for c in codes]
    text = "UPDATE: " + "; ".join(desc)
    if names:
        text += "; attributes " + ", ".join(names)
    if addp:
        text += "; NLRI carry ADD-PATH path identifiers"
    if "rr" in tags:
        tags[tags.index("rr")] = "reflected"
    return [fam] + tags, text, sorted(rfcs, key=rfc_key)


# ------------------------------------------------------------------ others


def describe_notification(body):
    code, sub = body[0], body[1]
    data = body[2:]
    what = NOTIF.get((code, sub)) or NOTIF.get((code, 0), f"code {code}")
    tag = NOTIF_TAG.get((code, sub), f"notification-{code}-{sub}")
    if not tag.startswith("notification"):
        tag = "notification-" + tag
    text = f"NOTIFICATION {code}/{sub} ({what})"
    rfcs = ["RFC 4271 §4.5"]
    if (code, sub) in ((6, 2), (6, 4)) and data:
        n = data[0]
        msg = data[1 : 1 + n].decode(errors="replace")
        text += f' with shutdown communication "{msg}"'
        tag += "-msg"
        rfcs += ["RFC 4486", "RFC 9003"]
    elif code == 6:
        rfcs.append("RFC 4486")
    elif data:
        text += f", data {data.hex()}"
        if all(32 <= c < 127 for c in data):
            text += f' (ASCII "{data.decode()}")'
    return [tag], text, rfcs


def describe_refresh(body):
    afi, sub, safi = struct.unpack("!HBB", body[:4])
    f = fam_name(afi, safi)
    names = {0: ("route-refresh", "ROUTE-REFRESH request"), 1: ("borr", "Beginning-of-RIB (BoRR) enhanced route refresh marker"), 2: ("eorr", "End-of-RIB (EoRR) enhanced route refresh marker")}
    tag, text = names.get(sub, (f"route-refresh-sub{sub}", f"ROUTE-REFRESH subtype {sub}"))
    rfcs = ["RFC 2918"] + (["RFC 7313"] if sub else [])
    return [tag, f.split("-")[0]], f"{text} for {f}", rfcs


# ------------------------------------------------------------------ main


def session_ctx(sender_open, receiver_open):
    """Decode context for messages sender -> receiver."""
    s, r = open_info(sender_open), open_info(receiver_open)
    add_path = []
    for f, sr in s["addpath"].items():
        if sr & 2 and r["addpath"].get(f, 0) & 1:
            add_path.append(f)
    return {"as4": s["as4"] and r["as4"], "add_path": sorted(add_path), "ext_msg": s["ext_msg"] and r["ext_msg"]}


def main():
    work, outdir = sys.argv[1], sys.argv[2]
    peers = load_tsv(os.path.join(work, "peers.tsv"))
    versions = load_tsv(os.path.join(work, "versions.tsv"))
    scen = load_tsv(os.path.join(work, "scenarios.tsv"))
    date = open(os.path.join(work, "date")).read().strip()
    tool = versions.get("tshark", "tcpdump")
    os.makedirs(outdir, exist_ok=True)
    seen = {}
    used_names = set(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(outdir, "*.json")))
    for p in glob.glob(os.path.join(outdir, "*.json")):
        try:
            seen[norm_hex(json.load(open(p))["hex"])] = p
        except (ValueError, KeyError):
            pass
    written = 0
    for pcap in sorted(glob.glob(os.path.join(work, "pcap", "*.pcap"))):
        sname = os.path.splitext(os.path.basename(pcap))[0]
        msgs = bgpsplit.messages(pcap)
        opens = {}
        for m in msgs:
            b = bytes.fromhex(m["hex"])
            if b[18] == 1:
                opens.setdefault((m["conn"], m["src"]), parse_open(b[19:]))
        for m in msgs:
            b = bytes.fromhex(m["hex"])
            if b in seen:
                continue
            if len(b) > MAX_MSG:
                print(f"skip {len(b)}-byte message from {m['src']}", file=sys.stderr)
                continue
            so, ro = opens.get((m["conn"], m["src"])), opens.get((m["conn"], m["dst"]))
            if so and ro:
                ctx = session_ctx(so, ro)
            else:
                ctx = {"as4": True, "add_path": [], "ext_msg": False}
            sender = peers.get(m["src"], "unknown")
            receiver = peers.get(m["dst"], "unknown")
            mtype = b[18]
            body = b[19:]
            try:
                if mtype == 1:
                    text, rfcs = describe_open(parse_open(body))
                    tags = ["open", f"{sname.split('-')[0]}-to-{receiver}", "ipv6" if ":" in m["src"] else "ipv4"]
                    text = "OPEN: " + text
                    rfcs = ["RFC 4271 §4.2", "RFC 5492"] + rfcs
                elif mtype == 2:
                    tags, text, rfcs = describe_update(body, ctx, None)
                    tags = ["update"] + tags if not tags[0].startswith("eor") else tags
                elif mtype == 3:
                    tags, text, rfcs = describe_notification(body)
                elif mtype == 4:
                    tags, text, rfcs = ["keepalive"], "KEEPALIVE", ["RFC 4271 §4.4"]
                elif mtype == 5:
                    tags, text, rfcs = describe_refresh(body)
                else:
                    tags, text, rfcs = [f"type{mtype}"], f"message type {mtype}", []
            except (struct.error, IndexError, ValueError) as e:
                tags, text, rfcs = ["undecodable"], f"message the helper could not describe ({e})", []
            sv = versions.get(sender, sender)
            rv = versions.get(receiver, receiver)
            transport = "IPv6" if ":" in m["src"] else "IPv4"
            kind = scen.get(sname, sname)
            if so and ro:
                sa = open_info(so).get("as4_asn", so["asn"])
                ra = open_info(ro).get("as4_asn", ro["asn"])
                ibgp = "iBGP" if sa == ra else "eBGP"
                kind = f"{ibgp} AS {sa} -> AS {ra}" + ("" if ctx["as4"] else " (2-octet AS session)")
            source = f"captured: {sv} -> {rv}, {kind}, TCP over {transport}, scenario {sname}, {tool} on veth in netns, {date}"
            base = f"{sender}-" + "-".join(dict.fromkeys(t for t in tags if t))
            base = base[:80]
            name = base
            if name in used_names:
                base = name = f"{base}-{sname.split('-')[0]}"
            k = 2
            while name in used_names:
                name = f"{base}-{k}"
                k += 1
            used_names.add(name)
            vec = {
                "description": f"{text} (sent by {sv} to {rv})",
                "rfc": ", ".join(dict.fromkeys(rfcs)),
                "source": source,
                "ctx": ctx,
                "hex": fmt_hex(b),
            }
            path = os.path.join(outdir, name + ".json")
            with open(path, "w") as f:
                json.dump(vec, f, indent=2)
                f.write("\n")
            seen[b] = path
            written += 1
    print(f"wrote {written} vectors to {outdir}", file=sys.stderr)


def norm_hex(h):
    return bytes.fromhex("".join(c for c in h if c in "0123456789abcdefABCDEF"))


def fmt_hex(b):
    return f"{b[:16].hex()} {b[16:18].hex()} {b[18:19].hex()} {b[19:].hex()}".rstrip()


if __name__ == "__main__":
    main()
