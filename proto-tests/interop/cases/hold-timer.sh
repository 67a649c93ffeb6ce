# hold-timer: BIRD 2 (hold time 9 s, no graceful restart; the lifecycle case's
# configs) is frozen with SIGSTOP. wren's hold timer expires (RFC 4271 §6.5): it drops
# BIRD's route, says so in last_down, and sends NOTIFICATION 4/0, which BIRD reads
# once thawed (SIGCONT); then the session and the route come back.
need bird birdc
node_add w
node_add b
link_add w b 1

start_bird2 b bird "$CASE_DIR/lifecycle/bird.conf"
start_wren w wren "$CASE_DIR/lifecycle/wren.toml"
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2
expect_route bird 198.18.200.0/24 nh=198.18.1.1

log "SIGSTOP bird"
kill -STOP "${IO_PID[bird]}"
t0=$SECONDS
expect_peer wren bird2 state!=established "last_down~hold"
log "wren says after $((SECONDS - t0))s: $(wren_peer wren bird2)"
((SECONDS - t0 >= 5)) || fail "the session went down after $((SECONDS - t0))s, before the hold time (9 s)"
expect_no_route wren 198.18.201.0/24
log "SIGCONT bird"
kill -CONT "${IO_PID[bird]}"
expect_logged bird "wren: Received: Hold timer expired"
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2
expect_route bird 198.18.200.0/24 nh=198.18.1.1
