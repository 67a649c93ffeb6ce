#!/usr/bin/env bash
# Control-socket latency under load (issue 6): `show status` / `show peers` round trips
# while wren ingests and drops N prefixes, on loopback.
#
#   loadgen send 127.0.0.2 ──BGP──> wren 127.0.0.1:PORT (passive eBGP peer, [fib] dry_run)
#   ctlprobe ──control socket──> wren   (show-status / show-peers back to back)
#
# Each round: a loadgen connects and pushes N /24s in full UPDATEs; once wren holds all N the
# loadgen is killed and wren withdraws them all (that is load too). The probe runs through
# every round and reports p50 / p99 / max over all requests and over those sent while wren
# was ingesting (its last `show status` had 0 < paths < N).
#
# Usage: proto-tests/bench/control-latency.sh [--prefixes N] [--rounds R] [--keep]
#          [--bin DIR] [--perf] [--explain PREFIX]
# Needs cargo (release build; --bin DIR: use DIR/wren, DIR/examples/{loadgen,ctlprobe}
# as they are, e.g. an older build to compare). --perf: `perf record -g` the daemon for
# the whole run (perf.data in the kept work directory). Uses 127.0.0.1 and 127.0.0.2
# only; everything started is killed by PID on exit. --explain PREFIX: every third probe
# request is `explain PREFIX`, which the owner loop answers (reported as owner_*).
set -euo pipefail
cd "$(dirname "$0")/../.."

prefixes=500000
rounds=3
keep=0
port=21790
bin=
perf=0
explain=()
while [ $# -gt 0 ]; do
  case $1 in
    --prefixes) prefixes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --bin) bin=$2; shift 2 ;;
    --perf) perf=1; keep=1; shift ;;
    --explain) explain=(--explain "$2"); shift 2 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "control-latency.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done

work=$(mktemp -d "/tmp/wren-ctlbench-$$.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$keep" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '==> %s\n' "$*" >&2; }
die() { echo "control-latency.sh: $*" >&2; exit 1; }

if [ -z "$bin" ]; then
  cargo build --release --quiet --bin wren --example loadgen --example ctlprobe
  bin=target/release
fi
sock="$work/wren.sock"
cat >"$work/wren.toml" <<EOF
[router]
asn = 64512
router_id = "127.0.0.1"
listen = ["127.0.0.1:$port"]

[[peer]]
name = "feed"
address = "127.0.0.2"
asn = 65001
passive = true
hold_time = 240
families = ["ipv4"]
import = "accept-all"

[control]
socket = "$sock"

[metrics]
listen = ""

[fib]
dry_run = true
EOF

"$bin/wren" run --config "$work/wren.toml" 2>"$work/wren.log" &
wren_pid=$!
pids+=("$wren_pid")

# paths: the daemon's path count (empty if it does not answer).
paths() {
  "$bin/wren" show status -o json --socket "$sock" 2>/dev/null |
    sed -n 's/^ *"paths": \([0-9]*\).*/\1/p'
}
wait_paths() { # wait_paths N: until wren holds N paths (60 s at most)
  local i
  for i in $(seq 600); do
    [ "$(paths)" = "$1" ] && return 0
    sleep 0.1
  done
  die "wren did not reach $1 paths (has $(paths))"
}
wait_paths 0
if [ "$perf" = 1 ]; then
  perf record -g -o "$work/perf.data" -p "$wren_pid" 2>"$work/perf.log" &
  pids+=("$!")
fi

"$bin/examples/ctlprobe" --socket "$sock" --seconds 600 --full "$prefixes" \
  --until "$work/stop" "${explain[@]}" >"$work/probe.json" &
probe_pid=$!
pids+=("$probe_pid")
sleep 0.5

t0=$(date +%s.%N)
for r in $(seq "$rounds"); do
  "$bin/examples/loadgen" send --connect "127.0.0.1:$port" --local 127.0.0.2 --asn 65001 \
    --prefixes "$prefixes" >"$work/loadgen-$r.json" 2>&1 &
  lg=$!
  pids+=("$lg")
  wait_paths "$prefixes"
  log "round $r: wren holds $prefixes paths; dropping the session"
  kill "$lg" 2>/dev/null || true
  wait "$lg" 2>/dev/null || true
  wait_paths 0
done
t1=$(date +%s.%N)
touch "$work/stop"
wait "$probe_pid" || true

cpu=$(awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$wren_pid/stat")
echo "rounds=$rounds prefixes=$prefixes load_seconds=$(echo "$t1 - $t0" | bc) wren_cpu_s=$cpu"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$work/probe.json"
