#!/usr/bin/env bash
# Capture BGP messages exchanged by real daemons (BIRD 2, BIRD 1.6, FRR, GoBGP,
# OpenBGPD, ExaBGP) in private network namespaces, then turn them into wren
# wire vectors under proto-tests/wire/vectors/captured/.
#
#   sudo proto-tests/wire/capture/capture.sh [SCENARIO...]   (default: all)
#
# Environment: OUT (work dir, default /tmp/wren-cap-<pid>), KEEP_PCAP=1 to copy
# the pcaps (if small) to proto-tests/wire/capture/pcap/, NO_VECTORS=1 to only
# capture. See README.md in this directory.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

[[ $(id -u) == 0 ]] || { echo "must run as root" >&2; exit 1; }
cap_init "${OUT:-/tmp/wren-cap-$$}"
mkdir -p "$CAP_WORK/pcap"
: >"$CAP_WORK/peers.tsv"
C="$HERE/conf"

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# peer ADDR LABEL: which daemon owns ADDR (used to name vectors).
scen() { printf "%s\t%s\n" "$1" "$2" >>"$CAP_WORK/scenarios.tsv"; }
peer() { printf '%s\t%s\n' "$1" "$2" >>"$CAP_WORK/peers.tsv"; }

versions() {
	{
		printf 'bird2\tBIRD %s\n' "$(bird --version 2>&1 | awk '{print $3}')"
		printf 'bird1\tBIRD %s\n' "$("$BIRD1_ROOT/usr/sbin/bird" --version 2>&1 | awk '{print $3}')"
		printf 'frr\tFRR %s bgpd\n' "$(dpkg-query -W -f '${Version}' frr | cut -d- -f1)"
		printf 'gobgp\tGoBGP %s gobgpd\n' "$(gobgpd --version | awk '{print $3}')"
		printf 'openbgpd\tOpenBGPD %s\n' "$(/usr/sbin/bgpd -V 2>&1 | awk '{print $2}')"
		printf 'exabgp\tExaBGP %s\n' "$(exabgp --version 2>&1 | awk '/ExaBGP/{print $3}')"
		printf 'tshark\ttcpdump %s\n' "$(tcpdump --version 2>&1 | awk 'NR==1{print $3}')"
	} >"$CAP_WORK/versions.tsv"
}

bird_up() { birdc2 "$1" show protocols "$2" | grep -q Established; }
bird1_up() { birdc1 "$1" show protocols "$2" | grep -q Established; }
frr_up() { vtysh_frr "$1" -c "show bgp neighbors $2" | grep -q 'BGP state = Established'; }

# end_scenario: stop this scenario's daemons and namespaces (pcaps stay).
end_scenario() {
	sleep 1
	cap_cleanup
}

# ------------------------------------------------------------------ s1
# BIRD 2 (AS 65001) <-> FRR (AS 65002), eBGP over IPv4 and over IPv6.
s1() {
	log "s1: BIRD 2 <-> FRR eBGP"; scen s1 "BIRD 2 <-> FRR"
	ns_add b2; ns_add fr
	link_add b2 fr 1
	wait_lladdr b2 e1; wait_lladdr fr e1
	peer 198.18.1.1 bird2; peer 2001:db8:1::1 bird2
	peer 198.18.1.2 frr; peer 2001:db8:1::2 frr
	capture_start b2 e1 "$CAP_WORK/pcap/s1.pcap"
	render "$C/s1-bird2.conf" "$CAP_WORK/s1-bird2.conf"
	render "$C/s1-frr.conf" "$CAP_WORK/s1-frr.conf"
	start_bird2 b2 s1-bird2 "$CAP_WORK/s1-bird2.conf"
	FRR_ZEBRA=1 start_frr fr s1-frr "$CAP_WORK/s1-frr.conf"
	wait_until 30 bird_up s1-bird2 frr4
	wait_until 30 bird_up s1-bird2 frr6
	sleep 4
	log "s1: route refresh both ways"
	birdc2 s1-bird2 reload in frr4 >/dev/null
	birdc2 s1-bird2 reload in frr6 >/dev/null
	sleep 2
	vtysh_frr s1-frr -c 'clear bgp ipv4 unicast 198.18.1.1 soft in' \
		-c 'clear bgp ipv6 unicast 2001:db8:1::1 soft in' >/dev/null
	sleep 2
	log "s1: withdrawals"
	birdc2 s1-bird2 disable st4b >/dev/null
	birdc2 s1-bird2 disable st6 >/dev/null
	vtysh_frr s1-frr -c 'configure terminal' -c 'router bgp 65002' \
		-c 'address-family ipv4 unicast' -c 'no network 198.18.113.0/24' \
		-c 'exit-address-family' -c 'address-family ipv6 unicast' \
		-c 'no network 2001:db8:f112::/48' >/dev/null
	sleep 4
	log "s1: shutdowns with a message"
	birdc2 s1-bird2 disable frr4 '"BIRD maintenance: session to FRR going down"' >/dev/null
	vtysh_frr s1-frr -c 'configure terminal' -c 'router bgp 65002' \
		-c 'neighbor 2001:db8:1::1 shutdown message FRR-planned-maintenance' >/dev/null
	end_scenario
}

