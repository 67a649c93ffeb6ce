# md5: TCP-MD5 (RFC 2385) between wren and BIRD 2. With the same key the session
# comes up and routes flow both ways; with a wrong key, no key on BIRD's side, or no
# key on wren's side it never comes up (the kernel drops the segments), and
# `wren show peers` says why the peer is down.
need bird birdc
node_add w
node_add b
link_add w b 1
addr_add w 198.18.1.11/24 198.18.1.21/24 198.18.1.31/24
addr_add b 198.18.1.3/24 198.18.1.4/24 198.18.1.5/24
key=wren-md5-key-1
echo "$key" >"$WORK/md5.key" # as an operator writes it: with a newline
chmod 600 "$WORK/md5.key"

start_wren w wren "$CASE_DIR/md5/wren.toml" "KEY=$key"
start_bird2 b bird "$CASE_DIR/md5/bird.conf" "KEY=$key"

expect_established wren good
expect_route wren 198.18.201.0/24 from=good nh=198.18.1.2
expect_route bird 198.18.200.0/24 nh=198.18.1.1
# The other three never come up (checked for 10 s more, after `good` took its time).
keeps_peer 10 wren "wrong nokey_bird nokey_wren" state!=established
for p in wrong nokey_bird nokey_wren; do
	expect_peer wren "$p" last_down!=null
	log "wren peer $p: $(wren_peer wren "$p")"
done
