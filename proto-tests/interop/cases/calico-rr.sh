# calico-rr: Calico in route-reflector mode with wren as the reflector. Three BIRD 1.6
# nodes with Calico's config (graceful restart, ADD-PATH) each advertise their block;
# nodes 1 and 2 also advertise the same service address 198.18.250.0/26. Each node gets
# the others' blocks with the originator's next hop, ORIGINATOR_ID and wren's cluster
# ID, and node 3 gets both paths of the service address (ADD-PATH through the RR),
# and installs the routes in its kernel table.
need "$BIRD1_ROOT/usr/sbin/bird" "$BIRD1_ROOT/usr/sbin/birdc"
node_add w
for i in 1 2 3; do
	node_add "n$i"
	link_add w "n$i" "$i"
	route_add "n$i" 198.18.0.0/16 via "198.18.$i.1" # the other nodes, through the RR node
done
nsx w sysctl -qw net.ipv4.ip_forward=1

start_wren w wren "$CASE_DIR/calico-rr/wren.toml"
for i in 1 2 3; do
	service=198.18.250.0/26
	[[ $i == 3 ]] && service=198.18.253.0/26
	start_bird1 "n$i" "node$i" "$CASE_DIR/calico-rr/bird.cfg" "NODE=198.18.$i.2" "RR=198.18.$i.1" \
		"RRNAME=198_18_${i}_1" "BLOCK=198.18.20$i.0/26" "SERVICE=$service"
done

for i in 1 2 3; do expect_established wren "node$i"; done
expect_route wren 198.18.250.0/26 paths=2
expect_route node1 198.18.202.0/26 nh=198.18.2.2 originator=198.18.2.2 cluster=198.18.0.1
expect_route node2 198.18.203.0/26 nh=198.18.3.2 originator=198.18.3.2 cluster=198.18.0.1
expect_route node3 198.18.201.0/26 nh=198.18.1.2 originator=198.18.1.2 cluster=198.18.0.1
expect_route node3 198.18.250.0/26 nh=198.18.1.2 originator=198.18.1.2 cluster=198.18.0.1
expect_route node3 198.18.250.0/26 nh=198.18.2.2 originator=198.18.2.2 cluster=198.18.0.1
expect_route node3 198.18.250.0/26 paths=2
expect_route node1 198.18.253.0/26 nh=198.18.3.2 paths=1
# A node never gets its own routes back (the RR skips the originator, or the node
# drops them by ORIGINATOR_ID).
expect_route node1 198.18.201.0/26 paths=1 from=static1
wait_until "$IO_TIMEOUT" kernel_has n3 198.18.201.0/26 "via 198.18.3.1 .*proto bird" ||
	fail "node3 did not install node1's block: $(ip -n "$(ns n3)" route)"
wait_until "$IO_TIMEOUT" kernel_has n3 198.18.250.0/26 "proto bird" ||
	fail "node3 did not install the service address: $(ip -n "$(ns n3)" route)"
log "ok: node3's kernel: $(ip -n "$(ns n3)" route show proto bird | tr '\n' ';')"
