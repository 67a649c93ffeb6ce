#!/usr/bin/env python3
"""Block-affinity latency: datastore write -> route in every remote kernel.

    latency.py --etcd URL --count N OWNER=NETNS [OWNER=NETNS ...]
    latency.py --etcd URL --fill N      (N filler keys of 1 KiB, for a lagging watcher)

Runs where URL (etcd's JSON gateway, /v3/kv/...) is reachable. Each OWNER is a Calico
node name with the network namespace its wren runs in. For change i, node
OWNER[i % n] gets a new block affinity 198.19.(40 + i % n).0/26 (Calico's JSON, as
calicoctl/IPAM writes it); the time until every *other* node's kernel shows the route
(`ip monitor route`) is the add latency. Then the affinity is deleted and the time until
every remote kernel dropped it is the withdraw latency. Prints one line per change and
a summary `add: n=N p50=..ms p99=..ms max=..ms` (and the same for withdraw). Exit 1 if a
change did not arrive within --timeout seconds.
"""

import argparse
import base64
import json
import selectors
import subprocess
import sys
import time
import urllib.request


def b64(s):
    return base64.b64encode(s.encode()).decode()


def etcd(url, path, body):
    req = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        r.read()


class Monitors:
    """One `ip monitor route` per namespace; lines are read as they come."""

    def __init__(self, nodes):
        self.sel = selectors.DefaultSelector()
        self.procs = []
        for name, ns in nodes.items():
            p = subprocess.Popen(
                ["ip", "-n", ns, "-4", "monitor", "route"],
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            self.procs.append(p)
            self.sel.register(p.stdout, selectors.EVENT_READ, name)
        time.sleep(0.3)  # let every monitor subscribe

    def wait(self, prefix, nodes, present, t0, timeout):
        """Seconds from t0 until each of `nodes` saw prefix added (or deleted)."""
        left = set(nodes)
        seen = {}
        end = t0 + timeout
        while left:
            now = time.monotonic()
            if now >= end:
                return None, left
            for key, _ in self.sel.select(end - now):
                line = key.fileobj.readline()
                node = key.data
                if node not in left:
                    continue
                deleted = line.startswith("Deleted ")
                body = line[len("Deleted "):] if deleted else line
                if body.startswith(prefix + " ") and deleted != present:
                    seen[node] = time.monotonic() - t0
                    left.discard(node)
        return seen, left

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def summary(what, xs):
    ms = [x * 1000 for x in xs]
    return "%s: n=%d p50=%.1fms p99=%.1fms max=%.1fms" % (
        what,
        len(ms),
        pct(ms, 0.5),
        pct(ms, 0.99),
        max(ms),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etcd", required=True)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--fill", type=int, default=0, help="only put this many 1 KiB keys under --fill-prefix")
    ap.add_argument("--fill-prefix", default="/calico/resources/v3/projectcalico.org/wrenfill/")
    ap.add_argument("nodes", nargs="*")
    a = ap.parse_args()
    if a.fill:
        for i in range(a.fill):
            etcd(a.etcd, "/v3/kv/put", {"key": b64("%sk%d" % (a.fill_prefix, i)), "value": b64("x" * 1024)})
        return 0
    nodes = dict(n.split("=", 1) for n in a.nodes)
    names = list(nodes)
    mon = Monitors(nodes)
    adds, dels = [], []
    try:
        for i in range(a.count):
            owner = names[i % len(names)]
            remote = [n for n in names if n != owner]
            prefix = "198.19.%d.0/26" % (40 + i % len(names))
            key = "/calico/ipam/v2/host/%s/ipv4/block/%s" % (owner, prefix.replace("/", "-"))
            value = json.dumps({"state": "confirmed", "deleted": False})
            t0 = time.monotonic()
            etcd(a.etcd, "/v3/kv/put", {"key": b64(key), "value": b64(value)})
            seen, left = mon.wait(prefix, remote, True, t0, a.timeout)
            if left:
                print("change %d: %s of %s never reached %s" % (i, prefix, owner, sorted(left)))
                return 1
            add = max(seen.values())
            t0 = time.monotonic()
            etcd(a.etcd, "/v3/kv/deleterange", {"key": b64(key)})
            seen, left = mon.wait(prefix, remote, False, t0, a.timeout)
            if left:
                print("change %d: %s of %s never left %s" % (i, prefix, owner, sorted(left)))
                return 1
            dl = max(seen.values())
            adds.append(add)
            dels.append(dl)
            print("change %d: %s of %s: add %.1fms, withdraw %.1fms" % (i, prefix, owner, add * 1000, dl * 1000))
            sys.stdout.flush()
    finally:
        mon.close()
    print(summary("add", adds))
    print(summary("withdraw", dels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
