#!/usr/bin/env bash
# The main job: set up, build, and run the custom-family example (a user-written exponential
# family checked by the conformance harness and used as the bias of a conjugate EBM). It writes
# its report to runs/custom_family/report.txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
mkdir -p "$root/runs/custom_family"
"$root/build/examples/custom_family/custom_family" | tee "$root/runs/custom_family/report.txt"
echo "report: runs/custom_family/report.txt"
