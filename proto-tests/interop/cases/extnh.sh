# extnh: IPv4 routes over an IPv6-only link (RFC 8950 extended next hop, with BIRD 2):
# the link has no IPv4 addresses. wren must hold BIRD's IPv4 prefix with BIRD's IPv6
# address as next hop (and put it in its FIB that way), and BIRD must hold wren's
# with wren's. (With an IPv4 address on its node, wren sends that one instead.)
need bird birdc
node_add w
node_add b
link_add w b 1
ip -n "$(ns w)" addr del 198.18.1.1/24 dev e1
ip -n "$(ns b)" addr del 198.18.1.2/24 dev e1

start_wren w wren "$CASE_DIR/extnh/wren.toml"
start_bird2 b bird "$CASE_DIR/extnh/bird.conf"

expect_established wren bird2
expect_peer wren bird2 'families~ipv4-unicast' 'families~ipv6-unicast'
expect_route wren 2001:db8:f201::/48 from=bird2 nh=2001:db8:1::2
expect_route wren 198.18.201.0/24 from=bird2 nh=2001:db8:1::2
expect_fib wren 198.18.201.0/24 nh=2001:db8:1::2
expect_route bird 2001:db8:f200::/48 nh=2001:db8:1::1
expect_route bird 198.18.200.0/24 nh=2001:db8:1::1
