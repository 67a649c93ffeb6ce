#!/usr/bin/env python3
"""Route and peer checks for the interop cases (called by lib.sh).

  iocheck.py norm  KIND PREFIX           < raw   print the normalised routes, one JSON per line
  iocheck.py match KIND PREFIX KEY=VAL.. < raw   exit 0 when the routes match (see below)
  iocheck.py peer  PEER [KEY=VAL..]      < json  `wren show peers -o json`: check one peer

KIND is the daemon whose output is on stdin: wren (`wren show routes -o json`), wren-fib
(`wren show fib -o json`), bird2 and
bird1 (`birdc show route [PREFIX] all`), frr (`vtysh -c 'show bgp AF unicast PREFIX json'`),
gobgp (`gobgp global rib -a AF -j`), openbgpd (`bgpctl -j show rib`) or exabgp (the JSON
messages ExaBGP passed to its API process, replayed). An empty PREFIX means every prefix.

A normalised route: {"prefix", "next_hop": [addresses], "from", "path_id", "best",
"stale", "originator", "cluster": [ids], "aspath": "65001 65002", "communities": ["A:B"],
"local_pref"};
a field a daemon does not show is null.

match keys (every given key must hold for a path to count):
  nh=ADDR          one of the path's next hops is ADDR
  from=NAME        the path came from NAME (wren: the peer name; BIRD: the protocol)
  originator=ID    ORIGINATOR_ID
  cluster=ID[,ID]  CLUSTER_LIST exactly
  aspath="A B"     AS path exactly ("" for an empty path)
  community=A:B    the path carries that community
  lp=N             LOCAL_PREF
  kind=K           FIB entries (KIND wren-fib, `wren show fib -o json`): unicast|blackhole
  stale=true|false, best=true|false, multipath=true|false (wren), path_id=N
  paths=N          exactly N matching paths (default: at least one); paths=0 means none
peer keys: state=S, KEY=VALUE for any field (compared as text), KEY~TEXT (case-insensitive
substring of the field), KEY!=VALUE.
"""

import json
import re
import sys

# ===================================================================== normalisers


def route(prefix, **kw):
    r = {
        "prefix": prefix,
        "next_hop": [],
        "from": None,
        "path_id": None,
        "best": None,
        "stale": None,
        "originator": None,
        "cluster": None,
        "aspath": None,
        "communities": None,
        "local_pref": None,
        "kind": None,
        "multipath": None,
    }
    r.update(kw)
    return r


def aspath_text(segments):
    """wren's / FRR's / GoBGP's AS path segments as BIRD-like text (sets in braces)."""
    out = []
    for seg in segments or []:
        asns = seg.get("asns", seg.get("list", []))
        kind = str(seg.get("kind", seg.get("type", seg.get("segment_type", "sequence"))))
        if kind in ("set", "as-set", "1"):
            out.append("{" + ",".join(str(a) for a in asns) + "}")
        else:
            out.extend(str(a) for a in asns)
    return " ".join(out)


def community_text(c):
    """A community as "A:B" (wren's JSON has the 32-bit number)."""
    if isinstance(c, int):
        return "%d:%d" % (c >> 16, c & 0xFFFF)
    return str(c)


def norm_wren(text):
    out = []
    for r in json.loads(text or "[]"):
        a = r.get("attrs") or {}
        comms = a.get("communities")
        nh = r.get("next_hop")
        out.append(
            route(
                r["prefix"],
                next_hop=nh if isinstance(nh, list) else ([nh] if nh else []),
                path_id=r.get("path_id"),
                best=r.get("best"),
                stale=r.get("stale"),
                originator=a.get("originator_id"),
                cluster=a.get("cluster_list"),
                aspath=aspath_text(a.get("as_path")),
                communities=[community_text(c) for c in comms] if comms is not None else None,
                local_pref=a.get("local_pref"),
                multipath=r.get("multipath"),
                **{"from": r.get("peer")},
            )
        )
    return out


def norm_wren_fib(text):
    """`wren show fib -o json`: kind and next hops per prefix."""
    return [route(r["prefix"], next_hop=r.get("next_hops") or [], kind=r.get("kind"))
            for r in json.loads(text or "[]")]


BIRD_HEAD = re.compile(r"^(\S+)?\s+(.*?)\[(\S+) [^\]]*\]\s*(\*)?")


