#!/usr/bin/env bash
# Performance regression guard (CI): a small relay and a small route-reflector fan-out with
# wren alone, measured in deterministic work, compared with proto-tests/bench/baseline.json.
#
#   instructions  wren's user-space instructions under `valgrind --tool=callgrind` (the
#                 whole life of the daemon: start, sessions, routes, shutdown), the lowest
#                 of three runs of each;
#   bytes         wren's peak RSS minus its RSS before the routes came, per route held
#                 (a native run; VmHWM and VmRSS from /proc).
# A measure more than 25 % above its baseline fails the guard (WREN_GUARD_TOLERANCE=0.25).
# Measures are per build profile (debug by default: CI has the debug build from
# `cargo test`; WREN_GUARD_PROFILE=release for release binaries).
#
#   proto-tests/bench/guard.sh            # measure and compare (about 1 min)
#   proto-tests/bench/guard.sh --update   # measure and write the baseline (commit it)
#
# Needs root (network namespaces) and valgrind; SKIPPED otherwise (exit 77).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=proto-tests/bench/lib.sh
source proto-tests/bench/lib.sh

update=0
[[ ${1:-} == --update ]] && update=1
profile=${WREN_GUARD_PROFILE:-debug}
tolerance=${WREN_GUARD_TOLERANCE:-0.25}
relay_prefixes=20000
rr_clients=40
baseline=proto-tests/bench/baseline.json

