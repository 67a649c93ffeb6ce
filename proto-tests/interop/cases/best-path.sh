# best-path: the decision process (RFC 4271 §9.1.2.2) and its changes, seen from
# outside. BIRD 2 and FRR both send 198.18.210.0/24; FRR's AS path is shorter, so
# wren's best is FRR's and GoBGP gets `65000 65002`. FRR withdraws: the best becomes
# BIRD's and GoBGP gets `65000 65001 65001` (an implicit withdraw), while the copy
# FRR sends back (wren's AS in its path) is never chosen; FRR announces again: back
# to FRR's.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh gobgpd gobgp
node_add w
node_add b
node_add f
node_add g
link_add w b 1
link_add w f 2
link_add w g 3

here="$CASE_DIR/best-path"
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf"
start_frr f frr "$here/frr.conf"
start_gobgp g gobgp "$here/gobgp.toml"

p=198.18.210.0/24
expect_route wren $p from=frr nh=198.18.2.2 aspath=65002 best=true
expect_route wren $p from=bird2 nh=198.18.1.2 aspath="65001 65001" best=false
expect_route gobgp $p nh=198.18.3.1 aspath="65000 65002" paths=1

frr_network() {
	vtysh_frr frr -c "configure terminal" -c "router bgp 65002" -c "address-family ipv4 unicast" -c "$1"
}
frr_network "no network $p"
expect_route wren $p from=bird2 best=true
# FRR sends wren's new best back (FRR does no sender-side loop check): wren keeps it
# out of the decision, its own AS being in the path (RFC 4271 §9.1.2).
expect_route wren $p from=frr aspath="65002 65000 65001 65001" best=false
expect_route gobgp $p nh=198.18.3.1 aspath="65000 65001 65001" paths=1

frr_network "network $p"
expect_route wren $p from=frr best=true
expect_route gobgp $p nh=198.18.3.1 aspath="65000 65002" paths=1
expect_advertised wren gobgp $p aspath="65000 65002"
