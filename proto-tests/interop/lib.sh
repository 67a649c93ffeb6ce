# shellcheck shell=bash
# Helpers for the interop cases: network namespaces, daemons, route assertions.
#
# run.sh runs each case (cases/NAME.sh) in its own bash, after sourcing this file and
# calling `io_init`. A case builds its topology, starts daemons, then asserts:
#
#   need bird birdc
#   node_add w; node_add b; link_add w b 1
#   start_wren w wren "$CASE_DIR/NAME/wren.toml" VAR=VALUE
#   start_bird2 b bird "$CASE_DIR/NAME/bird.conf"
#   expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2
#   expect_route bird 198.18.200.0/24 nh=198.18.1.1
#
# Every process is started through `spawn` and killed by PID; every namespace is
# `wren-io-<case>-<pid>-<node>`; both are torn down by an EXIT trap, also on failure.
# A case exits 0 (PASS), 77 (SKIPPED: missing root or binary) or anything else (FAIL).
#
# Addressing of link IDX (1..99) between nodes A and B:
#   A: 198.18.IDX.1/24  2001:db8:IDX::1/64   interface eIDX (inside A)
#   B: 198.18.IDX.2/24  2001:db8:IDX::2/64   interface eIDX (inside B)
# Originated prefixes are 198.18.2xx.0/24 and 2001:db8:f2xx::/48 (never a link).

IO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$IO_DIR/../.." && pwd)
CASE_DIR="$IO_DIR/cases"
BIRD1_ROOT=${BIRD1_ROOT:-/opt/bird1}
WREN_BIN=${WREN_BIN:-$REPO_ROOT/target/debug/wren}
IO_TIMEOUT=${IO_TIMEOUT:-30} # default seconds for every wait
IO_CHECK="$IO_DIR/iocheck.py"

declare -A IO_PID=()  # daemon name -> PID
declare -A IO_KIND=() # daemon name -> wren|bird2|bird1|frr|gobgp|openbgpd|exabgp
declare -A IO_NODE=() # daemon name -> node
declare -A IO_CONF=() # daemon name -> rendered config
IO_PIDS=()            # every PID started, in order
IO_NSS=()             # every namespace created

# ===================================================================== setup

# io_init: work directory ($WORK, kept when IO_KEEP=1), namespace prefix, cleanup trap.
io_init() {
	IO_CASE=${IO_CASE:-$(basename "$0" .sh)}
	WORK=${IO_WORK:-$(mktemp -d "/tmp/wren-io-$IO_CASE-$$.XXXX")}
	mkdir -p "$WORK"
	chmod 755 "$WORK"
	# The case log, for `log` wherever it runs: a trap can fire inside a command whose
	# output goes to /dev/null (wait_until), and the cleanup must still be logged.
	exec {IO_LOG_FD}>&2
	trap io_cleanup EXIT
	trap 'exit 130' INT TERM
	log "case $IO_CASE, work directory $WORK"
}

