# ibgp4-gobgp: IBGP over IPv4 with GoBGP (both AS 65000). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need gobgpd gobgp
source "$CASE_DIR/basic/basic.sh"
basic gobgp ibgp 4
