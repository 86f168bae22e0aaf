#!/usr/bin/env bash
# Runs a training program as 2 data-parallel ranks on loopback: two_ranks.sh PROGRAM ARGS...
# Prints both ranks' output (rank 0 last) and fails unless both exit 0.
set -uo pipefail
export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + RANDOM % 30000))
log=$(mktemp -d)
RANK=1 "$@" --distributed >"$log/1" 2>&1 &
pid1=$!
RANK=0 "$@" --distributed >"$log/0" 2>&1
code0=$?
wait $pid1
code1=$?
cat "$log/1" "$log/0"
rm -rf "$log"
echo "exit codes: rank 0 $code0, rank 1 $code1"
[ "$code0" -eq 0 ] && [ "$code1" -eq 0 ]
