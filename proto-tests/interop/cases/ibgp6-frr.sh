# ibgp6-frr: IBGP over IPv6 with FRR (both AS 65000). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
source "$CASE_DIR/basic/basic.sh"
basic frr ibgp 6