def norm_bird(text):
    """`show route all` of BIRD 2 and BIRD 1.6: a head line per route (the prefix only
    on the first route of a network), then tab-indented attribute lines."""
    out, prefix, cur = [], None, None
    for line in text.splitlines():
        if line.startswith("\t") or line.startswith("        \t"):
            if cur is None:
                continue
            key, _, val = line.strip().partition(":")
            val = val.strip()
            if key == "BGP.next_hop":
                cur["next_hop"] = val.split()
            elif key == "BGP.originator_id":
                cur["originator"] = val
            elif key == "BGP.cluster_list":
                cur["cluster"] = val.split()
            elif key == "BGP.as_path":
                cur["aspath"] = val
            elif key == "BGP.local_pref":
                cur["local_pref"] = int(val)
            elif key == "BGP.community":
                cur["communities"] = [c.replace(" ", "").strip("()").replace(",", ":")
                                      for c in re.findall(r"\(\d+,\s*\d+\)", val)]
            elif line.strip().startswith("via "):
                cur["_via"] = line.split()[1]
            continue
        m = BIRD_HEAD.match(line)
        if not m or line.startswith(("BIRD ", "Table ", "Network not")):
            continue
        if m.group(1) and "/" in m.group(1):
            prefix = m.group(1)
        cur = route(prefix, best=bool(m.group(4)), stale=None, **{"from": m.group(3)})
        via = re.search(r"via (\S+)", m.group(2))
        if via:
            cur["_via"] = via.group(1)
        out.append(cur)
    for r in out:
        via = r.pop("_via", None)
        if not r["next_hop"] and via:
            r["next_hop"] = [via]
    return out


def frr_path(prefix, p):
    nhs = [n.get("ip") for n in p.get("nexthops", []) if n.get("ip")]
    cl = p.get("clusterList")
    if isinstance(cl, dict):
        cl = cl.get("list")
    asp = p.get("aspath")
    if isinstance(asp, dict):
        asp = asp.get("string")
    if asp == "Local":
        asp = ""
    best = p.get("bestpath", {}).get("overall") if "bestpath" in p else p.get("bestpath")
    if best is None and "best" in p:
        best = bool(p.get("best"))
    comm = p.get("community")
    comms = comm.get("string", "").split() if isinstance(comm, dict) else None
    peer = p.get("peer", {})
    return route(
        prefix,
        next_hop=nhs,
        path_id=p.get("addpathRxId"),
        best=bool(best),
        stale=bool(p.get("stale", False)),
        originator=p.get("originatorId"),
        cluster=cl,
        aspath=asp if asp is not None else p.get("path"),
        communities=comms,
        local_pref=p.get("locPrf"),
        **{"from": peer.get("peerId") if isinstance(peer, dict) else p.get("peerId")},
    )


def norm_frr(text):
    d = json.loads(text or "{}")
    out = []
    if "paths" in d:
        out.extend(frr_path(d["prefix"], p) for p in d["paths"])
    for pfx, paths in (d.get("routes") or {}).items():
        out.extend(frr_path(pfx, p) for p in paths)
    return out


def norm_gobgp(text):
    try:
        d = json.loads(text or "{}")
    except json.JSONDecodeError:
        return []  # "Network not in table"
    out = []
    for pfx, paths in d.items():
        for p in paths:
            r = route(pfx, best=p.get("best"), stale=p.get("stale"), path_id=p.get("id"),
                      **{"from": p.get("neighbor-ip")})
            for a in p.get("attrs", []):
                t = a.get("type")
                if t in (3, 14) and a.get("nexthop"):
                    r["next_hop"].append(a["nexthop"])
                elif t == 2:
                    r["aspath"] = aspath_text(a.get("as_paths"))
                elif t == 5:
                    r["local_pref"] = a.get("value")
                elif t == 9:
                    r["originator"] = a.get("value")
                elif t == 10:
                    r["cluster"] = a.get("value")
                elif t == 8:
                    r["communities"] = ["%d:%d" % (c >> 16, c & 0xFFFF) for c in a.get("communities", [])]
            out.append(r)
    return out


def norm_openbgpd(text):
    try:
        d = json.loads(text or "{}")
    except json.JSONDecodeError:
        return []
    out = []
    for p in d.get("rib", []):
        out.append(
            route(
                p["prefix"],
                next_hop=[p.get("exit_nexthop")],
                best=p.get("best", False),
                aspath=p.get("aspath"),
                originator=p.get("originator_id"),
                cluster=p.get("cluster_list"),
                communities=p.get("communities"),
                path_id=p.get("path_id"),
                local_pref=p.get("localpref"),
                **{"from": p.get("neighbor", {}).get("remote_addr")},
            )
        )
    return out


def norm_exabgp(text):
    """Replay ExaBGP's received UPDATEs: the Adj-RIB-In it holds now."""
    rib = {}  # (peer, prefix, path_id) -> route
    for line in text.splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        nb = m.get("neighbor", {})
        peer = nb.get("address", {}).get("peer")
        if m.get("type") == "state" and nb.get("state") in ("down", "connected"):
            rib = {k: v for k, v in rib.items() if k[0] != peer}
            continue
        if m.get("type") != "update":
            continue
        upd = nb.get("message", {}).get("update", {})
        attrs = upd.get("attribute", {})
        for fam, by_nh in (upd.get("announce") or {}).items():
            if "unicast" not in fam:
                continue
            for nh, nlris in by_nh.items():
                for n in nlris:
                    pfx = n["nlri"] if isinstance(n, dict) else n
                    pid = n.get("path-information") if isinstance(n, dict) else None
                    rib[(peer, pfx, pid)] = route(
                        pfx,
                        next_hop=[nh],
                        path_id=pid,
                        originator=attrs.get("originator-id"),
                        cluster=attrs.get("cluster-list"),
                        aspath=" ".join(str(a) for a in attrs.get("as-path", [])),
                        communities=["%d:%d" % tuple(c) for c in attrs.get("community", [])],
                        local_pref=attrs.get("local-preference"),
                        **{"from": peer},
                    )
        for fam, nlris in (upd.get("withdraw") or {}).items():
            for n in nlris:
                pfx = n["nlri"] if isinstance(n, dict) else n
                pid = n.get("path-information") if isinstance(n, dict) else None
                rib.pop((peer, pfx, pid), None)
    return list(rib.values())


