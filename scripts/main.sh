#!/usr/bin/env bash
# The main job: set up, build, train a CEBM on Fashion-MNIST with the demo preset (a few minutes on
# 2 CPU cores), then evaluate it on a subset sized for minutes (10,000 training and 2,000 test
# images; `evaluate --run runs/cebm_demo` without the size flags runs the full protocol). The run
# directory ends with report.md / report.json and their PNGs, summary.md, metrics.jsonl,
# checkpoints/ and samples/. Extra arguments go to train_cebm (e.g. --preset ci, --seed 3).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh" debian train_cebm evaluate  # the two programs it runs, not the tests
run="$root/runs/cebm_demo"
"$root/build/examples/train_cebm" --model cebm --preset demo --threads "$(nproc)" --out "$run" "$@"
"$root/build/examples/evaluate" --run "$run" --threads "$(nproc)" --mnist "$root/data/mnist" \
  --train-images 10000 --test-images 2000 --ood-images 2000 --long-run-steps 200 --no-pixel-full
echo "run directory: runs/cebm_demo (report.md, summary.md, samples/, metrics.jsonl, TensorBoard event files, checkpoints/)"
echo "watch it: .cache/venv-tools/bin/tensorboard --logdir runs/ --host 127.0.0.1"
