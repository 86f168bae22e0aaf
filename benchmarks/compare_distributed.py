#!/usr/bin/env python3
"""Throughput of data-parallel CEBM training on this machine: one process against several, in one run.

Runs build/examples/train_cebm on Fashion-MNIST with the same global batch, SGLD steps and
iterations (1) as one process with T threads and (2) as P processes with T/P threads each on
loopback (--distributed) (`--single-threads` gives the one process other threads, e.g. 1 to
measure scaling), and prints iterations per second from metrics.jsonl (elapsed_s between
the first and the last logged row, so start-up and the end-of-run long chains are excluded) and
the ratio. Usage:

    python3 benchmarks/compare_distributed.py [--processes 2] [--threads 2] [--iterations 40]
        [--batch 64] [--sgld-steps 20] [--repeats 2] [--single-threads N]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rate(run_dir):
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    first, last = rows[0], rows[-1]
    return (last["iteration"] - first["iteration"]) / (last["elapsed_s"] - first["elapsed_s"])


def train(args, processes, threads, out):
    common = [os.path.join(ROOT, "build/examples/train_cebm"), "--preset", "demo", "--out", out,
              "--iterations", str(args.iterations), "--batch-size", str(args.batch), "--sgld-steps",
              str(args.sgld_steps), "--threads", str(threads), "--train-subset", "10000", "--eval-images", "100"]
    shutil.rmtree(out, ignore_errors=True)
    if processes == 1:
        subprocess.run(common, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        env = dict(os.environ, WORLD_SIZE=str(processes), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
        procs = [subprocess.Popen(common + ["--distributed"], env=dict(env, RANK=str(r)),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for r in range(processes)]
        if any(p.wait() != 0 for p in procs):
            sys.exit("a rank failed; rerun train_cebm by hand to see why")
    return rate(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--threads", type=int, default=2, help="threads in all (each of P processes gets threads/P)")
    p.add_argument("--iterations", type=int, default=40)
    p.add_argument("--batch", type=int, default=64, help="global batch")
    p.add_argument("--sgld-steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--single-threads", type=int, default=0, help="threads of the one process (default --threads)")
    args = p.parse_args()
    if args.threads % args.processes:
        sys.exit("--threads must be a multiple of --processes")
    tmp = tempfile.mkdtemp(prefix="cebm_dp_")
    single, multi = [], []
    for _ in range(args.repeats):  # interleaved, so drift in the machine's speed hits both
        single.append(train(args, 1, args.single_threads or args.threads, os.path.join(tmp, "single")))
        multi.append(train(args, args.processes, args.threads // args.processes, os.path.join(tmp, "multi")))
    shutil.rmtree(tmp, ignore_errors=True)
    ratios = [m / s for s, m in zip(single, multi)]
    print(json.dumps({"global_batch": args.batch, "sgld_steps": args.sgld_steps, "iterations": args.iterations,
                      "single": {"processes": 1, "threads": args.single_threads or args.threads, "it_per_s": single},
                      "multi": {"processes": args.processes, "threads_each": args.threads // args.processes,
                                "it_per_s": multi},
                      "throughput_ratio_multi_over_single": {"min": min(ratios), "median": statistics.median(ratios),
                                                             "max": max(ratios)}}, indent=2))


if __name__ == "__main__":
    main()
