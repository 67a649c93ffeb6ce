# shellcheck shell=bash
# Shell helpers shared by the benchmarks (relay.sh, scenario.sh, run.sh, guard.sh).
# Namespaces, daemons and cleanup come from proto-tests/interop/lib.sh (scenario.sh
# sources it); this file holds only what measures: CPU, memory, timestamps, the loadgen.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
BENCH_LOADGEN=${BENCH_LOADGEN:-$BENCH_ROOT/target/release/examples/loadgen}
BENCH_CLK_TCK=$(getconf CLK_TCK)

# cpu_ticks PID: utime + stime of one process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# status_kb PID KEY: a field of /proc/PID/status in kB (VmRSS, VmHWM).
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# now: Unix time with fractions, like the loadgen's timestamps.
now() { date +%s.%N; }

# ns_pids NS: every process in a network namespace (a daemon and its helpers:
# FRR's zebra, OpenBGPD's engines).
ns_pids() { ip netns pids "$1" 2>/dev/null; }

# ns_cpu NS: CPU seconds (user + system) of every process in NS, summed.
ns_cpu() {
	local p t=0 c
	for p in $(ns_pids "$1"); do
		c=$(cpu_ticks "$p" 2>/dev/null) || continue
		t=$((t + c))
	done
	awk -v t="$t" -v h="$BENCH_CLK_TCK" 'BEGIN {printf "%.3f\n", t / h}'
}

# ns_mem NS KEY: a /proc status field (VmHWM = peak RSS, VmRSS) summed over NS, in MiB.
ns_mem() {
	local p t=0 k
	for p in $(ns_pids "$1"); do
		k=$(status_kb "$p" "$2" 2>/dev/null) || continue
		t=$((t + ${k:-0}))
	done
	awk -v t="$t" 'BEGIN {printf "%.3f\n", t / 1024}'
}

# build_release [BIN...]: release builds of the loadgen and the named binaries (wren), in
# one cargo call: an example enables dev-dependency features, so building the binary alone
# afterwards would rebuild dependencies with other features (and back again).
build_release() {
	(cd "$BENCH_ROOT" && cargo build --release --quiet --example loadgen "${@/#/--bin=}")
}

# raise_neigh_gc N: more than ~1000 neighbours on one link need the host's ARP table
# thresholds raised (global; only settable in the initial namespace). Raises, never lowers.
raise_neigh_gc() {
	local want=$1 i cur
	for i in 1 2 3; do
		cur=$(sysctl -n "net.ipv4.neigh.default.gc_thresh$i")
		if ((cur < want * i)); then
			sysctl -qw "net.ipv4.neigh.default.gc_thresh$i=$((want * i))"
		fi
	done
}

# loadavg: the 1-minute load average.
loadavg() { cut -d' ' -f1 /proc/loadavg; }
