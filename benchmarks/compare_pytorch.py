#!/usr/bin/python3
"""C++ against the plain-PyTorch reference: one training iteration, side by side, in one run.

For each model (cebm, clel) and thread count, runs `--reps` pairs of processes, interleaved and
alternating which goes first: the C++ benchmark (build/benchmarks/cebm_bench_training, one
trainer timing `--iters` iterations after 2 warm-up iterations) and the Python script of the
reference directory (cebm_step.py / clel_step.py, same threads, batch, SGLD steps, warm-up and
data). Each process gives its median ms per iteration; the ratio C++/PyTorch of each pair is
summarised as min / median / max over the pairs.

The C++ side runs with the allocator settings of the bundled programs (mallopt in the benchmark,
as in train_cebm). The Python side runs as a user would run it; `--python-allocator tuned` gives it
the equivalent GLIBC_TUNABLES instead.

  /usr/bin/python3 benchmarks/compare_pytorch.py --threads 1,2 --reps 3
  /usr/bin/python3 benchmarks/compare_pytorch.py --models cebm --threads 2 --reps 5 --json out.json
  /usr/bin/python3 benchmarks/compare_pytorch.py --against pypi --threads 1,2 --reps 3
  /usr/bin/python3 benchmarks/compare_pytorch.py --precision bf16 --threads 1,2 --reps 3

`--precision bf16` (or fp16) runs three sides per pair: C++ in fp32, C++ under that precision policy
(CEBM_BENCH_PRECISION), and the reference script with its whole iteration inside
`torch.autocast("cpu", dtype)` (benchmarks/reference_autocast.py), as a PyTorch user turns it on;
the table gives each side's time and the ratios C++ low / C++ fp32 and C++ low / PyTorch autocast.

`--against debian` (default): C++ from build/ (Debian's libtorch 1.13) against Debian's
python3-torch. `--against pypi`: C++ from build-torch2/ (the PyPI wheel's libtorch 2.x, made by
`scripts/setup.sh torch2`) against that wheel's Python in .cache/venv-torch2. Either way both sides
run the same libtorch; the script checks that the build's Torch_DIR lies inside the interpreter's
torch and stops otherwise.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TUNED = ("glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:"
         "glibc.malloc.top_pad=67108864")
SETTINGS = {  # model: (C++ benchmark, Python script, batch)
    "cebm": ("cebm_iteration", "cebm_step.py", 128),
    "clel": ("clel_iteration", "clel_step.py", 64),
}


def fail(message):
    sys.exit(f"compare_pytorch: error: {message}")


def run(cmd, env, cwd=None):
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited with {p.returncode}:\n{p.stderr[-2000:]}")
    return p.stdout


def cpp_once(args, model, threads, precision="fp32"):
    name, _, batch = SETTINGS[model]
    env = dict(os.environ, CEBM_BENCH_SGLD_STEPS=str(args.sgld_steps), CEBM_BENCH_BATCH=str(batch),
               CEBM_BENCH_PRECISION=precision)
    env.pop("GLIBC_TUNABLES", None)
    out = run([args.binary, f"--benchmark_filter=^{name}/threads:{threads}/",
               f"--benchmark_repetitions={args.iters}", "--benchmark_format=json"], env)
    try:
        runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    except (json.JSONDecodeError, KeyError):
        fail(f"{args.binary} printed no benchmark JSON for {name}/threads:{threads}: {out[:200]!r}")
    if len(runs) != args.iters:
        fail(f"{args.binary} reported {len(runs)} iterations of {name}/threads:{threads}, expected {args.iters}")
    for b in runs:
        if b.get("error_occurred"):
            fail(f"{name}: {b.get('error_message')}")
    ms = [b["real_time"] for b in runs]  # Unit(kMillisecond)
    return {"ms": ms, "median": statistics.median(ms), "peak_rss_mb": max(b["peak_rss_mb"] for b in runs),
            "gflops": statistics.median(b["gflops"] for b in runs) if all("gflops" in b for b in runs) else None,
            "gflop_per_iter": runs[0].get("gflop_per_iter")}


def python_once(args, model, threads):
    _, script, batch = SETTINGS[model]
    env = dict(os.environ)
    if args.python_allocator == "tuned":
        env["GLIBC_TUNABLES"] = TUNED
    else:
        env.pop("GLIBC_TUNABLES", None)
    wrapper = [os.path.join(HERE, "reference_autocast.py"), args.precision] if args.precision != "fp32" else []
    out = run([args.python] + wrapper + [script, "--threads", str(threads), "--batch", str(batch), "--sgld-steps",
               str(args.sgld_steps), "--iters", str(args.iters), "--warmup", "2"], env, cwd=args.reference)
    r = json.loads(out)
    return {"ms": r["ms_per_iter"]["all"], "median": r["ms_per_iter"]["median"], "peak_rss_mb": r["peak_rss_mb"],
            "gflops": r.get("achieved_gflops_x2"), "gflop_per_iter": r.get("gflop_per_iter_x2")}


def same_libtorch(args):
    """The interpreter's torch version, after checking that the build links the libtorch it holds."""
    p = subprocess.run([args.python, "-c", "import os, torch; print(torch.__version__); print(os.path.dirname(torch.__file__))"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{args.python} cannot import torch: {p.stderr.strip()[-300:]}")
    version, where = p.stdout.split("\n")[:2]
    torch_dir = None
    try:
        with open(os.path.join(args.build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("Torch_DIR:"):
                    torch_dir = os.path.realpath(line.split("=", 1)[1].strip())
    except OSError:
        fail(f"{args.build} is not a configured cebm build (no CMakeCache.txt)")
    if torch_dir is None:
        fail(f"{args.build}/CMakeCache.txt names no Torch_DIR")
    debian = where.startswith("/usr/lib/python3") and torch_dir.startswith("/usr/")
    if not (debian or torch_dir.startswith(os.path.realpath(where) + os.sep)):
        fail(f"the build in {args.build} uses the libtorch of {torch_dir}, the reference side {where}: "
             "compare C++ and Python on the same libtorch (--against, --build, --python)")
    return version, True


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def median_or_none(values):
    """The median, or None when a side did not count its FLOPs."""
    return None if any(v is None for v in values) else statistics.median(values)


def gflops_text(value):
    return "–" if value is None else f"{value:.1f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--against", choices=["debian", "pypi"], default="debian",
                   help="which libtorch both sides run: Debian's 1.13 or the PyPI wheel's 2.x (default %(default)s)")
    p.add_argument("--build", help="cebm build directory (default build/, or build-torch2/ with --against pypi)")
    p.add_argument("--reference", default=os.environ.get("CEBM_REFERENCE_BENCH", os.path.join(ROOT, "..", "shared", "bench")),
                   help="directory of cebm_step.py and clel_step.py (default $CEBM_REFERENCE_BENCH or %(default)s)")
    p.add_argument("--python", help="interpreter of the reference scripts (default /usr/bin/python3, or "
                   ".cache/venv-torch2/bin/python with --against pypi)")
    p.add_argument("--models", default="cebm,clel", help="comma-separated: cebm, clel")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--reps", type=int, default=3, help="process pairs per setting")
    p.add_argument("--iters", type=int, default=3, help="timed iterations per process (after 2 warm-up)")
    p.add_argument("--sgld-steps", type=int, default=60)
    p.add_argument("--python-allocator", choices=["default", "tuned"], default="default")
    p.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                   help="bf16 or fp16: C++ fp32, C++ under that policy and PyTorch under autocast (default %(default)s)")
    p.add_argument("--json", help="also write every measurement to this file")
    args = p.parse_args()

    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in SETTINGS:
            p.error(f"--models: unknown model {m!r} (expected cebm, clel)")
    try:
        threads = [int(t) for t in args.threads.split(",") if t]
    except ValueError:
        p.error(f"--threads: expected comma-separated integers, got {args.threads!r}")
    if not threads or min(threads) < 1 or args.reps < 1 or args.iters < 1 or args.sgld_steps < 1:
        p.error("--threads, --reps, --iters and --sgld-steps must be positive")
    if args.build is None:
        args.build = os.path.join(ROOT, "build" if args.against == "debian" else "build-torch2")
    if args.python is None:
        args.python = "/usr/bin/python3" if args.against == "debian" else os.path.join(ROOT, ".cache", "venv-torch2", "bin", "python")
    args.torch_version, args.same_libtorch = same_libtorch(args)
    args.binary = os.path.join(args.build, "benchmarks", "cebm_bench_training")
    if not os.access(args.binary, os.X_OK):
        fail(f"{args.binary} not found: build it first (cmake -DCEBM_BUILD_BENCHMARKS=ON {args.build} && cmake --build {args.build} --target cebm_bench_training; scripts/setup.sh leaves the benchmarks out of build-torch2/)")
    for m in models:
        script = os.path.join(args.reference, SETTINGS[m][1])
        if not os.path.isfile(script):
            fail(f"{script} not found: pass --reference DIR (the directory of the PyTorch reference scripts)")

    results = []
    for m in models:
        for t in threads:
            pairs = []
            for rep in range(args.reps):
                order = [("cpp", lambda a, mm, tt: cpp_once(a, mm, tt, args.precision)), ("python", python_once)]
                if args.precision != "fp32":
                    order.append(("cpp_fp32", cpp_once))
                if rep % 2:
                    order.reverse()
                pair = {}
                for side, fn in order:
                    print(f"[{m} threads {t} pair {rep + 1}/{args.reps}] {side} ...", file=sys.stderr, flush=True)
                    pair[side] = fn(args, m, t)
                pair["ratio"] = pair["cpp"]["median"] / pair["python"]["median"]
                if "cpp_fp32" in pair:
                    pair["ratio_fp32"] = pair["cpp"]["median"] / pair["cpp_fp32"]["median"]
                pairs.append(pair)
            results.append({"model": m, "threads": t, "pairs": pairs,
                            "cpp_ms": spread([q["cpp"]["median"] for q in pairs]),
                            "python_ms": spread([q["python"]["median"] for q in pairs]),
                            "ratio": spread([q["ratio"] for q in pairs]),
                            "cpp_peak_rss_mb": max(q["cpp"]["peak_rss_mb"] for q in pairs),
                            "python_peak_rss_mb": max(q["python"]["peak_rss_mb"] for q in pairs),
                            "cpp_gflops": median_or_none([q["cpp"]["gflops"] for q in pairs]),
                            "python_gflops": median_or_none([q["python"]["gflops"] for q in pairs])})
            if args.precision != "fp32":
                results[-1]["cpp_fp32_ms"] = spread([q["cpp_fp32"]["median"] for q in pairs])
                results[-1]["ratio_fp32"] = spread([q["ratio_fp32"] for q in pairs])

    if args.precision != "fp32":
        low = args.precision
        print(f"\nOne training iteration, {args.sgld_steps} SGLD steps, {args.reps} process triples of {args.iters} "
              f"iterations, libtorch {args.torch_version} ({args.against}); C++ {low} is the precision policy, PyTorch "
              f"runs under torch.autocast(\"cpu\", {low})\n")
        print(f"| model | threads | C++ fp32 ms | C++ {low} ms | PyTorch autocast {low} ms | C++ {low} / C++ fp32 "
              f"| C++ {low} / PyTorch {low} |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for r in results:
            f, c, py, qf, q = r["cpp_fp32_ms"], r["cpp_ms"], r["python_ms"], r["ratio_fp32"], r["ratio"]
            print(f"| {r['model']} | {r['threads']} | {f['median']:.0f} [{f['min']:.0f}–{f['max']:.0f}] "
                  f"| {c['median']:.0f} [{c['min']:.0f}–{c['max']:.0f}] | {py['median']:.0f} [{py['min']:.0f}–{py['max']:.0f}] "
                  f"| {qf['median']:.3f} [{qf['min']:.3f}–{qf['max']:.3f}] | {q['median']:.3f} [{q['min']:.3f}–{q['max']:.3f}] |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"settings": vars(args), "results": results}, f, indent=1)
        return
    print(f"\nOne training iteration, {args.sgld_steps} SGLD steps, {args.reps} process pairs of {args.iters} iterations, "
          f"Python allocator: {args.python_allocator}, libtorch {args.torch_version} on both sides ({args.against})\n")
    print("| model | threads | C++ ms/iter median [min–max] | PyTorch ms/iter median [min–max] | C++/PyTorch median [min–max] "
          "| GFLOP/s C++ / PyTorch | peak RSS MB C++ / PyTorch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        c, py, q = r["cpp_ms"], r["python_ms"], r["ratio"]
        print(f"| {r['model']} | {r['threads']} | {c['median']:.0f} [{c['min']:.0f}–{c['max']:.0f}] "
              f"| {py['median']:.0f} [{py['min']:.0f}–{py['max']:.0f}] "
              f"| {q['median']:.3f} [{q['min']:.3f}–{q['max']:.3f}] "
              f"| {gflops_text(r['cpp_gflops'])} / {gflops_text(r['python_gflops'])} "
              f"| {r['cpp_peak_rss_mb']:.0f} / {r['python_peak_rss_mb']:.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
