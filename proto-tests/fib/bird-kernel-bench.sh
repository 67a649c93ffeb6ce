#!/usr/bin/env bash
# BIRD 2's kernel protocol on the same routes as tests/fib_throughput.rs, for comparison:
# N IPv4 blackhole routes (nested in 198.18.0.0/16 and 198.19.0.0/17), or with
# WREN_FIB_BENCH_V6=1 N IPv6 /64 blackholes in 2001:db8::/32, from a static
# protocol, exported to the kernel. Times `birdc enable` until `ip route` holds all N
# (config parsing excluded), then `birdc disable` until none is left. Polls every 20 ms;
# each poll reads /proc/net/route (about 30 ms per 100k routes), so the times are a little long.
#
#   proto-tests/fib/bird-kernel-bench.sh [N]        # default 100000, at most 196604
#   WREN_FIB_BENCH_V6=1 proto-tests/fib/bird-kernel-bench.sh 500000
#
# Needs root, iproute2 and bird2; otherwise prints SKIPPED (exit 1 with WREN_REQUIRE_ALL=1).
set -euo pipefail
n=${1:-100000}
skip() {
  echo "!!! SKIPPED: bird-kernel-bench: $*" >&2
  [ "${WREN_REQUIRE_ALL:-0}" = 1 ] && exit 1
  exit 0
}
[ "$(id -u)" -eq 0 ] || skip "not root"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v bird >/dev/null || skip "no bird (apt-get install bird2)"

ns=wren-fib-bird-$$
dir=$(mktemp -d)
bird_pid=
cleanup() {
  [ -n "$bird_pid" ] && kill "$bird_pid" 2>/dev/null && wait "$bird_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

v6=${WREN_FIB_BENCH_V6:-0}
# The same prefixes as nth_prefix() in tests/fib_throughput.rs.
python3 - "$n" "$v6" >"$dir/routes.conf" <<'PY'
import sys
n = int(sys.argv[1]); i = 0
if sys.argv[2] == "1":
    for i in range(n):
        print(f"  route 2001:db8:{i >> 16:x}:{i & 0xffff:x}::/64 blackhole;")
    sys.exit(0)
for base, top in ((0xc6120000, 16), (0xc6130000, 17)):
    for ln in range(32, top, -1):
        for k in range(1 << (ln - top)):
            if i == n: sys.exit(0)
            a = base | (k << (32 - ln))
            print(f"  route {a>>24}.{(a>>16)&255}.{(a>>8)&255}.{a&255}/{ln} blackhole;")
            i += 1
if i < n: sys.exit(f"at most {i} prefixes")
PY
fam=ipv4
[ "$v6" = 1 ] && fam=ipv6
cat >"$dir/bird.conf" <<CONF
router id 198.19.255.1;
protocol device {}
protocol static static1 {
  disabled;
  $fam;
$(cat "$dir/routes.conf")
}
protocol kernel kernel1 {
  $fam { import none; export all; };
}
CONF

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" bird -f -c "$dir/bird.conf" -s "$dir/bird.sock" -P "$dir/bird.pid" &
bird_pid=$!
for _ in $(seq 200); do
  ip netns exec "$ns" birdc -s "$dir/bird.sock" show status >/dev/null 2>&1 && break
  sleep 0.05
done

# /proc/net/route of the namespace (main table; only BIRD's routes are there): cheaper to
# read than `ip route`, so the poll adds little to the time measured.
# IPv6: /proc/net/ipv6_route lists every table; BIRD's routes are the 2001:db8 ones.
if [ "$v6" = 1 ]; then
  count() { ip netns exec "$ns" sh -c 'exec grep -c "^20010db8" /proc/net/ipv6_route' || true; }
else
  count() { ip netns exec "$ns" sh -c 'exec tail -n +2 /proc/net/route' | wc -l; }
fi
wait_count() {
  while [ "$(count)" -ne "$1" ]; do sleep 0.02; done
}
now() { date +%s.%N; }
# BIRD's CPU seconds (user + system: the kernel's route work happens in its syscalls).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$bird_pid/stat"; }

t0=$(now) c0=$(cpu)
ip netns exec "$ns" birdc -s "$dir/bird.sock" enable static1 >/dev/null
wait_count "$n"
t1=$(now) c1=$(cpu)
ip netns exec "$ns" birdc -s "$dir/bird.sock" disable static1 >/dev/null
wait_count 0
t2=$(now) c2=$(cpu)
python3 - "$n" "$t0" "$t1" "$t2" "$c0" "$c1" "$c2" <<'PY'
import sys
n, t0, t1, t2, c0, c1, c2 = int(sys.argv[1]), *map(float, sys.argv[2:])
for what, t, c in (("install", t1 - t0, c1 - c0), ("withdraw", t2 - t1, c2 - c1)):
    print(f"bird kernel: {what} blackhole: {n} routes in {t:.3f} s = {n/t:.0f} routes/s "
          f"(bird cpu {c:.2f} s = {n/max(c, 0.01):.0f} routes per cpu-second)")
PY
