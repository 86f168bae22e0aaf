#!/usr/bin/env bash
# What a run directory guarantees, through the training program itself (train_cebm, ci preset, a
# small slice of Fashion-MNIST):
#
#   run_directory.sh CASE TRAIN_CEBM WORK_DIR
#
#   second_run    a new run where one exists is refused (naming --resume and --overwrite), the
#                 old checkpoint untouched; --overwrite starts over
#   two_processes a second process in a directory in use is refused, naming the holder; the
#                 first run's files stay its own
#   disk_full     a checkpoint that cannot be written (file-size limit: the write fails with EFBIG)
#                 is an error the program reports (exit 2, no abort), leaving no temporary file and
#                 the previous checkpoint intact
#   size_limit    the same under a file-size limit with SIGXFSZ at its default action: the
#                 program still reports the failed write (exit 2), no temporary file left
#   kept_first    a kept checkpoint is written before last.pt moves past it: when last.pt cannot
#                 be written, iter_N.pt is there; a stale *.tmp is removed by the next start
#   partial_log   a metrics line cut by a full disk or a kill (before or after its iteration key)
#                 is dropped on resume: every line of the finished log is a JSON row
#   finished      resuming a finished run keeps its summary's final row and exits 0
#   killed_log    after kill -9 and a resume, metrics.jsonl holds each iteration once, in order
#   signals       SIGINT finishes the iteration, writes last.pt, says so and exits 130; the run
#                 resumes from that iteration; two SIGTERMs end the process at once
#   changed       a resume with another batch size is refused, naming it; --accept-changes
#                 continues and records the change in config_history.jsonl, config.json kept
#   bad_flags     NaN, infinite, negative and out-of-range flags, and flags that exclude each
#                 other, are refused in plain words with exit status 1 (programs/exit_status.hpp)
#   corrupt       a checkpoint with 64 bytes changed inside a record is refused by file name
#   bad_data      an IDX header whose sizes overflow names the file, without a stack trace
#
# Prints what it did and exits non-zero at the first failed expectation.
set -uo pipefail
case_name=$1 train=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
common=(--preset ci --threads 1 --train-subset 300 --eval-images 100)

