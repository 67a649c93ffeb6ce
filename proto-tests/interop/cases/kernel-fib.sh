# kernel-fib: wren's routes in the real kernel (protocol 186, table main). BIRD 2's route
# is installed via BIRD's address, onlink through `tunl0` as a `[[fib.device_route]]`
# asks (a veth stands in for the IPIP device), and wren's own block as a blackhole; a foreign static
# route is never touched. wren stops with `persist = true`: its routes stay. It starts
# again with another block: after BIRD's End-of-RIB (the initial sync) the old block is
# gone, the new one is there, and the unchanged route saw no kernel write at all. With
# `persist = false` `wren stop --withdraw` removes wren's routes (a graceful stop, SIGTERM,
# never does).
need bird birdc ip
node_add w
node_add b
link_add w b 1
ip -n "$(ns w)" link add tunl0 type veth peer name tunl0p
ip -n "$(ns w)" link set tunl0 up
ip -n "$(ns w)" link set tunl0p up
# A route of another program at a prefix wren also learns must stay untouched.
ip -n "$(ns w)" route add 198.18.202.0/24 via 198.18.1.2 proto static

start_bird2 b bird "$CASE_DIR/kernel-fib/bird.conf"
start_wren w wren "$CASE_DIR/kernel-fib/wren.toml" BLOCK=198.18.200.0/26 PERSIST=true
wait_until 30 kernel_has w 198.18.201.0/24 "via 198.18.1.2 dev tunl0 .*proto (186|bgp).*onlink" ||
	fail "BIRD's route not in wren's kernel via tunl0 onlink: $(ip -n "$(ns w)" route)"
wait_until 10 kernel_has w 198.18.200.0/26 "blackhole.*proto (186|bgp)" ||
	fail "no blackhole for wren's block: $(ip -n "$(ns w)" route)"
kernel_has w 198.18.202.0/24 "via 198.18.1.2 .*proto static" || fail "the foreign route changed"

stop wren
kernel_has w 198.18.201.0/24 "proto (186|bgp)" || fail "persist: the route went with wren"
kernel_has w 198.18.200.0/26 "blackhole" || fail "persist: the blackhole went with wren"

# Record every route event while wren starts again with another block.
ip -n "$(ns w)" monitor route >"$WORK/monitor.txt" 2>&1 &
mon=$!
IO_PIDS+=("$mon")
sleep 0.3
rm -f "$WORK/wren.sock"
start_wren w wren "$CASE_DIR/kernel-fib/wren.toml" BLOCK=198.18.200.64/26 PERSIST=false
expect_peer wren bird2 state=established
wait_until 15 kernel_has w 198.18.200.64/26 "blackhole" || fail "no blackhole for the new block"
wait_until 15 bash -c "! ip -n $(ns w) route show 198.18.200.0/26 | grep -q ." ||
	fail "the old block was not removed after the initial sync: $(ip -n "$(ns w)" route)"
sleep 1
kill "$mon" 2>/dev/null
log "route events during the restart: $(tr '\n' '|' <"$WORK/monitor.txt")"
if grep -q "198.18.201.0/24" "$WORK/monitor.txt"; then
	fail "the unchanged route was written again: $(grep 198.18.201.0/24 "$WORK/monitor.txt")"
fi
kernel_has w 198.18.201.0/24 "via 198.18.1.2 .*proto (186|bgp)" || fail "BIRD's route is gone"
kernel_has w 198.18.202.0/24 "via 198.18.1.2 .*proto static" || fail "the foreign route changed"

# A graceful stop (SIGTERM) leaves the routes even without persist; a withdraw removes them.
wren_cli wren stop --withdraw >/dev/null || fail "wren stop --withdraw failed"
wait_until 5 bash -c "! ip -n $(ns w) route show proto 186 | grep -q ." ||
	fail "persist = false: routes left behind: $(ip -n "$(ns w)" route show proto 186)"
kernel_has w 198.18.202.0/24 "via 198.18.1.2 .*proto static" || fail "the foreign route went too"
