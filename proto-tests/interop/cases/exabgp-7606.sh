# exabgp-7606: ExaBGP sends malformed UPDATEs (raw attributes: `attribute [CODE FLAGS
# VALUE]` replaces the attribute ExaBGP would build). RFC 7606:
# - ORIGIN value 5 (§7.1) and an AS_PATH segment that overruns (§7.2) are
#   treat-as-withdraw: the prefix goes away, the session stays up, other routes stay;
# - an MP_UNREACH_NLRI that cannot be parsed (IPv4 prefix length 33; §7.11 with §5.3)
#   is AFI/SAFI disable: the session stays up, IPv4 routes from ExaBGP are gone and
#   later ones ignored, IPv6 carries on;
# - a second MP_REACH_NLRI (§3 g) is a session reset: wren sends NOTIFICATION 3/1
#   (Malformed Attribute List), which ExaBGP reports, and `wren show peers` says so
#   in last_down.
need exabgp
node_add w
node_add x
link_add w x 1

start_wren w wren "$CASE_DIR/exabgp-7606/wren.toml"
start_exabgp x exabgp "$CASE_DIR/exabgp-7606/exabgp.conf"
expect_established exabgp 198.18.1.1
expect_established wren exabgp

exabgp_send exabgp "announce route 198.18.201.0/24 next-hop self"
exabgp_send exabgp "announce route 198.18.202.0/24 next-hop self"
exabgp_send exabgp "announce route 198.18.203.0/24 next-hop self"
expect_route wren 198.18.201.0/24 from=exabgp nh=198.18.1.2
expect_route wren 198.18.202.0/24 from=exabgp nh=198.18.1.2
expect_route wren 198.18.203.0/24 from=exabgp nh=198.18.1.2
expect_route exabgp 198.18.200.0/24 nh=198.18.1.1 aspath=65000

# Treat-as-withdraw.
exabgp_send exabgp "announce route 198.18.201.0/24 next-hop self attribute [0x01 0x40 0x05]"
exabgp_send exabgp "announce route 198.18.203.0/24 next-hop self attribute [0x02 0x40 0x02020000fde9]"
expect_no_route wren 198.18.201.0/24
expect_no_route wren 198.18.203.0/24
keeps_route 2 wren 198.18.202.0/24 from=exabgp nh=198.18.1.2
expect_peer wren exabgp state=established
exabgp_downs() { grep -c '"state": "down"' "$WORK/exabgp.recv"; }
[[ $(exabgp_downs) == 0 ]] || fail "the session went down on a treat-as-withdraw error"
# The session still works: a good UPDATE for the same prefix brings it back.
exabgp_send exabgp "announce route 198.18.201.0/24 next-hop self"
expect_route wren 198.18.201.0/24 from=exabgp nh=198.18.1.2

# AFI/SAFI disable: IPv4 unicast is off for the rest of the session.
exabgp_send exabgp "announce route 2001:db8:f203::/48 next-hop 2001:db8:1::2"
expect_route wren 2001:db8:f203::/48 from=exabgp nh=2001:db8:1::2
exabgp_send exabgp "announce route 198.18.204.0/24 next-hop self attribute [0x0f 0x80 0x00010121c612cb00]"
expect_no_route wren 198.18.201.0/24
expect_no_route wren 198.18.202.0/24
exabgp_send exabgp "announce route 198.18.205.0/24 next-hop self"
exabgp_send exabgp "announce route 2001:db8:f204::/48 next-hop 2001:db8:1::2"
expect_route wren 2001:db8:f204::/48 from=exabgp nh=2001:db8:1::2
expect_route wren 2001:db8:f203::/48 from=exabgp nh=2001:db8:1::2
expect_no_route wren 198.18.205.0/24
expect_peer wren exabgp state=established
[[ $(exabgp_downs) == 0 ]] || fail "the session went down on an AFI/SAFI-disable error"

# Session reset: two MP_REACH_NLRI attributes in one UPDATE.
mp_reach=0002011020010db8000100000000000000000002003020010db8f202 # 2001:db8:f202::/48
exabgp_send exabgp "announce route 2001:db8:f201::/48 next-hop 2001:db8:1::2 attribute [0x0e 0x80 0x$mp_reach]"
wait_until "$IO_TIMEOUT" exabgp_notified exabgp 3 1 || fail "ExaBGP got no NOTIFICATION 3/1"
log "ok: ExaBGP: $(grep -m1 '"type": "notification"' "$WORK/exabgp.recv")"
log "ExaBGP says: $(grep -o -m1 '"reason": "peer reset[^"]*"' "$WORK/exabgp.recv")"
exabgp_send exabgp "withdraw route 2001:db8:f201::/48 next-hop 2001:db8:1::2"
expect_peer wren exabgp "last_down~NOTIFICATION 3/1"
expect_no_route wren 2001:db8:f201::/48
expect_no_route wren 2001:db8:f202::/48
