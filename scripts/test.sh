#!/usr/bin/env bash
# Set up, build and run the whole test suite against both libtorch builds: build/ (Debian's
# libtorch 1.13, CPU) and build-torch2/ (the PyPI wheel's libtorch 2.x with CUDA and NCCL, run on
# the CPU when no GPU is there). `bash scripts/test.sh debian` or `… torch2` runs one of them.
# CTest prints each build's summary; the script fails when either fails.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
which=${1:-all}
bash "$root/scripts/setup.sh" "$which"
case "$which" in
  debian) builds=(build) ;;
  torch2) builds=(build-torch2) ;;
  *) builds=(build build-torch2) ;;
esac
failed=()
for b in "${builds[@]}"; do
  echo "== tests of $b"
  start=$SECONDS
  (cd "$root/$b" && ctest --output-on-failure -j "$(nproc)") || failed+=("$b")
  echo "== $b: ctest took $((SECONDS - start)) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "tests failed in: ${failed[*]}" >&2
  exit 1
fi
