# shellcheck shell=bash
# The basic cases (ebgp4-bird2.sh, ibgp6-frr.sh, ...) call `basic DAEMON KIND V`:
# wren (AS 65000) and DAEMON (AS 65001 for ebgp, 65000 for ibgp) share link 1 and one
# session over IPv<V>. Each originates one prefix; each must hold the other's with
# the other's link address as next hop (RFC 4271 §5.1.3: the originator's address
# on eBGP and on iBGP alike); wren's FIB has it, and wren's Adj-RIB-Out shows what it
# sent. Then DAEMON withdraws its prefix and wren must drop it (and from its FIB).

basic() {
	local daemon=$1 kind=$2 v=$3 vars
	local w_as=65000 p_as=65001
	[[ $kind == ibgp ]] && p_as=65000
	if [[ $v == 4 ]]; then
		W_ADDR=198.18.1.1 P_ADDR=198.18.1.2 W_PFX=198.18.200.0/24 P_PFX=198.18.201.0/24
	else
		W_ADDR=2001:db8:1::1 P_ADDR=2001:db8:1::2 W_PFX=2001:db8:f200::/48 P_PFX=2001:db8:f201::/48
	fi
	vars=("AF=ipv$v" "W_AS=$w_as" "P_AS=$p_as" "W_ADDR=$W_ADDR" "P_ADDR=$P_ADDR"
		"W_PFX=$W_PFX" "P_PFX=$P_PFX" "W_ID=198.18.1.1" "P_ID=198.18.1.2")

	node_add w
	node_add p
	link_add w p 1

	local here="$CASE_DIR/basic"
	start_wren w wren "$here/wren.toml" "${vars[@]}"
	case $daemon in
	bird2) start_bird2 p peer "$here/bird2.conf" "${vars[@]}" ;;
	frr) start_frr p peer "$here/frr.conf" "${vars[@]}" ;;
	gobgp)
		start_gobgp p peer "$here/gobgp.toml" "${vars[@]}"
		gobgp_cli peer global rib add -a "ipv$v" "$P_PFX" nexthop "$P_ADDR" || fail "gobgp rib add"
		;;
	openbgpd)
		if [[ $v == 4 ]]; then vars+=(A4=unicast A6=none); else vars+=(A4=none A6=unicast); fi
		start_openbgpd p peer "$here/openbgpd.conf" "${vars[@]}"
		bgpctl_o peer network add "$P_PFX" || fail "bgpctl network add"
		;;
	*) fail "basic: unknown daemon $daemon" ;;
	esac

	local aspath=65001
	[[ $kind == ibgp ]] && aspath=
	expect_established wren peer
	expect_route wren "$P_PFX" nh="$P_ADDR" from=peer aspath="$aspath"
	expect_fib wren "$P_PFX" nh="$P_ADDR" kind=unicast
	expect_route peer "$W_PFX" nh="$W_ADDR" aspath="${aspath:+65000}"
	expect_advertised wren peer "$W_PFX" nh="$W_ADDR" aspath="${aspath:+65000}"

	log "$daemon withdraws $P_PFX"
	case $daemon in
	bird2) birdc -s "$WORK/peer.ctl" disable static1 >/dev/null ;;
	frr) vtysh_frr peer -c "configure terminal" -c "router bgp $p_as" \
		-c "address-family ipv$v unicast" -c "no network $P_PFX" ;;
	gobgp) gobgp_cli peer global rib del -a "ipv$v" "$P_PFX" ;;
	openbgpd) bgpctl_o peer network delete "$P_PFX" >/dev/null ;;
	esac
	expect_no_route wren "$P_PFX"
	expect_fib wren "$P_PFX" paths=0
	expect_route peer "$W_PFX" nh="$W_ADDR"
}
