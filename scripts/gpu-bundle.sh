#!/usr/bin/env bash
# Gathers, on a Debian 12 machine with a package registry, what scripts/gpu-check.sh needs on a GPU
# machine that has nvcc, CMake, ninja and a PyTorch wheel with CUDA but no registry: the Debian
# packages of the build's other dependencies (unpacked there with dpkg -x), Fashion-MNIST, and the
# plain-PyTorch reference scripts. Writes .cache/gpu-deps/ (about 35 MB; carry that folder).
#
#   bash scripts/gpu-bundle.sh [REFERENCE_DIR]    # REFERENCE_DIR: cebm_step.py etc. (default ../shared/bench)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reference=${1:-$root/../shared/bench}
out="$root/.cache/gpu-deps"
rm -rf "$out"
mkdir -p "$out/debs" "$out/fashion-mnist" "$out/bench"

# Header-only libraries and the few shared ones the programs link (liblinear needs a BLAS).
packages=(libeigen3-dev catch2 libcli11-dev nlohmann-json3-dev libstb-dev libstb0 liblinear-dev liblinear4 libblas3
          libbenchmark-dev libbenchmark1debian zlib1g-dev zlib1g)
apt-get update -qq
# (apt's note that root downloads unsandboxed is noise here)
(cd "$out/debs" && apt-get download -qq "${packages[@]}" 2> >(grep -v "unsandboxed as root" >&2))

fmnist=/usr/share/datasets/fashion-mnist
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] || apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null
cp "$fmnist"/*-ubyte.gz "$out/fashion-mnist/"

if [ -f "$reference/cebm_step.py" ]; then
  cp "$reference"/*.py "$out/bench/"
else
  echo "gpu-bundle: warning: no reference scripts in $reference; gpu-check.sh will time the C++ side alone" >&2
fi
du -sh "$out"
