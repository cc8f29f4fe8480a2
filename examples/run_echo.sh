#!/usr/bin/env bash
# Runs echo_server and echo_client as two processes that share one shunt
# arena, and fails unless both exit 0.
#
#   examples/run_echo.sh [BINARY_DIR]     (default: build/examples)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/examples}
for exe in echo_server echo_client; do
  if [[ ! -x $bin/$exe ]]; then
    echo "run_echo: $bin/$exe not built" >&2
    exit 1
  fi
done

# Both processes must attach the same arena; a private one per run keeps
# runs independent and is removed afterwards.
export SHUNT_ARENA=/shunt-example-$$
rm -f "/dev/shm/shunt-example-$$"  # a stale one of a dead run
tmp=$(mktemp -d)
sock=$tmp/echo.sock
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
  rm -f "/dev/shm/shunt-example-$$"
}
trap cleanup EXIT

echo "run_echo: arena $SHUNT_ARENA, socket $sock"
"$bin/echo_server" "$sock" &
server_pid=$!

# Wait (up to 10 s) for bind to create the name.
for _ in $(seq 100); do
  [[ -e $sock ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run_echo: server died before binding" >&2
    wait "$server_pid" || true
    server_pid=
    exit 1
  fi
  sleep 0.1
done
if [[ ! -e $sock ]]; then
  echo "run_echo: $sock did not appear within 10 s" >&2
  exit 1
fi

client_rc=0
"$bin/echo_client" "$sock" || client_rc=$?
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=
echo "run_echo: client exit $client_rc, server exit $server_rc"
[[ $client_rc -eq 0 && $server_rc -eq 0 ]]
