# calico-etcd: Calico mode end to end. One etcd and CALICO_NODES (default 4) nodes on
# one bridge (198.18.100.0/24), each running `wren run` with [datastore] kind = "etcd"
# and nothing else about BGP. The datastore is written with etcdctl the way calicoctl
# writes it (calico.md §3.2): a default BGPConfiguration (AS 64512, mesh), an IPIP
# Always pool 198.19.0.0/18 and a no-encap pool 198.19.64.0/18, one Node per node and
# one block of each pool per node (198.19.I.0/26, 198.19.(64+I).0/26).
#
# Checks: the full mesh comes up; every kernel has every other node's blocks (IPIP via
# the veth `tunl0` onlink, the no-encap block directly) and a blackhole (proto bird) for
# its own; new blocks reach every remote kernel (latency p50/p99 over CALICO_CHANGES,
# default 20); deleting a node removes exactly its sessions and routes; etcd down for
# CALICO_OUTAGE seconds (default 30) loses no session and no route, and a change made
# once it is back is applied; after a compaction changes still apply.
# CALICO_BENCH=1 stops after the latency run (proto-tests/bench/calico-latency.sh).
need etcd etcdctl
nodes=${CALICO_NODES:-4}
changes=${CALICO_CHANGES:-20}
outage=${CALICO_OUTAGE:-30}
here="$CASE_DIR/calico-etcd"
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

# calico_put PLURAL NAME KIND SPEC [STATUS]: a v3 resource as calicoctl stores it.
calico_put() {
	local meta status=""
	meta="{\"name\":\"$2\",\"uid\":\"$(cat /proc/sys/kernel/random/uuid)\",\"creationTimestamp\":\"2026-11-21T20:00:00Z\"}"
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

# no_blocks I J: node I's kernel has neither block of node J.
no_blocks() {
	! ip -n "$(ns "n$1")" route show "198.19.$2.0/26" | grep -q . &&
		! ip -n "$(ns "n$1")" route show "198.19.$((64 + $2)).0/26" | grep -q .
}

# uptime NAME PEER: seconds that wren's session with PEER has been in its state.
uptime() {
	wren_cli "$1" show peers -o json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin) if x["name"] == sys.argv[1]]
print(p[0]["uptime_secs"] if p and p[0]["state"] == "established" else -1)' "$2"
}

# ---------------------------------------------------------------- topology
node_add sw
ip -n "$(ns sw)" link add br0 type bridge
ip -n "$(ns sw)" link set br0 up
node_add etcd
attach etcd "$ETCD_IP" eth0
for i in $(seq "$nodes"); do
	node_add "n$i"
	attach "n$i" "$(ip_of "$i")" eth0
	# No IPIP links in this kernel: a veth named tunl0 takes the onlink routes.
	ip -n "$(ns "n$i")" link add tunl0 type veth peer name tunl0-peer
	ip -n "$(ns "n$i")" link set tunl0 up
	ip -n "$(ns "n$i")" link set tunl0-peer up
done
start_etcd

# ---------------------------------------------------------------- datastore
calico_put bgpconfigurations default BGPConfiguration \
	'{"logSeverityScreen":"Info","nodeToNodeMeshEnabled":true,"asNumber":64512}'
calico_put ippools default-ipv4-ippool IPPool \
	'{"cidr":"198.19.0.0/18","vxlanMode":"Never","ipipMode":"Always","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}'
calico_put ippools no-encap IPPool \
	'{"cidr":"198.19.64.0/18","vxlanMode":"Never","ipipMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()","allowedUses":["Workload","Tunnel"]}'
for i in $(seq "$nodes"); do
	calico_put nodes "node$i" Node \
		"{\"bgp\":{\"ipv4Address\":\"$(ip_of "$i")/24\",\"ipv4IPIPTunnelAddr\":\"198.19.$i.1\"},\"orchRefs\":[{\"nodeName\":\"node$i\",\"orchestrator\":\"k8s\"}]}" '{}'
	affinity "node$i" "198.19.$i.0/26"
	affinity "node$i" "198.19.$((64 + i)).0/26"
done

for i in $(seq "$nodes"); do
	start_wren "n$i" "w$i" "$here/wren.toml" "NODE=node$i"
done

# ---------------------------------------------------------------- mesh and kernels
for i in $(seq "$nodes"); do
	for j in $(seq "$nodes"); do
		((i == j)) && continue
		expect_peer "w$i" "$(mesh_name "$j")" state=established
	done
