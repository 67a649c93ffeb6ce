# ebgp6-openbgpd: EBGP over IPv6 with OpenBGPD (wren AS 65000, OpenBGPD AS 65001). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need /usr/sbin/bgpd bgpctl
source "$CASE_DIR/basic/basic.sh"
basic openbgpd ebgp 6
