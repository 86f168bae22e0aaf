#!/usr/bin/env bash
# The main job: set up, build, train a CEBM on Fashion-MNIST with the demo preset (a few minutes
# on 2 CPU cores), and write its run directory: config, metrics.jsonl, checkpoints, sample grids
# and report.md / report.json. Extra arguments go to train_cebm (e.g. --preset ci, --seed 3).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
"$root/build/examples/train_cebm" --model cebm --preset demo --threads "$(nproc)" --out "$root/runs/cebm_demo" "$@"
echo "run directory: runs/cebm_demo (report.md, samples/, metrics.jsonl, checkpoints/)"