gobgp_up() { gobgp_cli "$1" neighbor "$2" | grep -q 'BGP state = ESTABLISHED'; }
obgpd_up() { bgpctl_o "$1" show neighbor "$2" | grep -q 'BGP state = Established'; }

# ------------------------------------------------------------------ s2
# FRR route reflector (AS 65010) with iBGP clients GoBGP (link 21) and BIRD 2 (link 22).
s2() {
	log "s2: FRR route reflector, GoBGP and BIRD 2 clients (iBGP)"
	scen s2 "FRR route reflector with GoBGP and BIRD 2 clients"
	ns_add fr; ns_add gb; ns_add b2
	link_add fr gb 21
	link_add fr b2 22
	wait_lladdr fr e21; wait_lladdr fr e22
	peer 198.18.21.1 frr; peer 2001:db8:21::1 frr; peer 198.18.22.1 frr; peer 2001:db8:22::1 frr
	peer 198.18.21.2 gobgp; peer 2001:db8:21::2 gobgp
	peer 198.18.22.2 bird2; peer 2001:db8:22::2 bird2
	capture_start fr e21 "$CAP_WORK/pcap/s2-gobgp.pcap"
	capture_start fr e22 "$CAP_WORK/pcap/s2-bird2.pcap"
	for f in s2-frr.conf s2-gobgp.toml s2-bird2.conf; do render "$C/$f" "$CAP_WORK/$f"; done
	FRR_ZEBRA=1 start_frr fr s2-frr "$CAP_WORK/s2-frr.conf"
	start_gobgp gb s2-gobgp "$CAP_WORK/s2-gobgp.toml"
	start_bird2 b2 s2-bird2 "$CAP_WORK/s2-bird2.conf"
	wait_until 30 gobgp_up gb 198.18.21.1
	wait_until 30 gobgp_up gb 2001:db8:21::1
	wait_until 30 bird_up s2-bird2 rr4
	wait_until 30 bird_up s2-bird2 rr6
	log "s2: GoBGP announces"
	gobgp_cli gb global rib add -a ipv4 198.18.121.0/24 identifier 1 origin igp nexthop 198.18.21.2 \
		med 10 local-pref 200 community 65010:1,65010:2 large-community 65010:1:1 >/dev/null
	gobgp_cli gb global rib add -a ipv4 198.18.121.0/24 identifier 2 origin egp nexthop 198.18.21.2 \
		local-pref 150 aspath 4200000001,65100 >/dev/null
	gobgp_cli gb global rib add -a ipv4 198.18.125.0/24 nexthop 198.18.21.2 rt 65010:125 >/dev/null
	gobgp_cli gb global rib add -a ipv6 2001:db8:f121::/48 nexthop 2001:db8:21::2 \
		local-pref 120 community 65010:6 >/dev/null
	sleep 3
	log "s2: route refresh"
	gobgp_cli gb neighbor 198.18.21.1 softresetin >/dev/null
	gobgp_cli gb neighbor 2001:db8:21::1 softresetin -a ipv6 >/dev/null
	birdc2 s2-bird2 reload in rr4 >/dev/null
	sleep 2
	log "s2: withdrawals"
	gobgp_cli gb global rib del -a ipv4 198.18.121.0/24 identifier 2 >/dev/null
	gobgp_cli gb global rib del -a ipv6 2001:db8:f121::/48 >/dev/null
	birdc2 s2-bird2 disable st4 >/dev/null
	sleep 3
	log "s2: shutdowns"
	gobgp_cli gb neighbor 198.18.21.1 shutdown --reason "GoBGP admin down" >/dev/null
	birdc2 s2-bird2 disable rr6 '"BIRD client leaving the cluster"' >/dev/null
	sleep 1
	vtysh_frr s2-frr -c 'configure terminal' -c 'router bgp 65010' \
		-c 'neighbor 198.18.22.2 shutdown message RR-maintenance' >/dev/null
	end_scenario
}