fail() {
  echo "FAILED: $*"
  exit 1
}
# A case that fails leaves no trainer of its own running behind it.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
run() {  # run LOG ARGS...: the program's output in LOG (and on stdout), its status in $status
  local log=$1
  shift
  "$train" "${common[@]}" "$@" >"$log" 2>&1
  status=$?
  cat "$log"
  echo "[exit status $status]"
}
expect_status() { [ "$status" -eq "$1" ] || fail "exit status $status, expected $1"; }
expect_text() { grep -q -- "$2" "$1" || fail "$1 does not say: $2"; }
no_trace() { ! grep -q "frame #" "$1" || fail "$1 holds a stack trace"; }
iterations() { grep -o '"iteration": [0-9]*' "$1/metrics.jsonl" | awk '{print $2}'; }
in_order() {  # every iteration once, 1, 2, …, n
  local expected=1
  for i in $(iterations "$1"); do
    [ "$i" -eq "$expected" ] || fail "$1/metrics.jsonl: iteration $i where $expected was due: $(iterations "$1" | tr '\n' ' ')"
    expected=$((expected + 1))
  done
}
wait_rows() {  # wait_rows DIR N: until metrics.jsonl has N rows (300 s at most: a loaded machine is slow)
  for _ in $(seq 3000); do
    [ -f "$1/metrics.jsonl" ] && [ "$(wc -l <"$1/metrics.jsonl")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "$1/metrics.jsonl never reached $2 rows"
}

case $case_name in
  second_run)
    run first.log --out R
    expect_status 0
    before=$(md5sum R/checkpoints/last.pt)
    run second.log --out R --seed 7
    expect_status 2
    expect_text second.log "holds a run already"
    expect_text second.log "--resume"
    expect_text second.log "--overwrite"
    [ "$(md5sum R/checkpoints/last.pt)" = "$before" ] || fail "the refused run changed last.pt"
    in_order R
    run third.log --out R --seed 7 --overwrite
    expect_status 0
    grep -q '"seed": 7' R/config.json || fail "config.json is not the new run's"
    in_order R
    ;;
  two_processes)
    "$train" "${common[@]}" --out R --iterations 60 >first.log 2>&1 &
    first=$!
    wait_rows R 2
    run second.log --out R --seed 5
    expect_status 2
    expect_text second.log "in use by process $first"
    wait "$first"
    first_status=$?
    cat first.log
    [ "$first_status" -eq 0 ] || fail "the first run exited $first_status"
    grep -q '"seed": 0' R/config.json || fail "config.json is not the first run's"
    in_order R
    ;;
  disk_full)
    run first.log --out R
    expect_status 0
    before=$(md5sum R/checkpoints/last.pt)
    # Files may grow to 400 KiB: config, metrics and PNGs fit, a checkpoint (about 1.6 MB) does not.
    (trap '' XFSZ; ulimit -f 400; "$train" "${common[@]}" --out R --resume --iterations 9 >full.log 2>&1)
    status=$?
    cat full.log
    expect_status 2
    expect_text full.log "cannot write the checkpoint"
    expect_text full.log "previous one, if any, is intact"
    no_trace full.log
    ! ls R/checkpoints/*.tmp >/dev/null 2>&1 || fail "temporary files left: $(ls R/checkpoints)"
    [ "$(md5sum R/checkpoints/last.pt)" = "$before" ] || fail "last.pt changed"
    run again.log --out R --resume --iterations 9
    expect_status 0
    expect_text again.log "resumed at iteration 6"
    ;;
  size_limit)
    run first.log --out R
    expect_status 0
    (ulimit -f 400; "$train" "${common[@]}" --out R --resume --iterations 9 >full.log 2>&1)
    status=$?
    cat full.log
    expect_status 2
    expect_text full.log "cannot write the checkpoint (File too large)"
    no_trace full.log
    ! ls R/checkpoints/*.tmp >/dev/null 2>&1 || fail "temporary files left: $(ls R/checkpoints)"
    ;;
  kept_first)
    run first.log --out R --keep-every 3
    expect_status 0
    mkdir R/checkpoints/last.pt.tmp  # last.pt cannot be replaced: its temporary file's name is taken
    run blocked.log --out R --resume --iterations 9 --keep-every 3
    expect_status 2
    expect_text blocked.log "last.pt.tmp: cannot open for writing"
    [ -f R/checkpoints/iter_9.pt ] || fail "iter_9.pt is missing although only last.pt failed: $(ls R/checkpoints)"
    rmdir R/checkpoints/last.pt.tmp
    echo partial >R/checkpoints/iter_12.pt.tmp  # a write a killed process left
    run resumed.log --out R --resume --iterations 9 --keep-every 3
    expect_status 0
    for n in 3 6 9; do [ -f R/checkpoints/iter_$n.pt ] || fail "iter_$n.pt is missing: $(ls R/checkpoints)"; done
    ! ls R/checkpoints/*.tmp >/dev/null 2>&1 || fail "temporary files left: $(ls R/checkpoints)"
    ;;
  partial_log)
    run first.log --out R
    expect_status 0
    printf '{"elapsed_s": 1.25, "energy_neg' >>R/metrics.jsonl  # cut before its iteration key
    run resumed.log --out R --resume --iterations 8
    expect_status 0
    in_order R
    printf '{"energy_neg": 0.5, "iteration": 9, "lo' >>R/metrics.jsonl  # cut after it
    run again.log --out R --resume --iterations 10
    expect_status 0
    in_order R
    python3 -c 'import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    row = json.loads(line)
    assert isinstance(row, dict) and "iteration" in row, f"line {n}: {line!r}"' R/metrics.jsonl ||
      fail "metrics.jsonl holds a line that is not a metrics row"
    ;;
  finished)
    run first.log --out R
    expect_status 0
    run again.log --out R --resume
    expect_status 0
    python3 -c 'import json, sys
final = json.load(open(sys.argv[1]))["final"]
assert final.get("iteration") == 6 and "loss" in final, final' R/summary.json ||
      fail "summary.json lost its final row: $(cat R/summary.json)"
    grep -q "| final loss |" R/summary.md || fail "summary.md lost its final rows"
    ;;
  killed_log)
    "$train" "${common[@]}" --out R --iterations 400 >first.log 2>&1 &
    first=$!
    # Kill between two checkpoints (every 3 iterations): rows the checkpoint's model never reached.
    wait_rows R 7
    while [ $(($(wc -l <R/metrics.jsonl) % 3)) -eq 0 ]; do sleep 0.02; done
    kill -9 "$first"
    wait "$first" 2>/dev/null
    rows=$(wc -l <R/metrics.jsonl)
    echo "killed after $rows logged iterations"
    run resumed.log --out R --resume --iterations $((rows + 4))
    expect_status 0
    in_order R
    [ "$(iterations R | tail -1)" -eq $((rows + 4)) ] || fail "the log does not end at iteration $((rows + 4))"
    ;;
  signals)
    "$train" "${common[@]}" --out R --iterations 400 >first.log 2>&1 &
    first=$!
    wait_rows R 4
    kill -INT "$first"
    wait "$first"
    status=$?
    cat first.log
    expect_status 130
    expect_text first.log "interrupted (SIGINT) after iteration"
    at=$(grep -o "interrupted (SIGINT) after iteration [0-9]*" first.log | awk '{print $NF}')
    run resumed.log --out R --resume --iterations $((at + 2))
    expect_status 0
    expect_text resumed.log "resumed at iteration $at"
    in_order R
    # Slow iterations (200 Langevin steps): the second SIGTERM comes while the first waits for the
    # iteration to end, and ends the process at once, without the clean stop's message.
    "$train" "${common[@]}" --out S --iterations 400 --sgld-steps 200 >twice.log 2>&1 &
    second=$!
    wait_rows S 1
    kill -TERM "$second"
    sleep 0.2
    kill -TERM "$second"
    wait "$second"
    status=$?
    cat twice.log
    expect_status 143
    ! grep -q "interrupted" twice.log || fail "the second signal waited for the clean stop"
    ;;
  changed)
    run first.log --out R
    expect_status 0
    run changed.log --out R --resume --batch-size 32 --iterations 8
    expect_status 2
    expect_text changed.log "batch_size 16 -> 32"
    expect_text changed.log "--accept-changes"
    run accepted.log --out R --resume --batch-size 32 --iterations 8 --accept-changes
    expect_status 0
    grep -q '"resumed_at_iteration": 6' R/config_history.jsonl || fail "config_history.jsonl does not record the change"
    grep -q '"batch_size": 16' R/config.json || fail "config.json no longer describes the run as it started"
    ;;
  bad_flags)
    for flags in "--lr nan" "--lr inf" "--l2 nan" "--lr -1" "--l2 -1" "--seed -1"; do
      # shellcheck disable=SC2086
      run flag.log --out R $flags
      expect_status 1
      grep -q -E "must be (a finite number|> 0|>= 0), got" flag.log || fail "$flags: no plain message"
      ! grep -q -E "[0-9]{20}" flag.log || fail "$flags: the message prints a huge bound"
      [ ! -e R ] || fail "$flags: a run directory was made"
    done
    run exclusive.log --out R --resume --overwrite
    expect_status 1
    expect_text exclusive.log "excludes"
    [ ! -e R ] || fail "--resume --overwrite: a run directory was made"
    ;;
  corrupt)
    run first.log --out R
    expect_status 0
    size=$(stat -c %s R/checkpoints/last.pt)
    head -c 64 /dev/urandom | dd of=R/checkpoints/last.pt bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
    run resumed.log --out R --resume --iterations 8
    expect_status 2
    expect_text resumed.log "last.pt: corrupt checkpoint (record"
    no_trace resumed.log
    ;;
  bad_data)
    mkdir -p data
    printf '\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff' >data/train-images-idx3-ubyte
    printf '\x00\x00\x08\x01\x00\x00\x00\x01\x00' >data/train-labels-idx1-ubyte
    run data.log --out R --data data
    expect_status 2
    expect_text data.log "train-images-idx3-ubyte: IDX dimensions"
    no_trace data.log
    run device.log --out R --device foo
    [ "$status" -ne 0 ] || fail "--device foo was accepted"
    no_trace device.log
    ;;
  *)
    fail "unknown case $case_name"
    ;;
esac
echo "run directory: $case_name holds"
