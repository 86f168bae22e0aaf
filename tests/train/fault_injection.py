#!/usr/bin/env python3
"""Nothing lost at any instant: a training program killed with SIGKILL at random instants, or
stopped by a full disk at random points, then resumed to the end, must leave the run an
uninterrupted run leaves.

    fault_injection.py TRAINER WORK_DIR [--trials N] [--seed S] [--iterations N] [--full-disk]
                       [-- TRAINER FLAGS...]

First one uninterrupted run (the reference, its wall time T), with the `ci` preset, a checkpoint
every iteration (--keep-every 1) and the flags given after `--`. Then, per trial, a fresh run in
the same directory killed with SIGKILL at an instant drawn uniformly from [0, 1.05 T] (start-up,
training, checkpoint writes, the final summary), resumed once to the end (--resume; --overwrite when it died
before its first checkpoint; a run that ended before the kill is resumed all the same), and checked against the reference:

  - metrics.jsonl: every line a JSON object, iterations 1..N each once, the final row equal
    (timing columns aside);
  - checkpoints/: the same files (last.pt, best.pt, every iter_N.pt --keep-every promises), the
    tensor records of each equal to the reference's (zip CRC-32s; see checkpoint_records);
  - no *.tmp left anywhere; summary.json holds the final row.

--full-disk: instead of a kill, each trial runs under a file-size limit (RLIMIT_FSIZE, as `ulimit
-f`; SIGXFSZ at its default action) drawn log-uniformly from 2 KB to 4 MB, so that the write that
fails is now config.json, now a metrics row, a sample grid, a checkpoint or the summary. The run
must end with status 0 (the limit was never reached) or 2 with a message naming the file and no
stack trace, leave no temporary file, and resume without the limit to the same run.

Instants (and limits) come from random.Random(seed + trial): a failure prints its trial, instant and seed, and
`--seed S --trials 1` with the trial's seed replays it. FAULT_TRIALS in the environment overrides
--trials. Exit status 0 when every trial holds; the last line says how many.
"""
import argparse
import json
import math
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile

TIMING = {"elapsed_s", "it_per_s"}


def fail(message):
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def run_to_end(command, log, timeout=600):
    with open(log, "ab") as out:
        return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout).returncode


def metrics_rows(run):
    rows = []
    with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                fail(f"{run}/metrics.jsonl: line {n} is not JSON: {line!r}")
            if not isinstance(row, dict) or "iteration" not in row:
                fail(f"{run}/metrics.jsonl: line {n} is not a metrics row: {line!r}")
            rows.append(row)
    return rows


def without_timing(row):
    return {k: v for k, v in row.items() if k not in TIMING}


def checkpoint_records(run):
    """Per checkpoint file, the sorted (size, CRC-32) of its tensor records (data/N). As a multiset:
    libtorch keys an optimiser's state by the tensors' addresses, which differ from process to
    process, and so do the records' order and the pickled index (data.pkl) that names them."""
    folder = os.path.join(run, "checkpoints")
    records = {}
    for name in sorted(os.listdir(folder)):
        with zipfile.ZipFile(os.path.join(folder, name)) as z:
            records[name] = sorted((i.file_size, i.CRC) for i in z.infolist()
                                   if i.filename.split("/", 1)[-1].startswith("data/"))
    return records


def partial_files(run):
    return [os.path.join(d, f) for d, _, files in os.walk(run) for f in files if f.endswith(".tmp")]


