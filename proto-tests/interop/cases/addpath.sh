# addpath: ADD-PATH (RFC 7911). BIRD 2 (AS 65001) sends two paths for
# 198.18.201.0/24 (MED 10 and 20); wren (AS 65000) must hold both, and send both to
# FRR (AS 65002), which must hold two paths with wren as next hop.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
node_add w
node_add b
node_add f
link_add w b 1
link_add w f 2

start_wren w wren "$CASE_DIR/addpath/wren.toml"
start_bird2 b bird "$CASE_DIR/addpath/bird.conf"
start_frr f frr "$CASE_DIR/addpath/frr.conf"

expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2 paths=2
expect_route frr 198.18.201.0/24 nh=198.18.2.1 aspath="65000 65001" paths=2
expect_route frr 198.18.200.0/24 nh=198.18.2.1 aspath=65000 paths=1
expect_route bird 198.18.200.0/24 nh=198.18.1.1