# ------------------------------------------------------------------ s3
# GoBGP (AS 65020) <-> OpenBGPD (AS 65021), eBGP over IPv4 and IPv6.
s3() {
	log "s3: GoBGP <-> OpenBGPD eBGP"
	scen s3 "GoBGP <-> OpenBGPD"
	ns_add gb; ns_add ob
	link_add gb ob 31
	wait_lladdr gb e31; wait_lladdr ob e31
	peer 198.18.31.1 gobgp; peer 2001:db8:31::1 gobgp
	peer 198.18.31.2 openbgpd; peer 2001:db8:31::2 openbgpd
	capture_start gb e31 "$CAP_WORK/pcap/s3.pcap"
	render "$C/s3-gobgp.toml" "$CAP_WORK/s3-gobgp.toml"
	render "$C/s3-openbgpd.conf" "$CAP_WORK/s3-openbgpd.conf" WORK="$CAP_WORK"
	start_gobgp gb s3-gobgp "$CAP_WORK/s3-gobgp.toml"
	start_openbgpd ob s3-obgpd "$CAP_WORK/s3-openbgpd.conf"
	wait_until 40 gobgp_up gb 198.18.31.2
	wait_until 40 gobgp_up gb 2001:db8:31::2
	log "s3: announcements"
	gobgp_cli gb global rib add -a ipv4 198.18.133.0/24 identifier 1 nexthop 198.18.31.1 \
		med 3 community 65020:1 large-community 65020:3:3 >/dev/null
	gobgp_cli gb global rib add -a ipv4 198.18.133.0/24 identifier 2 nexthop 198.18.31.1 \
		origin incomplete rt 65020:33 >/dev/null
	gobgp_cli gb global rib add -a ipv6 2001:db8:f133::/48 nexthop 2001:db8:31::1 \
		community 65020:6 med 6 >/dev/null
	bgpctl_o s3-obgpd network add 198.18.132.0/24 community 65021:9 localpref 10 >/dev/null
	bgpctl_o s3-obgpd network add 2001:db8:f132::/48 large-community 65021:9:9 >/dev/null
	sleep 3
	log "s3: route refresh"
	bgpctl_o s3-obgpd neighbor 198.18.31.1 refresh >/dev/null
	bgpctl_o s3-obgpd neighbor 2001:db8:31::1 refresh >/dev/null
	gobgp_cli gb neighbor 198.18.31.2 softresetin >/dev/null
	sleep 2
	log "s3: withdrawals"
	bgpctl_o s3-obgpd network delete 198.18.132.0/24 >/dev/null
	bgpctl_o s3-obgpd network delete 2001:db8:f132::/48 >/dev/null
	gobgp_cli gb global rib del -a ipv4 198.18.133.0/24 identifier 2 >/dev/null
	gobgp_cli gb global rib del -a ipv6 2001:db8:f133::/48 >/dev/null
	sleep 3
	log "s3: shutdowns"
	bgpctl_o s3-obgpd neighbor 198.18.31.1 down "OpenBGPD: neighbor down for maintenance" >/dev/null
	gobgp_cli gb neighbor 2001:db8:31::2 shutdown --reason "GoBGP: IPv6 session off" >/dev/null
	end_scenario
}

