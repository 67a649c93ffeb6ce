# gr-restart: wren as the *restarting* speaker (RFC 4724 §4.1, README "Restarts and
# upgrades"). A client probes (UDP echo, probe.py), through wren, addresses behind BIRD 2 and FRR while wren
# is killed (SIGKILL) and started again, then stopped (SIGTERM, then `wren stop`) and
# started again:
# - the kernel routes wren installed stay: `ip monitor route` in wren's namespace sees
#   no event at all for them (no delete, and no write of an unchanged route at start);
# - no probe is lost;
# - BIRD and FRR keep wren's route throughout (stale while wren is away: FRR marks it,
#   BIRD runs its graceful-restart timer) and take it as fresh after wren's End-of-RIB;
# - wren's OPENs carry the Restart State and Forwarding State bits (and N), as BIRD and
#   FRR show;
# - everything has converged within 5 s of the restart.
# Then `wren stop --withdraw`: BIRD and FRR drop wren's route at once and the kernel
# routes go (`persist = false`).
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
here="$CASE_DIR/gr-restart"
node_add c
node_add w
node_add b
node_add f
link_add c w 1
link_add w b 2
link_add w f 3
nsx w sysctl -qw net.ipv4.ip_forward=1
addr_add b 198.18.201.1/32 dev lo
addr_add f 198.18.202.1/32 dev lo
route_add c default via 198.18.1.2
route_add b 198.18.1.0/24 via 198.18.2.1
route_add f 198.18.1.0/24 via 198.18.3.1

start_bird2 b bird "$here/bird.conf"
start_frr f frr "$here/frr.conf"
start_wren w wren "$here/wren.toml"
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.2.2
expect_route wren 198.18.202.0/24 from=frr nh=198.18.3.2
expect_route bird 198.18.200.0/24 nh=198.18.2.1
expect_route frr 198.18.200.0/24 nh=198.18.3.1
wait_until "$IO_TIMEOUT" kernel_has w 198.18.201.0/24 "via 198.18.2.2" || fail "no kernel route to BIRD's block"
wait_until "$IO_TIMEOUT" kernel_has w 198.18.202.0/24 "via 198.18.3.2" || fail "no kernel route to FRR's block"
kernel_has w 198.18.200.0/24 blackhole || fail "no blackhole for wren's block"
spawn b echo.bird python3 "$here/probe.py" echo 198.18.201.1 7
spawn f echo.frr python3 "$here/probe.py" echo 198.18.202.1 7
started_ok echo.bird grep -q "echo on" "$WORK/echo.bird.log"
started_ok echo.frr grep -q "echo on" "$WORK/echo.frr.log"

# probe_start NAME ADDR: a client probe of ADDR (answered by an echo behind a peer).
probe_start() {
	spawn c "$1" python3 "$here/probe.py" send "$2" 7 0.05
	started_ok "$1" grep -q probing "$WORK/$1.log"
}

