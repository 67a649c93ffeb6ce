# reconfig: configuration changes applied as a diff, with two BIRD 2 peers.
# - a second peer added to the file + SIGHUP comes up; the first session is not reset
#   (its session keeps its start time, BIRD receives no NOTIFICATION);
# - hold_time of one peer changed + `wren reload`: only that session is reset, with
#   Cease 6/6 "Other Configuration Change", and the log names the field;
# - a refused file (SIGHUP) leaves the running config and says file, key and reason;
# - `wren peer reset` (Cease 6/4), `wren peer disable` (Cease 6/2 with a message) and
#   `wren peer enable`.
need bird birdc
node_add w
node_add b1
node_add b2
link_add w b1 1
link_add w b2 2

# since PEER: when (Unix seconds) wren's session with PEER entered its state. Whole
# seconds computed at each read: equal within a second means the same session (a reset
# here comes seconds after the start; comparing uptimes failed when less than a second
# passed between the reads).
since() { wren_peer wren "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["since_unix"])'; }
# same_session BEFORE AFTER: the two start times are one session's.
same_session() { (($2 - $1 <= 1 && $1 - $2 <= 1)); }
# wren_conf HOLD: wren's config file anew, with bird2 and its hold_time.
wren_conf() { render "$CASE_DIR/reconfig/wren2.toml" "${IO_CONF[wren]}" "SOCK=$WORK/wren.sock" "HOLD=$1"; }

start_bird2 b1 bird1 "$CASE_DIR/reconfig/bird1.conf"
start_bird2 b2 bird2 "$CASE_DIR/reconfig/bird2.conf"
start_wren w wren "$CASE_DIR/reconfig/wren.toml"
expect_route wren 198.18.201.0/24 from=bird1 nh=198.18.1.2
expect_route bird1 198.18.200.0/24 nh=198.18.1.1
expect_no_route bird2 198.18.200.0/24

# 1. Add bird2 to the file, SIGHUP.
sleep 2
before=$(since bird1)
wren_conf 9
log "SIGHUP to wren (pid ${IO_PID[wren]}): bird2 added"
kill -HUP "${IO_PID[wren]}"
expect_logged wren "reload: peer bird2 added"
expect_established wren bird2
expect_route wren 198.18.202.0/24 from=bird2 nh=198.18.2.2
expect_route bird2 198.18.200.0/24 nh=198.18.2.1
expect_route bird2 198.18.201.0/24 nh=198.18.2.1
after=$(since bird1)
same_session "$before" "$after" || fail "bird1's session was reset by adding bird2 (up since $before, then since $after)"
expect_peer wren bird1 state=established
logged bird1 "Received:" && fail "bird1 received a NOTIFICATION when bird2 was added"
log "ok: bird1 kept its session (up since $before, then since $after)"

# 2. Nothing changed: `wren reload` says so.
out=$(wren_cli wren reload) || fail "wren reload failed: $out"
[[ $out == "no change" ]] || fail "wren reload of the same file: $out"
log "ok: wren reload: $out"

# 3. hold_time of bird2 changes: only bird2 is reset.
before=$(since bird1)
wren_conf 30
out=$(wren_cli wren reload -o json) || fail "wren reload failed: $out"
[[ $out == *'"ok":true'* && $out == *"hold_time 9 → 30"* ]] || fail "wren reload: $out"
log "ok: wren reload -o json: $out"
expect_logged wren "peer bird2: hold_time 9 → 30 changed, resetting the session"
expect_logged bird2 "Received: Other configuration change"
expect_established wren bird2
expect_route wren 198.18.202.0/24 from=bird2 nh=198.18.2.2
after=$(since bird1)
same_session "$before" "$after" || fail "bird1's session was reset by bird2's hold_time (up since $before, then since $after)"
logged bird1 "Received:" && fail "bird1 received a NOTIFICATION when bird2 changed"
log "ok: only bird2 was reset"

# 4. A refused file leaves the running config.
wren_conf 2
kill -HUP "${IO_PID[wren]}"
expect_logged wren "refused.*wren.toml.*hold_time"
wren_peer_is wren bird2 state=established || fail "bird2 went down after a refused reload"
wren_peer_is wren bird1 state=established || fail "bird1 went down after a refused reload"
log "ok: the refused file changed nothing"

# 5. The operator resets bird2: Cease 6/4, and it comes back.
out=$(wren_cli wren peer reset bird2) || fail "wren peer reset: $out"
log "wren peer reset: $out"
expect_logged bird2 "Received: Administrative reset"
expect_established wren bird2
expect_route wren 198.18.202.0/24 from=bird2 nh=198.18.2.2

# 6. The operator disables bird1, then enables it.
out=$(wren_cli wren peer disable bird1 -m "maintenance window") || fail "wren peer disable: $out"
log "wren peer disable: $out"
expect_peer wren bird1 state=idle "last_down~disabled by the operator" "last_down~maintenance window"
expect_logged bird1 "Received: Administrative shutdown.*maintenance window"
expect_no_route wren 198.18.201.0/24
expect_no_route bird1 198.18.200.0/24
sleep 3
wren_peer_is wren bird1 state=idle || fail "a disabled peer came back by itself"
out=$(wren_cli wren peer enable bird1 -o json) || fail "wren peer enable: $out"
log "wren peer enable: $out"
expect_established wren bird1
expect_route wren 198.18.201.0/24 from=bird1 nh=198.18.1.2
expect_route bird1 198.18.200.0/24 nh=198.18.1.1
wren_peer_is wren bird2 state=established || fail "bird2 was touched by bird1's disable/enable"
