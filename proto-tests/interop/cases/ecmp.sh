# ecmp: multipath. BIRD 2 and FRR send 198.18.220.0/24 with AS paths of the same
# length (from different neighbour ASes): wren picks one as best, marks the other
# multipath, and its FIB has both next hops. When FRR withdraws, one next hop is left.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
node_add w
node_add b
node_add f
link_add w b 1
link_add w f 2

here="$CASE_DIR/ecmp"
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf"
start_frr f frr "$here/frr.conf"

p=198.18.220.0/24
expect_route wren $p from=bird2 nh=198.18.1.2
expect_route wren $p from=frr nh=198.18.2.2
expect_route wren $p best=true paths=1
expect_route wren $p best=false multipath=true paths=1
expect_fib wren $p nh=198.18.1.2 nh=198.18.2.2 kind=unicast

vtysh_frr frr -c "configure terminal" -c "router bgp 65002" -c "address-family ipv4 unicast" \
	-c "no network $p"
expect_route wren $p from=bird2 best=true
# (FRR echoes wren's best back to it, with wren's AS in the path: never eligible.)
expect_route wren $p from=frr aspath="65002 65000 65001" best=false multipath=false
expect_fib wren $p nh=198.18.1.2 kind=unicast
in_fib wren $p nh=198.18.2.2 paths=0 || fail "the FIB still has FRR's next hop"
