#!/usr/bin/env bash
# wren against real BGP daemons in network namespaces (README "Test it"; needs root).
#
#   proto-tests/interop/run.sh                 # every case
#   proto-tests/interop/run.sh rr 'ebgp4-*'    # some cases, by name or glob
#   proto-tests/interop/run.sh -l              # list the cases
#
# Prints one PASS/FAIL/SKIPPED line per case (with the tail of its log on FAIL) and a
# summary line `interop: N passed, N failed, N skipped`. Exit status 1 on any FAIL; with
# WREN_REQUIRE_ALL=1 a SKIPPED (no root, a daemon not installed) counts as a failure.
#
# Environment: WREN_BIN (default: target/debug/wren, built here with `cargo build` when
# WREN_BIN is unset), WREN_INTEROP_JOBS (cases run at once, default 3),
# WREN_INTEROP_LOGS (directory for the case logs; default a temporary one, removed
# when everything passed), IO_KEEP=1 (keep each case's work directory: configs, daemon
# logs), IO_TIMEOUT (seconds each wait may take, default 30), WREN_LOG (wren's log filter).
set -uo pipefail
IO_DIR=$(cd "$(dirname "$0")" && pwd)
cd "$IO_DIR/../.."

jobs=${WREN_INTEROP_JOBS:-3}
case_timeout=${WREN_INTEROP_CASE_TIMEOUT:-180}

all_cases() {
	local f
	for f in "$IO_DIR"/cases/*.sh; do basename "$f" .sh; done
}

if [[ ${1:-} == -l ]]; then
	all_cases
	exit 0
fi

# Select the cases: every name or glob given, in the order of the case list.
selected=()
while read -r c; do
	if [[ $# -eq 0 ]]; then
		selected+=("$c")
		continue
	fi
	for pat in "$@"; do
		# shellcheck disable=SC2053
		if [[ $c == $pat ]]; then
			selected+=("$c")
			break
		fi
	done
done < <(all_cases)
if [[ ${#selected[@]} -eq 0 ]]; then
	echo "interop: no case matches: $*" >&2
	exit 2
fi

if [[ -z ${WREN_BIN:-} ]]; then
	echo "interop: cargo build --bin wren" >&2
	cargo build --quiet --bin wren || exit 1
	export WREN_BIN=$PWD/target/debug/wren
fi
export WREN_BIN

logs=${WREN_INTEROP_LOGS:-$(mktemp -d /tmp/wren-interop-logs.XXXX)}
mkdir -p "$logs"
for c in "${selected[@]}"; do rm -f "$logs/$c.rc" "$logs/$c.log"; done

# run_case NAME: run one case in its own bash with lib.sh sourced; write NAME.rc.
run_case() {
	local name=$1 t0=$SECONDS rc=0
	IO_CASE=$name timeout -k 10 "$case_timeout" \
		bash -c 'source "$1/lib.sh"; io_init; source "$1/cases/$2.sh"' _ "$IO_DIR" "$name" \
		>"$logs/$name.log" 2>&1 || rc=$?
	echo "$rc $((SECONDS - t0))" >"$logs/$name.rc"
}

# report NAME: the case's result line (and log tail on FAIL); counts it.
passed=0 failed=0 skipped=0
failed_names=()
report() {
	local name=$1 rc secs
	read -r rc secs <"$logs/$name.rc"
	if [[ $rc == 0 ]]; then
		printf 'PASS     %-22s %4ss\n' "$name" "$secs"
		passed=$((passed + 1))
	elif [[ $rc == 77 ]]; then
		printf 'SKIPPED  %-22s %4ss  %s\n' "$name" "$secs" \
			"$(sed -n 's/.*SKIPPED: //p' "$logs/$name.log" | tail -n 1)"
		skipped=$((skipped + 1))
	else
		[[ $rc == 124 || $rc == 137 ]] && echo "(timed out after ${case_timeout}s)" >>"$logs/$name.log"
		printf 'FAIL     %-22s %4ss  (exit %s, log %s)\n' "$name" "$secs" "$rc" "$logs/$name.log"
		tail -n "${WREN_INTEROP_TAIL:-25}" "$logs/$name.log" | sed 's/^/    | /'
		failed=$((failed + 1))
		failed_names+=("$name")
	fi
}

started=$SECONDS
echo "interop: ${#selected[@]} case(s), $jobs at a time, logs in $logs"
running=()
next=0
done_count=0
declare -A reported=()
while ((done_count < ${#selected[@]})); do
	# Start cases while there is room.
	while ((${#running[@]} < jobs && next < ${#selected[@]})); do
		run_case "${selected[next]}" &
		running+=("$!:${selected[next]}")
		next=$((next + 1))
	done
	wait -n 2>/dev/null || true
	# Report, in list order, every finished case whose predecessors are reported.
	still=()
	for r in "${running[@]}"; do
		kill -0 "${r%%:*}" 2>/dev/null && still+=("$r")
	done
	running=("${still[@]}")
	for c in "${selected[@]}"; do
		[[ -n ${reported[$c]:-} ]] && continue
		[[ -f $logs/$c.rc ]] || break
		report "$c"
		reported[$c]=1
		done_count=$((done_count + 1))
	done
done

echo "interop: $((SECONDS - started))s${failed_names[*]:+, failed: ${failed_names[*]}}"
if [[ ${WREN_REQUIRE_ALL:-0} == 1 && $skipped -gt 0 ]]; then
	echo "interop: WREN_REQUIRE_ALL=1 and $skipped case(s) SKIPPED: that is a failure" >&2
fi
if [[ $failed -eq 0 ]] && [[ ${WREN_INTEROP_LOGS:-} == "" ]] && [[ $skipped -eq 0 ]]; then
	rm -rf "$logs"
fi
echo "interop: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]] || exit 1
[[ ${WREN_REQUIRE_ALL:-0} == 1 && $skipped -gt 0 ]] && exit 1
exit 0
