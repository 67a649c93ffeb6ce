# shellcheck shell=bash
# Shared by the Calico etcd cases (calico-etcd.sh, calico-mixed.sh): one bridge
# 198.18.100.0/24 in namespace `sw`, etcd at 198.18.100.2 in namespace `etcd`, node I at
# 198.18.100.(10+I) on eth0 in namespace nI, with a veth named tunl0 (this kernel has no
# IPIP links) for IPIP routes; and writers of Calico's datastore as calicoctl stores it
# (calico.md §3.2); checks shared by those cases. Sourced after lib.sh; uses $nodes.
ETCD_IP=198.18.100.2

# attach NODE ADDR IFNAME: a veth from NODE (named IFNAME) to the bridge, with ADDR/24.
attach() {
	ip link add "$3" netns "$(ns "$1")" type veth peer name "p-$1" netns "$(ns sw)" ||
		fail "veth for $1"
	ip -n "$(ns sw)" link set "p-$1" master br0 up
	ip -n "$(ns "$1")" addr add "$2/24" dev "$3"
	ip -n "$(ns "$1")" link set "$3" up
}

# ectl ARGS...: etcdctl (v3 API) inside etcd's namespace.
ectl() { nsx etcd env ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 "$@"; }

start_etcd() {
	spawn etcd etcd etcd --name e --data-dir "$WORK/etcd.data" \
		--listen-client-urls "http://$ETCD_IP:2379,http://127.0.0.1:2379" \
		--advertise-client-urls "http://$ETCD_IP:2379" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster e=http://127.0.0.1:2380
	started_ok etcd ectl endpoint health
}

# calico_put PLURAL NAME KIND SPEC [STATUS] [LABELS]: a v3 resource as calicoctl stores
# it (a rewrite keeps the uid, as `calicoctl patch` does; LABELS is a JSON object).
calico_put() {
	local meta status="" uid labels=""
	uid=$(printf %s "$1/$2" | md5sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
	[[ -n ${6:-} ]] && labels=",\"labels\":$6"
	meta="{\"name\":\"$2\",\"uid\":\"$uid\",\"creationTimestamp\":\"2026-11-21T20:00:00Z\"$labels}"
	[[ -n ${5:-} ]] && status=",\"status\":$5"
	ectl put "/calico/resources/v3/projectcalico.org/$1/$2" \
		"{\"kind\":\"$3\",\"apiVersion\":\"projectcalico.org/v3\",\"metadata\":$meta,\"spec\":$4$status}" >/dev/null ||
		fail "etcdctl put $1/$2"
}

# affinity NODE CIDR: node NODE's block affinity (IPAM), confirmed.
affinity() {
	ectl put "/calico/ipam/v2/host/$1/ipv4/block/${2/\//-}" '{"state":"confirmed","deleted":false}' >/dev/null ||
		fail "etcdctl put affinity $1 $2"
}

ip_of() { echo "198.18.100.$((10 + $1))"; }
mesh_name() { echo "Mesh_198_18_100_$((10 + $1))"; }

# calico_topology: the bridge, etcd's namespace and $nodes nodes; etcd started.
calico_topology() {
	local i
	node_add sw
	ip -n "$(ns sw)" link add br0 type bridge
	ip -n "$(ns sw)" link set br0 up
	node_add etcd
	attach etcd "$ETCD_IP" eth0
	for i in $(seq "$nodes"); do
		node_add "n$i"
		attach "n$i" "$(ip_of "$i")" eth0
		ip -n "$(ns "n$i")" link add tunl0 type veth peer name tunl0-peer
		ip -n "$(ns "n$i")" link set tunl0 up
		ip -n "$(ns "n$i")" link set tunl0-peer up
	done
	start_etcd
}

# calico_datastore: BGPConfiguration default (AS 64512, mesh), the IPIP Always pool
# 198.19.0.0/18 and the no-encap pool 198.19.64.0/18, node1..node$nodes with blocks
# 198.19.I.0/26 and 198.19.(64+I).0/26.
calico_datastore() {
	local i
	calico_put bgpconfigurations default BGPConfiguration \
		'{"logSeverityScreen":"Info","nodeToNodeMeshEnabled":true,"asNumber":64512}'
	calico_put ippools default-ipv4-ippool IPPool \
		'{"cidr":"198.19.0.0/18","vxlanMode":"Never","ipipMode":"Always","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}'
	calico_put ippools no-encap IPPool \
		'{"cidr":"198.19.64.0/18","vxlanMode":"Never","ipipMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}'
	for i in $(seq "$nodes"); do
		node_put "$i"
		affinity "node$i" "198.19.$i.0/26"
		affinity "node$i" "198.19.$((64 + i)).0/26"
	done
}

# node_put I [LABELS] [CLUSTER_ID]: node I's Node object (BGP address, IPIP tunnel
# address), with labels (JSON object) and a route reflector cluster ID when given.
node_put() {
	local rr=""
	[[ -n ${3:-} ]] && rr=",\"routeReflectorClusterID\":\"$3\""
	calico_put nodes "node$1" Node \
		"{\"bgp\":{\"ipv4Address\":\"$(ip_of "$1")/24\",\"ipv4IPIPTunnelAddr\":\"198.19.$1.1\"$rr},\"orchRefs\":[{\"nodeName\":\"node$1\",\"orchestrator\":\"k8s\"}]}" \
		'{}' "${2:-}"
}

# has_blocks I J: node I's kernel has node J's two blocks (or its own blackholes).
has_blocks() {
	local i=$1 j=$2 via
	if ((i == j)); then
		kernel_has "n$i" "198.19.$j.0/26" "^blackhole 198.19.$j.0/26 proto bird" &&
			kernel_has "n$i" "198.19.$((64 + j)).0/26" "^blackhole .* proto bird"
		return
	fi
	via=$(ip_of "$j")
	kernel_has "n$i" "198.19.$j.0/26" "via $via dev tunl0 proto bird.*onlink" &&
		kernel_has "n$i" "198.19.$((64 + j)).0/26" "via $via dev eth0 proto bird"
}

# all_blocks: every node's kernel has every node's blocks.
all_blocks() {
	local i j
	for i in $(seq "$nodes"); do
		for j in $(seq "$nodes"); do
			has_blocks "$i" "$j" || return 1
		done
	done
}

# peer_uptime NAME PEER: seconds that wren's session with PEER has been in its state.
peer_uptime() {
	wren_cli "$1" show peers -o json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin) if x["name"] == sys.argv[1]]
print(p[0]["uptime_secs"] if p and p[0]["state"] == "established" else -1)' "$2"
}

# mesh_up: every wren has an established session with every other node, and every
# kernel has every node's blocks.
mesh_up() {
	local i j
	for i in $(seq "$nodes"); do
		for j in $(seq "$nodes"); do
			((i == j)) || expect_peer "w$i" "$(mesh_name "$j")" state=established
		done
	done
	for i in $(seq "$nodes"); do
		for j in $(seq "$nodes"); do
			wait_until "$IO_TIMEOUT" has_blocks "$i" "$j" ||
				fail "n$i lacks node$j's blocks: $(ip -n "$(ns "n$i")" route show proto bird)"
		done
	done
}
