#!/usr/bin/env bash
# Relay benchmark (issue 3): N IPv4 /24 prefixes received from one eBGP peer and advertised to
# another, with the device under test (DUT) in its own network namespace.
#
#   sender ns (AS 65001)          DUT ns (AS 64512)              receiver ns (AS 65002)
#   loadgen send  198.18.1.2 ──veth── 198.18.1.1     DUT     198.18.2.1 ──veth── 198.18.2.2 loadgen recv
#
# DUTs: wren, bird2 (BIRD 2), bird1 (BIRD 1.6 from $BIRD1_ROOT), frr (bgpd -Z: no zebra),
# gobgp (gobgpd), openbgpd; each as two passive eBGP peers, import and export everything,
# nothing written to the kernel.
#
# Both loadgens connect to the DUT (its peers are passive, so nothing waits for a retry timer).
# The receiver comes up first, then the sender pushes N prefixes in full 4096-byte UPDATEs and
# End-of-RIB. Measured for the DUT:
#   relay wall  = receiver's last prefix - sender's first UPDATE written (the DUT's work);
#   total wall  = receiver's last prefix - sender's session up;
#   CPU seconds = utime+stime from /proc/PID/stat, before the sender starts and when the
#                 receiver holds all N (plus the value 2 s later, to show work left over);
#   peak RSS    = VmHWM from /proc/PID/status (the whole life of the process).
# Both are summed over every process in the DUT's namespace (OpenBGPD runs three).
# The loadgens report their own CPU so that the table shows they were not the bottleneck.
#
# Usage: proto-tests/bench/relay.sh [--prefixes N] [--dut DUT[,DUT...]|all] [--runs R] [--fib]
#                                   [--perf] [--keep] [--timeout SECS] [--out FILE] [--no-build]
#   --fib    the fib scenario fed by BGP: the DUT also writes what it learns to its kernel table
#            (wren [fib] enabled, BIRD's kernel protocol `export all`, FRR bgpd with zebra).
#            Also measured: fib wall = the DUT's main table holds all N more prefixes
#            (/proc/net/fib_triestat, polled every 20 ms) - sender's first UPDATE; then the
#            sender is stopped, and withdraw wall = the table is back to its size before.
#            DUTs: wren, bird2, bird1, frr (all = these). GoBGP needs a zebra and its client
#            (3.10) cannot read Debian's FRR 8.4 zebra; portable OpenBGPD has no Linux FIB.
#   --perf   record the DUT with `perf record --call-graph dwarf` during the relay (report in the work dir)
#   --keep   keep the work directory (configs, logs, JSON, perf data)
#   --out    also append each run's JSON result line to FILE
#   --no-build  use the binaries as they are: $WREN_BIN (default target/release/wren) and
#            $BENCH_LOADGEN (default target/release/examples/loadgen); guard.sh uses debug ones
# WREN_BENCH_WRAP="valgrind --tool=massif --massif-out-file=/tmp/m.out" runs wren under that
# command (for a heap profile; its CPU and RSS figures are then meaningless).
#   --dut    a comma-separated list (default all = bird2,bird1,frr,gobgp,openbgpd,wren; GoBGP
#            alone takes about 2 minutes of the 300 s timeout for 500k prefixes)
# Needs root (network namespaces), cargo, and the DUTs' packages: bird2, frr, gobgpd,
# openbgpd (Debian), BIRD 1.6 unpacked under $BIRD1_ROOT (default /opt/bird1).
# Namespaces are wren-bench-<pid>-{snd,dut,rcv}; everything started is killed by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=proto-tests/bench/lib.sh
source proto-tests/bench/lib.sh

prefixes=500000
dut=all
runs=1
perf=0
fib=0
keep=0
out_file=""
build=1
timeout=300
while [ $# -gt 0 ]; do
  case $1 in
    --prefixes) prefixes=$2; shift 2 ;;
    --dut) dut=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --perf) perf=1; shift ;;
    --fib) fib=1; shift ;;
    --keep) keep=1; shift ;;
    --out) out_file=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    -h | --help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "relay.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done
