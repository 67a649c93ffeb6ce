# calico-rr-switch: a running Calico mesh (the calico-etcd topology and datastore,
# cases/calico-etcd/setup.sh: etcd, 4 wren nodes in etcd mode) moves to route
# reflection the way Calico's docs do it, with etcdctl writing what calicoctl writes:
#   1. label node1 `route-reflector=true`, and add the BGPPeer
#      `peer-with-route-reflectors` (nodeSelector all(), peerSelector
#      route-reflector == 'true'): no change yet (the mesh already covers node1);
#   2. give node1 `spec.bgp.routeReflectorClusterID` (the switch; calico.md §2.6):
#      node1 emits no mesh peers and the others skip it in their mesh; the BGPPeer
#      makes node2..4 peer with node1 (Node_198_18_100_11) and, by reverse peering,
#      node1 with each of them as route reflector clients (Node_198_18_100_1J);
#   3. turn the mesh off (BGPConfiguration nodeToNodeMeshEnabled false): node2..4 keep
#      only their session with the reflector and learn each other's blocks through it.
# node1 also has an eBGP session with a top-of-rack router (BIRD 2 `tor`, AS 65000,
# BGPPeer `tor-node1`, node: node1), which neither step may reset.
# Checks at each step: the exact peer set, every kernel keeps or regains every other
# node's blocks (convergence time printed), no session outside the change is reset
# (uptimes), the blocks of non-RR nodes never leave the non-RR kernels, routes carry
# the reflector's ORIGINATOR_ID/CLUSTER_LIST after step 3, and the logs say why each
# session went or came. The cluster ID 244.0.0.1 is the one Calico's docs use (an
# identifier, never an address on the wire).
need etcd etcdctl bird birdc
nodes=4
here="$CASE_DIR/calico-etcd"
source "$here/setup.sh"
CLUSTER=244.0.0.1
RR_LABELS='{"route-reflector":"true"}'
TOR_IP=198.18.100.3
TOR=Node_198_18_100_3

