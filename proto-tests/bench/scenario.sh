#!/usr/bin/env bash
# One benchmark measurement: SCENARIO against one device under test (DUT), in two network
# namespaces made by proto-tests/interop/lib.sh (node_add, link_add, start_bird2, ...).
#
#   tester ns: loadgen fleet, sessions from 198.18.16.1 + i ──veth e1── DUT ns: 198.18.0.1/16
#              observer (eBGP, AS 65099) from 198.18.1.2   ─────────────      198.18.1.1/24
#
# Scenarios (BENCHMARKS.md has the details and results):
#   rr-fanout  the DUT is a route reflector (AS 64512) of C iBGP clients, each advertising
#              2 /26 blocks; done when every client holds all 2C blocks.
#   mesh       the DUT has P plain iBGP peers (it reflects nothing), each advertising 1 or 2
#              /26 blocks, and writes its best routes to the kernel; done when the DUT's
#              kernel table holds them all (and the eBGP observer has them). Then the DUT's
#              CPU is sampled over IDLE seconds.
#   churn      the converged mesh, then peer 0 withdraws and re-announces its blocks every
#              second for CHURN seconds; per flap, the time until the observer sees it.
#
# Usage: scenario.sh SCENARIO DUT [--clients C] [--peers P] [--idle S] [--churn S]
#                    [--timeout S] [--out FILE]
#   DUT: wren bird2 bird1 frr gobgp openbgpd. Appends one JSON line to FILE (default:
#   stdout). BENCH_FLEET_ARGS adds loadgen fleet arguments. Needs root. IO_KEEP=1 keeps the work directory. WREN_BIN defaults to the
#   release build (run.sh builds it).
# No `set -e`: interop/lib.sh's cleanup trap relies on commands that may fail.
set -o pipefail
scen=${1:?scenario}
dut=${2:?dut}
shift 2
clients=1000 peers=999 idle=60 churn=60 timeout=600 out=/dev/stdout
while [[ $# -gt 0 ]]; do
	case $1 in
	--clients) clients=$2 ;;
	--peers) peers=$2 ;;
	--idle) idle=$2 ;;
	--churn) churn=$2 ;;
	--timeout) timeout=$2 ;;
	--out) out=$2 ;;
	*) echo "scenario.sh: unknown argument $1" >&2 && exit 64 ;;
	esac
	shift 2
done
IO_DIR=$(cd "$(dirname "$0")/../interop" && pwd)
export WREN_BIN=${WREN_BIN:-$(cd "$IO_DIR/../.." && pwd)/target/release/wren}
IO_CASE="b-$scen-$dut"
IO_TIMEOUT=$timeout
# shellcheck source=proto-tests/interop/lib.sh
source "$IO_DIR/lib.sh"
# shellcheck source=proto-tests/bench/lib.sh
source "$IO_DIR/../bench/lib.sh"

case $scen in
rr-fanout) n=$clients rr=1 fib=0 blocks=2 ;;
mesh | churn) n=$peers rr=0 fib=1 blocks=1-2 ;;
*) echo "scenario.sh: scenario rr-fanout|mesh|churn" >&2 && exit 64 ;;
esac
((n >= 1 && n <= 4000)) || { echo "scenario.sh: 1..4000 sessions" >&2 && exit 64; }

# client I's address: 198.18.16.1 + I (inside 198.18.16.0/20).
client_addr() { python3 -c "import ipaddress,sys; print(ipaddress.ip_address('198.18.16.1') + int(sys.argv[1]))" "$1"; }
client_addrs() { python3 -c "import ipaddress,sys; a=ipaddress.ip_address('198.18.16.1'); print('\n'.join(str(a+i) for i in range(int(sys.argv[1]))))" "$1"; }

# ===================================================================== DUT configs
# Every DUT: AS 64512, router ID 198.18.1.1, passive, hold time 240 s, no MRAI, clients
# listed one by one (BIRD needs it; wren does it like a Calico route reflector's config)
# or as a dynamic range where the daemon has one (FRR, GoBGP, OpenBGPD).

conf_wren() {
	cat <<-EOF
		[router]
		asn = 64512
		router_id = "198.18.1.1"
		listen = ["0.0.0.0:179"]
		[[peer]]
		name = "observer"
		address = "198.18.1.2"
		asn = 65099
		passive = true
		families = ["ipv4"]
		hold_time = 240
		graceful_restart = false
		import = "reject-all"
		export = "accept-all"
	EOF
	local a
	for a in $(client_addrs "$n"); do
		printf '[[peer]]\naddress = "%s"\nasn = "internal"\npassive = true\nfamilies = ["ipv4"]\nhold_time = 240\ngraceful_restart = false\nroute_reflector_client = %s\nimport = "accept-all"\nexport = "accept-all"\n' \
			"$a" "$([[ $rr == 1 ]] && echo true || echo false)"
	done
	printf '[fib]\nenabled = %s\n[control]\nsocket = "@SOCK@"\n[metrics]\nlisten = ""\n' \
		"$([[ $fib == 1 ]] && echo true || echo false)"
}

