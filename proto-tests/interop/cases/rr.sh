# rr: wren as route reflector (RFC 4456) for a BIRD 2 client (link 1) and an FRR
# client (link 2), all AS 65000. Each client receives the other's route with the
# next hop unchanged, ORIGINATOR_ID = the originating client's router ID and
# CLUSTER_LIST = [wren's cluster ID]; both receive wren's own route.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
node_add w
node_add b
node_add f
link_add w b 1
link_add w f 2
route_add f 198.18.1.0/24 via 198.18.2.1 # FRR resolves BIRD's next hop through wren

start_wren w wren "$CASE_DIR/rr/wren.toml"
start_bird2 b bird "$CASE_DIR/rr/bird.conf"
start_frr f frr "$CASE_DIR/rr/frr.conf"

expect_route wren 198.18.201.0/24 from=bird_client nh=198.18.1.2
expect_route wren 198.18.202.0/24 from=frr_client nh=198.18.2.2
expect_route bird 198.18.202.0/24 nh=198.18.2.2 originator=198.18.2.2 cluster=198.18.0.99
expect_route frr 198.18.201.0/24 nh=198.18.1.2 originator=198.18.1.2 cluster=198.18.0.99
expect_route bird 198.18.200.0/24 nh=198.18.1.1 cluster=
expect_route frr 198.18.200.0/24 nh=198.18.2.1 cluster=
