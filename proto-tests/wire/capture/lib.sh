# shellcheck shell=bash
# Reusable helpers to run real BGP daemons in network namespaces.
#
# Source this file, call `cap_init`, then `ns_add`, `link_add`, `start_*`.
# Everything started is recorded and torn down by `cap_cleanup` (installed as
# an EXIT/INT/TERM trap by `cap_init`): processes are killed by PID, namespaces
# are deleted. Namespace names are `wren-cap-<pid>-<name>`.
#
# Addressing of link IDX (1..250) between namespaces A and B:
#   A: 198.18.IDX.1/24  2001:db8:IDX::1/64   interface eIDX  (inside A)
#   B: 198.18.IDX.2/24  2001:db8:IDX::2/64   interface eIDX  (inside B)

BIRD1_ROOT=${BIRD1_ROOT:-/opt/bird1}
CAP_TAG=${CAP_TAG:-cap}
CAP_PIDS=()
CAP_NSS=()

# cap_init [WORKDIR]: create the work directory and install the cleanup trap.
cap_init() {
	CAP_WORK=${1:-$(mktemp -d "/tmp/wren-$CAP_TAG-$$.XXXX")}
	mkdir -p "$CAP_WORK"
	trap cap_cleanup EXIT
	trap 'exit 130' INT TERM
}