# probe_end NAME: stop that probe (SIGTERM: it prints its summary); FAIL on any loss.
probe_end() {
	local name=$1 sent got
	kill -TERM "${IO_PID[$name]}" 2>/dev/null
	for _ in $(seq 30); do
		grep -q "packets transmitted" "$WORK/$name.log" && break
		sleep 0.1
	done
	read -r sent got < <(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1 \2/p' "$WORK/$name.log")
	[[ -n $sent ]] || fail "$name: no probe summary"
	((sent > 10 && got == sent)) || fail "$name: $got of $sent probes answered"
	log "ok: $name: all $sent probes answered"
}

probe_start probe.first 198.18.201.1
probe_start probe.first.frr 198.18.202.1
sleep 1
probe_end probe.first
probe_end probe.first.frr
log "ok: the client reaches both peers' addresses through wren"

# bird_gr: BIRD keeps wren's routes in its graceful-restart (helper) state.
bird_gr() { birdc -s "$WORK/bird.ctl" show protocols all wren | grep -qi "graceful restart active"; }

# bird_fresh: BIRD's session with wren is up, its graceful restart over, wren's route in.
bird_fresh() { established bird wren && ! bird_gr && has_route bird 198.18.200.0/24 nh=198.18.2.1; }

# converged N: wren's N-th initial sync is done, wren holds both peers' routes as fresh
# and both peers hold wren's route as fresh.
converged() {
	(($(grep -c "initial sync done: " "$WORK/wren.log") >= $1)) &&
		has_route wren 198.18.201.0/24 from=bird2 stale=false &&
		has_route wren 198.18.202.0/24 from=frr stale=false &&
		has_route frr 198.18.200.0/24 stale=false && bird_fresh
}

# since T0 TIMESTAMP: seconds from T0 (date +%s.%N) to a daemon's log TIMESTAMP.
since() { awk -v a="$1" -v b="$(date -d "$2" +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# converge N T0: wait until converged; then, from the daemons' own log timestamps
# (polling the CLIs is slower than what it measures), when each side was done:
# wren's initial sync (End-of-RIB from both peers), FRR's and BIRD's End-of-RIB from
# wren. FAIL unless all within 5 s of T0.
converge() {
	local n=$1 t0=$2 w b f t
	wait_until 10 converged "$n" || fail "not converged 10 s after the restart"
	w=$(grep "initial sync done: " "$WORK/wren.log" | sed -n "${n}p" | cut -d' ' -f1)
	f=$(grep "rcvd End-of-RIB for IPv4 Unicast from 198.18.3.1" "$WORK/frr.log" | tail -n 1 | cut -d' ' -f1,2)
	b=$(grep -i "wren: Neighbor graceful restart done" "$WORK/bird.log" | tail -n 1 | cut -d' ' -f1,2)
	[[ -n $w && -n $f && -n $b ]] || fail "missing log lines: wren '$w' FRR '$f' BIRD '$b'"
	log "after the restart: wren synced in $(since "$t0" "$w") s, FRR had wren's End-of-RIB in $(since "$t0" "${f//\//-}") s, BIRD's graceful restart done in $(since "$t0" "$b") s"
	for t in "$w" "${f//\//-}" "$b"; do
		awk -v t="$(since "$t0" "$t")" 'BEGIN { exit !(t <= 5) }' || fail "convergence took more than 5 s"
	done
}

# restart_bits TAG: BIRD and FRR saw wren's OPEN with the Restart State bit, the
# Forwarding State bit for IPv4 (its kernel routes survived) and (FRR) the N bit.
restart_bits() {
	birdc -s "$WORK/bird.ctl" show protocols all wren |
		sed -n '/Neighbor capabilities/,/Session:/p' >"$WORK/bird.caps.$1"
	grep -q "Restart recovery" "$WORK/bird.caps.$1" || fail "BIRD saw no Restart State bit from wren"
	grep -q "AF preserved: ipv4" "$WORK/bird.caps.$1" || fail "BIRD saw no Forwarding State bit for IPv4"
	vtysh_frr frr -c "show bgp neighbor 198.18.3.1 json" | python3 -c '
import json, sys
g = json.load(sys.stdin)["198.18.3.1"].get("gracefulRestartInfo", {})
ok = g.get("rBit") and g.get("nBit") and g.get("ipv4Unicast", {}).get("fBit")
sys.exit(0 if ok else "FRR: " + json.dumps(g))' || fail "FRR saw no R, N or F bit from wren"
	log "ok: BIRD and FRR saw wren restarting (R), with IPv4 forwarding preserved (F), N bit (FRR)"
}

# round TAG SIGNAL N: stop wren with SIGNAL (CLI: `wren stop`) and start it again (the
# N-th start).
round() {
	local tag=$1 sig=$2 n=$3 t0 ev
	spawn w "mon.$tag" ip monitor route nexthop
	probe_start "probe.$tag.bird" 198.18.201.1
	probe_start "probe.$tag.frr" 198.18.202.1
	watch_route "bird.$tag" bird 198.18.200.0/24 nh=198.18.2.1
	watch_route "frr.$tag" frr 198.18.200.0/24 nh=198.18.3.1
	sleep 1
	if [[ $sig == CLI ]]; then
		log "wren stop (graceful)"
		wren_cli wren stop >/dev/null || fail "wren stop failed"
		wait_until 5 eval "! alive wren" || fail "wren still runs 5 s after wren stop"
	else
		stop wren "$sig"
	fi
	grep -q "NOTIFICATION\|Cease" <(tail -n 5 "$WORK/wren.log") && fail "$tag: wren sent a NOTIFICATION"
	expect_route frr 198.18.200.0/24 stale=true
	wait_until 5 bird_gr || fail "BIRD did not enter graceful restart for wren"
	log "ok: FRR keeps wren's route as stale, BIRD is in graceful restart"
	kernel_has w 198.18.201.0/24 "via 198.18.2.2" || fail "$tag: the kernel route to BIRD's block is gone"
	kernel_has w 198.18.200.0/24 blackhole || fail "$tag: wren's blackhole is gone"
	sleep 2
	t0=$(date +%s.%N)
	restart wren
	converge "$n" "$t0"
	restart_bits "$tag"
	(($(grep -c "restarting: routes of ours were in the kernel" "$WORK/wren.log") >= n - 1)) ||
		fail "wren did not log that it is restarting"
	sleep 1
	probe_end "probe.$tag.bird"
	probe_end "probe.$tag.frr"
	watch_end "bird.$tag"
	watch_end "frr.$tag"
	kill "${IO_PID[mon.$tag]}" 2>/dev/null
	ev=$(grep -cE '198\.18\.20[0-2]\.0/24' "$WORK/mon.$tag.log")
	if ((ev > 0)); then
		grep -E '198\.18\.20[0-2]\.0/24' "$WORK/mon.$tag.log" >&2
		fail "$tag: $ev kernel route event(s) for wren's routes across the restart"
	fi
	log "ok: $tag: no kernel route event for wren's routes ($(wc -l <"$WORK/mon.$tag.log") other monitor lines)"
}

round kill KILL 2
round term TERM 3
round cli CLI 4

# `wren stop --withdraw`: the peers drop wren's route at once, the kernel routes go.
spawn w mon.withdraw ip monitor route
sleep 0.5
wren_cli wren stop --withdraw >/dev/null || fail "wren stop --withdraw failed"
wait_until 5 eval "! alive wren" || fail "wren still runs 5 s after wren stop --withdraw"
IO_TIMEOUT=3 expect_no_route bird 198.18.200.0/24
IO_TIMEOUT=3 expect_no_route frr 198.18.200.0/24
bird_gr && fail "BIRD treats a withdraw as a graceful restart"
kernel_has w 198.18.201.0/24 . && fail "withdraw: the kernel route to BIRD's block is still there"
kernel_has w 198.18.200.0/24 . && fail "withdraw: wren's blackhole is still there"
grep -q "Deleted.*198.18.201.0/24" "$WORK/mon.withdraw.log" || fail "withdraw: no kernel delete seen"
log "ok: withdraw: peers dropped wren's route, kernel routes removed"
