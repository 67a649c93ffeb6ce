# ibgp6-bird2: IBGP over IPv6 with BIRD 2 (both AS 65000). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need bird birdc
source "$CASE_DIR/basic/basic.sh"
basic bird2 ibgp 6
