#!/usr/bin/env bash
# Every benchmark in one command (issue 7): wren against BIRD 2, BIRD 1.6, FRR, GoBGP and
# OpenBGPD, one network-namespace measurement at a time, then one table per scenario.
#
#   proto-tests/bench/run.sh [OPTIONS] [SCENARIO...]
#
# Scenarios (default: all, in this order):
#   relay      relay.sh: N /24s from one eBGP peer to another (wren and BIRD 2)
#   rr-fanout  the DUT reflects for C clients, 2 /26s each, until every client holds all 2C
#   mesh       P iBGP peers with 1-2 /26s each: cold start to full kernel FIB, idle CPU, RSS
#   churn      the converged mesh while one peer flaps its routes every second
#   fib        kernel FIB programming: tests/fib_throughput.rs and BIRD 2's kernel protocol
#              on the same routes, then fed by BGP (relay.sh --fib: wren, BIRD 2, BIRD 1.6,
#              FRR bgpd with zebra; N routes to the kernel and withdrawn)
# Options:
#   --duts LIST       comma-separated: wren,bird2,bird1,frr,gobgp,openbgpd (default: all)
#   --clients C       rr-fanout clients (default 1000)
#   --peers P         mesh/churn peers (default 999)
#   --idle S          mesh: seconds of idle CPU sampling (default 60)
#   --churn S         churn: seconds of flapping (default 60)
#   --runs R          repeat each scenario and DUT (default 1; the tables show medians)
#   --relay-prefixes N, --fib-routes N   (defaults 500000, 100000)
#   --out FILE        keep the JSON lines there (default: a temporary file)
# Needs root and the daemons (.ci/run installs them). A DUT that is not installed is
# skipped loudly; a failed measurement is reported and the others go on.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=proto-tests/bench/lib.sh
source proto-tests/bench/lib.sh

duts=wren,bird2,bird1,frr,gobgp,openbgpd
clients=1000 peers=999 idle=60 churn=60 runs=1 relay_prefixes=500000 fib_routes=100000 out=""
scens=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--duts) duts=$2 && shift ;;
	--clients) clients=$2 && shift ;;
	--peers) peers=$2 && shift ;;
	--idle) idle=$2 && shift ;;
	--churn) churn=$2 && shift ;;
	--runs) runs=$2 && shift ;;
	--relay-prefixes) relay_prefixes=$2 && shift ;;
	--fib-routes) fib_routes=$2 && shift ;;
	--out) out=$2 && shift ;;
	-h | --help) sed -n '2,24p' "$0" && exit 0 ;;
	relay | rr-fanout | mesh | churn | fib) scens+=("$1") ;;
	*) echo "run.sh: unknown argument $1" >&2 && exit 64 ;;
	esac
	shift
done
[[ ${#scens[@]} -gt 0 ]] || scens=(relay rr-fanout mesh churn fib)
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (network namespaces)" >&2 && exit 1; }
[[ -n $out ]] || out=$(mktemp /tmp/wren-bench-results.XXXXXX)

# have DUT: its daemon is installed.
have() {
	case $1 in
	wren) true ;;
	bird2) command -v bird >/dev/null ;;
	bird1) [[ -x ${BIRD1_ROOT:-/opt/bird1}/usr/sbin/bird ]] ;;
	frr) [[ -x /usr/lib/frr/bgpd && -x /usr/lib/frr/zebra ]] ;;
	gobgp) command -v gobgpd >/dev/null ;;
	openbgpd) [[ -x /usr/sbin/bgpd ]] && command -v bgpctl >/dev/null ;;
	*) false ;;
	esac
}

echo "==> machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), Linux $(uname -r)"
echo "==> $(date -u '+%F %T UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "==> building (release)"
build_release wren
failed=0
for s in "${scens[@]}"; do
	case $s in
	relay)
		proto-tests/bench/relay.sh --prefixes "$relay_prefixes" --dut all --runs "$runs" || failed=1
		;;
	fib)
		WREN_FIB_BENCH_ROUTES=$fib_routes cargo test --release --quiet --test fib_throughput -- \
			--nocapture --test-threads 1 || failed=1
		proto-tests/fib/bird-kernel-bench.sh "$fib_routes" || failed=1
		proto-tests/bench/relay.sh --fib --prefixes "$relay_prefixes" --dut all --runs "$runs" || failed=1
		;;
	*)
		for ((i = 1; i <= runs; i++)); do
			for d in ${duts//,/ }; do
				if ! have "$d"; then
					echo "!!! SKIPPED: $s with $d: not installed" >&2
					continue
				fi
				echo "==> $s, $d, run $i/$runs (load average $(loadavg))"
				proto-tests/bench/scenario.sh "$s" "$d" --clients "$clients" --peers "$peers" \
					--idle "$idle" --churn "$churn" --out "$out" || {
					echo "!!! $s with $d failed" >&2
					failed=1
				}
			done
		done
		;;
	esac
done
if [[ -s $out ]]; then
	python3 proto-tests/bench/report.py "$out"
	echo "results (JSON lines): $out"
fi
exit "$failed"
