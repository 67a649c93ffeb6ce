# bird16-calico: BIRD 1.6 (`bird` for IPv4 and `bird6` for IPv6, as calico-node runs
# them) with Calico's generated config (multihop, passive, graceful restart, ADD-PATH,
# next hop self, Calico's import/export filters and LOCAL_PREF encoding), peering with
# wren across a router. Each side's block reaches the other with the right next hop,
# and BIRD installs wren's blocks in its kernel table (`proto bird`) like on a node.
need "$BIRD1_ROOT/usr/sbin/bird" "$BIRD1_ROOT/usr/sbin/bird6" "$BIRD1_ROOT/usr/sbin/birdc"
node_add w
node_add r
node_add c
link_add w r 1
link_add r c 2
nsx r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
route_add w 198.18.2.0/24 via 198.18.1.2
route_add w 2001:db8:2::/64 via 2001:db8:1::2
route_add c 198.18.1.0/24 via 198.18.2.1
route_add c 2001:db8:1::/64 via 2001:db8:2::1

here="$CASE_DIR/bird16-calico"
start_bird1 c calico "$here/bird.cfg"
BIRD1_V6=1 start_bird1 c calico6 "$here/bird6.cfg"
start_wren w wren "$here/wren.toml"

expect_established wren calico4
expect_established wren calico6
# Next hop self on BIRD's side; LOCAL_PREF 2147483647 - 1024 (Calico's priority encoding).
expect_route wren 198.18.202.0/26 from=calico4 nh=198.18.2.2 aspath= lp=2147482623
expect_route wren 2001:db8:f202::/122 from=calico6 nh=2001:db8:2::2 aspath= lp=2147482623
expect_route calico 198.18.200.0/26 nh=198.18.1.1 aspath=
expect_route calico6 2001:db8:f200::/122 nh=2001:db8:1::1 aspath=
wait_until "$IO_TIMEOUT" kernel_has c 198.18.200.0/26 "via 198.18.2.1 .*proto bird" ||
	fail "BIRD 1.6 did not install 198.18.200.0/26 in the kernel: $(ip -n "$(ns c)" route)"
wait_until "$IO_TIMEOUT" kernel_has c 2001:db8:f200::/122 "via 2001:db8:2::1 .*proto bird" ||
	fail "bird6 did not install 2001:db8:f200::/122 in the kernel: $(ip -n "$(ns c)" -6 route)"
log "ok: BIRD 1.6 installed wren's blocks: $(ip -n "$(ns c)" route show proto bird; ip -n "$(ns c)" -6 route show proto bird)"
