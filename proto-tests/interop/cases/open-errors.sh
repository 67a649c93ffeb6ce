# open-errors: OPEN checks (RFC 4271 §6.2, RFC 6286). ExaBGP opens a session as AS
# 65009 where wren expects 65001: wren sends NOTIFICATION 2/2 (Bad Peer AS) and
# last_down names both ASes. ExaBGP opens an iBGP session with wren's own BGP
# identifier: NOTIFICATION 2/3 (Bad BGP Identifier; ExaBGP checks it too, so either
# side may send it) and last_down says so. Neither session comes up.
need exabgp
node_add w
node_add x
link_add w x 1
addr_add w 198.18.1.11/24
addr_add x 198.18.1.3/24

start_wren w wren "$CASE_DIR/open-errors/wren.toml"
start_exabgp x exabgp "$CASE_DIR/open-errors/exabgp.conf"

# exabgp_down NAME PEER REGEX: ExaBGP reported the session with PEER down for REGEX.
exabgp_down() {
	grep '"state": "down"' "$WORK/$1.recv" | grep "\"peer\": \"$2\"" | grep -Eq "$3"
}
wait_until "$IO_TIMEOUT" exabgp_down exabgp 198.18.1.1 'notification received \(2,2\)' ||
	fail "ExaBGP got no NOTIFICATION 2/2 on the wrong-AS session: $(grep '"down"' "$WORK/exabgp.recv")"
log "ok: ExaBGP received 2/2 (Bad Peer AS) from wren"
expect_peer wren wrongas "last_down~65009" "last_down~65001" state!=established
# Both sides check the identifier (ExaBGP too), so either may send 2/3 first.
wait_until "$IO_TIMEOUT" exabgp_down exabgp 198.18.1.11 'notification (received|sent) \(2,3\)' ||
	fail "no NOTIFICATION 2/3 on the same-identifier session: $(grep '"down"' "$WORK/exabgp.recv")"
expect_peer wren sameid "last_down~identifier" state!=established
log "wren says: $(wren_peer wren wrongas)"
log "wren says: $(wren_peer wren sameid)"