# conf_bird VERSION(1|2)
conf_bird() {
	local v=$1 a i=0 rrc="" ch_open="ipv4 {" ch_close="};"
	[[ $rr == 1 ]] && rrc="rr client;"
	if [[ $v == 1 ]]; then ch_open="" ch_close=""; fi
	cat <<-EOF
		log stderr { warning, error, fatal };
		router id 198.18.1.1;
		protocol device { scan time 60; }
	EOF
	if [[ $fib == 1 ]]; then
		if [[ $v == 2 ]]; then
			echo 'protocol kernel { ipv4 { import none; export all; }; scan time 60; }'
		else
			echo 'protocol kernel { import none; export all; scan time 60; }'
		fi
	fi
	cat <<-EOF
		template bgp tclient {
		  local 198.18.0.1 as 64512;
		  passive on;
		  hold time 240;
		  $rrc
		  direct;
		  $ch_open import all; export all; $ch_close
		}
		protocol bgp observer {
		  local 198.18.1.1 as 64512;
		  neighbor 198.18.1.2 as 65099;
		  passive on;
		  hold time 240;
		  $ch_open import none; export all; $ch_close
		}
	EOF
	for a in $(client_addrs "$n"); do
		echo "protocol bgp c$i from tclient { neighbor $a as 64512; }"
		i=$((i + 1))
	done
}

conf_frr() {
	cat <<-EOF
		frr defaults traditional
		hostname dut
		log stdout warnings
		router bgp 64512
		 bgp router-id 198.18.1.1
		 no bgp ebgp-requires-policy
		 no bgp default ipv4-unicast
		 neighbor clients peer-group
		 neighbor clients remote-as 64512
		 bgp listen limit 5000
		 bgp listen range 198.18.16.0/20 peer-group clients
		 neighbor clients timers 80 240
		 neighbor clients advertisement-interval 0
		 neighbor 198.18.1.2 remote-as 65099
		 neighbor 198.18.1.2 passive
		 neighbor 198.18.1.2 timers 80 240
		 neighbor 198.18.1.2 advertisement-interval 0
		 address-family ipv4 unicast
		  neighbor clients activate
		  $([[ $rr == 1 ]] && echo "neighbor clients route-reflector-client")
		  neighbor 198.18.1.2 activate
		  neighbor 198.18.1.2 route-map deny-in in
		 exit-address-family
		route-map deny-in deny 10
	EOF
}

conf_gobgp() {
	cat <<-EOF
		[global.config]
		  as = 64512
		  router-id = "198.18.1.1"
		[[peer-groups]]
		  [peer-groups.config]
		    peer-group-name = "clients"
		    peer-as = 64512
		  [peer-groups.timers.config]
		    hold-time = 240
		    keepalive-interval = 80
		  [peer-groups.transport.config]
		    passive-mode = true
		  [peer-groups.route-reflector.config]
		    route-reflector-client = $([[ $rr == 1 ]] && echo true || echo false)
		    route-reflector-cluster-id = "198.18.1.1"
		  [[peer-groups.afi-safis]]
		    [peer-groups.afi-safis.config]
		      afi-safi-name = "ipv4-unicast"
		[[dynamic-neighbors]]
		  [dynamic-neighbors.config]
		    prefix = "198.18.16.0/20"
		    peer-group = "clients"
		[[neighbors]]
		  [neighbors.config]
		    neighbor-address = "198.18.1.2"
		    peer-as = 65099
		  [neighbors.timers.config]
		    hold-time = 240
		    keepalive-interval = 80
		  [neighbors.transport.config]
		    passive-mode = true
		  [[neighbors.afi-safis]]
		    [neighbors.afi-safis.config]
		      afi-safi-name = "ipv4-unicast"
	EOF
}

conf_openbgpd() {
	cat <<-EOF
		AS 64512
		router-id 198.18.1.1
		socket "@SOCK@"
		fib-update no
		holdtime 240
		group "clients" {
		  remote-as 64512
		  $([[ $rr == 1 ]] && echo "route-reflector 198.18.1.1")
		  passive
		  neighbor 198.18.16.0/20
		}
		neighbor 198.18.1.2 {
		  remote-as 65099
		  passive
		}
		allow from group "clients"
		allow to any
	EOF
}

