#!/usr/bin/env bash
# Calico mode latency (issue 5): a block affinity written to etcd -> the route in every
# remote node's kernel, and its deletion -> the route gone everywhere.
#
# Runs the interop case calico-etcd (one etcd and CALICO_NODES wren nodes in etcd mode
# on one bridge, see proto-tests/interop/cases/calico-etcd.sh) with CALICO_BENCH=1: after
# the mesh is up, latency.py makes COUNT changes (new affinity, then its deletion; the
# owner node rotates), timing each with `ip monitor route` in every remote namespace,
# and prints p50/p99/max of both. The time includes the etcd write over its JSON
# gateway, the watch, translation and reconfiguration on the owner, BGP to every peer,
# and the kernel write on each of them.
#
# Usage: proto-tests/bench/calico-latency.sh [COUNT]   (default 200; root; etcd, etcdctl)
# Environment: CALICO_NODES (default 4), WREN_BIN (default: a release build made here).
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-200}
if [[ -z ${WREN_BIN:-} ]]; then
	cargo build --release --quiet --bin wren
	export WREN_BIN=$PWD/target/release/wren
fi
export CALICO_BENCH=1 CALICO_CHANGES=$count
export WREN_INTEROP_CASE_TIMEOUT=$((120 + count))
logs=$(mktemp -d /tmp/wren-calico-latency.XXXX)
rc=0
WREN_INTEROP_LOGS=$logs proto-tests/interop/run.sh calico-etcd >/dev/null || rc=$?
grep -E '^(add|withdraw):' "$logs/calico-etcd.log" || { tail -n 30 "$logs/calico-etcd.log"; rc=1; }
echo "calico-latency: $count changes, ${CALICO_NODES:-4} nodes, wren $WREN_BIN (log $logs/calico-etcd.log)"
exit "$rc"
