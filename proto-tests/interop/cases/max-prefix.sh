# max-prefix: wren's `max_prefix = 2` (RFC 4486). With two prefixes from BIRD 2 all is
# well; after a reconfigure BIRD sends a third: wren resets the session with Cease 6/1
# (Maximum Number of Prefixes Reached), which BIRD reports, drops BIRD's routes and
# names the reason in last_down.
need bird birdc
node_add w
node_add b
link_add w b 1

start_bird2 b bird "$CASE_DIR/max-prefix/bird.conf" THIRD=
start_wren w wren "$CASE_DIR/max-prefix/wren.toml"
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2
expect_route wren 198.18.202.0/24 from=bird2 nh=198.18.1.2
expect_peer wren bird2 state=established accepted=2

render "$CASE_DIR/max-prefix/bird.conf" "$WORK/bird.conf" "THIRD=route 198.18.203.0/24 blackhole;"
birdc -s "$WORK/bird.ctl" configure >/dev/null || fail "birdc configure"
# RFC 4486 §4: the data is AFI 1, SAFI 1 and the limit (2).
expect_logged bird "wren: Received: Maximum number of prefixes reached: 00010100000002"
expect_peer wren bird2 "last_down~NOTIFICATION 6/1"
log "wren says: $(wren_peer wren bird2)"
expect_no_route wren 198.18.201.0/24
expect_no_route wren 198.18.203.0/24
