#!/usr/bin/env bash
# The one main-job command: install missing dependencies, build, run the
# two-process echo example, then a quick kernel-vs-shunt benchmark.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"

echo
echo "==== echo example (two processes, one arena)"
bash examples/run_echo.sh build/examples

echo
echo "==== shunt bench --quick"
# A private arena for the benchmark, removed afterwards.
export SHUNT_ARENA=/shunt-run-$$
rm -f "/dev/shm/shunt-run-$$"  # a stale one of a dead run
trap 'rm -f "/dev/shm/shunt-run-$$"' EXIT
build/tools/shunt bench --quick
