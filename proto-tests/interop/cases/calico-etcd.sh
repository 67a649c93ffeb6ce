# calico-etcd: Calico mode end to end. One etcd and CALICO_NODES (default 4) nodes on
# one bridge (198.18.100.0/24), each running `wren run` with [datastore] kind = "etcd"
# and nothing else about BGP. The datastore is written with etcdctl the way calicoctl
# writes it (calico.md §3.2): a default BGPConfiguration (AS 64512, mesh), an IPIP
# Always pool 198.19.0.0/18 and a no-encap pool 198.19.64.0/18, one Node per node and
# one block of each pool per node (198.19.I.0/26, 198.19.(64+I).0/26).
#
# Checks: a wren started before its Node exists waits; the full mesh comes up; every kernel has every other node's blocks (IPIP via
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

source "$here/setup.sh"

# no_blocks I J: node I's kernel has neither block of node J.
no_blocks() {
	! ip -n "$(ns "n$1")" route show "198.19.$2.0/26" | grep -q . &&
		! ip -n "$(ns "n$1")" route show "198.19.$((64 + $2)).0/26" | grep -q .
}

# ---------------------------------------------------------------- topology, datastore
calico_topology

# Nothing starts before a complete sync that translates: w1 starts on an empty datastore
# and must wait (no control socket, no session) until its Node is there.
need_wren
render "$here/wren.toml" "$WORK/w1.toml" "SOCK=$WORK/w1.sock" NODE=node1
IO_KIND[w1]=wren IO_CONF[w1]=$WORK/w1.toml
spawn n1 w1 env WREN_LOG="${WREN_LOG:-info}" NO_COLOR=1 "$WREN_BIN" run --config "$WORK/w1.toml"
expect_logged w1 "not starting yet"
sleep 1
[[ -S $WORK/w1.sock ]] && fail "w1 started before its datastore had its Node"
calico_datastore
started_ok w1 test -S "$WORK/w1.sock"
log "ok: w1 waited for its Node, then started"
for i in $(seq 2 "$nodes"); do
	start_wren "n$i" "w$i" "$here/wren.toml" "NODE=node$i"
done

# ---------------------------------------------------------------- mesh and kernels
mesh_up
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
		((i == j)) || before[$i.$j]=$(peer_uptime "w$i" "$(mesh_name "$j")")
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
		u=$(peer_uptime "w$i" "$(mesh_name "$j")")
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
# A watcher that lags behind a compaction: w1 is frozen (SIGSTOP) while more writes pile
# up than its connection buffers (etcd then stops sending to it), then etcd compacts.
# When w1 runs again etcd cancels its watch as compacted, and w1 must list again (a
# second full sync) and apply what changed meanwhile; the others just follow the watch.
syncs=$(grep -c "datastore: full sync" "$WORK/w1.log")
kill -STOP "${IO_PID[w1]}"
nsx etcd python3 "$here/latency.py" --etcd http://127.0.0.1:2379 --fill 2500 || fail "filling etcd"
affinity node2 198.19.31.0/26
rev=$(ectl endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])')
ectl compact --physical "$rev" >/dev/null || fail "etcdctl compact $rev"
kill -CONT "${IO_PID[w1]}"
expect_logged w1 "watch compacted at revision"
wait_until "$IO_TIMEOUT" test "$(grep -c "datastore: full sync" "$WORK/w1.log")" -gt "$syncs" ||
	fail "w1 did not list again after the compaction"
for i in $(seq "$nodes"); do
	((i == 2)) && continue
	wait_until "$IO_TIMEOUT" kernel_has "n$i" 198.19.31.0/26 "via $(ip_of 2) dev tunl0" ||
		fail "n$i did not get the block added around the compaction"
done
ectl del --prefix /calico/resources/v3/projectcalico.org/wrenfill/ >/dev/null
log "ok: a compaction past w1's watch made it list again (revision $rev); changes still apply"

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
		u=$(peer_uptime "w$i" "$(mesh_name "$j")")
		((u >= ${before[$i.$j]} + outage)) || fail "w$i's session with node$j was reset by the deletion"
	done
done
watch_end keep
log "ok: deleting node$gone removed exactly its sessions and routes"
cat "$WORK/latency.txt" | tail -n 2
