#!/usr/bin/env bash
# TensorBoard on a folder of runs, looked at in headless Chromium: starts `tensorboard --logdir RUNS
# --host 127.0.0.1` on a free loopback port (from the venv scripts/setup.sh makes), waits until it
# lists the runs, and saves a screenshot of each dashboard:
#
#   bash scripts/tensorboard-check.sh [RUNS] [OUT]      # default runs/ and docs/
#
# OUT/tensorboard_scalars.png (the training and evaluation scalars), tensorboard_images.png (the
# sample grids), tensorboard_histograms.png, tensorboard_projector.png (the test images'
# representations, PCA, coloured by class) and tensorboard_pr_curves.png. Exits non-zero, naming
# the step, when TensorBoard does not start, lists no run, or Chromium writes no screenshot.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-$root/runs}
out=${2:-$root/docs}
python=$root/.cache/venv-tools/bin/python
[ -x "$python" ] || { echo "tensorboard-check: no $python (run scripts/setup.sh)" >&2; exit 1; }
[ -d "$runs" ] || { echo "tensorboard-check: no folder $runs (train first: README's main command)" >&2; exit 1; }
if ! command -v chromium >/dev/null; then
  echo "tensorboard-check: installing Debian's chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$python" -m tensorboard.main --logdir "$runs" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
server=$!
profile=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$profile" "$log"' EXIT
url=http://127.0.0.1:$port
for _ in $(seq 120); do
  if python3 -c "import json, sys, urllib.request; sys.exit(0 if json.load(urllib.request.urlopen('$url/data/runs')) else 1)" \
       2>/dev/null; then
    break
  fi
  kill -0 $server 2>/dev/null || { echo "tensorboard-check: TensorBoard exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 1
done
runs_listed=$(python3 -c "import json, urllib.request; print(', '.join(json.load(urllib.request.urlopen('$url/data/runs'))))")
[ -n "$runs_listed" ] || { echo "tensorboard-check: TensorBoard lists no run in $runs" >&2; exit 1; }
echo "tensorboard-check: TensorBoard at $url lists: $runs_listed"
shot() {  # shot NAME FRAGMENT [WIDTH,HEIGHT]
  local file=$out/tensorboard_$1.png
  rm -f "$file"
  chromium --headless --no-sandbox --disable-dev-shm-usage --user-data-dir="$profile" --hide-scrollbars \
    --use-angle=swiftshader --enable-unsafe-swiftshader --window-size="${3:-1600,1000}" --virtual-time-budget=25000 \
    --screenshot="$file" "$url/#$2" >/dev/null 2>&1 || true
  [ -s "$file" ] || { echo "tensorboard-check: Chromium wrote no $file" >&2; exit 1; }
  echo "tensorboard-check: $file"
}
shot scalars "scalars&tagFilter=train%2F(loss%7Cgap%7Cgrad_norm%7Cenergy_pos%7Cenergy_neg%7Cprobe_1nn)%24"
shot images images
shot histograms histograms
shot pr_curves pr_curves
shot projector projector