# start_frr_bench: FRR zebra + bgpd; bgpd writes the kernel (through zebra) only when the
# scenario has a FIB (`-n` otherwise, like BIRD without a kernel protocol).
start_frr_bench() {
	local d="$WORK/dut.vty" nok=()
	[[ $fib == 1 ]] || nok=(-n)
	mkdir -p "$d"
	chown frr:frr "$d"
	: >"$WORK/dut.zebra.conf"
	spawn dut dut.zebra /usr/lib/frr/zebra -u frr -g frr -f "$WORK/dut.zebra.conf" \
		-i "$d/zebra.pid" --vty_socket "$d" -z "$d/zserv.api" -P 0
	started_ok dut.zebra test -S "$d/zserv.api"
	spawn dut dut /usr/lib/frr/bgpd "${nok[@]}" -S -u root -g root -z "$d/zserv.api" \
		-f "$WORK/dut.conf" -i "$WORK/dut.pid" --vty_socket "$d" -P 0
	started_ok dut vtysh --vty_socket "$d" -d bgpd -c "show bgp summary"
}

# start_dut: the DUT with the scenario's config; sets kproto (its kernel protocol).
start_dut() {
	case $dut in
	wren)
		conf_wren >"$WORK/dut.tpl"
		WREN_LOG=${WREN_LOG:-warn} start_wren dut dut "$WORK/dut.tpl"
		kproto=186
		;;
	bird2 | bird1)
		conf_bird "${dut#bird}" >"$WORK/dut.tpl"
		"start_$dut" dut dut "$WORK/dut.tpl"
		kproto=12
		;;
	frr)
		conf_frr >"$WORK/dut.conf"
		start_frr_bench
		kproto=186
		;;
	gobgp)
		conf_gobgp >"$WORK/dut.tpl"
		start_gobgp dut dut "$WORK/dut.tpl"
		kproto=none
		;;
	openbgpd)
		conf_openbgpd >"$WORK/dut.tpl"
		start_openbgpd dut dut "$WORK/dut.tpl"
		kproto=none
		;;
	*) fail "unknown DUT $dut" ;;
	esac
}

# kernel_routes: routes of the DUT's protocol in its kernel table.
kernel_routes() {
	[[ $kproto == none ]] && echo 0 && return
	ip -n "$(ns dut)" -4 route show proto "$kproto" | wc -l
}

# fleet_line KEY: the last JSON line of the loadgen's log with "KEY" in it.
fleet_line() { grep "\"$1\"" "$WORK/fleet.log" | tail -n 1; }

# ===================================================================== run

need ip python3 "$BENCH_LOADGEN"
[[ $dut == wren ]] && need_wren
io_init
((n < 500)) || raise_neigh_gc $((n + 1024))
node_add dut
node_add tst
link_add dut tst 1
addr_add dut 198.18.0.1/16
# One batch: C addresses on the tester's side (each client binds its own).
client_addrs "$n" | sed 's|^|addr add |; s|$|/16 dev e1|' | ip -n "$(ns tst)" -batch - || fail "tester addresses"
# Many connections at once: the DUT's SYN and accept queues must not be the limit.
nsx dut sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
start_dut
sleep 1
load=$(loadavg)
cpu0=$(ns_cpu "$(ns dut)")
rss0=$(ns_mem "$(ns dut)" VmRSS)
fleet=(fleet --connect 198.18.0.1:179 --local 198.18.16.1 --asn 64512 --peer-as 64512
	--sessions "$n" --blocks "$blocks" --timeout "$timeout")
[[ $rr == 1 ]] && fleet+=(--expect-all)
# shellcheck disable=SC2206 # extra loadgen arguments (guard.sh: --burst), split on purpose
fleet+=(${BENCH_FLEET_ARGS:-})
[[ $fib == 1 ]] && fleet+=(--observer-local 198.18.1.2 --observer-asn 65099 --observer-connect 198.18.1.1:179)
[[ $scen == churn ]] && fleet+=(--flap-for "$churn" --flap-after 2)
t0=$(now)
spawn tst fleet "$BENCH_LOADGEN" "${fleet[@]}"
total=$(python3 -c "lo,hi=(list(map(int,'$blocks'.split('-')))*2)[:2]; print(sum(lo + i % (hi-lo+1) for i in range($n)))")
t_fib="" end=$((SECONDS + timeout))
# Poll every 50 ms: the loadgen's convergence line and (mesh) the DUT's kernel table.
while :; do
	alive fleet || fail "the loadgen exited: $(tail -n 3 "$WORK/fleet.log")"
	alive dut || fail "the DUT exited: $(tail -n 5 "$WORK/dut.log")"
	if [[ $fib == 1 && $kproto != none && -z $t_fib ]] && (($(kernel_routes) >= total)); then
		t_fib=$(now)
	fi
	if fleet_line converged >/dev/null && [[ $fib == 0 || $kproto == none || -n $t_fib ]]; then
		break
	fi
	((SECONDS < end)) || fail "timed out: $(kernel_routes) kernel routes of $total; $(tail -n 2 "$WORK/fleet.log")"
	sleep 0.05
