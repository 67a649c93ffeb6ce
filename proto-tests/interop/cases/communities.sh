# communities: the well-known communities (RFC 1997). BIRD 2 sends four prefixes to
# wren: NO_EXPORT's may go to the iBGP peer (GoBGP) but not to the eBGP one (FRR);
# NO_ADVERTISE's goes to nobody; the plain one and the one with 65001:7 go to both,
# the community passed on unchanged.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh gobgpd gobgp
node_add w
node_add b
node_add f
node_add g
link_add w b 1
link_add w f 2
link_add w g 3

here="$CASE_DIR/communities"
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf"
start_frr f frr "$here/frr.conf"
start_gobgp g gobgp "$here/gobgp.toml"

for p in 198.18.211.0/24 198.18.212.0/24 198.18.213.0/24 198.18.214.0/24; do
	expect_route wren $p from=bird2 nh=198.18.1.2
done
expect_route wren 198.18.212.0/24 from=bird2 community=65535:65281
expect_route frr 198.18.211.0/24 nh=198.18.2.1 aspath="65000 65001"
expect_route frr 198.18.214.0/24 nh=198.18.2.1 community=65001:7
expect_route gobgp 198.18.211.0/24 aspath=65001 nh=198.18.1.2 # iBGP: next hop kept
expect_route gobgp 198.18.212.0/24 aspath=65001 community=65535:65281
expect_route gobgp 198.18.214.0/24 aspath=65001 community=65001:7
# What must not arrive (checked after the rest arrived, by then it would have).
expect_no_route frr 198.18.212.0/24
expect_no_route frr 198.18.213.0/24
expect_no_route gobgp 198.18.213.0/24
advertises wren frr 198.18.212.0/24 paths=0 || fail "wren advertises a NO_EXPORT route to an eBGP peer"
advertises wren gobgp 198.18.213.0/24 paths=0 || fail "wren advertises a NO_ADVERTISE route"
