# ebgp4-frr: EBGP over IPv4 with FRR (wren AS 65000, FRR AS 65001). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need /usr/lib/frr/bgpd /usr/lib/frr/zebra vtysh
source "$CASE_DIR/basic/basic.sh"
basic frr ebgp 4
