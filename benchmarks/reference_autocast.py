#!/usr/bin/python3
"""Runs a PyTorch reference script with its whole run inside torch.autocast, as a PyTorch user
switches mixed precision on without touching the script: the script's forward passes, sampler and
loss all under `torch.autocast(device, dtype)`.

  python benchmarks/reference_autocast.py bf16 cebm_step.py --threads 2 ...

The first argument is bf16 or fp16, the second the script, the rest the script's own arguments; the
device is the script's --device (cpu unless given). Prints what the script prints.
"""
import os
import runpy
import sys

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in DTYPES:
        sys.exit("usage: reference_autocast.py bf16|fp16 SCRIPT [ARGS...]")
    dtype, script, rest = DTYPES[sys.argv[1]], sys.argv[2], sys.argv[3:]
    device = "cpu"
    for i, a in enumerate(rest):
        if a == "--device" and i + 1 < len(rest):
            device = rest[i + 1]
        elif a.startswith("--device="):
            device = a.split("=", 1)[1]
    sys.argv = [script] + rest
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # the script's own helpers (benchutil)
    with torch.autocast(device.split(":")[0], dtype=dtype):
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
