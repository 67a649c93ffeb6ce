# ebgp6-gobgp: EBGP over IPv6 with GoBGP (wren AS 65000, GoBGP AS 65001). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need gobgpd gobgp
source "$CASE_DIR/basic/basic.sh"
basic gobgp ebgp 6