all_duts=(bird2 bird1 frr gobgp openbgpd wren)
[ "$fib" = 1 ] && all_duts=(bird2 bird1 frr wren)
[ "$dut" = all ] && dut=$(IFS=,; echo "${all_duts[*]}")
IFS=, read -ra duts <<<"$dut"
for d in "${duts[@]}"; do
  [[ " ${all_duts[*]} " == *" $d "* ]] || { echo "relay.sh: --dut ${all_duts[*]}|all (comma-separated)" >&2; exit 64; }
done
bird1_root=${BIRD1_ROOT:-/opt/bird1}

tag="wren-bench-$$"
ns_s="$tag-snd" ns_d="$tag-dut" ns_r="$tag-rcv"
work=$(mktemp -d "/tmp/$tag.XXXXXX")
pids=()

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in $(ns_pids "$ns_d"); do kill -9 "$p" 2>/dev/null || true; done
  for ns in "$ns_s" "$ns_d" "$ns_r"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "$keep" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "relay.sh: $*" >&2; exit 1; }
log() { printf '==> %s\n' "$*" >&2; }

# stop PID: kill one process we started and wait for it.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

setup_netns() {
  local ns
  for ns in "$ns_s" "$ns_d" "$ns_r"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  # Interface names stay under 15 characters: wb<pid><side>.
  ip link add "wb$$s" netns "$ns_s" type veth peer name "wb$$a" netns "$ns_d"
  ip link add "wb$$r" netns "$ns_r" type veth peer name "wb$$b" netns "$ns_d"
  ip -n "$ns_s" addr add 198.18.1.2/24 dev "wb$$s"
  ip -n "$ns_d" addr add 198.18.1.1/24 dev "wb$$a"
  ip -n "$ns_d" addr add 198.18.2.1/24 dev "wb$$b"
  ip -n "$ns_r" addr add 198.18.2.2/24 dev "wb$$r"
  ip -n "$ns_s" link set "wb$$s" up
  ip -n "$ns_d" link set "wb$$a" up
  ip -n "$ns_d" link set "wb$$b" up
  ip -n "$ns_r" link set "wb$$r" up
}

bird_conf() {
  cat <<EOF
# BIRD 2 as a plain eBGP relay: two sessions, everything imported and exported, no kernel
# protocol (like wren with [fib] enabled = false).
log "$work/bird.log" all;
router id 198.18.1.1;
protocol device { }
$([ "$fib" = 1 ] && echo 'protocol kernel { ipv4 { export all; }; }')
protocol bgp sender {
  local 198.18.1.1 as 64512;
  neighbor 198.18.1.2 as 65001;
  passive on;
  hold time 240;
  ipv4 { import all; export all; };
}
protocol bgp receiver {
  local 198.18.2.1 as 64512;
  neighbor 198.18.2.2 as 65002;
  passive on;
  hold time 240;
  ipv4 { import all; export all; };
}
EOF
}

wren_conf() {
  cat <<EOF
# wren as a plain eBGP relay, the same as the BIRD 2 config beside it.
[router]
asn = 64512
router_id = "198.18.1.1"
listen = ["0.0.0.0:179"]

[[peer]]
name = "sender"
address = "198.18.1.2"
asn = 65001
passive = true
families = ["ipv4"]
hold_time = 240
graceful_restart = false
import = "accept-all"
export = "accept-all"

[[peer]]
name = "receiver"
address = "198.18.2.2"
asn = 65002
passive = true
families = ["ipv4"]
hold_time = 240
graceful_restart = false
import = "accept-all"
export = "accept-all"

[fib]
enabled = $([ "$fib" = 1 ] && echo true || echo false)

[control]
socket = "$work/wren.sock"

[metrics]
listen = ""
EOF
}

