# ibgp6-openbgpd: IBGP over IPv6 with OpenBGPD (both AS 65000). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need /usr/sbin/bgpd bgpctl
source "$CASE_DIR/basic/basic.sh"
basic openbgpd ibgp 6
