# calico-mixed: a Calico cluster being migrated: node1 and node2 run wren in etcd mode,
# node3 and node4 still run BIRD 1.6 with the bird.cfg confd renders for them (written
# here from calico.md §2: the mesh template, bird_aggr.cfg and bird_ipam.cfg inlined).
# Same datastore and topology as calico-etcd (cases/calico-etcd/setup.sh). Upstream
# BIRD 1.6 has no `krt_tunnel` (a Calico fork patch), so BIRD nodes route IPIP blocks
# directly. Checks: the whole mesh is up on both kinds; every node's kernel has every
# other node's blocks; a block added in etcd for a wren node reaches the BIRD kernels.
need etcd etcdctl "$BIRD1_ROOT/usr/sbin/bird" "$BIRD1_ROOT/usr/sbin/birdc"
nodes=4
here="$CASE_DIR/calico-etcd"
source "$here/setup.sh"

# bird_cfg I: node I's bird.cfg as confd renders it (IPv4, AS 64512, mesh of $nodes).
bird_cfg() {
	local i=$1 j me peer b
	me=$(ip_of "$i")
	cat <<EOF
# confd's bird.cfg for node$i (calico.md §2), krt_tunnel left out (fork-only).
function apply_communities () { }
template kernel kernel_template {
  learn;             # Learn all alien routes from the kernel
  persist;           # Don't remove routes on bird shutdown
  scan time 2;       # Scan kernel routing table every 2 seconds
  import all;
}
template direct direct_template {
  debug { states };
  interface -"cali*", -"kube-ipvs*", "*";
}
# ---- bird_aggr.cfg
protocol static {
  # IP blocks for this host.
  route 198.19.$i.0/26 blackhole;
  route 198.19.$((64 + i)).0/26 blackhole;
}
function calico_aggr () {
EOF
	for b in "198.19.$i.0/26" "198.19.$((64 + i)).0/26"; do
		printf '  # Block %s is confirmed\n  if ( net = %s ) then { accept; }\n  if ( net ~ %s ) then { reject; }\n' "$b" "$b" "$b"
	done
	cat <<EOF
}
# ---- bird_ipam.cfg
filter calico_kernel_programming {
  if ( net ~ 198.19.0.0/18 ) then { accept; }
  if ( net ~ 198.19.64.0/18 ) then { accept; }
  accept;
}
function calico_export_to_bgp_peers(bool internal_peer) {
  calico_aggr();
  if ( net ~ 198.19.0.0/18 ) then { accept; }
  if ( net ~ 198.19.64.0/18 ) then { accept; }
}
# ---- bird.cfg
router id $me;
protocol kernel from kernel_template {
  export filter calico_kernel_programming; # Default is export none
  graceful restart;
  merge paths on;    # Allow export multipath routes (ECMP)
}
protocol device { debug { states }; scan time 2; }
protocol direct from direct_template { }
template bgp bgp_template {
  debug { states, routes, filters, events };
  description "Connection to BGP peer";
  local as 64512;
  gateway recursive; # This should be the default, but just in case.
  add paths on;
  graceful restart;
  connect delay time 2;
  connect retry time 5;
  error wait time 5,30;
}
EOF
	for j in $(seq "$nodes"); do
		((i == j)) && continue
		peer=$(ip_of "$j")
		cat <<EOF
protocol bgp $(mesh_name "$j") from bgp_template {
  neighbor $peer as 64512;
  source address $me;
  ttl security off;
  multihop;
  import filter {
    if (defined(bgp_local_pref)&&(bgp_local_pref > 2147482623)) then
      preference = 200;
    accept;
  };
  export filter {
    if (defined(source) && source = RTS_BGP && defined(bgp_local_pref)) then {
      krt_metric = 2147483647 - bgp_local_pref;
    } else {
      if (!defined(krt_metric)) then { krt_metric = 1024; }
      bgp_local_pref = 2147483647 - krt_metric;
    }
    calico_export_to_bgp_peers(true);
    reject;
  };
EOF
		# confd: passive when the peer's IP is greater, compared as strings.
		[[ $peer > $me ]] && echo "  passive on;"
		echo "}"
	done
}

# bird_has I PREFIX VIA: BIRD node I's kernel routes PREFIX via VIA (proto bird).
bird_has() { kernel_has "n$1" "$2" "via $3 dev eth0 proto bird"; }

calico_topology
calico_datastore
for i in 1 2; do start_wren "n$i" "w$i" "$here/wren.toml" "NODE=node$i"; done
for i in 3 4; do
	bird_cfg "$i" >"$WORK/bird$i.tpl"
	start_bird1 "n$i" "b$i" "$WORK/bird$i.tpl"
done

for i in 1 2; do
	for j in 1 2 3 4; do
		((i == j)) || expect_peer "w$i" "$(mesh_name "$j")" state=established
	done
done
for i in 3 4; do
	for j in 1 2 3 4; do
		((i == j)) || expect_established "b$i" "$(mesh_name "$j")"
	done
done
for i in 1 2; do
	for j in 3 4; do
		wait_until "$IO_TIMEOUT" kernel_has "n$i" "198.19.$j.0/26" "via $(ip_of "$j") dev tunl0 proto bird.*onlink" &&
			wait_until "$IO_TIMEOUT" kernel_has "n$i" "198.19.$((64 + j)).0/26" "via $(ip_of "$j") dev eth0 proto bird" ||
			fail "wren n$i lacks BIRD node$j's blocks: $(ip -n "$(ns "n$i")" route show proto bird)"
	done
done
for i in 3 4; do
	for j in 1 2 3 4; do
		((i == j)) && continue
		wait_until "$IO_TIMEOUT" bird_has "$i" "198.19.$j.0/26" "$(ip_of "$j")" &&
			wait_until "$IO_TIMEOUT" bird_has "$i" "198.19.$((64 + j)).0/26" "$(ip_of "$j")" ||
			fail "BIRD n$i lacks node$j's blocks: $(ip -n "$(ns "n$i")" route show proto bird)"
	done
done
log "ok: mixed mesh; n1: $(ip -n "$(ns n1)" route show proto bird | tr '\n' ';')"
log "ok: mixed mesh; n3: $(ip -n "$(ns n3)" route show proto bird | tr '\n' ';')"

affinity node1 198.19.30.0/26
for i in 3 4; do
	wait_until "$IO_TIMEOUT" bird_has "$i" 198.19.30.0/26 "$(ip_of 1)" ||
		fail "BIRD n$i did not get node1's new block"
done
wait_until "$IO_TIMEOUT" kernel_has n2 198.19.30.0/26 "via $(ip_of 1) dev tunl0" ||
	fail "wren n2 did not get node1's new block"
log "ok: a block added in etcd for a wren node reached the BIRD nodes' kernels"
