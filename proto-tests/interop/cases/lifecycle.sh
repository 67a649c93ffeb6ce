# lifecycle: a session's life with BIRD 2, beyond the first UPDATEs.
# - ROUTE-REFRESH (RFC 2918): `birdc reload in` makes wren send its routes again;
# - BIRD shuts the session down (Cease 6/2 with a message, RFC 9003): wren drops
#   BIRD's route and says why in last_down; BIRD re-enables it and all comes back;
# - wren gets SIGTERM: a graceful stop, no NOTIFICATION; it exits within 5 s and BIRD
#   (no graceful restart on this session) drops wren's route;
# - `wren stop --withdraw`: Cease 6/2 (administrative shutdown), which BIRD reports,
#   and BIRD drops wren's route.
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

# wren stops gracefully on SIGTERM: no NOTIFICATION (RFC 4724); without graceful
# restart on this session BIRD drops the route when the connection closes.
stop wren TERM # fails unless wren exits within 5 s
grep -q "stopped" "$WORK/wren.log" || fail "wren did not log a clean stop"
expect_no_route bird 198.18.200.0/24
logged bird "wren: Received:" && fail "SIGTERM: wren sent a NOTIFICATION (a graceful stop sends none)"
log "ok: SIGTERM: no NOTIFICATION"

# `wren stop --withdraw`: Cease 6/2 with a shutdown communication, BIRD reports it.
restart wren
expect_route bird 198.18.200.0/24 nh=198.18.1.1
wren_cli wren stop --withdraw >/dev/null || fail "wren stop --withdraw failed"
wait_until 5 eval "! alive wren" || fail "wren still runs 5 s after wren stop --withdraw"
expect_logged bird "wren: Received: Administrative shutdown"
expect_no_route bird 198.18.200.0/24
