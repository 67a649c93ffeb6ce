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

main() {
	local all=(s1)
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