# bird1_conf: BIRD 1.6, the same as bird_conf in its own syntax (no channels).
bird1_conf() {
  bird_conf | sed -e 's/ipv4 { import all; export all; };/import all; export all;/' \
    -e 's/ipv4 { export all; };/export all;/'
}

frr_conf() {
  cat <<EOF
! FRR bgpd without zebra (-Z -n): two passive eBGP peers, everything imported and exported.
frr defaults traditional
hostname dut
log file $work/frr.log warnings
router bgp 64512
 bgp router-id 198.18.1.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 198.18.1.2 remote-as 65001
 neighbor 198.18.2.2 remote-as 65002
 neighbor 198.18.1.2 passive
 neighbor 198.18.2.2 passive
 neighbor 198.18.1.2 timers 80 240
 neighbor 198.18.2.2 timers 80 240
 neighbor 198.18.1.2 advertisement-interval 0
 neighbor 198.18.2.2 advertisement-interval 0
 neighbor 198.18.1.2 disable-connected-check
 neighbor 198.18.2.2 disable-connected-check
 address-family ipv4 unicast
  neighbor 198.18.1.2 activate
  neighbor 198.18.2.2 activate
 exit-address-family
EOF
}

gobgp_conf() {
  local a
  cat <<EOF
# gobgpd: two passive eBGP peers; its default policies accept everything both ways and it
# has no FIB unless a zebra is configured.
[global.config]
  as = 64512
  router-id = "198.18.1.1"
EOF
  for a in 198.18.1.2:65001 198.18.2.2:65002; do
    cat <<EOF
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${a%:*}"
    peer-as = ${a#*:}
  [neighbors.timers.config]
    hold-time = 240
    keepalive-interval = 80
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
EOF
  done
}

openbgpd_conf() {
  cat <<EOF
# OpenBGPD: two passive eBGP peers, everything allowed both ways, no FIB.
AS 64512
router-id 198.18.1.1
socket "$work/openbgpd.sock"
fib-update no
holdtime 240
neighbor 198.18.1.2 {
  remote-as 65001
  passive
}
neighbor 198.18.2.2 {
  remote-as 65002
  passive
}
allow from any
allow to any
EOF
}

# start_dut NAME: start the DUT in its namespace; sets dut_pid.
start_dut() {
  local err="$work/$1.err"
  case $1 in
    bird2)
      bird_conf >"$work/bird.conf"
      ip netns exec "$ns_d" bird -f -c "$work/bird.conf" -s "$work/bird.ctl" 2>"$err" &
      ;;
    bird1)
      bird1_conf >"$work/bird1.conf"
      ip netns exec "$ns_d" "$bird1_root/usr/sbin/bird" -f -c "$work/bird1.conf" \
        -s "$work/bird1.ctl" -P "$work/bird1.pid" 2>"$err" &
      ;;
    frr)
      frr_conf >"$work/frr.conf"
      mkdir -p "$work/frr.vty"
      local zopts=(-Z -n)
      [ "$fib" = 1 ] && start_zebra && zopts=(-z "$work/zebra/zserv.api")
      ip netns exec "$ns_d" /usr/lib/frr/bgpd "${zopts[@]}" -S -u root -g root -f "$work/frr.conf" \
        -i "$work/frr.pid" --vty_socket "$work/frr.vty" -P 0 >"$err" 2>&1 &
      ;;
    gobgp)
      gobgp_conf >"$work/gobgp.toml"
      ip netns exec "$ns_d" gobgpd -f "$work/gobgp.toml" -l warn --api-hosts 127.0.0.1:50051 \
        --pprof-disable >"$err" 2>&1 &
      ;;
    openbgpd)
      openbgpd_conf >"$work/openbgpd.conf"
      chmod 0600 "$work/openbgpd.conf"
      install -d -o _openbgpd -g _openbgpd -m 0755 /run/openbgpd
      ip netns exec "$ns_d" /usr/sbin/bgpd -d -f "$work/openbgpd.conf" >"$err" 2>&1 &
      ;;
    wren)
      wren_conf >"$work/wren.toml"
      # shellcheck disable=SC2086 # WREN_BENCH_WRAP is a command line, split on purpose
      ip netns exec "$ns_d" env WREN_LOG="${WREN_LOG:-warn}" ${WREN_BENCH_WRAP:-} "$wren_bin" run \
        --config "$work/wren.toml" 2>"$err" &
      ;;
  esac
  dut_pid=$!
  pids+=("$dut_pid")
  # The daemons that load more (FRR, GoBGP, OpenBGPD's three processes) get longer.
  case $1 in bird* | wren) sleep 0.3 ;; *) sleep 1.5 ;; esac
  kill -0 "$dut_pid" 2>/dev/null || die "$1 did not start: $(tail -5 "$err" 2>/dev/null)"
}

