# calico-v6: Calico mode, dual stack. The calico-etcd topology (cases/calico-etcd/
# setup.sh) with 3 nodes that also have an IPv6 address on eth0 (2001:db8:100::1I/64,
# the Node's `ipv6Address`), an IPv6 pool 2001:db8:ca00::/48 (no encapsulation,
# blockSize 122) and one IPv6 block per node (2001:db8:ca00::I00/122, affinity key
# `/calico/ipam/v2/host/nodeI/ipv6/block/2001:db8:ca00::I00-122`), beside the IPv4
# pools and blocks. Checks: the mesh runs one IPv4 and one IPv6 session per node pair
# (`Mesh_2001_db8_100__1J`); every kernel has every other node's IPv6 block via that
# node's IPv6 address on eth0 (proto bird) and a blackhole for its own, and the IPv4
# blocks as before; a new IPv6 block reaches the other kernels, and its deletion
# removes it there and locally.
need etcd etcdctl
nodes=3
here="$CASE_DIR/calico-etcd"
source "$here/setup.sh"

ip6_of() { echo "2001:db8:100::$((10 + $1))"; }
mesh6_name() { echo "Mesh_2001_db8_100__$((10 + $1))"; }
block6() { echo "2001:db8:ca00::${1}00/122"; }

# affinity6 NODE CIDR: an IPv6 block affinity, confirmed.
affinity6() {
	ectl put "/calico/ipam/v2/host/$1/ipv6/block/${2/\//-}" '{"state":"confirmed","deleted":false}' >/dev/null ||
		fail "etcdctl put affinity $1 $2"
}

# has6 I J [CIDR]: node I's kernel routes node J's IPv6 block (or CIDR) via J, or
# blackholes it when I == J; proto bird. (IPv6 routes through a nexthop object show
# their gateway on a `nexthop via` line of their own.)
has6() {
	local i=$1 j=$2 b=${3:-$(block6 "$2")}
	if ((i == j)); then
		kernel_has "n$i" "$b" "^blackhole $b .*proto bird"
	else
		ip -n "$(ns "n$i")" -6 route show "$b" proto bird | grep -q "via $(ip6_of "$j") dev eth0"
	fi
}

calico_topology
for i in $(seq "$nodes"); do
	ip -n "$(ns "n$i")" addr add "$(ip6_of "$i")/64" dev eth0 nodad
done
calico_datastore
calico_put ippools default-ipv6-ippool IPPool \
	'{"cidr":"2001:db8:ca00::/48","vxlanMode":"Never","ipipMode":"Never","natOutgoing":false,"blockSize":122,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}'
for i in $(seq "$nodes"); do
	calico_put nodes "node$i" Node \
		"{\"bgp\":{\"ipv4Address\":\"$(ip_of "$i")/24\",\"ipv6Address\":\"$(ip6_of "$i")/64\",\"ipv4IPIPTunnelAddr\":\"198.19.$i.1\"},\"orchRefs\":[{\"nodeName\":\"node$i\",\"orchestrator\":\"k8s\"}]}" '{}'
	affinity6 "node$i" "$(block6 "$i")"
done
for i in $(seq "$nodes"); do start_wren "n$i" "w$i" "$here/wren.toml" "NODE=node$i"; done

mesh_up
for i in $(seq "$nodes"); do
	for j in $(seq "$nodes"); do
		((i == j)) || expect_peer "w$i" "$(mesh6_name "$j")" state=established
	done
done
for i in $(seq "$nodes"); do
	for j in $(seq "$nodes"); do
		wait_until "$IO_TIMEOUT" has6 "$i" "$j" ||
			fail "n$i lacks node$j's IPv6 block: $(ip -n "$(ns "n$i")" -6 route show proto bird)"
	done
done
log "ok: dual-stack mesh of $nodes; n1's IPv6 kernel: $(ip -n "$(ns n1)" -6 route show proto bird | tr '\n' ';')"

extra=2001:db8:ca00::1040/122
affinity6 node1 "$extra"
for i in $(seq "$nodes"); do
	wait_until "$IO_TIMEOUT" has6 "$i" 1 "$extra" ||
		fail "n$i did not get node1's new IPv6 block: $(ip -n "$(ns "n$i")" -6 route show proto bird)"
done
ectl del "/calico/ipam/v2/host/node1/ipv6/block/${extra/\//-}" >/dev/null
for i in $(seq "$nodes"); do
	wait_until "$IO_TIMEOUT" bash -c "! ip -n $(ns "n$i") -6 route show $extra | grep -q ." ||
		fail "n$i still routes the deleted IPv6 block $extra"
	has6 "$i" 2 || fail "n$i lost node2's IPv6 block"
done
log "ok: a new IPv6 block reached every kernel (blackhole on node1) and left with its affinity"
