# llgr: wren as long-lived graceful restart helper (RFC 9494 §4.2–§4.4). BIRD 2 announces
# LLGR (long-lived stale time 6 s) beside GR (restart time 4 s) and is killed (SIGKILL):
# - first its route is GR-stale (RFC 4724), still sent to the BIRD without LLGR ("plain");
# - when the GR time is over it is long-lived stale: LLGR_STALE (65535:6) attached, still
#   best and still in wren's kernel, `show peers --detail` lists the LLGR period, and it
#   is withdrawn from "plain", which did not send the LLGR capability (§4.3);
# - 6 s later it is gone, from the RIB and the kernel.
need bird birdc
node_add w
node_add b
node_add c
link_add w b 1
link_add w c 2

here="$CASE_DIR/llgr"
P=198.18.201.0/24
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf"
start_bird2 c plain "$here/plain.conf"

expect_peer wren bird2 state=established
expect_route wren $P from=bird2 nh=198.18.1.2 stale=false
expect_route plain $P nh=198.18.2.1
wait_until "$IO_TIMEOUT" kernel_has w $P "via 198.18.1.2" || fail "no kernel route to $P"
wren_cli wren show peers bird2 --detail | grep -q "long-lived gr" ||
	fail "show peers --detail does not show the LLGR capability"

stop bird KILL
t0=$SECONDS
expect_peer wren bird2 state!=established
expect_route wren $P from=bird2 stale=true
# GR first (4 s): the route is not long-lived stale yet, and "plain" still has it.
has_route wren $P community=65535:6 2>/dev/null && ((SECONDS - t0 < 3)) &&
	fail "LLGR_STALE attached before BIRD's 4 s graceful-restart time was over"
expect_route wren $P from=bird2 stale=true best=true community=65535:6
t1=$((SECONDS - t0))
((t1 >= 3)) || fail "long-lived stale after ${t1} s, before the 4 s GR time"
log "ok: long-lived stale after ${t1} s"
kernel_has w $P "via 198.18.1.2" || fail "the long-lived stale route left the kernel"
log "ok: still in the kernel: $(ip -n "$(ns w)" route show $P)"
wren_cli wren show peers bird2 --detail | grep "llgr stale" >&2 ||
	fail "show peers --detail does not show the LLGR period"
wren_cli wren show routes | grep "L.*$P" >&2 || fail "show routes does not flag the path L"
expect_no_route plain $P
keeps_route 2 wren $P from=bird2 community=65535:6

expect_no_route wren $P
t2=$((SECONDS - t0))
((t2 >= 8)) || fail "the route went after ${t2} s, before GR 4 s + LLGR 6 s"
log "ok: gone after ${t2} s (GR 4 s + long-lived stale 6 s)"
wait_until 5 bash -c "! ip -n $(ns w) route show $P | grep -q ." ||
	fail "the route is still in the kernel: $(ip -n "$(ns w)" route show $P)"
logged wren "long-lived graceful restart" || fail "wren did not log the LLGR period"