NORM = {
    "wren": norm_wren,
    "wren-fib": norm_wren_fib,
    "bird2": norm_bird,
    "bird1": norm_bird,
    "frr": norm_frr,
    "gobgp": norm_gobgp,
    "openbgpd": norm_openbgpd,
    "exabgp": norm_exabgp,
}

# ===================================================================== matching


def path_matches(r, key, val):
    if key == "nh":
        return val in (r["next_hop"] or [])
    if key == "from":
        return r["from"] is not None and str(r["from"]) == val
    if key == "originator":
        return r["originator"] == val
    if key == "cluster":
        return (r["cluster"] or []) == [c for c in val.split(",") if c]
    if key == "aspath":
        return (r["aspath"] or "").strip() == val.strip()
    if key == "community":
        return val in (r["communities"] or [])
    if key == "kind":
        return r["kind"] == val
    if key == "lp":
        return r["local_pref"] is not None and int(r["local_pref"]) == int(val)
    if key == "stale" and r["stale"] is None:
        return True  # BIRD does not show staleness (a BIRD stand-in for wren)
    if key in ("stale", "best", "multipath"):
        return r[key] is not None and bool(r[key]) == (val == "true")
    if key == "path_id":
        return r["path_id"] is not None and int(r["path_id"]) == int(val)
    raise SystemExit("iocheck: unknown key %r" % key)


def cmd_match(kind, prefix, conds):
    raw = sys.stdin.read()
    try:
        routes = [r for r in NORM[kind](raw) if not prefix or r["prefix"] == prefix]
    except (ValueError, KeyError, TypeError) as e:
        print("iocheck: cannot read %s output (%s): %r" % (kind, e, raw[:300]))
        return 1
    want = None
    keys = []
    for c in conds:
        k, _, v = c.partition("=")
        if k == "paths":
            want = int(v)
        else:
            keys.append((k, v))
    hits = [r for r in routes if all(path_matches(r, k, v) for k, v in keys)]
    ok = len(hits) == want if want is not None else len(hits) >= 1
    if not ok:
        print("want %s path(s) of %s with %s; it holds:" % (
            "at least 1" if want is None else want, prefix, " ".join(conds) or "(any)"))
        for r in routes:
            print("  " + json.dumps(r, sort_keys=True))
        if not routes:
            print("  (nothing)")
    return 0 if ok else 1


def bird_protocols(raw):
    """BIRD's `show protocols` as wren's peer list (name, state, last_down): lets a
    BIRD stand-in (IO_STANDIN=1) answer the peer checks."""
    peers = []
    for line in raw.splitlines()[2:]:
        f = line.split(None, 5)
        if len(f) >= 5 and f[1] == "BGP":
            info = f[5] if len(f) > 5 else ""
            state = info.split()[0].lower() if info else "idle"
            peers.append({"name": f[0], "state": state, "_standin": True,
                          "last_down": None if state == "established" else info})
    return peers


def cmd_peer(name, conds):
    raw = sys.stdin.read()
    peers = bird_protocols(raw) if raw.startswith("BIRD ") else json.loads(raw or "[]")
    p = next((x for x in peers if x.get("name") == name or x.get("address") == name), None)
    if p is None:
        print("no peer %s in %s" % (name, raw[:300]))
        return 1
    bad = []
    for c in conds:
        if "!=" in c:
            k, v = c.split("!=", 1)
            good = str(jtext(p.get(k))) != v
        elif "~" in c:
            k, v = c.split("~", 1)
            good = v.lower() in str(jtext(p.get(k))).lower()
        else:
            k, v = c.split("=", 1)
            good = str(jtext(p.get(k))) == v
        if p.get("_standin") and k not in p:
            good = True  # BIRD does not show it
        if not good:
            bad.append(c)
    if bad or not conds:
        print(json.dumps(p, sort_keys=True))
    if bad:
        print("peer %s: not %s" % (name, " ".join(bad)))
        return 1
    return 0


def jtext(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return v


def main(argv):
    if len(argv) >= 3 and argv[0] == "norm":
        for r in NORM[argv[1]](sys.stdin.read()):
            if not argv[2] or r["prefix"] == argv[2]:
                print(json.dumps(r, sort_keys=True))
        return 0
    if len(argv) >= 3 and argv[0] == "match":
        return cmd_match(argv[1], argv[2], argv[3:])
    if len(argv) >= 2 and argv[0] == "peer":
        return cmd_peer(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
