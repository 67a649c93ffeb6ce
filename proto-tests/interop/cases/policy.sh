# policy: typed policies against BIRD 2. wren exports its own 198.18.221.0/24 with
# 65000:100, the large community 65000:1:2 and MED 10, and holds 198.18.222.0/24 back;
# it keeps BIRD's 198.18.224.0/24 (tagged 65001:666) as an ineligible path, and keeps
# 198.18.223.0/24 out of the FIB. `wren explain` names the policy and rule each time.
need bird birdc
node_add w
node_add b
link_add w b 1

here="$CASE_DIR/policy"
start_wren w wren "$here/wren.toml"
start_bird2 b bird "$here/bird.conf"

# explains PREFIX PYTHON-EXPR: `wren explain PREFIX -o json` satisfies the expression
# (over `e`, the parsed answer).
explains() {
	wren_cli wren explain "$1" -o json |
		python3 -c "import json,sys; e=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"
}

expect_explained() {
	if wait_until "$IO_TIMEOUT" explains "$1" "$2"; then
		log "ok: explain $1: $2"
		return 0
	fi
	wren_cli wren explain "$1" >&2
	fail "explain $1: not $2"
}

bird_large() {
	birdc -s "$WORK/bird.ctl" show route "$1" all | grep -Eq "BGP.large_community:.*\(65000, 1, 2\)"
}

expect_route bird 198.18.221.0/24 nh=198.18.1.1 aspath=65000 community=65000:100
bird_large 198.18.221.0/24 || fail "BIRD did not get the large community 65000:1:2"
birdc -s "$WORK/bird.ctl" show route 198.18.221.0/24 all | grep -Eq "BGP.med: 10" ||
	fail "BIRD did not get MED 10"
expect_route wren 198.18.223.0/24 from=bird2 nh=198.18.1.2
expect_route wren 198.18.224.0/24 from=bird2 best=false
# By now the held-back prefix would have arrived.
expect_no_route bird 198.18.222.0/24
advertises wren bird2 198.18.222.0/24 paths=0 || fail "wren advertises 198.18.222.0/24"

expect_explained 198.18.222.0/24 "[x for x in e['exports'] if x['peer']=='bird2' and not x['sent'] and 'policy \"to-bird\" rule[0]' in x['reason']]"
expect_explained 198.18.224.0/24 "not e['paths'][0]['eligible'] and 'policy \"from-bird\" rule[0]' in e['paths'][0]['reason'] and not e['kernel']['installed']"
expect_explained 198.18.223.0/24 "e['paths'][0]['best'] and not e['kernel']['installed'] and 'policy \"kernel\"' in e['kernel']['reason']"
expect_explained 198.18.221.0/24 "e['kernel']['installed'] and e['exports'][0]['sent'] and 'adds community 65000:100' in e['exports'][0]['reason']"
expect_fib wren 198.18.221.0/24 kind=blackhole
in_fib wren 198.18.223.0/24 paths=0 || fail "198.18.223.0/24 is in the FIB despite the kernel policy"
wren_cli wren explain 198.18.224.0/24 >&2
wren_cli wren explain 198.18.221.0/24 >&2
