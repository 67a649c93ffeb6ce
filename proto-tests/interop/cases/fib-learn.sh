# fib-learn: `[fib] learn` (BIRD's `kernel { learn; }`). Routes another program adds to
# wren's kernel (`proto boot` as Felix's workload /32s, `proto static`) become
# source = "kernel" routes; the export policy sends those within 198.18.210.0/24 to BIRD 2
# with next hop self, and `ip route del` withdraws them. Not learned or not exported: a
# route through an ignored device (`*.calico`), one the policy rejects, the connected
# `proto kernel` subnet. wren writes none of them back to the kernel.
need bird birdc ip
node_add w
node_add b
link_add w b 1
for d in cali1234 vxlan.calico; do
	ip -n "$(ns w)" link add "$d" type veth peer name "${d%%.*}p"
	ip -n "$(ns w)" link set "$d" up
	ip -n "$(ns w)" link set "${d%%.*}p" up
done
# Present before wren starts: learned from the first dump.
ip -n "$(ns w)" route add 198.18.210.9/32 dev cali1234 proto boot

start_bird2 b bird "$CASE_DIR/fib-learn/bird.conf"
start_wren w wren "$CASE_DIR/fib-learn/wren.toml"
expect_peer wren bird2 state=established
expect_route bird 198.18.200.0/26 nh=198.18.1.1
expect_route bird 198.18.210.9/32 nh=198.18.1.1

ip -n "$(ns w)" route add 198.18.210.5/32 dev cali1234 proto boot
ip -n "$(ns w)" route add 198.18.211.0/26 dev vxlan.calico proto 80
ip -n "$(ns w)" route add 198.18.212.0/24 via 198.18.1.2 proto static
expect_route bird 198.18.210.5/32 nh=198.18.1.1
expect_route wren 198.18.212.0/24 paths=1
keeps_route 2 bird 198.18.211.0/26 paths=0 || fail "a route through an ignored device went out"
has_route bird 198.18.212.0/24 paths=0 || fail "a route the policy rejects went out"
has_route bird 198.18.1.0/24 paths=0 || fail "the proto kernel subnet went out"
ip -n "$(ns w)" route show 198.18.210.5/32 proto boot | grep -q "dev cali1234" || fail "the learned route changed"
if ip -n "$(ns w)" route show proto 186 | grep -q "198.18.21"; then
	fail "wren wrote a learned route back: $(ip -n "$(ns w)" route show proto 186)"
fi

ip -n "$(ns w)" route del 198.18.210.5/32 dev cali1234 proto boot
expect_no_route bird 198.18.210.5/32
expect_route bird 198.18.210.9/32 nh=198.18.1.1
log "BIRD 2 got the learned /32 and lost it after ip route del"