# ------------------------------------------------------------------ s4
# OpenBGPD (AS 65040, 2-octet only) <-> BIRD 2 (AS 4200000040), eBGP IPv4 + IPv6.
s4() {
	log "s4: OpenBGPD (2-octet) <-> BIRD 2 (AS 4200000040)"
	scen s4 "OpenBGPD without 4-octet AS <-> BIRD 2"
	ns_add ob; ns_add b2
	link_add ob b2 41
	wait_lladdr ob e41; wait_lladdr b2 e41
	peer 198.18.41.1 openbgpd; peer 2001:db8:41::1 openbgpd
	peer 198.18.41.2 bird2; peer 2001:db8:41::2 bird2
	capture_start ob e41 "$CAP_WORK/pcap/s4.pcap"
	render "$C/s4-openbgpd.conf" "$CAP_WORK/s4-openbgpd.conf" WORK="$CAP_WORK"
	render "$C/s4-bird2.conf" "$CAP_WORK/s4-bird2.conf"
	start_openbgpd ob s4-obgpd "$CAP_WORK/s4-openbgpd.conf"
	start_bird2 b2 s4-bird2 "$CAP_WORK/s4-bird2.conf"
	wait_until 40 bird_up s4-bird2 ob4
	wait_until 40 bird_up s4-bird2 ob6
	sleep 3
	log "s4: route refresh"
	birdc2 s4-bird2 reload in ob4 >/dev/null
	bgpctl_o s4-obgpd neighbor 198.18.41.2 refresh >/dev/null
	bgpctl_o s4-obgpd neighbor 2001:db8:41::2 refresh >/dev/null
	sleep 2
	log "s4: changes and withdrawals"
	bgpctl_o s4-obgpd network add 198.18.144.0/24 large-community 65040:44:44 prepend-self 3 >/dev/null
	sleep 2
	bgpctl_o s4-obgpd network delete 198.18.144.0/24 >/dev/null
	birdc2 s4-bird2 disable st4b >/dev/null
	birdc2 s4-bird2 disable st6 >/dev/null
	sleep 3
	log "s4: shutdowns"
	bgpctl_o s4-obgpd neighbor 2001:db8:41::2 down "OpenBGPD: v6 maintenance" >/dev/null
	birdc2 s4-bird2 disable ob4 '"BIRD: 4-octet AS speaker signing off"' >/dev/null
	end_scenario
}

# ------------------------------------------------------------------ s5
# BIRD 1.6 (bird AS 65050 eBGP IPv4, bird6 AS 65051 iBGP IPv6) <-> BIRD 2 (AS 65051).
s5() {
	log "s5: BIRD 1.6 <-> BIRD 2"
	scen s5 "BIRD 1.6 <-> BIRD 2"
	ns_add b1; ns_add b2
	link_add b1 b2 51
	wait_lladdr b1 e51; wait_lladdr b2 e51
	peer 198.18.51.1 bird1; peer 2001:db8:51::1 bird1
	peer 198.18.51.2 bird2; peer 2001:db8:51::2 bird2
	capture_start b1 e51 "$CAP_WORK/pcap/s5.pcap"
	for f in s5-bird1.conf s5-bird1v6.conf s5-bird2.conf; do render "$C/$f" "$CAP_WORK/$f"; done
	start_bird1 b1 s5-bird1 "$CAP_WORK/s5-bird1.conf"
	start_bird1 b1 s5-bird1v6 "$CAP_WORK/s5-bird1v6.conf" 6
	start_bird2 b2 s5-bird2 "$CAP_WORK/s5-bird2.conf"
	wait_until 40 bird_up s5-bird2 b1v4
	wait_until 40 bird_up s5-bird2 b1v6
	sleep 3
	log "s5: route refresh"
	birdc1 s5-bird1 reload in b2 >/dev/null
	birdc1 s5-bird1v6 reload in b2 >/dev/null
	birdc2 s5-bird2 reload in b1v6 >/dev/null
	sleep 2
	log "s5: withdrawals"
	birdc1 s5-bird1 disable static1 >/dev/null
	birdc1 s5-bird1v6 disable static1 >/dev/null
	sleep 3
	log "s5: shutdowns"
	birdc1 s5-bird1 disable b2 '"BIRD 1.6 says goodbye"' >/dev/null
	birdc1 s5-bird1v6 disable b2 >/dev/null
	end_scenario
}