done
for i in $(seq "$nodes"); do
	for j in $(seq "$nodes"); do
		wait_until "$IO_TIMEOUT" has_blocks "$i" "$j" ||
			fail "n$i lacks node$j's blocks: $(ip -n "$(ns "n$i")" route show proto bird)"
	done
done
log "ok: full mesh of $nodes; n1's kernel: $(ip -n "$(ns n1)" route show proto bird | tr '\n' ';')"

# ---------------------------------------------------------------- new blocks: latency
owners=()
for i in $(seq "$nodes"); do owners+=("node$i=$(ns "n$i")"); done
nsx etcd python3 "$here/latency.py" --etcd http://127.0.0.1:2379 --count "$changes" "${owners[@]}" \
	>"$WORK/latency.txt" 2>&1 || { cat "$WORK/latency.txt" >&2; fail "new blocks did not propagate"; }
log "ok: $changes new blocks reached every remote kernel and left again: $(tail -n 2 "$WORK/latency.txt" | tr '\n' ';')"
[[ ${CALICO_BENCH:-0} == 1 ]] && { cat "$WORK/latency.txt"; exit 0; }

# ---------------------------------------------------------------- etcd outage
declare -A before=()
for i in $(seq "$nodes"); do
	for j in $(seq "$nodes"); do
		((i == j)) || before[$i.$j]=$(uptime "w$i" "$(mesh_name "$j")")
	done
done
stop etcd
log "etcd down for ${outage}s"
end=$((SECONDS + outage))
while ((SECONDS < end)); do
	for i in $(seq "$nodes"); do
		for j in $(seq "$nodes"); do
			has_blocks "$i" "$j" || fail "n$i lost node$j's blocks while etcd was down"
		done
	done
	sleep 1
done
for i in $(seq "$nodes"); do
	for j in $(seq "$nodes"); do
		((i == j)) && continue
		u=$(uptime "w$i" "$(mesh_name "$j")")
		((u >= ${before[$i.$j]} + outage)) ||
			fail "w$i's session with node$j was reset during the outage (uptime $u, was ${before[$i.$j]})"
	done
done
logged w1 "datastore: lost etcd" || fail "w1 did not notice the outage"
log "ok: no session and no route lost during ${outage}s without etcd"
start_etcd
affinity node1 198.19.30.0/26
for i in $(seq 2 "$nodes"); do
	wait_until "$IO_TIMEOUT" kernel_has "n$i" 198.19.30.0/26 "via $(ip_of 1) dev tunl0" ||
		fail "n$i did not get the block added after etcd returned"
done
log "ok: a change after the outage reached every node"

# ---------------------------------------------------------------- compaction
rev=$(ectl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
ectl compact --physical "$rev" >/dev/null || fail "etcdctl compact $rev"
affinity node2 198.19.31.0/26
for i in $(seq "$nodes"); do
	((i == 2)) && continue
	wait_until "$IO_TIMEOUT" kernel_has "n$i" 198.19.31.0/26 "via $(ip_of 2) dev tunl0" ||
		fail "n$i did not get a block added after the compaction"
done
log "ok: changes apply after a compaction at revision $rev"

# ---------------------------------------------------------------- delete a node
gone=$nodes
watch_route keep w1 "198.19.2.0/26"
ectl del --prefix "/calico/ipam/v2/host/node$gone/" >/dev/null
ectl del "/calico/resources/v3/projectcalico.org/nodes/node$gone" >/dev/null
for i in $(seq $((nodes - 1))); do
	wait_until "$IO_TIMEOUT" no_blocks "$i" "$gone" || fail "n$i still routes node$gone's blocks"
	wait_until "$IO_TIMEOUT" bash -c "! $WREN_BIN show peers --socket $WORK/w$i.sock | grep -q $(mesh_name "$gone")" ||
		fail "w$i still has a session with the deleted node$gone"
	for j in $(seq $((nodes - 1))); do
		((i == j)) && continue
		has_blocks "$i" "$j" || fail "n$i lost node$j's blocks when node$gone was deleted"
		u=$(uptime "w$i" "$(mesh_name "$j")")
		((u >= ${before[$i.$j]} + outage)) || fail "w$i's session with node$j was reset by the deletion"
	done
done
watch_end keep
log "ok: deleting node$gone removed exactly its sessions and routes"
cat "$WORK/latency.txt" | tail -n 2