done
t1=$(now)
cpu1=$(ns_cpu "$(ns dut)")
hwm1=$(ns_mem "$(ns dut)" VmHWM)
conv=$(fleet_line converged)
idle_cpu="" churn_line="" cpu2=$cpu1
if [[ $scen == mesh ]]; then
	log "converged; sampling idle CPU for ${idle}s"
	sleep "$idle"
	cpu2=$(ns_cpu "$(ns dut)")
	idle_cpu=$(awk -v a="$cpu1" -v b="$cpu2" -v s="$idle" 'BEGIN {print (b - a) / s}')
elif [[ $scen == churn ]]; then
	until fleet_line churn >/dev/null; do
		alive fleet || fail "the loadgen exited during churn: $(tail -n 3 "$WORK/fleet.log")"
		sleep 0.2
	done
	cpu2=$(ns_cpu "$(ns dut)")
	churn_line=$(fleet_line churn)
fi
rss2=$(ns_mem "$(ns dut)" VmRSS)
hwm2=$(ns_mem "$(ns dut)" VmHWM)
dver=""
case $dut in
wren) dver=$("$WREN_BIN" --version 2>/dev/null | head -n 1) ;;
bird2) dver=$(bird --version 2>&1 | head -n 1) ;;
bird1) dver=$("$BIRD1_ROOT/usr/sbin/bird" --version 2>&1 | head -n 1) ;;
frr) dver=$(/usr/lib/frr/bgpd --version 2>/dev/null | head -n 1) ;;
gobgp) dver=$(gobgpd --version 2>/dev/null | head -n 1) ;;
openbgpd) dver=$(dpkg-query -W -f='openbgpd ${Version}' openbgpd 2>/dev/null) ;;
esac
result=$(python3 - "$scen" "$dut" "$n" "$total" "$t0" "$t1" "${t_fib:-0}" "$cpu0" "$cpu1" "$cpu2" \
	"$rss0" "$hwm1" "$rss2" "$hwm2" "$load" "${idle_cpu:-}" "$idle" "$dver" "$conv" "$churn_line" <<'PY'
import json, statistics, sys
(scen, dut, n, total, t0, t1, t_fib, cpu0, cpu1, cpu2, rss0, hwm1, rss2, hwm2, load,
 idle_cpu, idle, ver, conv, churn) = sys.argv[1:]
c = json.loads(conv)
t0, t_fib = float(t0), float(t_fib)
r = {"scenario": scen, "dut": dut, "version": ver, "sessions": int(n), "blocks": int(total),
     "load": float(load), "rss_before_mib": float(rss0), "peak_rss_mib": float(hwm2),
     "rss_end_mib": float(rss2), "tester_cpu": c["cpu_secs"],
     "all_up": c["all_up"] - c["first_up"], "retries": c.get("retries"),
     "establish_secs": c.get("establish_secs")}
if scen == "rr-fanout":
    r["first_to_last"] = c["last_complete"] - c["first_up"]
    r["wall"] = c["last_complete"] - t0
else:
    done = max(t_fib, c["observer_last"] or 0)
    r["first_to_last"] = done - c["first_up"]
    r["wall"] = done - t0
    r["fib_wall"] = t_fib - t0 if t_fib else None
    r["observer_wall"] = c["observer_last"] - t0
r["cpu"] = float(cpu1) - float(cpu0)
r["tester_busy"] = c["cpu_secs"] / max(r["wall"], 1e-3)
if idle_cpu:
    r["idle_cpu_pct"] = 100 * float(idle_cpu)
    r["idle_secs"] = int(idle)
if churn:
    ch = json.loads(churn)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
    both = ch["withdraw_secs"] + ch["announce_secs"]
    r.update(flaps=ch["flaps"], flap_median=statistics.median(both), flap_p90=q(both, 0.9),
             flap_max=max(both), withdraw_median=statistics.median(ch["withdraw_secs"]),
             announce_median=statistics.median(ch["announce_secs"]),
             churn_cpu=float(cpu2) - float(cpu1))
print(json.dumps(r))
PY
)
log "result: $result"
echo "$result" >>"$out"