# start_zebra: FRR's zebra in the DUT's namespace (the fib scenario), as the frr user: as
# root it refuses to start unless root is in the frrvty group.
start_zebra() {
  chmod 0755 "$work"
  install -d -m 0777 "$work/zebra"
  printf 'hostname dut\nlog file %s warnings\n' "$work/zebra/zebra.log" >"$work/zebra/zebra.conf"
  ip netns exec "$ns_d" /usr/lib/frr/zebra -u frr -g frr -z "$work/zebra/zserv.api" \
    -i "$work/zebra/zebra.pid" --vty_socket "$work/zebra" -f "$work/zebra/zebra.conf" -P 0 \
    >"$work/zebra.err" 2>&1 &
  pids+=($!)
  local end=$((SECONDS + 10))
  until [ -S "$work/zebra/zserv.api" ]; do
    [ $SECONDS -lt $end ] || die "zebra did not start: $(tail -3 "$work/zebra.err")"
    sleep 0.05
  done
}

# fib_count: prefixes in the DUT's main table (the kernel's own count, no route dump).
fib_count() {
  ip netns exec "$ns_d" awk '/^Main:/ {m = 1} m && $1 == "Prefixes:" {print $2; exit}' /proc/net/fib_triestat
}

# wait_fib OP N: poll every 20 ms until the count OP N (ge|le); prints the time it held.
wait_fib() {
  local end=$((SECONDS + timeout)) c
  while :; do
    c=$(fib_count)
    if { [ "$1" = ge ] && [ "$c" -ge "$2" ]; } || { [ "$1" = le ] && [ "$c" -le "$2" ]; }; then
      now
      return
    fi
    [ $SECONDS -lt $end ] || die "timed out: $c kernel prefixes, waiting for $1 $2"
    sleep 0.02
  done
}

# stop_dut: stop the DUT, then whatever else still runs in its namespace (OpenBGPD's
# engines), by PID.
stop_dut() {
  local p
  stop "$dut_pid"
  for p in $(ns_pids "$ns_d"); do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in $(ns_pids "$ns_d"); do kill -9 "$p" 2>/dev/null || true; done
}

# dut_cpu: CPU seconds of every process in the DUT's namespace (lib.sh).
dut_cpu() { ns_cpu "$ns_d"; }

# dut_mib KEY: a /proc status field (VmHWM, VmRSS) summed over the DUT's namespace, in MiB.
dut_mib() { ns_mem "$ns_d" "$1"; }

# wait_line FILE PATTERN PID: wait until FILE has a line matching PATTERN (or PID exits).
wait_line() {
  local end=$((SECONDS + timeout))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || die "process $3 exited before '$2' in $1: $(tail -3 "${1%.json}.err" 2>/dev/null)"
    [ $SECONDS -lt $end ] || die "timed out waiting for '$2' in $1"
    sleep 0.02
  done
}

