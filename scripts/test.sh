#!/usr/bin/env bash
# Set up, build and run the whole test suite against both libtorch builds: build/ (Debian's
# libtorch 1.13, CPU) and build-torch2/ (the PyPI wheel's libtorch 2.x with CUDA and NCCL, run on
# the CPU when no GPU is there). `bash scripts/test.sh debian` or `… torch2` runs one of them.
# CTest prints each build's summary; the script fails when either fails.
#
# `bash scripts/test.sh quick` is the loop between commits: build/ rebuilt where it changed, then
# every test but the end-to-end program runs, the header checks and the packaging test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
which=${1:-all}
select=()
case "$which" in
  debian) builds=(build) ;;
  torch2) builds=(build-torch2) ;;
  quick) builds=(build); which=debian; select=(-E '^(program|header|package|run directory): ') ;;
  all) builds=(build build-torch2) ;;
  *) echo "test: unknown build '$which' (expected debian, torch2, all or quick)" >&2; exit 2 ;;
esac
bash "$root/scripts/setup.sh" "$which"
failed=()
for b in "${builds[@]}"; do
  echo "== tests of $b"
  start=$SECONDS
  (cd "$root/$b" && ctest --output-on-failure -j "$(nproc)" "${select[@]}") || failed+=("$b")
  echo "== $b: ctest took $((SECONDS - start)) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "tests failed in: ${failed[*]}" >&2
  exit 1
fi
