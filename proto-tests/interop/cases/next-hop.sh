# next-hop: wren's `next_hop` modes (RFC 4271 §5.1.3, RFC 4456 §10). BIRD 2's route
# (next hop 198.18.1.2) reaches the iBGP peer with `auto` unchanged, the iBGP peer with
# `self` with wren's address on that link, and the eBGP peer with `keep` unchanged
# (a third-party next hop the receiver reaches through a static route).
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh gobgpd gobgp /usr/sbin/bgpd bgpctl
node_add w
node_add b
node_add f
node_add g
node_add o
link_add w b 1
link_add w f 2
link_add w g 3
link_add w o 4
route_add f 198.18.1.0/24 via 198.18.2.1
route_add o 198.18.1.0/24 via 198.18.4.1

here="$CASE_DIR/next-hop"
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf"
start_frr f frr "$here/frr.conf"
start_gobgp g gobgp "$here/gobgp.toml"
start_openbgpd o openbgpd "$here/openbgpd.conf"

p=198.18.230.0/24
expect_route wren $p from=bird2 nh=198.18.1.2
expect_route frr $p nh=198.18.1.2 aspath=65001
expect_route gobgp $p nh=198.18.3.1 aspath=65001
expect_route openbgpd $p nh=198.18.1.2 aspath="65000 65001"
expect_advertised wren frr $p nh=198.18.1.2
expect_advertised wren gobgp $p nh=198.18.3.1
expect_advertised wren openbgpd $p nh=198.18.1.2
