#!/usr/bin/env python3
"""Tables of benchmark results (JSON lines from scenario.sh), one per scenario.

Usage: report.py RESULTS.jsonl [--markdown]

Rows are measures, columns the devices under test. A cell of another DUT carries, in
brackets, its value divided by wren's: above 1x it took more time, CPU or memory than wren.
With several runs of the same scenario and DUT, the median is shown.
"""
import json
import statistics
import sys

MEASURES = {
    "rr-fanout": [
        ("first_to_last", "first session up -> last client complete, s", "{:.2f}"),
        ("wall", "tester start -> last client complete, s", "{:.2f}"),
        ("all_up", "first -> last session up, s", "{:.2f}"),
        ("cpu", "DUT CPU, s", "{:.2f}"),
        ("peak_rss_mib", "DUT peak RSS, MiB", "{:.1f}"),
        ("tester_cpu", "tester CPU, s", "{:.2f}"),
    ],
    "mesh": [
        ("wall", "tester start -> full FIB (or observer), s", "{:.2f}"),
        ("fib_wall", "tester start -> full kernel FIB, s", "{:.2f}"),
        ("observer_wall", "tester start -> observer has all, s", "{:.2f}"),
        ("first_to_last", "first session up -> done, s", "{:.2f}"),
        ("all_up", "first -> last session up, s", "{:.2f}"),
        ("cpu", "DUT CPU to converge, s", "{:.2f}"),
        ("idle_cpu_pct", "DUT idle CPU, % of a core", "{:.2f}"),
        ("peak_rss_mib", "DUT peak RSS, MiB", "{:.1f}"),
        ("rss_end_mib", "DUT RSS when idle, MiB", "{:.1f}"),
        ("tester_cpu", "tester CPU, s", "{:.2f}"),
    ],
    "churn": [
        ("flap_median", "flap seen by the observer, median, ms", "{:.1f}", 1000),
        ("flap_p90", "flap seen by the observer, p90, ms", "{:.1f}", 1000),
        ("flap_max", "flap seen by the observer, max, ms", "{:.1f}", 1000),
        ("withdraw_median", "withdrawal, median, ms", "{:.1f}", 1000),
        ("announce_median", "announcement, median, ms", "{:.1f}", 1000),
        ("churn_cpu", "DUT CPU during the churn, s", "{:.2f}"),
        ("flaps", "flaps", "{:.0f}"),
        ("peak_rss_mib", "DUT peak RSS, MiB", "{:.1f}"),
    ],
}
ORDER = ["wren", "bird2", "bird1", "frr", "gobgp", "openbgpd"]
NAMES = {"wren": "wren", "bird2": "BIRD 2", "bird1": "BIRD 1.6", "frr": "FRR",
         "gobgp": "GoBGP", "openbgpd": "OpenBGPD"}


def median(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def table(scen, by_dut):
    duts = [d for d in ORDER if d in by_dut]
    first = by_dut[duts[0]][0]
    runs = max(len(v) for v in by_dut.values())
    print(f"\n### {scen}: {first['sessions']} sessions, {first['blocks']} /26 blocks"
          f" (median of {runs} run(s))\n")
    print("| | " + " | ".join(NAMES[d] for d in duts) + " |")
    print("|---" * (len(duts) + 1) + "|")
    for m in MEASURES[scen]:
        key, label, fmt = m[:3]
        scale = m[3] if len(m) > 3 else 1
        w = median(by_dut["wren"], key) if "wren" in by_dut else None
        cells = []
        for d in duts:
            v = median(by_dut[d], key)
            if v is None:
                cells.append("n/a")
                continue
            cell = fmt.format(v * scale)
            if d != "wren" and w and key not in ("flaps", "tester_cpu"):
                cell += f" ({v / w:.1f}x)"
            cells.append(cell)
        print(f"| {label} | " + " | ".join(cells) + " |")
    loads = [r["load"] for rs in by_dut.values() for r in rs]
    print(f"\nload average at the start of the runs: {min(loads):.1f}-{max(loads):.1f}")
    for d in duts:
        busy = max(r["tester_busy"] for r in by_dut[d])
        if busy > 0.8:
            print(f"WARNING: with {NAMES[d]} the tester used {busy:.2f} of a core: it may be the bottleneck")


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
    by = {}
    for r in rows:
        by.setdefault(r["scenario"], {}).setdefault(r["dut"], []).append(r)
    for scen in ("rr-fanout", "mesh", "churn"):
        if scen in by:
            table(scen, by[scen])
    versions = {r["dut"]: r.get("version", "") for r in rows}
    print("\nversions: " + "; ".join(f"{NAMES[d]}: {v}" for d, v in versions.items() if v))


if __name__ == "__main__":
    main()
