#!/usr/bin/env bash
# wren's test command (README "Test it"). Runs, in order:
#   1. cargo test --all-targets --no-fail-fast: unit tests, integration tests, the wire vector runner, and
#      every criterion bench once in test mode (so the benches are checked to work);
#   2. cargo test --doc;
#   3. the interop suite (proto-tests/interop/run.sh): wren against real BIRD 2, BIRD 1.6,
#      FRR, GoBGP, OpenBGPD and ExaBGP in network namespaces (needs root and the daemons;
#      .ci/run installs them);
#   4. the bench guard (proto-tests/bench/guard.sh): wren's instructions (callgrind) and bytes
#      per route in a small relay and route-reflector fan-out, against
#      proto-tests/bench/baseline.json (fails above +25 %; needs root and valgrind);
#   5. the fuzz targets: seed the corpus from the vectors, build, run each for a short smoke
#      time (WREN_FUZZ_SECONDS, default 30; 0 = build only).
# Every step runs even if an earlier one failed; a summary lists each step's result and time.
# A step whose tool is missing is SKIPPED loudly; with WREN_REQUIRE_ALL=1 (set by .ci/run) a
# skip fails the run. Exit status: 0 when every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${WREN_FUZZ_SECONDS:-30}
require_all=${WREN_REQUIRE_ALL:-0}
results=()
failed=0
started=$SECONDS

# run_step NAME CMD...: run CMD, record its result and duration, keep going on failure.
run_step() {
  local name=$1 t0=$SECONDS rc=0
  shift
  printf '\n==> %s\n' "$name"
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    results+=("ok      $(printf '%4ss' $((SECONDS - t0)))  $name")
  else
    results+=("FAILED  $(printf '%4ss' $((SECONDS - t0)))  $name (exit $rc)")
    failed=1
  fi
}

# skip_step NAME WHY: say loudly what is not run and why.
skip_step() {
  printf '\n!!! SKIPPED: %s: %s\n' "$1" "$2" >&2
  results+=("SKIPPED        $1: $2")
  if [ "$require_all" = 1 ]; then failed=1; fi
}

# (Called as `run_step ... fuzz_all`, where `set -e` does not apply: every command checks.)
fuzz_all() {
  fuzz/seed.sh || return 1
  (cd fuzz && cargo +nightly fuzz build) || return 1
  if [ "$fuzz_seconds" -eq 0 ]; then
    printf '!!! WREN_FUZZ_SECONDS=0: fuzz targets built, not run\n' >&2
    return 0
  fi
  local t targets
  targets=$(cd fuzz && cargo +nightly fuzz list) || return 1
  for t in $targets; do
    printf -- '--- fuzz %s for %ss\n' "$t" "$fuzz_seconds"
    (cd fuzz && cargo +nightly fuzz run "$t" -- -max_total_time="$fuzz_seconds" -print_final_stats=1) || return 1
  done
}

# Test output is also kept, to total the counts in the last line of the run.
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT
cargo_tests() { cargo test "$@" 2>&1 | tee -a "$test_log"; return "${PIPESTATUS[0]}"; }
run_step "cargo test --all-targets (incl. wire vectors; benches run once in test mode)" \
  cargo_tests --all-targets --no-fail-fast
run_step "cargo test --doc" cargo_tests --doc

# The interop cases print `interop: N passed, N failed, N skipped`; kept for the totals.
interop_log=$(mktemp)
trap 'rm -f "$test_log" "$interop_log"' EXIT
interop() { proto-tests/interop/run.sh 2>&1 | tee "$interop_log"; return "${PIPESTATUS[0]}"; }
if [ "$(id -u)" -ne 0 ]; then
  skip_step "interop (proto-tests/interop/run.sh)" "needs root for network namespaces"
else
  run_step "interop: wren against real daemons (proto-tests/interop/run.sh)" interop
fi

if [ "$(id -u)" -ne 0 ]; then
  skip_step "bench guard (proto-tests/bench/guard.sh)" "needs root for network namespaces"
elif ! command -v valgrind >/dev/null; then
  skip_step "bench guard (proto-tests/bench/guard.sh)" "valgrind is not installed"
else
  run_step "bench guard: instructions and bytes per route vs proto-tests/bench/baseline.json" \
    proto-tests/bench/guard.sh
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  skip_step "fuzz targets" "no nightly toolchain (rustup toolchain install nightly)"
elif ! cargo fuzz --version >/dev/null 2>&1; then
  skip_step "fuzz targets" "cargo-fuzz is not installed (cargo install cargo-fuzz --locked)"
else
  run_step "fuzz: seed, build, run each target ${fuzz_seconds}s" fuzz_all
fi

printf '\n==> summary (%ss in total)\n' $((SECONDS - started))
printf '  %s\n' "${results[@]}"
# One closing line with the totals of every cargo test binary and interop case above.
read -r passed failed_tests < <(sed -n 's/^test result: .*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$test_log" |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
read -r io_passed io_failed < <(sed -n 's/^interop: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$interop_log" |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
printf '\ntests: %s passed, %s failed\n' "$((passed + io_passed))" "$((failed_tests + io_failed))"
exit "$failed"