# run_one DUT RUN: one measured relay; appends a JSON result line to $work/results.jsonl.
run_one() {
  local name=$1 run=$2 out="$work/$1-$2"
  start_dut "$name"
  ip netns exec "$ns_r" "$loadgen" recv --connect 198.18.2.1:179 --local 198.18.2.2 --asn 65002 \
    --peer-as 64512 --prefixes "$prefixes" --timeout "$timeout" >"$out-rcv.json" 2>"$out-rcv.err" &
  local rcv_pid=$!
  pids+=("$rcv_pid")
  wait_line "$out-rcv.json" '"established"' "$rcv_pid"
  local rss0 cpu0 load perf_pid="" fib0
  fib0=$(fib_count)
  load=$(cut -d' ' -f1 /proc/loadavg)
  rss0=$(dut_mib VmRSS)
  cpu0=$(dut_cpu)
  if [ "$perf" = 1 ]; then
    perf record --call-graph dwarf,32768 -F 2999 -p "$dut_pid" -o "$out.perf.data" >/dev/null 2>&1 &
    perf_pid=$!
    pids+=("$perf_pid")
    sleep 0.5
  fi
  ip netns exec "$ns_s" "$loadgen" send --connect 198.18.1.1:179 --local 198.18.1.2 --asn 65001 \
    --peer-as 64512 --prefixes "$prefixes" --timeout "$timeout" >"$out-snd.json" 2>"$out-snd.err" &
  local snd_pid=$!
  pids+=("$snd_pid")
  wait_line "$out-rcv.json" '"mode"' "$rcv_pid"
  local cpu1 hwm cpu2
  cpu1=$(dut_cpu)
  hwm=$(dut_mib VmHWM)
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
  export FIB_AT="" FIB_CPU="" WD_WALL="" WD_CPU=""
  if [ "$fib" = 1 ]; then
    FIB_AT=$(wait_fib ge $((fib0 + prefixes)))
    FIB_CPU=$(dut_cpu)
  fi
  sleep 2
  cpu2=$(dut_cpu)
  wait_line "$out-snd.json" '"mode"' "$snd_pid"
  if [ "$fib" = 1 ]; then
    local t0 t1 c0
    c0=$(dut_cpu) t0=$(now)
    stop "$snd_pid"
    t1=$(wait_fib le "$fib0")
    WD_CPU=$(python3 -c "print($(dut_cpu) - $c0)")
    WD_WALL=$(python3 -c "print($t1 - $t0)")
  fi
  stop "$snd_pid"
  stop "$rcv_pid"
  stop_dut
  if [ -n "$perf_pid" ]; then
    perf report -i "$out.perf.data" --stdio --no-children --percent-limit 1.5 2>/dev/null \
      | grep -v '^$' | head -60 >"$out.perf.txt" || true
    log "perf profile of $name: $out.perf.txt"
  fi
  python3 - "$name" "$run" "$out" "$cpu0" "$cpu1" "$cpu2" "$hwm" "$rss0" "$load" >>"$work/results.jsonl" <<'PY'
import json, os, sys
name, run, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cpu0, cpu1, cpu2, hwm, rss0, load = (float(x) for x in sys.argv[4:10])
last = lambda f: json.loads([l for l in open(f) if '"mode"' in l][-1])
s, r = last(out + "-snd.json"), last(out + "-rcv.json")
assert r["complete"] and r["prefixes"] == r["target"], r
relay = r["last_prefix"] - s["first_sent"]
env = lambda k: float(os.environ[k]) if os.environ.get(k) else None
fib = {}
if env("FIB_AT") is not None:
    fib = {"fib_wall": env("FIB_AT") - s["first_sent"], "fib_cpu": env("FIB_CPU") - cpu0,
           "withdraw_wall": env("WD_WALL"), "withdraw_cpu": env("WD_CPU")}
print(json.dumps({**fib,
    "dut": name, "run": run, "prefixes": r["prefixes"], "updates_sent": s["updates"],
    "updates_received": r["updates"], "withdrawn": r["withdrawn"],
    "relay_wall": relay, "total_wall": r["last_prefix"] - s["established"],
    "first_latency": r["first_prefix"] - s["first_sent"],
    "cpu": cpu1 - cpu0, "cpu_after_2s": cpu2 - cpu0,
    "peak_rss_mib": hwm, "rss_before_mib": rss0,
    "snd_cpu": s["cpu_secs"], "rcv_cpu": r["cpu_secs"], "snd_encode": s["encode_secs"],
    "loadavg": load, "sample_attrs": r["sample_attrs"],
}))
PY
  tail -1 "$work/results.jsonl" >&2
  if [ -n "$out_file" ]; then tail -1 "$work/results.jsonl" >>"$out_file"; fi
}

