# bulk: BIRD 2 sends N IPv4 /32s (198.19.0.0/16) and N IPv6 /64s (2001:db8:8000::/36)
# (N = IO_BULK, default 10000) to wren, which must accept them all and pass them all
# on to FRR; then BIRD withdraws them all and both must end with none. Exercises
# UPDATE packing (many NLRI per message), MP_REACH/MP_UNREACH and flow control.
need bird birdc /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
n=${IO_BULK:-10000}
python3 - "$WORK" "$n" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/routes4.conf", "w") as f:
    for i in range(n):
        f.write(f"route 198.19.{i >> 8}.{i & 255}/32 blackhole;\n")
with open(f"{work}/routes6.conf", "w") as f:
    for i in range(n):
        f.write(f"route 2001:db8:8{i >> 12:03x}:{i & 0xfff:x}::/64 blackhole;\n")
PY
node_add w
node_add b
node_add f
link_add w b 1
link_add w f 2

start_wren w wren "$CASE_DIR/bulk/wren.toml"
start_frr f frr "$CASE_DIR/bulk/frr.conf"
start_bird2 b bird "$CASE_DIR/bulk/bird.conf"

# frr_count AF PEER: prefixes FRR received from PEER.
frr_count() {
	vtysh_frr frr -c "show bgp $1 unicast summary json" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["peers"][sys.argv[1]]["pfxRcd"])' "$2"
}
counts() {
	echo "wren accepted $(wren_peer wren bird4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])')" \
		"+$(wren_peer wren bird6 | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])')," \
		"FRR received $(frr_count ipv4 198.18.2.1)+$(frr_count ipv6 2001:db8:2::1)"
}
t0=$SECONDS
IO_TIMEOUT=120 expect_peer wren bird4 accepted="$n"
IO_TIMEOUT=120 expect_peer wren bird6 accepted="$n"
wait_until 120 eval '[[ $(frr_count ipv4 198.18.2.1) == "$n" && $(frr_count ipv6 2001:db8:2::1) == "$n" ]]' ||
	fail "FRR did not get them all: $(counts)"
log "ok: all $n+$n routes through wren to FRR in $((SECONDS - t0))s: $(counts)"
expect_route frr 198.19.0.7/32 nh=198.18.2.1 aspath="65000 65001"
expect_route frr 2001:db8:8000:7::/64 nh=2001:db8:2::1 aspath="65000 65001"
last6=$(printf '2001:db8:8%03x:%x::/64' $(((n - 1) >> 12)) $(((n - 1) & 0xfff)))
expect_advertised wren frr6 "$last6" nh=2001:db8:2::1 aspath="65000 65001"

t0=$SECONDS
birdc -s "$WORK/bird.ctl" disable bulk4 >/dev/null
birdc -s "$WORK/bird.ctl" disable bulk6 >/dev/null
IO_TIMEOUT=120 expect_peer wren bird4 accepted=0
IO_TIMEOUT=120 expect_peer wren bird6 accepted=0
wait_until 120 eval '[[ $(frr_count ipv4 198.18.2.1) == 0 && $(frr_count ipv6 2001:db8:2::1) == 0 ]]' ||
	fail "FRR still has routes: $(counts)"
log "ok: all withdrawn in $((SECONDS - t0))s: $(counts)"