# io_cleanup: TERM every recorded process (newest first), KILL what is left after 3 s,
# then kill anything still inside our namespaces and delete them.
io_cleanup() {
	local rc=$? pid i ns p
	log "cleanup (exit status $rc)"
	for ((i = ${#IO_PIDS[@]} - 1; i >= 0; i--)); do
		kill -TERM "${IO_PIDS[i]}" 2>/dev/null
	done
	for _ in $(seq 30); do
		local alive=0
		for pid in "${IO_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${IO_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for ns in "${IO_NSS[@]}"; do
		# OpenBGPD's children and FRR's zebra die with their parent; make sure.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	IO_PIDS=()
	IO_NSS=()
	if [[ $rc -eq 0 && ${IO_KEEP:-0} != 1 && -z ${IO_WORK:-} ]]; then
		rm -rf "$WORK"
	fi
	return "$rc"
}

# log MSG...: a timestamped line in the case log (stderr when io_init ran).
log() { printf '%s %s\n' "$(date +%T.%3N)" "$*" >&"${IO_LOG_FD:-2}"; }

# fail MSG...: end the case as FAIL.
fail() {
	log "FAIL: $*"
	exit 1
}

# skip MSG...: end the case as SKIPPED.
skip() {
	log "SKIPPED: $*"
	exit 77
}

# need CMD...: SKIPPED unless root and every CMD (and python3, ip) is an executable or
# on PATH.
need() {
	[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
	local c
	for c in python3 ip "$@"; do
		if [[ $c == /* ]]; then
			[[ -x $c ]] || skip "missing $c"
		else
			command -v "$c" >/dev/null || skip "missing $c"
		fi
	done
}

# need_wren: the wren binary must exist (a missing build is a failure, not a skip).
need_wren() {
	[[ -x $WREN_BIN ]] || fail "no wren binary at $WREN_BIN (cargo build, or set WREN_BIN)"
}

# ns NODE: full namespace name of a node.
ns() { echo "wren-io-$IO_CASE-$$-$1"; }

# nsx NODE CMD...: run CMD in the node's namespace.
nsx() {
	local n
	n=$(ns "$1")
	shift
	ip netns exec "$n" "$@"
}

# node_add NODE: a namespace with loopback up and IPv6 DAD off.
node_add() {
	local n
	n=$(ns "$1")
	ip netns add "$n" || fail "ip netns add $n"
	IO_NSS+=("$n")
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# link_add A B IDX: veth pair eIDX between nodes A and B, addressed as above.
link_add() {
	local a b i
	a=$(ns "$1") b=$(ns "$2") i=$3
	ip link add "e$i" netns "$a" type veth peer name "e$i" netns "$b" || fail "veth e$i"
	ip -n "$a" addr add "198.18.$i.1/24" dev "e$i"
	ip -n "$b" addr add "198.18.$i.2/24" dev "e$i"
	ip -n "$a" addr add "2001:db8:$i::1/64" dev "e$i" nodad
	ip -n "$b" addr add "2001:db8:$i::2/64" dev "e$i" nodad
	ip -n "$a" link set "e$i" up
	ip -n "$b" link set "e$i" up
}

# addr_add NODE ADDR/LEN... [dev IFACE]: more addresses on e1 (or IFACE) in NODE.
addr_add() {
	local n dev=e1 a
	n=$(ns "$1")
	shift
	if [[ ${*: -2:1} == dev ]]; then
		dev=${*: -1}
		set -- "${@:1:$#-2}"
	fi
	for a in "$@"; do
		if [[ $a == *:* ]]; then
			ip -n "$n" addr add "$a" dev "$dev" nodad
		else
			ip -n "$n" addr add "$a" dev "$dev"
		fi
	done
}

# route_add NODE ARGS...: `ip route add ARGS` in a node (multihop cases).
route_add() {
	local n
	n=$(ns "$1")
	shift
	ip -n "$n" route add "$@"
}

# render TEMPLATE OUT VAR=VALUE...: copy TEMPLATE to OUT replacing @VAR@ by VALUE.
# @WORK@ is always set. An unreplaced @NAME@ is an error.
render() {
	local tpl=$1 out=$2 kv k v
	shift 2
	[[ -f $tpl ]] || fail "no template $tpl"
	cp "$tpl" "$out"
	for kv in "WORK=$WORK" "$@"; do
		k=${kv%%=*} v=${kv#*=}
		v=${v//\\/\\\\}
		v=${v//|/\\|}
		v=${v//&/\\&}
		sed -i "s|@$k@|$v|g" "$out"
	done
	if grep -q '@[A-Z0-9_]*@' "$out"; then
		grep -n '@[A-Z0-9_]*@' "$out" >&2
		fail "render: unreplaced placeholder in $out"
	fi
}

# spawn NODE NAME CMD...: start CMD in the background in NODE, output to $WORK/NAME.log,
# record its PID as IO_PID[NAME]. Never call it in $(...).
spawn() {
	local node=$1 name=$2
	shift 2
	ip netns exec "$(ns "$node")" "$@" >>"$WORK/$name.log" 2>&1 &
	IO_PID[$name]=$!
	IO_NODE[$name]=$node
	IO_PIDS+=("$!")
	disown "$!" # no "Killed" job reports when a case kills it
}

# stop NAME [SIGNAL]: signal a daemon by PID (default TERM) and wait up to 5 s for it;
# then SIGKILL the children it had (OpenBGPD's engines outlive a SIGKILLed parent).
stop() {
	local name=$1 sig=${2:-TERM} pid=${IO_PID[$1]:-} kids p
	[[ -n $pid ]] || fail "stop: no daemon $name"
	kids=$(pgrep -P "$pid" 2>/dev/null)
	log "stop $name (pid $pid, SIG$sig)"
	kill -"$sig" "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$name (pid $pid) still running after SIG$sig"
	for p in $kids; do kill -KILL "$p" 2>/dev/null; done
	return 0
}

# started_ok NAME CMD...: wait (IO_START_WAIT, default 10 s) until CMD succeeds while the
# daemon runs; FAIL with its log otherwise (e.g. a config error).
started_ok() {
	local name=$1 end=$((SECONDS + ${IO_START_WAIT:-10}))
	shift
	while alive "$name" && ((SECONDS < end)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	sleep 0.2
	tail -n 15 "$WORK/$name.log" >&2
	fail "$name did not start (log $WORK/$name.log)"
}

# alive NAME: the daemon's process still runs.
alive() { kill -0 "${IO_PID[$1]}" 2>/dev/null; }

# wait_until SECONDS CMD...: poll CMD every 0.3 s until it succeeds; 1 on timeout.
wait_until() {
	local t=$1 end
	shift
	end=$((SECONDS + t))
	while ((SECONDS < end)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.3
	done
	"$@" >/dev/null 2>&1
}

# hold_for SECONDS CMD...: CMD must keep succeeding for SECONDS (polled every 0.5 s).
hold_for() {
	local t=$1 end
	shift
	end=$((SECONDS + t))
	while ((SECONDS < end)); do
		"$@" >/dev/null 2>&1 || return 1
		sleep 0.5
	done
}

# kernel_has NODE PREFIX REGEX: `ip route show PREFIX` in NODE matches REGEX.
kernel_has() {
	local fam=-4
	[[ $2 == *:* ]] && fam=-6
	ip -n "$(ns "$1")" "$fam" route show "$2" | grep -Eq "$3"
}

# ===================================================================== daemons

# start_wren NODE NAME TEMPLATE VAR=VALUE...: render the TOML config and run
# `wren run --config` in NODE. Control socket: $WORK/NAME.sock (templates use
# `socket = "@SOCK@"`). With IO_STANDIN=1, BIRD 2 runs instead with TEMPLATE's
# sibling `*.standin.conf` when there is one (checks a case's peers and assertions
# without wren; its BGP protocols are named like wren's peers).
start_wren() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.toml"
	shift 3
	if [[ ${IO_STANDIN:-0} == 1 && -f ${tpl%.toml}.standin.conf ]]; then
		# Harness check without wren: BIRD 2 with an equivalent config whose
		# protocols are named like wren's peers.
		start_bird2 "$node" "$name" "${tpl%.toml}.standin.conf" "$@"
		return
	fi
	need_wren
	render "$tpl" "$conf" "SOCK=$WORK/$name.sock" "$@"
	IO_KIND[$name]=wren IO_CONF[$name]=$conf
	log "start wren $name in $node"
	spawn "$node" "$name" env WREN_LOG="${WREN_LOG:-info}" NO_COLOR=1 "$WREN_BIN" run --config "$conf"
	started_ok "$name" test -S "$WORK/$name.sock"
}

# standin NAME: NAME is a BIRD 2 standing in for wren (IO_STANDIN=1): checks of what
# only wren shows (its FIB, its Adj-RIB-Out) pass without looking.
standin() { [[ ${IO_STANDIN:-0} == 1 && ${IO_KIND[$1]} == bird2 ]]; }

# wren_cli NAME ARGS...: `wren ARGS --socket` against that wren. (A BIRD stand-in
# answers `show peers` with its `show protocols`, which iocheck.py understands.)
wren_cli() {
	local name=$1
	shift
	if [[ ${IO_KIND[$name]} == bird2 && $* == "show peers -o json" ]]; then
		birdc -s "$WORK/$name.ctl" show protocols
		return
	fi
	"$WREN_BIN" "$@" --socket "$WORK/$name.sock"
}

# start_bird2 NODE NAME TEMPLATE VAR=VALUE...: BIRD 2 in the foreground, socket $WORK/NAME.ctl.
start_bird2() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.conf"
	shift 3
	render "$tpl" "$conf" "$@"
	IO_KIND[$name]=bird2 IO_CONF[$name]=$conf
	log "start BIRD 2 $name in $node"
	spawn "$node" "$name" bird -f -c "$conf" -s "$WORK/$name.ctl" -P "$WORK/$name.pid"
	started_ok "$name" birdc -s "$WORK/$name.ctl" show status
}

# restart NAME [-R] [TEMPLATE VAR=VALUE...]: start a stopped daemon again (BIRD 2, FRR's
# bgpd, wren), with its config rendered anew from TEMPLATE when given. -R: BIRD's
# graceful-restart recovery (RFC 4724 Restart State and Forwarding State bits in its OPEN).
restart() {
	local name=$1 node=${IO_NODE[$1]} recover=()
	shift
	if [[ ${1:-} == -R ]]; then
		recover=(-R)
		shift
	fi
	[[ $# -gt 0 ]] && render "$1" "${IO_CONF[$name]}" "${@:2}"
	log "restart $name ${recover[*]}"
	case ${IO_KIND[$name]} in
	bird2)
		rm -f "$WORK/$name.ctl"
		spawn "$node" "$name" bird -f "${recover[@]}" -c "${IO_CONF[$name]}" -s "$WORK/$name.ctl" \
			-P "$WORK/$name.pid"
		started_ok "$name" birdc -s "$WORK/$name.ctl" show status
		;;
	frr) frr_bgpd "$name" ;;
	wren)
		# A SIGKILLed wren leaves its socket file behind: wait for the new one.
		rm -f "$WORK/$name.sock"
		spawn "$node" "$name" env WREN_LOG="${WREN_LOG:-info}" NO_COLOR=1 "$WREN_BIN" run \
			--config "${IO_CONF[$name]}"
		started_ok "$name" test -S "$WORK/$name.sock"
		;;
	*) fail "restart: not supported for ${IO_KIND[$name]}" ;;
	esac
}

# start_bird1 NODE NAME TEMPLATE [VAR=VALUE...]: BIRD 1.6 (IPv4 `bird`); BIRD1_V6=1
# runs `bird6` instead. From the unpacked Debian package under $BIRD1_ROOT.
start_bird1() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.conf" bin=bird
	shift 3
	[[ ${BIRD1_V6:-0} == 1 ]] && bin=bird6
	render "$tpl" "$conf" "$@"
	IO_KIND[$name]=bird1 IO_CONF[$name]=$conf
	log "start BIRD 1.6 $bin $name in $node"
	spawn "$node" "$name" "$BIRD1_ROOT/usr/sbin/$bin" -f -c "$conf" -s "$WORK/$name.ctl" -P "$WORK/$name.pid"
	started_ok "$name" "$BIRD1_ROOT/usr/sbin/birdc" -s "$WORK/$name.ctl" show status
}

# start_frr NODE NAME TEMPLATE VAR=VALUE...: FRR zebra, then bgpd; vty socket
# directory $WORK/NAME.vty. zebra gives bgpd the interfaces: without it FRR treats an
# UPDATE with an IPv6 link-local next hop as withdraw (capture/README.md, FRR gotchas).
start_frr() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.conf" d="$WORK/$2.vty"
	shift 3
	render "$tpl" "$conf" "$@"
	mkdir -p "$d"
	IO_KIND[$name]=frr IO_CONF[$name]=$conf IO_NODE[$name]=$node
	log "start FRR zebra + bgpd $name in $node"
	# zebra has no -S: it runs as frr (group frrvty), so its files must be writable by frr.
	: >"$WORK/$name.zebra.conf"
	chown frr:frr "$d"
	spawn "$node" "$name.zebra" /usr/lib/frr/zebra -u frr -g frr -f "$WORK/$name.zebra.conf" \
		-i "$d/zebra.pid" --vty_socket "$d" -z "$d/zserv.api" -P 0
	started_ok "$name.zebra" test -S "$d/zserv.api"
	frr_bgpd "$name"
}

# frr_bgpd NAME: (re)start that FRR's bgpd, connected to its zebra.
frr_bgpd() {
	local name=$1 d="$WORK/$1.vty"
	rm -f "$d/bgpd.vty"
	spawn "${IO_NODE[$name]}" "$name" /usr/lib/frr/bgpd -n -S -u root -g root -z "$d/zserv.api" \
		-f "${IO_CONF[$name]}" -i "$WORK/$name.pid" --vty_socket "$d" -P 0
	started_ok "$name" vtysh_frr "$name" -c "show bgp summary"
}

# vtysh_frr NAME ARGS...: vtysh against that bgpd (e.g. -c 'show bgp summary').
vtysh_frr() {
	local name=$1
	shift
	vtysh --vty_socket "$WORK/$name.vty" -d bgpd "$@"
}

# start_gobgp NODE NAME TEMPLATE VAR=VALUE...: gobgpd, gRPC API on 127.0.0.1:50051 in NODE.
start_gobgp() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.toml"
	shift 3
	render "$tpl" "$conf" "$@"
	IO_KIND[$name]=gobgp IO_CONF[$name]=$conf
	log "start gobgpd $name in $node"
	spawn "$node" "$name" gobgpd -f "$conf" -l info --api-hosts 127.0.0.1:50051 --pprof-disable
	started_ok "$name" gobgp_cli "$name" global
}

# gobgp_cli NAME ARGS...: the gobgp CLI against that gobgpd.
gobgp_cli() {
	local name=$1
	shift
	nsx "${IO_NODE[$name]}" gobgp -u 127.0.0.1 -p 50051 "$@"
}

# start_openbgpd NODE NAME TEMPLATE VAR=VALUE...: OpenBGPD in the foreground. The
# template has `socket "@SOCK@"` and `fib-update no`; the config is made mode 0600.
start_openbgpd() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.conf"
	shift 3
	render "$tpl" "$conf" "SOCK=$WORK/$name.sock" "$@"
	chmod 0600 "$conf"
	install -d -o _openbgpd -g _openbgpd -m 0755 /run/openbgpd
	IO_KIND[$name]=openbgpd IO_CONF[$name]=$conf
	log "start OpenBGPD $name in $node"
	spawn "$node" "$name" /usr/sbin/bgpd -d -v -f "$conf"
	started_ok "$name" bgpctl_o "$name" show
}

# bgpctl_o NAME ARGS...: bgpctl against that OpenBGPD.
bgpctl_o() {
	local name=$1
	shift
	bgpctl -s "$WORK/$name.sock" "$@"
}

# start_exabgp NODE NAME TEMPLATE VAR=VALUE...: ExaBGP in the foreground as root. The
# template may use @RECV@ (a `run` command that appends every message ExaBGP
# receives, as JSON, to $WORK/NAME.recv) and @CMDS@ (a `run` command that feeds
# API commands written with `exabgp_send NAME CMD` to ExaBGP).
start_exabgp() {
	local node=$1 name=$2 tpl=$3 conf="$WORK/$2.conf"
	shift 3
	: >"$WORK/$name.recv"
	: >"$WORK/$name.cmds"
	render "$tpl" "$conf" \
		"RECV=python3 $IO_DIR/exabgp-recv.py $WORK/$name.recv" \
		"CMDS=python3 $IO_DIR/exabgp-cmds.py $WORK/$name.cmds" "$@"
	IO_KIND[$name]=exabgp IO_CONF[$name]=$conf
	log "start ExaBGP $name in $node"
	spawn "$node" "$name" env \
		exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.daemon.drop=false \
		exabgp.log.destination=stdout exabgp.api.cli=false exabgp.tcp.delay=0 \
		exabgp "$conf"
	started_ok "$name" grep -q "loaded new configuration successfully" "$WORK/$name.log"
}

# exabgp_send NAME CMD: give ExaBGP an API command (through the @CMDS@ process).
exabgp_send() {
	log "exabgp $1 <- $2"
	printf '%s\n' "$2" >>"$WORK/$1.cmds"
}

# exabgp_notified NAME CODE SUBCODE: ExaBGP received a NOTIFICATION CODE/SUBCODE.
exabgp_notified() {
	grep '"type": "notification"' "$WORK/$1.recv" |
		grep -q "\"code\": $2, \"subcode\": $3\b"
}

# logged NAME REGEX: the daemon's log has a line matching REGEX (grep -E, case-insensitive).
logged() { grep -Eqi "$2" "$WORK/$1.log"; }

# expect_logged NAME REGEX: wait until logged; log the line, FAIL otherwise.
expect_logged() {
	if wait_until "$IO_TIMEOUT" logged "$1" "$2"; then
		log "ok: $1 logged: $(grep -Ei -m1 "$2" "$WORK/$1.log")"
		return 0
	fi
	tail -n 15 "$WORK/$1.log" >&2
	fail "$1 did not log /$2/"
}

# ===================================================================== state

# dump NAME [PREFIX]: the routes NAME holds, as that daemon prints them (raw).
dump() {
	local name=$1 p=${2:-} af=ipv4
	[[ $p == *:* ]] && af=ipv6
	case ${IO_KIND[$name]} in
	wren) wren_cli "$name" show routes -o json ;;
	bird2) birdc -s "$WORK/$name.ctl" show route ${p:+"$p"} all ;;
	bird1) "$BIRD1_ROOT/usr/sbin/birdc" -s "$WORK/$name.ctl" show route ${p:+"$p"} all ;;
	frr) vtysh_frr "$name" -c "show bgp $af unicast ${p:+$p }json" ;;
	gobgp) gobgp_cli "$name" global rib -a "$af" ${p:+"$p"} -j ;;
	openbgpd) bgpctl_o "$name" -j show rib ${p:+"$p"} ;;
	exabgp) cat "$WORK/$name.recv" ;;
	*) fail "dump: unknown daemon $name" ;;
	esac
}

# routes NAME [PREFIX]: the routes NAME holds as normalised JSON lines (iocheck.py).
routes() {
	dump "$1" "${2:-}" | python3 "$IO_CHECK" norm "${IO_KIND[$1]}" "${2:-}"
}

# has_route NAME PREFIX [KEY=VALUE...]: NAME holds a path for PREFIX matching every
# KEY (nh, from, originator, cluster, stale, best, aspath, path_id); `paths=N`: exactly
# N such paths; `paths=0`: none.
has_route() {
	local name=$1 p=$2
	shift 2
	dump "$name" "$p" 2>/dev/null | python3 "$IO_CHECK" match "${IO_KIND[$name]}" "$p" "$@"
}

# expect_route NAME PREFIX [KEY=VALUE...]: wait (IO_TIMEOUT) until has_route holds;
# FAIL with what NAME holds otherwise.
expect_route() {
	local name=$1 p=$2
	shift 2
	if wait_until "$IO_TIMEOUT" has_route "$name" "$p" "$@"; then
		log "ok: $name holds $p $*"
		return 0
	fi
	log "$name (${IO_KIND[$name]}) holds for $p:"
	dump "$name" "$p" 2>&1 | python3 "$IO_CHECK" match "${IO_KIND[$name]}" "$p" "$@" >&2
	fail "$name: no route $p $*"
}

# advertises NAME PEER PREFIX [KEY=VALUE...]: wren NAME's Adj-RIB-Out towards PEER
# (`wren show routes --peer PEER --advertised`) has a matching path (keys as has_route).
advertises() {
	local name=$1 peer=$2 p=$3
	shift 3
	standin "$name" && return 0
	wren_cli "$name" show routes --peer "$peer" --advertised -o json 2>/dev/null |
		python3 "$IO_CHECK" match wren "$p" "$@"
}

# expect_advertised NAME PEER PREFIX [KEY=VALUE...]: wait until advertises holds.
expect_advertised() {
	if wait_until "$IO_TIMEOUT" advertises "$@"; then
		log "ok: $1 advertises to $2: $3 ${*:4}"
		return 0
	fi
	advertises "$@" >&2
	fail "$1 does not advertise to $2: $3 ${*:4}"
}

# in_fib NAME PREFIX [KEY=VALUE...]: wren NAME's FIB (`wren show fib`) has PREFIX with
# those next hops (nh=ADDR, one per key) and kind; paths=0: not there.
in_fib() {
	local name=$1 p=$2
	shift 2
	standin "$name" && return 0
	wren_cli "$name" show fib -o json 2>/dev/null | python3 "$IO_CHECK" match wren-fib "$p" "$@"
}

# expect_fib NAME PREFIX [KEY=VALUE...]: wait until in_fib holds.
expect_fib() {
	if wait_until "$IO_TIMEOUT" in_fib "$@"; then
		log "ok: $1 FIB: $2 ${*:3}"
		return 0
	fi
	in_fib "$@" >&2
	fail "$1 FIB: no $2 ${*:3}"
}

# expect_no_route NAME PREFIX: wait until NAME holds no path for PREFIX.
expect_no_route() { expect_route "$1" "$2" paths=0; }

# keeps_route SECONDS NAME PREFIX [KEY=VALUE...]: has_route holds for SECONDS on end.
keeps_route() {
	local t=$1 name=$2 p=$3
	shift 3
	hold_for "$t" has_route "$name" "$p" "$@" && { log "ok: $name kept $p $* for ${t}s"; return 0; }
	dump "$name" "$p" 2>&1 | python3 "$IO_CHECK" match "${IO_KIND[$name]}" "$p" "$@" >&2
	fail "$name: route $p $* did not stay for ${t}s"
}

# watch_route TAG NAME PREFIX [KEY=VALUE...]: sample has_route 5 times a second in the
# background, one line `present` or `absent` each, into $WORK/watch.TAG, until
# `watch_end TAG`.
declare -A IO_WATCH=()
watch_route() {
	local tag=$1
	shift
	(
		while :; do
			if has_route "$@"; then echo present; else echo absent; fi
			sleep 0.2
		done
	) >"$WORK/watch.$tag" 2>/dev/null &
	IO_WATCH[$tag]=$!
	IO_PIDS+=("$!")
}

# watch_end TAG: stop that sampler; FAIL if it ever saw the route absent.
watch_end() {
	local tag=$1 n gaps
	kill "${IO_WATCH[$tag]}" 2>/dev/null
	wait "${IO_WATCH[$tag]}" 2>/dev/null
	n=$(wc -l <"$WORK/watch.$tag")
	gaps=$(grep -c absent "$WORK/watch.$tag")
	((gaps == 0)) || fail "watch $tag: the route was absent in $gaps of $n samples"
	log "ok: watch $tag: present in all $n samples"
}

# wren_peer NAME PEER: that peer's entry of `wren show peers -o json` (one JSON object).
wren_peer() {
	wren_cli "$1" show peers -o json | python3 "$IO_CHECK" peer "$2"
}

# wren_peer_is NAME PEER KEY=VALUE...: the peer's fields match (state=established,
# last_down~TEXT for a case-insensitive substring, stale=0 ...).
wren_peer_is() {
	local name=$1 peer=$2
	shift 2
	wren_cli "$name" show peers -o json 2>/dev/null | python3 "$IO_CHECK" peer "$peer" "$@"
}

# expect_peer NAME PEER KEY=VALUE...: wait until wren_peer_is holds; FAIL otherwise.
expect_peer() {
	local name=$1 peer=$2
	shift 2
	if wait_until "$IO_TIMEOUT" wren_peer_is "$name" "$peer" "$@"; then
		log "ok: $name peer $peer $*"
		return 0
	fi
	wren_cli "$name" show peers -o json 2>&1 | python3 "$IO_CHECK" peer "$peer" "$@" >&2
	fail "$name: peer $peer is not $*"
}

# keeps_peer SECONDS NAME "PEER..." KEY=VALUE...: wren_peer_is holds for every PEER
# (a space-separated list) all along SECONDS.
keeps_peer() {
	local t=$1 name=$2 peers=$3 p
	shift 3
	if hold_for "$t" all_peers_are "$name" "$peers" "$@"; then
		log "ok: $name peer(s) $peers stayed $* for ${t}s"
		return 0
	fi
	for p in $peers; do
		wren_cli "$name" show peers -o json 2>&1 | python3 "$IO_CHECK" peer "$p" "$@" >&2
	done
	fail "$name: peer(s) $peers did not stay $*"
}

# all_peers_are NAME "PEER..." KEY=VALUE...: wren_peer_is for each PEER.
all_peers_are() {
	local name=$1 peers=$2 p
	shift 2
	for p in $peers; do
		wren_peer_is "$name" "$p" "$@" || return 1
	done
}

# established NAME PEER: the session of daemon NAME with PEER (an address; for wren
# the peer name) is established.
established() {
	local name=$1 peer=$2
	case ${IO_KIND[$name]} in
	wren) wren_peer_is "$name" "$peer" state=established ;;
	bird2) birdc -s "$WORK/$name.ctl" show protocols "$peer" | grep -q Established ;;
	bird1) "$BIRD1_ROOT/usr/sbin/birdc" -s "$WORK/$name.ctl" show protocols "$peer" | grep -q Established ;;
	frr) vtysh_frr "$name" -c "show bgp neighbor $peer json" | grep -q '"bgpState":"Established"' ;;
	gobgp) gobgp_cli "$name" neighbor "$peer" -j | grep -q '"session_state":6' ;;
	openbgpd) bgpctl_o "$name" show neighbor "$peer" | grep -q 'BGP state = Established' ;;
	exabgp) grep -q '"state": *"up"' "$WORK/$name.recv" ;;
	*) return 1 ;;
	esac
}

# expect_established NAME PEER: wait until established; FAIL with the log tail otherwise.
expect_established() {
	if wait_until "$IO_TIMEOUT" established "$1" "$2"; then
		log "ok: $1 established with $2"
		return 0
	fi
	tail -n 20 "$WORK/$1.log" >&2
	fail "$1: session with $2 not established"
}