report() {
  python3 - "$work/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["dut"], []).append(r)
med = lambda d, k: statistics.median(x[k] for x in by[d])
keys = [("relay_wall", "relay wall s", "{:.2f}"), ("total_wall", "total wall s", "{:.2f}"),
        ("cpu", "CPU s", "{:.2f}"), ("cpu_after_2s", "CPU s (+2 s)", "{:.2f}"),
        ("peak_rss_mib", "peak RSS MiB", "{:.1f}"), ("updates_received", "UPDATEs received", "{:.0f}"),
        ("snd_cpu", "sender CPU s", "{:.2f}"), ("rcv_cpu", "receiver CPU s", "{:.2f}"),
        ("loadavg", "load average", "{:.1f}")]
if "fib_wall" in rows[0]:
    keys[:0] = [("fib_wall", "kernel holds all, s", "{:.2f}"), ("fib_cpu", "CPU s until then", "{:.2f}"),
                ("withdraw_wall", "withdrawn from kernel, s", "{:.2f}"),
                ("withdraw_cpu", "CPU s withdrawing", "{:.2f}")]
duts = [d for d in ("wren", "bird2", "bird1", "frr", "gobgp", "openbgpd") if d in by]
ratio = "wren" in by and "bird2" in by
n = rows[0]["prefixes"]
into = " and written to the kernel" if "fib_wall" in rows[0] else ""
print(f"\n{n} IPv4 /24 prefixes relayed eBGP -> eBGP{into}; median of {len(by[duts[0]])} run(s)\n")
print("| | " + " | ".join(duts) + (" | wren / bird2 |" if ratio else " |"))
print("|---" * (len(duts) + 1 + ratio) + "|")
for k, label, fmt in keys:
    cells = [fmt.format(med(d, k)) for d in duts]
    if ratio:
        b = med("bird2", k)
        cells.append(f"{med('wren', k) / b:.2f}x" if b else "-")
    print(f"| {label} | " + " | ".join(cells) + " |")
for d in duts:
    busy = max(max(x["snd_cpu"], x["rcv_cpu"]) / x["total_wall"] for x in by[d])
    note = "OK" if busy < 0.5 else "WARNING: a loadgen was busy; it may be the bottleneck"
    print(f"\nloadgen busy fraction with {d}: {busy:.2f} of one core ({note})")
PY
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
need() { [[ " ${duts[*]} " != *" $1 "* ]] || [ -x "$(command -v "$2")" ] || die "$1: $2 not found ($3)"; }
need bird2 bird "apt-get install bird2"
need bird1 "$bird1_root/usr/sbin/bird" "unpack Debian's bird 1.6 under \$BIRD1_ROOT"
need frr /usr/lib/frr/bgpd "apt-get install frr"
need gobgp gobgpd "apt-get install gobgpd"
need openbgpd /usr/sbin/bgpd "apt-get install openbgpd"
wren_bin=${WREN_BIN:-$PWD/target/release/wren}
if [ "$build" = 1 ]; then
  log "building (release)"
  build_release wren
fi
loadgen=$BENCH_LOADGEN
setup_netns
for ((i = 1; i <= runs; i++)); do
  for d in "${duts[@]}"; do
    log "run $i/$runs: $d, $prefixes prefixes"
    run_one "$d" "$i"
  done
done
report
