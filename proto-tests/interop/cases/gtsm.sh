# gtsm: GTSM (RFC 5082) with FRR. Where both sides use it (TTL 255 out, 255 required
# in) the session comes up and routes flow; where FRR sends plain TTL 1 it never
# comes up, and `wren show peers` says why.
need /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
node_add w
node_add f
link_add w f 1
addr_add w 198.18.1.11/24
addr_add f 198.18.1.3/24

start_wren w wren "$CASE_DIR/gtsm/wren.toml"
start_frr f frr "$CASE_DIR/gtsm/frr.conf"

expect_established wren gtsm
expect_route wren 198.18.201.0/24 from=gtsm nh=198.18.1.2
expect_route frr 198.18.200.0/24 nh=198.18.1.1
keeps_peer 10 wren plain state!=established
expect_peer wren plain last_down!=null
log "wren peer plain: $(wren_peer wren plain)"