def state_of(run):
    rows = metrics_rows(run)
    with open(os.path.join(run, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    return {"iterations": [int(r["iteration"]) for r in rows], "final": without_timing(rows[-1]),
            "summary_final": without_timing(summary.get("final", {})), "checkpoints": checkpoint_records(run)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trainer")
    parser.add_argument("work")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--full-disk", action="store_true", help="file-size limits instead of kills")
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1:] if "--" in argv else []  # the trainer's own, passed as they are
    a = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.flags = flags
    trials = int(os.environ.get("FAULT_TRIALS", a.trials))
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    run = os.path.join(a.work, "run")
    command = [a.trainer, "--preset", "ci", "--threads", "1", "--train-subset", "300", "--eval-images", "100",
               "--iterations", str(a.iterations), "--keep-every", "1", "--seed", "7", "--out", run] + a.flags

    start = time.monotonic()
    if run_to_end(command, os.path.join(a.work, "reference.log")) != 0:
        fail(f"the uninterrupted run failed: {open(os.path.join(a.work, 'reference.log')).read()}")
    wall = time.monotonic() - start
    reference = state_of(run)
    if reference["iterations"] != list(range(1, a.iterations + 1)) or not reference["summary_final"]:
        fail(f"the uninterrupted run logged {reference['iterations']}, summary final {reference['summary_final']}")
    print(f"reference: {a.iterations} iterations in {wall:.1f} s, checkpoints {', '.join(reference['checkpoints'])}",
          flush=True)

    for trial in range(trials):
        seed = a.seed + trial
        draw = random.Random(seed)
        shutil.rmtree(run)
        log = os.path.join(a.work, f"trial_{trial}.log")
        if a.full_disk:
            limit = int(math.exp(draw.uniform(math.log(2e3), math.log(4e6))))
            what = f"trial {trial} (seed {seed}, file-size limit {limit} bytes)"

            def limited():
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

            with open(log, "wb") as out:
                status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=limited,
                                        timeout=600).returncode
            text = open(log, errors="replace").read()
            if status not in (0, 2) or (status == 2 and ("cannot" not in text or "frame #" in text)):
                fail(f"{what}: exit status {status}, expected 0 or 2 with a message naming the file:\n{text[-3000:]}")
            if partial_files(run):
                fail(f"{what}: temporary files left: {partial_files(run)}")
            outcome = "stopped: " + text.strip().splitlines()[-1][:100] if status == 2 else "within the limit"
        else:
            instant = draw.uniform(0, 1.05 * wall)
            what = f"trial {trial} (seed {seed}, SIGKILL at {instant:.3f} s of {wall:.1f} s)"
            with open(log, "wb") as out:
                p = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
                time.sleep(instant)
                killed = p.poll() is None
                if killed:
                    p.send_signal(signal.SIGKILL)
                p.wait()
            outcome = "killed" if killed else "ended before the kill"
        # One resume to the end (of a finished run too: it must leave the run as it was).
        last = os.path.join(run, "checkpoints", "last.pt")
        status = run_to_end(command + (["--resume"] if os.path.exists(last) else ["--overwrite"]), log)
        if status != 0:
            fail(f"{what}: the resume exited {status}; "
                 f"log {log}:\n{open(log, errors='replace').read()[-3000:]}")
        got = state_of(run)
        if got["iterations"] != reference["iterations"]:
            fail(f"{what}: metrics.jsonl iterations {got['iterations']}")
        if got["final"] != reference["final"]:
            fail(f"{what}: final row {got['final']} != {reference['final']}")
        if got["summary_final"] != reference["summary_final"]:
            fail(f"{what}: summary.json final {got['summary_final']} != {reference['summary_final']}")
        if set(got["checkpoints"]) != set(reference["checkpoints"]):
            fail(f"{what}: checkpoints {sorted(got['checkpoints'])} != {sorted(reference['checkpoints'])}")
        for name, records in reference["checkpoints"].items():
            if got["checkpoints"][name] != records:
                missing = len(set(records) - set(got["checkpoints"][name]))
                fail(f"{what}: {name} differs from the uninterrupted run's: {missing} of its {len(records)} tensor "
                     f"records have no equal")
        left = partial_files(run)
        if left:
            fail(f"{what}: temporary files left: {left}")
        print(f"{what}: {outcome}; resumed: the same run", flush=True)
    how = "file-size limits at" if a.full_disk else "SIGKILL at"
    print(f"fault injection: {how} {trials} random {'points' if a.full_disk else 'instants'}, nothing lost", flush=True)


if __name__ == "__main__":
    main()
