# lifecycle: a session's life with BIRD 2, beyond the first UPDATEs.
# - ROUTE-REFRESH (RFC 2918): `birdc reload in` makes wren send its routes again;
# - BIRD shuts the session down (Cease 6/2 with a message, RFC 9003): wren drops
#   BIRD's route and says why in last_down; BIRD re-enables it and all comes back;
# - wren gets SIGTERM: it sends Cease 6/2 (administrative shutdown), which BIRD
#   reports, exits within 5 s, and BIRD drops wren's route.
need bird birdc
node_add w
node_add b
link_add w b 1

start_bird2 b bird "$CASE_DIR/lifecycle/bird.conf"
start_wren w wren "$CASE_DIR/lifecycle/wren.toml"
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2
expect_route bird 198.18.200.0/24 nh=198.18.1.1

# ROUTE-REFRESH: BIRD counts the UPDATEs it imports from wren.
bird_imported() { birdc -s "$WORK/bird.ctl" show protocols all wren | awk '/Import updates:/ {print $3}'; }
before=$(bird_imported)
birdc -s "$WORK/bird.ctl" reload in wren | grep -q "reload" || fail "birdc reload in failed"
wait_until "$IO_TIMEOUT" eval '(( $(bird_imported) > before ))' ||
	fail "wren did not answer ROUTE-REFRESH: BIRD imported $before updates before, $(bird_imported) after"
log "ok: ROUTE-REFRESH answered: BIRD imported $before updates, then $(bird_imported)"
expect_route bird 198.18.200.0/24 nh=198.18.1.1

# BIRD shuts the session down with a message.
birdc -s "$WORK/bird.ctl" disable wren '"maintenance window"' >/dev/null
expect_no_route wren 198.18.201.0/24
expect_peer wren bird2 state!=established "last_down~Administrative Shutdown" "last_down~maintenance window"
log "wren says: $(wren_peer wren bird2)"
birdc -s "$WORK/bird.ctl" enable wren >/dev/null
expect_route wren 198.18.201.0/24 from=bird2 nh=198.18.1.2
expect_route bird 198.18.200.0/24 nh=198.18.1.1

# wren stops.
stop wren TERM # fails unless wren exits within 5 s
grep -q "stopped" "$WORK/wren.log" || fail "wren did not log a clean stop"
expect_logged bird "wren: Received: Administrative shutdown"
expect_no_route bird 198.18.200.0/24