# ------------------------------------------------------------------ s6
# ExaBGP (AS 65060 2-octet eBGP over IPv4; AS 4200000060 iBGP ADD-PATH over IPv6) -> BIRD 2.
s6() {
	log "s6: ExaBGP -> BIRD 2"
	scen s6 "ExaBGP <-> BIRD 2"
	ns_add ex; ns_add b2
	link_add ex b2 61
	wait_lladdr ex e61; wait_lladdr b2 e61
	peer 198.18.61.1 exabgp; peer 2001:db8:61::1 exabgp
	peer 198.18.61.2 bird2; peer 2001:db8:61::2 bird2
	capture_start ex e61 "$CAP_WORK/pcap/s6.pcap"
	render "$C/s6a-exabgp.conf" "$CAP_WORK/s6a-exabgp.conf"
	render "$C/s6-exabgp.conf" "$CAP_WORK/s6-exabgp.conf"
	render "$C/s6-bird2.conf" "$CAP_WORK/s6-bird2.conf"
	start_bird2 b2 s6-bird2 "$CAP_WORK/s6-bird2.conf"
	log "s6: phase 1, ExaBGP rejects BIRD's AS_TRANS OPEN"
	start_exabgp ex s6a-exabgp "$CAP_WORK/s6a-exabgp.conf"
	local pid=$CAP_LAST_PID
	sleep 4
	kill "$pid"
	wait "$pid" 2>/dev/null
	birdc2 s6-bird2 restart ex4 >/dev/null
	log "s6: phase 2"
	start_exabgp ex s6-exabgp "$CAP_WORK/s6-exabgp.conf"
	wait_until 40 bird_up s6-bird2 ex4
	wait_until 40 bird_up s6-bird2 ex6
	sleep 3
	log "s6: route refresh and withdrawals"
	birdc2 s6-bird2 reload in ex4 >/dev/null
	birdc2 s6-bird2 reload in ex6 >/dev/null
	sleep 2
	birdc2 s6-bird2 disable st4 >/dev/null
	birdc2 s6-bird2 disable st6 >/dev/null
	sleep 2
	log "s6: shutdowns"
	birdc2 s6-bird2 disable ex4 '"BIRD to ExaBGP: bye"' >/dev/null
	sleep 1
	end_scenario
}

# ------------------------------------------------------------------ s7
# s1's configs with FRR run without zebra (-Z): FRR cannot use BIRD's link-local
# next hop and ends the IPv6 session with NOTIFICATION 3/10 (see README).
s7() {
	log "s7: BIRD 2 -> FRR without zebra (link-local next hop rejected)"
	scen s7 "BIRD 2 <-> FRR without zebra"
	ns_add b2; ns_add fr
	link_add b2 fr 1
	wait_lladdr b2 e1; wait_lladdr fr e1
	peer 198.18.1.1 bird2; peer 2001:db8:1::1 bird2
	peer 198.18.1.2 frr; peer 2001:db8:1::2 frr
	capture_start b2 e1 "$CAP_WORK/pcap/s7.pcap"
	render "$C/s1-bird2.conf" "$CAP_WORK/s7-bird2.conf"
	render "$C/s1-frr.conf" "$CAP_WORK/s7-frr.conf"
	start_bird2 b2 s7-bird2 "$CAP_WORK/s7-bird2.conf"
	FRR_ZEBRA=0 start_frr fr s7-frr "$CAP_WORK/s7-frr.conf"
	wait_until 30 bird_up s7-bird2 frr4
	sleep 4
	end_scenario
}

main() {
	local all=(s1 s2 s3 s4 s5 s6 s7)
	local run=("$@")
	((${#run[@]})) || run=("${all[@]}")
	versions
	date -u +%F >"$CAP_WORK/date"
	for s in "${run[@]}"; do
		"$s" || log "$s failed"
	done
	if [[ ${NO_VECTORS:-0} != 1 ]]; then
		python3 "$HERE/gen_vectors.py" "$CAP_WORK" "$REPO/proto-tests/wire/vectors/captured"
	fi
	if [[ ${KEEP_PCAP:-0} == 1 ]]; then
		mkdir -p "$HERE/pcap"
		for f in "$CAP_WORK"/pcap/*.pcap; do
			(($(stat -c %s "$f") <= 200000)) && cp "$f" "$HERE/pcap/"
		done
	fi
	log "done; work dir $CAP_WORK"
}

main "$@"
