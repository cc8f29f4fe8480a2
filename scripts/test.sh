#!/usr/bin/env bash
# The one test command. Builds and runs ctest three times:
#   build/       normal build
#   build-asan/  -DSHUNT_SANITIZE=address   (ASan + UBSan)
#   build-tsan/  -DSHUNT_SANITIZE=thread    (TSan), tests matching
#                SHUNT_TSAN_FILTER (a ctest -R regex; default: all)
# and ends with one line "N passed, M failed" over all three. A stage that
# fails to configure or build counts as one failure. The normal and TSan
# stages run once more with the busy-poll wait policy on (SHUNT_SPIN_NS), the
# normal one the whole suite, TSan the blocking and stream suites
# (SHUNT_TSAN_SPIN_FILTER). The normal stage also runs the differential
# oracle (`shunt diff`, SHUNT_DIFF_SEQUENCES sequences of 50 operations,
# default 20000, a quarter as many of 200, and 5000 of 50 with the busy-poll
# policy; each with a blocking scenario per 10 sequences) with seeds that
# change per run and are printed; each run counts as one test. Exits
# non-zero on any failure.
#
# SHUNT_TEST_STAGES="normal asan tsan" selects stages (default: all three).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
stages=${SHUNT_TEST_STAGES:-normal asan tsan}
tsan_filter=${SHUNT_TSAN_FILTER:-.}

if ! bash scripts/setup-deps.sh; then
  echo "test.sh: setup-deps failed"
  echo "0 passed, 1 failed"
  exit 1
fi

total_passed=0
total_failed=0
report=()

# The spin of the busy-poll runs: longer than any wake-up the tests wait for.
busy_spin_ns=200000
# TSan's busy-poll run leaves out BlockingSignalInterruption: TSan runs a
# handler only at its own safe points, which may fall inside a spin, where
# shunt does not see a signal (docs/DIFFERENCES.md 6a).
tsan_spin_filter=${SHUNT_TSAN_SPIN_FILTER:-BlockingReceive|BlockingSend|BlockingDatagram|NonBlocking|BusyPoll|Spin|Shutdown|PeerClose|Concurrent|StreamWaitAll|StreamReceiveLowWater}

# run_stage NAME BUILD_DIR CTEST_REGEX [CMAKE_ARGS...]
run_stage() {
  local name=$1 dir=$2 regex=$3
  shift 3
  echo
  echo "==== [$name] configure $dir $*"
  if ! cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"; then
    report+=("$name: configure FAILED")
    total_failed=$((total_failed + 1))
    return
  fi
  echo "==== [$name] build"
  if ! cmake --build "$dir" -j "$jobs"; then
    report+=("$name: build FAILED")
    total_failed=$((total_failed + 1))
    return
  fi
  run_ctest "$name" "$dir" "$regex"
  case $name in
    normal)
      run_ctest "normal, busy-poll" "$dir" . "$busy_spin_ns"
      run_diff "$dir" 50 5000 "$busy_spin_ns"
      ;;
    tsan) run_ctest "tsan, busy-poll" "$dir" "$tsan_spin_filter" \
      "$busy_spin_ns" ;;
  esac
  if [[ $name == normal ]]; then
    local sequences=${SHUNT_DIFF_SEQUENCES:-20000}
    run_diff "$dir" 50 "$sequences"
    # Long sequences reach states short ones rarely do (grown rings,
    # peeked empty datagrams, descriptors on urgent bytes).
    run_diff "$dir" 200 $((sequences / 4))
  fi
}

# run_ctest NAME BUILD_DIR CTEST_REGEX [SPIN_NS]: one ctest run, counted into
# the totals; SPIN_NS, if given, is the SHUNT_SPIN_NS of every test.
run_ctest() {
  local name=$1 dir=$2 regex=$3 spin=${4:-}
  echo "==== [$name] ctest -R '$regex'${spin:+ with SHUNT_SPIN_NS=$spin}"
  local log=$dir/test-sh-ctest-${spin:-0}.log
  (
    cd "$dir" || exit 1
    if [[ -n $spin ]]; then export SHUNT_SPIN_NS=$spin; fi
    ctest --output-on-failure -j2 -R "$regex"
  ) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # ctest's summary: "97% tests passed, 3 tests failed out of 100"
  local line failed total
  line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [[ -z $line ]]; then
    report+=("$name: no ctest summary (no tests run?) FAILED")
    total_failed=$((total_failed + 1))
    return
  fi
  local pattern='.* ([0-9]+) tests? failed out of ([0-9]+).*'
  failed=$(sed -E "s/$pattern/\\1/" <<<"$line")
  total=$(sed -E "s/$pattern/\\2/" <<<"$line")
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then
    failed=1  # ctest failed for a reason outside the count (e.g. crash)
  fi
  report+=("$name: $((total - failed)) passed, $failed failed")
  total_passed=$((total_passed + total - failed))
  total_failed=$((total_failed + failed))
}

# run_diff BUILD_DIR OPS SEQUENCES [SPIN_NS]: kernel-vs-shunt differential
# run of SEQUENCES sequences of OPS operations (and a blocking scenario per
# 10 sequences), one test; SPIN_NS, if given, is SHUNT_SPIN_NS. The seed is
# printed so a failure can be replayed (`shunt diff --seed S ...`).
run_diff() {
  local dir=$1 ops=$2 sequences=$3 spin=${4:-}
  local seed
  seed=$(date +%s%N)
  local what="--seed $seed --sequences $sequences --ops-per-sequence $ops"
  what+=" --blocking $((sequences / 10))"
  echo "==== [normal] shunt diff $what --ancillary --oob${spin:+ with SHUNT_SPIN_NS=$spin}"
  local log=$dir/test-sh-diff-$ops-${spin:-0}.log
  (
    if [[ -n $spin ]]; then export SHUNT_SPIN_NS=$spin; fi
    # shellcheck disable=SC2086  # $what is several words
    timeout 600 "$dir/tools/shunt" diff $what --jobs "$jobs" --ancillary --oob
  ) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local last
  last=$(tail -n 1 "$log")
  what+=${spin:+ (SHUNT_SPIN_NS=$spin)}
  if [[ $rc -eq 0 && $last == *", 0 divergences" ]]; then
    report+=("diff ($what): passed")
    total_passed=$((total_passed + 1))
  else
    report+=("diff ($what): FAILED (exit $rc)")
    total_failed=$((total_failed + 1))
  fi
}

for stage in $stages; do
  case $stage in
    normal) run_stage normal build . -DSHUNT_SANITIZE= ;;
    # Sanitizer builds use -O1, the sanitizers' usual level: they compile
    # faster, which keeps CI inside its budget.
    asan) run_stage asan build-asan . -DSHUNT_SANITIZE=address \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" ;;
    tsan) run_stage tsan build-tsan "$tsan_filter" -DSHUNT_SANITIZE=thread \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
      "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" ;;
    *)
      report+=("unknown stage '$stage' FAILED")
      total_failed=$((total_failed + 1))
      ;;
  esac
done

echo
echo "==== summary"
for r in "${report[@]}"; do echo "  $r"; done
echo "$total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
