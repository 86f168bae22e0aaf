#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, nvcc, CMake, ninja and a PyTorch wheel with CUDA
# (python3 imports torch), build cebm against that wheel's libtorch with all cores, run the test
# suite with CEBM_TEST_DEVICE=cuda, train the CEBM demo on the GPU and evaluate it there, and time
# one CEBM iteration (batch 100, 60 SGLD steps) and one CLEL iteration (batch 64, 60 steps) beside
# the plain-PyTorch reference scripts on the same GPU, then each again under the precision policies
# fp32, tf32 and bf16 (CEBM_BENCH_PRECISION). Writes OUT_DIR/gpu-check.json (and the logs
# beside it); every stage has a time limit inside GPU_CHECK_SECONDS (default 560), so the whole
# check ends within 10 minutes.
#
#   bash scripts/gpu-bundle.sh            # first, on a machine with Debian's registry: .cache/gpu-deps
#   bash scripts/gpu-check.sh [OUT_DIR]   # then on the GPU machine (default OUT_DIR: $OUT, else gpu-check/)
#
# The machine needs no registry: the other dependencies come from .cache/gpu-deps (Debian packages
# unpacked with dpkg -x, Fashion-MNIST, the reference scripts).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-${OUT:-$root/gpu-check}}
mkdir -p "$out"
deps="$root/.cache/gpu-deps"
build="$root/build-gpu"
jobs=$(nproc)
started=$SECONDS
deadline=${GPU_CHECK_SECONDS:-560}  # the whole check; each stage gets at most what is left
limit() {  # seconds for a stage that wants $1: no more than what is left of the deadline
  local left=$((deadline - (SECONDS - started)))
  [ "$left" -lt "$1" ] && set -- "$left"
  [ "$1" -lt 1 ] && set -- 1
  echo "$1"
}
stage_log() { echo "[gpu-check $((SECONDS - started)) s] $*" | tee -a "$out/stages.log"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$out/stages.tsv"; }  # name, exit status, seconds
: >"$out/stages.tsv"

if [ ! -d "$deps/debs" ]; then
  echo "gpu-check: $deps/debs is missing: run scripts/gpu-bundle.sh on a machine with Debian's registry and carry .cache/gpu-deps" >&2
  exit 2
fi
sysroot="$deps/root"
if [ ! -d "$sysroot/usr" ]; then
  for f in "$deps"/debs/*.deb; do dpkg -x "$f" "$sysroot"; done
fi
libdir="$sysroot/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$libdir:$libdir/blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CEBM_FASHION_MNIST="$deps/fashion-mnist"
export CEBM_TEST_DEVICE=cuda
torch_dir=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')
python3 -c 'import json, torch; print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
  "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}))' >"$out/torch.json"
stage_log "torch: $(cat "$out/torch.json")"

# 1. Build: everything, against the wheel's libtorch (CUDA on; oneDNN off: a CPU path).
t=$SECONDS
timeout "$(limit 240)" bash -c "cmake -S '$root' -B '$build' -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH='$torch_dir;$sysroot/usr' -DCEBM_REQUIRE_CUDA=ON -DCEBM_WITH_ONEDNN=OFF \
    -DCEBM_TEST_DEVICE=cuda -DCEBM_CHECK_HEADERS=OFF -DCEBM_FAULT_TESTS=OFF -DCMAKE_EXE_LINKER_FLAGS='-Wl,-rpath-link,$libdir/blas' &&
  cmake --build '$build' -j $jobs" >"$out/build.log" 2>&1
rc=$?; record build $rc $((SECONDS - t)); stage_log "build: exit $rc"

# 2. The test suite, models and chains on the GPU (the packaging test, label slow, is left to CI).
t=$SECONDS
(cd "$build" && timeout "$(limit 150)" ctest -j "$jobs" --timeout 120 -LE slow --output-on-failure) >"$out/ctest.log" 2>&1
rc=$?; record ctest $rc $((SECONDS - t)); stage_log "ctest: exit $rc, $(grep -E 'tests passed' "$out/ctest.log")"

# 3. The CEBM demo trained and evaluated on the GPU.
run="$build/gpu_demo"
rm -rf "$run"
t=$SECONDS
timeout "$(limit 90)" "$build/examples/train_cebm" --model cebm --preset demo --device cuda --threads 4 --out "$run" >"$out/train.log" 2>&1
rc=$?; record train $rc $((SECONDS - t)); stage_log "train_cebm demo: exit $rc"
t=$SECONDS
timeout "$(limit 90)" "$build/examples/evaluate" --run "$run" --device cuda --threads 4 --train-images 10000 --test-images 2000 \
  --ood-images 2000 --long-run-steps 200 --no-pixel-full >"$out/evaluate.log" 2>&1
rc=$?; record evaluate $rc $((SECONDS - t)); stage_log "evaluate: exit $rc"
[ -f "$run/report.json" ] && cp "$run/report.json" "$out/demo_report.json"

# 4. One iteration each, C++ and the PyTorch reference interleaved (2 pairs, 3 timed iterations).
bench() {  # model batch filter script
  local model=$1 batch=$2 filter=$3 script=$4
  for pair in 1 2; do
    CEBM_BENCH_DEVICE=cuda CEBM_BENCH_BATCH=$batch CEBM_BENCH_SGLD_STEPS=60 timeout "$(limit 30)" \
      "$build/benchmarks/cebm_bench_training" "--benchmark_filter=^$filter/threads:1/" --benchmark_repetitions=3 \
      --benchmark_format=json >"$out/${model}_cpp_$pair.json" 2>>"$out/bench.log"
    record "${model}_cpp_$pair" $? 0
    if [ -f "$deps/bench/$script" ]; then
      local data=()
      [ "$model" = cebm ] && data=(--data "$deps/fashion-mnist/train-images-idx3-ubyte.gz")
      (cd "$deps/bench" && timeout "$(limit 30)" python3 "$script" --device cuda --threads 1 --batch "$batch" --sgld-steps 60 \
        --iters 3 "${data[@]}") >"$out/${model}_py_$pair.json" 2>>"$out/bench.log"
      record "${model}_py_$pair" $? 0
    fi
  done
}
precisions() {  # model batch filter: one process of 3 timed iterations per precision policy
  local model=$1 batch=$2 filter=$3
  for precision in fp32 tf32 bf16; do
    CEBM_BENCH_DEVICE=cuda CEBM_BENCH_BATCH=$batch CEBM_BENCH_SGLD_STEPS=60 CEBM_BENCH_PRECISION=$precision \
      timeout "$(limit 30)" "$build/benchmarks/cebm_bench_training" "--benchmark_filter=^$filter/threads:1/" \
      --benchmark_repetitions=3 --benchmark_format=json >"$out/${model}_precision_$precision.json" 2>>"$out/bench.log"
    record "${model}_precision_$precision" $? 0
  done
}
t=$SECONDS
bench cebm 100 cebm_iteration cebm_step.py
bench clel 64 clel_iteration clel_step.py
precisions cebm 100 cebm_iteration
precisions clel 64 clel_iteration
stage_log "timing: $((SECONDS - t)) s"

# 5. One JSON of everything.
python3 - "$out" <<'PY'
import glob, json, os, re, statistics, sys
out = sys.argv[1]
def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
stages = {}
for line in open(os.path.join(out, "stages.tsv")):
    name, rc, seconds = line.rstrip("\n").split("\t")
    stages[name] = {"exit": int(rc), "seconds": int(seconds)}
result = {"torch": load(os.path.join(out, "torch.json")), "stages": stages}
log = open(os.path.join(out, "ctest.log"), errors="replace").read() if os.path.exists(os.path.join(out, "ctest.log")) else ""
m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", log)
if m:
    result["ctest"] = {"failed": int(m.group(2)), "total": int(m.group(3)),
                       "failed_tests": re.findall(r"\d+ - (.+?) \((?:Failed|Timeout|SEGFAULT|Exception)", log)}
report = load(os.path.join(out, "demo_report.json"))
if report:
    result["demo"] = {k: report.get(k) for k in ("few_label", "nn1", "ood", "aggregate_posterior", "seconds")}
timing = {}
for model in ("cebm", "clel"):
    cpp, py = [], []
    for path in sorted(glob.glob(os.path.join(out, f"{model}_cpp_*.json"))):
        d = load(path)
        if d:
            cpp += [b["real_time"] for b in d.get("benchmarks", []) if b.get("run_type") == "iteration"]
    for path in sorted(glob.glob(os.path.join(out, f"{model}_py_*.json"))):
        d = load(path)
        if d and "ms_per_iter" in d:
            py.append(d["ms_per_iter"]["median"])
    entry = {"cpp_ms": cpp, "python_ms": py, "precision_ms": {}}
    for precision in ("fp32", "tf32", "bf16"):
        d = load(os.path.join(out, f"{model}_precision_{precision}.json"))
        runs = [b["real_time"] for b in (d or {}).get("benchmarks", []) if b.get("run_type") == "iteration"]
        if runs:
            entry["precision_ms"][precision] = statistics.median(runs)
    if cpp and py:
        entry["ratio_median"] = statistics.median(cpp) / statistics.median(py)
    timing[model] = entry
result["timing"] = timing
with open(os.path.join(out, "gpu-check.json"), "w") as f:
    json.dump(result, f, indent=1)
print(json.dumps(result, indent=1)[:6000])
PY
stage_log "done: $out/gpu-check.json"
