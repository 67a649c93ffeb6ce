# rr-client: wren as a route-reflector client of FRR (AS 65000, cluster ID
# 198.18.0.98), which also serves a BIRD 2 client. wren receives BIRD's route
# reflected (next hop, ORIGINATOR_ID = BIRD's router ID, CLUSTER_LIST = FRR's
# cluster ID) and its own route reaches BIRD the same way.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
node_add w
node_add r
node_add b
link_add w r 1
link_add b r 2
route_add w 198.18.2.0/24 via 198.18.1.2 # wren reaches BIRD's next hop through FRR
nsx r sysctl -qw net.ipv4.ip_forward=1

start_frr r reflector "$CASE_DIR/rr-client/frr.conf"
start_wren w wren "$CASE_DIR/rr-client/wren.toml"
start_bird2 b bird "$CASE_DIR/rr-client/bird.conf"

expect_route wren 198.18.202.0/24 from=reflector nh=198.18.2.1 originator=198.18.2.1 cluster=198.18.0.98
expect_route bird 198.18.200.0/24 nh=198.18.1.1 originator=198.18.1.1 cluster=198.18.0.98
expect_route reflector 198.18.200.0/24 nh=198.18.1.1