skip() {
	echo "!!! SKIPPED: bench guard: $*" >&2
	exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
command -v valgrind >/dev/null || skip "valgrind is not installed (apt-get install valgrind)"

flags=()
[[ $profile == release ]] && flags=(--release)
cargo build "${flags[@]}" --quiet --bin wren --example loadgen
export WREN_BIN=$PWD/target/$profile/wren BENCH_LOADGEN=$PWD/target/$profile/examples/loadgen
work=$(mktemp -d /tmp/wren-guard.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A wren that runs `wren run` under callgrind (other subcommands run as they are).
cat >"$work/wren-cg" <<EOF
#!/bin/sh
[ "\$1" = run ] || exec "$WREN_BIN" "\$@"
exec valgrind --tool=callgrind --callgrind-out-file="$work/cg.\$\$" "$WREN_BIN" "\$@" 2>>"$work/valgrind.log"
EOF
chmod +x "$work/wren-cg"
# valgrind reads the debug binary's symbols before wren opens its socket: on a loaded
# machine that takes longer than the harness's usual 10 s start wait.
export IO_START_WAIT=60

# instructions FILE: total Ir of a callgrind output.
instructions() { sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$1" | head -n 1; }

# one_cg: the only callgrind output so far (then moved aside).
one_cg() {
	local f
	f=$(ls "$work"/cg.* 2>/dev/null | head -n 1)
	[[ -n $f ]] || { echo "no callgrind output; $(tail -n 5 "$work/valgrind.log" 2>/dev/null)" >&2 && return 1; }
	instructions "$f"
	mv "$f" "$work/done.$(basename "$f")"
}

# min A B: the smaller number (A may be empty).
min() { if [[ -z $1 ]] || (($2 < $1)); then echo "$2"; else echo "$1"; fi; }

t0=$SECONDS
echo "==> relay, $relay_prefixes prefixes: native, then under callgrind"
proto-tests/bench/relay.sh --dut wren --prefixes "$relay_prefixes" --no-build --timeout 120 \
	--out "$work/relay.jsonl" >/dev/null
# Instruction counts move with how the work is batched (thread timing): the lowest of three runs.
# The relay has modes: whether the receiver's join and the sender's routes fall into one
# flush (a full sync of the table on top of the per-prefix work) or not. The same build
# measured 393M (CI), 458M, 500M, 590M and 635M; the baseline is the upper mode, so a
# failure means work grew, not that the timing changed.
relay_ir=
for _ in 1 2 3; do
	WREN_BIN=$work/wren-cg proto-tests/bench/relay.sh --dut wren --prefixes "$relay_prefixes" --no-build \
		--timeout 300 --out "$work/relay-cg.jsonl" >/dev/null
	relay_ir=$(min "$relay_ir" "$(one_cg)")
done
echo "==> rr-fanout, $rr_clients clients: native, then under callgrind"
BENCH_FLEET_ARGS=--burst proto-tests/bench/scenario.sh rr-fanout wren --clients "$rr_clients" --timeout 120 --out "$work/rr.jsonl" 2>"$work/rr.log" ||
	{ tail -n 20 "$work/rr.log" >&2 && exit 1; }
# Forty sessions interleave more than one relay: five runs of one build spread over
# 137-168M instructions (2026-11-22), so the lowest of three.
rr_ir=
for _ in 1 2 3; do
	WREN_BIN=$work/wren-cg BENCH_FLEET_ARGS=--burst proto-tests/bench/scenario.sh rr-fanout wren \
		--clients "$rr_clients" --timeout 300 --out "$work/rr-cg.jsonl" 2>"$work/rr-cg.log" ||
		{ tail -n 20 "$work/rr-cg.log" >&2 && exit 1; }
	rr_ir=$(min "$rr_ir" "$(one_cg)")
done
echo "==> measured in $((SECONDS - t0)) s"

python3 - "$baseline" "$profile" "$tolerance" "$update" "$relay_ir" "$rr_ir" "$work" <<'PY'
import json, os, sys
path, profile, tol, update, relay_ir, rr_ir, work = sys.argv[1:]
tol, update = float(tol), update == "1"
relay = json.loads(open(f"{work}/relay.jsonl").readline())
rr = json.loads(open(f"{work}/rr.jsonl").readline())
routes_rr = rr["blocks"] * rr["sessions"]  # every client holds every block (Adj-RIB-Out)
now = {
    "relay_instructions": int(relay_ir),
    "relay_bytes_per_prefix": round((relay["peak_rss_mib"] - relay["rss_before_mib"]) * 2**20 / relay["prefixes"]),
    "rr_fanout_instructions": int(rr_ir),
    "rr_fanout_bytes_per_route_out": round((rr["peak_rss_mib"] - rr["rss_before_mib"]) * 2**20 / routes_rr),
}
base = json.load(open(path)) if os.path.exists(path) else {}
if update:
    base[profile] = now
    base["_comment"] = ("proto-tests/bench/guard.sh: wren's work in a small relay and rr-fanout; "
                        "refresh with `sudo proto-tests/bench/guard.sh --update` "
                        "(WREN_GUARD_PROFILE=release for the release entry)")
    with open(path, "w") as f:
        json.dump(base, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"baseline for {profile} written to {path}: {now}")
    sys.exit(0)
ref = base.get(profile)
if not ref:
    print(f"no {profile} baseline in {path}: run proto-tests/bench/guard.sh --update")
    sys.exit(1)
# Peak-RSS growth of a 40-client run depends on allocator timing: three runs of the same
# build gave 426, 623 and 721 bytes per route. It is reported, not enforced, until it is
# measured deterministically (heap bytes, not RSS).
noisy = {"rr_fanout_bytes_per_route_out"}
bad = []
print(f"| measure ({profile}) | baseline | now | ratio |")
print("|---|---|---|---|")
for k, v in now.items():
    b = ref.get(k)
    ratio = v / b if b else float("nan")
    flag = " **over**" if b and ratio > 1 + tol else ""
    if flag and k in noisy:
        flag = " over (noisy: reported, not enforced)"
    print(f"| {k} | {b} | {v} | {ratio:.2f}{flag} |")
    if flag and k not in noisy:
        bad.append(k)
if bad:
    print(f"FAIL: more than {tol:.0%} above the baseline: {', '.join(bad)} "
          "(if intended, refresh: sudo proto-tests/bench/guard.sh --update)")
    sys.exit(1)
print("bench guard: OK")
PY
