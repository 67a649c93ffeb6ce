# gr: wren as graceful-restart helper (RFC 4724 §4.2). BIRD 2 is killed (SIGKILL) and
# started again in recovery mode (-R: Restart State and Forwarding State bits set)
# without one of its two prefixes. wren must keep both routes, marked stale, from
# the kill until BIRD's End-of-RIB; then the re-announced one is fresh again and the
# one BIRD no longer has is gone.
need bird birdc
node_add w
node_add b
link_add w b 1

here="$CASE_DIR/gr"
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf" "EXTRA=route 198.18.202.0/24 blackhole;"

expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2 stale=false
expect_route wren 198.18.202.0/24 from=bird2 nh=198.18.1.2 stale=false
expect_route bird 198.18.200.0/24 nh=198.18.1.1
expect_peer wren bird2 state=established

watch_route kept wren 198.18.201.0/24 from=bird2
stop bird KILL
expect_peer wren bird2 state!=established
expect_route wren 198.18.201.0/24 from=bird2 stale=true
expect_route wren 198.18.202.0/24 from=bird2 stale=true
expect_peer wren bird2 stale=2
keeps_route 3 wren 198.18.201.0/24 from=bird2 stale=true

restart bird -R "$here/bird.conf" "EXTRA="
expect_established wren bird2
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2 stale=false
expect_no_route wren 198.18.202.0/24
expect_peer wren bird2 stale=0
expect_route bird 198.18.200.0/24 nh=198.18.1.1
watch_end kept