node_name() { echo "Node_198_18_100_$((10 + $1))"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# peers_are I NAME...: wren wI has exactly these peers, all established.
peers_are() {
	local i=$1
	shift
	wren_cli "w$i" show peers -o json | python3 -c '
import json, sys
got = {x["name"]: x["state"] for x in json.load(sys.stdin)}
want = set(sys.argv[1:])
sys.exit(0 if set(got) == want and all(got[n] == "established" for n in want) else 1)' "$@"
}

# rr_peers I: node I's peers once node1 is a reflector ($mesh: the mesh is still on).
rr_peers() {
	local i=$1 j out=()
	if ((i == 1)); then
		out+=("$TOR")
		for j in $(seq 2 "$nodes"); do out+=("$(node_name "$j")"); done
	else
		out+=("$(node_name 1)")
		if ((mesh)); then
			for j in $(seq 2 "$nodes"); do ((i == j)) || out+=("$(mesh_name "$j")"); done
		fi
	fi
	echo "${out[@]}"
}

# converged: every node has its expected peers, up, and every kernel every block.
converged() {
	local i
	for i in $(seq "$nodes"); do
		# shellcheck disable=SC2046 # one word per peer name
		peers_are "$i" $(rr_peers "$i") || return 1
	done
	all_blocks
}

# wait_converged WHAT: poll `converged` every 0.1 s from $t0; log the time it took.
wait_converged() {
	local end=$((SECONDS + IO_TIMEOUT)) i
	until converged; do
		if ((SECONDS >= end)); then
			for i in $(seq "$nodes"); do
				log "w$i peers: $(wren_cli "w$i" show peers 2>&1 | tr '\n' ';')"
				log "n$i kernel: $(ip -n "$(ns "n$i")" route show proto bird | tr '\n' ';')"
			done
			fail "$1: not converged after ${IO_TIMEOUT}s"
		fi
		sleep 0.1
	done
	log "ok: $1: converged in $(($(now_ms) - t0)) ms"
}

# kernel_watch TAG: sample, 5 times a second into $WORK/kwatch.TAG, whether the kernels
# of node2..N hold each other's blocks (`present`/`absent`), until kernel_watch_end.
kernel_watch() {
	(
		while :; do
			ok=present
			for i in $(seq 2 "$nodes"); do
				for j in $(seq 2 "$nodes"); do has_blocks "$i" "$j" || ok=absent; done
			done
			echo "$ok"
			sleep 0.2
		done
	) >"$WORK/kwatch.$1" 2>/dev/null &
	KWATCH=$!
	IO_PIDS+=("$!")
}
kernel_watch_end() {
	local n gaps
	kill "$KWATCH" 2>/dev/null
	wait "$KWATCH" 2>/dev/null
	n=$(wc -l <"$WORK/kwatch.$1")
	gaps=$(grep -c absent "$WORK/kwatch.$1")
	((n > 0 && gaps == 0)) || fail "$1: node2..$nodes's kernels lacked each other's blocks in $gaps of $n samples"
	log "ok: $1: node2..$nodes's kernels held each other's blocks in all $n samples"
}

# record_uptimes TAG "PEER...": up[TAG.I.PEER] = wI's uptime of each PEER it has up.
declare -A up=()
record_uptimes() {
	local i p
	for i in $(seq "$nodes"); do
		for p in $2; do
			[[ $p == "$(mesh_name "$i")" || $p == "$(node_name "$i")" ]] && continue
			u=$(peer_uptime "w$i" "$p")
			((u < 0)) || up[$1.$i.$p]=$u
		done
	done
}

# reconfigs: total "datastore: reconfigured" lines of every wren.
reconfigs() { cat "$WORK"/w[0-9].log | grep -c "datastore: reconfigured"; }

# ---------------------------------------------------------------- the mesh, and node1's ToR
calico_topology
node_add tor
attach tor "$TOR_IP" eth0
calico_datastore
calico_put bgppeers tor-node1 BGPPeer "{\"node\":\"node1\",\"peerIP\":\"$TOR_IP\",\"asNumber\":65000}"
start_bird2 tor tor "$CASE_DIR/calico-rr-switch/tor.conf"
for i in $(seq "$nodes"); do start_wren "n$i" "w$i" "$here/wren.toml" "NODE=node$i"; done
mesh_up
expect_peer w1 "$TOR" state=established
expect_route tor 198.19.1.0/26 nh="$(ip_of 1)"
log "ok: full mesh of $nodes, node1 peers with the ToR"

# ---------------------------------------------------------------- 1. label + BGPPeer: no change
n_reconf=$(reconfigs)
node_put 1 "$RR_LABELS"
calico_put bgppeers peer-with-route-reflectors BGPPeer \
	"{\"nodeSelector\":\"all()\",\"peerSelector\":\"route-reflector == 'true'\"}"
sleep 1
(($(reconfigs) == n_reconf)) || fail "labelling node1 and adding the BGPPeer changed a config: $(grep -h 'datastore: reconfigured' "$WORK"/w[0-9].log | tail -n 4)"
log "ok: the label and the BGPPeer alone change nothing (the mesh covers node1)"

# ---------------------------------------------------------------- 2. node1 becomes the reflector
sleep 1 # every mesh session is now at least 2 s old: a reset shows in its uptime
mesh_among=""
for j in $(seq 2 "$nodes"); do mesh_among+=" $(mesh_name "$j")"; done
record_uptimes a "$mesh_among $TOR"
since=$SECONDS
mesh=1
kernel_watch switch
t0=$(now_ms)
node_put 1 "$RR_LABELS" "$CLUSTER"
wait_converged "node1 is a route reflector (mesh on)"
kernel_watch_end switch
for i in $(seq 2 "$nodes"); do
	expect_route "w$i" 198.19.1.0/26 from="$(node_name 1)" nh="$(ip_of 1)"
	for p in $mesh_among; do
		[[ $p == "$(mesh_name "$i")" ]] && continue
		u=$(peer_uptime "w$i" "$p")
		((u >= ${up[a.$i.$p]} + SECONDS - since - 1)) ||
			fail "w$i's session $p was reset by the switch (uptime $u, was ${up[a.$i.$p]} $((SECONDS - since))s ago)"
	done
	# Why the session with node1 changed: renamed by the new config, reset by node1.
	expect_logged "w$i" "peer $(mesh_name 1): name $(mesh_name 1) → $(node_name 1)"
done
u=$(peer_uptime w1 "$TOR")
((u >= ${up[a.1.$TOR]} + SECONDS - since - 1)) ||
	fail "w1's session with the ToR was reset by the switch (uptime $u, was ${up[a.1.$TOR]} $((SECONDS - since))s ago)"
expect_logged w1 "router: cluster_id - → $CLUSTER"
expect_logged w1 "router: cluster ID $CLUSTER applied, no session reset"
for j in $(seq 2 "$nodes"); do
	expect_logged w1 "peer $(mesh_name "$j"): .*name $(mesh_name "$j") → $(node_name "$j").*route_reflector_client false → true"
done
log "ok: the mesh among node2..$nodes kept its sessions; w1 now: $(wren_cli w1 show peers | tr '\n' ';')"

# ---------------------------------------------------------------- 3. the mesh off
sleep 1
node_among=""
for j in $(seq "$nodes"); do node_among+=" $(node_name "$j")"; done
record_uptimes b "$node_among $TOR"
since=$SECONDS
mesh=0
kernel_watch mesh-off
t0=$(now_ms)
calico_put bgpconfigurations default BGPConfiguration \
	'{"logSeverityScreen":"Info","nodeToNodeMeshEnabled":false,"asNumber":64512}'
wait_converged "the mesh is off, node1 reflects"
kernel_watch_end mesh-off
for i in $(seq "$nodes"); do
	for p in $node_among; do
		[[ -n ${up[b.$i.$p]:-} ]] || continue
		u=$(peer_uptime "w$i" "$p")
		((u >= ${up[b.$i.$p]} + SECONDS - since - 1)) ||
			fail "w$i's session $p was reset when the mesh went off (uptime $u, was ${up[b.$i.$p]})"
	done
done
for i in $(seq 2 "$nodes"); do
	for j in $(seq 2 "$nodes"); do
		((i == j)) && continue
		expect_route "w$i" "198.19.$j.0/26" from="$(node_name 1)" nh="$(ip_of "$j")" \
			originator="$(ip_of "$j")" cluster="$CLUSTER"
		expect_logged "w$i" "peer $(mesh_name "$j") removed"
	done
done
log "ok: node2..$nodes peer only with the reflector; n2's kernel: $(ip -n "$(ns n2)" route show proto bird | tr '\n' ';')"