# cap_cleanup: kill every recorded process (TERM, then KILL), delete namespaces.
cap_cleanup() {
	local pid i
	for ((i = ${#CAP_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${CAP_PIDS[i]}
		kill -TERM "$pid" 2>/dev/null
	done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=0
		for pid in "${CAP_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.3
	done
	for pid in "${CAP_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	# OpenBGPD forks its session engine and RDE; they die with the parent, but
	# make sure nothing is left in our namespaces before deleting them.
	local ns p
	for ns in "${CAP_NSS[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	CAP_PIDS=()
	CAP_NSS=()
}

# ns NAME: full namespace name for a short name.
ns() { echo "wren-$CAP_TAG-$$-$1"; }

# nsx NAME CMD...: run CMD in namespace NAME.
nsx() {
	local n
	n=$(ns "$1")
	shift
	ip netns exec "$n" "$@"
}

# ns_add NAME: create a namespace with loopback up and IPv6 DAD off.
ns_add() {
	local n
	n=$(ns "$1")
	ip netns add "$n"
	CAP_NSS+=("$n")
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# link_add A B IDX: veth pair eIDX between namespaces A and B, addressed as above.
link_add() {
	local a b i
	a=$(ns "$1") b=$(ns "$2") i=$3
	ip link add "e$i" netns "$a" type veth peer name "e$i" netns "$b"
	ip -n "$a" addr add "198.18.$i.1/24" dev "e$i"
	ip -n "$b" addr add "198.18.$i.2/24" dev "e$i"
	ip -n "$a" addr add "2001:db8:$i::1/64" dev "e$i" nodad
	ip -n "$b" addr add "2001:db8:$i::2/64" dev "e$i" nodad
	ip -n "$a" link set "e$i" up
	ip -n "$b" link set "e$i" up
}

# lladdr NS IFACE: the IPv6 link-local address of IFACE in NS.
lladdr() {
	ip -n "$(ns "$1")" -6 -o addr show dev "$2" scope link | awk '{print $4}' | cut -d/ -f1
}

# wait_lladdr NS IFACE: wait until IFACE has a usable link-local address.
wait_lladdr() {
	for _ in $(seq 50); do
		[[ -n $(lladdr "$1" "$2") ]] && return 0
		sleep 0.1
	done
	return 1
}

# spawn NS LOG CMD...: start CMD in background in NS, record its PID (also in
# CAP_LAST_PID). Don't call it in $(...): the PID would be recorded in a subshell.
spawn() {
	local n=$1 log=$2
	shift 2
	ip netns exec "$(ns "$n")" "$@" >"$log" 2>&1 &
	CAP_LAST_PID=$!
	CAP_PIDS+=("$!")
}

# capture_start NS IFACE FILE: tcpdump BGP traffic on IFACE inside NS into FILE.
capture_start() {
	spawn "$1" "$3.log" tcpdump -n -U -s 0 -i "$2" -w "$3" 'tcp port 179'
	sleep 0.5
}

# render TEMPLATE OUT VAR=VALUE...: copy TEMPLATE to OUT replacing @VAR@ by VALUE.
render() {
	local tpl=$1 out=$2 kv
	shift 2
	cp "$tpl" "$out"
	for kv in "$@"; do
		local k=${kv%%=*} v=${kv#*=}
		v=${v//\\/\\\\}
		v=${v//|/\\|}
		v=${v//&/\\&}
		sed -i "s|@$k@|$v|g" "$out"
	done
	if grep -q '@[A-Z0-9_]*@' "$out"; then
		echo "render: unreplaced placeholder in $out:" >&2
		grep -n '@[A-Z0-9_]*@' "$out" >&2
		return 1
	fi
}

# ---------------------------------------------------------------- daemons

# start_bird2 NS NAME CONF: BIRD 2 in the foreground; control socket $CAP_WORK/NAME.ctl.
start_bird2() {
	spawn "$1" "$CAP_WORK/$2.log" bird -f -c "$3" -s "$CAP_WORK/$2.ctl" -P "$CAP_WORK/$2.pid"
}

# birdc2 NAME CMD...: talk to a BIRD 2 started by start_bird2.
birdc2() {
	local name=$1
	shift
	birdc -s "$CAP_WORK/$name.ctl" "$@"
}

# start_bird1 NS NAME CONF [6]: BIRD 1.6 (bird, or bird6 when the 4th arg is 6)
# from the unpacked Debian package under $BIRD1_ROOT.
start_bird1() {
	spawn "$1" "$CAP_WORK/$2.log" "$BIRD1_ROOT/usr/sbin/bird${4:-}" -f -c "$3" \
		-s "$CAP_WORK/$2.ctl" -P "$CAP_WORK/$2.pid"
}

# birdc1 NAME CMD...: talk to a BIRD 1.6 (birdc and birdc6 are the same client).
birdc1() {
	local name=$1
	shift
	"$BIRD1_ROOT/usr/sbin/birdc" -s "$CAP_WORK/$name.ctl" "$@"
}

# start_frr NS NAME CONF: FRR bgpd; vty socket dir $CAP_WORK/NAME.vty. With
# FRR_ZEBRA=1 a zebra is started first in the same namespace (needed when bgpd
# must know interfaces, e.g. to accept or send IPv6 link-local next hops);
# otherwise bgpd runs alone with -Z.
start_frr() {
	local d="$CAP_WORK/$2.vty"
	mkdir -p "$d"
	if [[ ${FRR_ZEBRA:-0} == 1 ]]; then
		# zebra has no -S: it must drop to a user in group frrvty (the frr user).
		: >"$CAP_WORK/$2.zebra.conf"
		chown frr:frr "$d"
		chmod 755 "$CAP_WORK"
		spawn "$1" "$CAP_WORK/$2.zebra.log" /usr/lib/frr/zebra -u frr -g frr \
			-f "$CAP_WORK/$2.zebra.conf" -i "$d/zebra.pid" --vty_socket "$d" \
			-z "$d/zserv.api" -P 0
		wait_until 10 test -S "$d/zserv.api"
		spawn "$1" "$CAP_WORK/$2.log" /usr/lib/frr/bgpd -n -S -u root -g root \
			-z "$d/zserv.api" -f "$3" -i "$CAP_WORK/$2.pid" --vty_socket "$d" -P 0
	else
		spawn "$1" "$CAP_WORK/$2.log" /usr/lib/frr/bgpd -Z -n -S -u root -g root \
			-f "$3" -i "$CAP_WORK/$2.pid" --vty_socket "$d" -P 0
	fi
}

# vtysh_frr NAME ARGS...: run vtysh against that bgpd (e.g. -c 'show bgp summary').
vtysh_frr() {
	local name=$1
	shift
	vtysh --vty_socket "$CAP_WORK/$name.vty" -d bgpd "$@"
}

# start_gobgp NS NAME CONF: gobgpd, gRPC API on 127.0.0.1:50051 inside NS.
start_gobgp() {
	spawn "$1" "$CAP_WORK/$2.log" gobgpd -f "$3" -l info --api-hosts 127.0.0.1:50051 \
		--pprof-disable
}

# gobgp_cli NS ARGS...: gobgp CLI against the gobgpd in NS.
gobgp_cli() {
	local n=$1
	shift
	nsx "$n" gobgp -u 127.0.0.1 -p 50051 "$@"
}

# start_openbgpd NS NAME CONF: OpenBGPD in the foreground. CONF must contain
# `socket "$CAP_WORK/NAME.sock"` and `fib-update no`; it is made mode 0600.
start_openbgpd() {
	install -d -o _openbgpd -g _openbgpd -m 0755 /run/openbgpd
	chmod 0600 "$3"
	spawn "$1" "$CAP_WORK/$2.log" /usr/sbin/bgpd -d -v -f "$3"
}

# bgpctl_o NAME ARGS...: bgpctl against that bgpd.
bgpctl_o() {
	local name=$1
	shift
	bgpctl -s "$CAP_WORK/$name.sock" "$@"
}

# start_exabgp NS NAME CONF: ExaBGP in the foreground, running as root, no CLI pipes.
start_exabgp() {
	spawn "$1" "$CAP_WORK/$2.log" env \
		exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.daemon.drop=false \
		exabgp.log.destination=stdout exabgp.api.cli=false exabgp.tcp.delay=0 \
		exabgp "$3"
}

# wait_until SECONDS CMD...: poll CMD every 0.5 s until it succeeds.
wait_until() {
	local t=$1
	shift
	for _ in $(seq $((t * 2))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "timeout waiting for: $*" >&2
	return 1
}
