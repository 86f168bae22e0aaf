#!/usr/bin/env python3
"""What a build's compilation cost, from its .ninja_log: the compile work (the sum of every job's
seconds, the number that does not depend on how many cores ran them) and the heaviest jobs.
Only each output's latest entry counts, so after a rebuild the log describes the build as it is.

Usage: compile-times.py BUILD_DIR [--top N] [--json]"""
import argparse
import json
import os
import subprocess
import sys


def latest_jobs(build_dir):
    """{output: seconds} of each output's latest entry in BUILD_DIR/.ninja_log (format v5)."""
    path = os.path.join(build_dir, ".ninja_log")
    if not os.path.exists(path):
        raise SystemExit(f"compile-times: {path}: no such file (build with Ninja first)")
    jobs = {}
    with open(path, encoding="utf-8") as f:
        header = f.readline()
        if not header.startswith("# ninja log v"):
            raise SystemExit(f"compile-times: {path}: not a ninja log (first line {header.strip()!r})")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            start, end, output = int(parts[0]), int(parts[1]), parts[3]
            if output.startswith(os.path.abspath(build_dir)):
                output = os.path.relpath(output, build_dir)
            jobs[output] = (end - start) / 1000.0
    return jobs


def current_outputs(build_dir):
    """The outputs of the build graph as it is now (a removed source's object leaves the log's count)."""
    try:
        out = subprocess.run(["ninja", "-C", build_dir, "-t", "targets", "all"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {line.rsplit(":", 1)[0] for line in out.splitlines()}


def main():
    p = argparse.ArgumentParser(prog="compile-times.py")
    p.add_argument("build_dir")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    jobs = latest_jobs(a.build_dir)
    outputs = current_outputs(a.build_dir)
    if outputs is not None:
        jobs = {k: v for k, v in jobs.items() if k in outputs}
    compiles = {k: v for k, v in jobs.items() if k.endswith((".o", ".gch"))}
    top = sorted(compiles.items(), key=lambda kv: -kv[1])[: a.top]
    total = sum(compiles.values())
    if a.json:
        print(json.dumps({"compile_job_seconds": round(total, 1), "jobs": len(compiles),
                          "heaviest": [{"output": k, "seconds": round(v, 1)} for k, v in top]}, indent=2))
        return
    print(f"{a.build_dir}: {len(compiles)} compile jobs, {total:.0f} job-seconds")
    for k, v in top:
        print(f"  {v:7.1f} s  {k}")


if __name__ == "__main__":
    sys.exit(main())
