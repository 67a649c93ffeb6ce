# ebgp6-bird2: EBGP over IPv6 with BIRD 2 (wren AS 65000, BIRD 2 AS 65001). Each side originates one
# prefix and must hold the other's with the other's link address as next hop.
need bird birdc
source "$CASE_DIR/basic/basic.sh"
basic bird2 ebgp 6
