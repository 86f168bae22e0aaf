#!/usr/bin/env python3
"""Checks that no header under include/cebm includes one from a folder above it in the layering

    core, detail, config → families, divergences → models → sampling, testing → torch (ops)
    → data, nn, losses, io, metrics, distributed, variational, clel, precision, testing → torch/models → train → eval → programs

(a folder's detail/ and augment/ subfolders belong to it; the umbrella headers cebm.hpp, core.hpp,
sampling.hpp, torch.hpp and torch/data.hpp gather their folders and are not checked). Prints every
upward include with file and line; exit status 1 when there is one. Usage: check-layers.py [ROOT]."""
import os
import re
import sys

RANKS = {
    "cebm": 0, "cebm/core": 0, "cebm/detail": 0,
    "cebm/families": 1, "cebm/divergences": 1,
    "cebm/models": 2,
    "cebm/sampling": 3, "cebm/testing": 3,
    "cebm/torch": 4,
    "cebm/torch/data": 5, "cebm/torch/nn": 5, "cebm/torch/losses": 5, "cebm/torch/io": 5,
    "cebm/torch/metrics": 5, "cebm/torch/distributed": 5, "cebm/torch/variational": 5, "cebm/torch/clel": 5, "cebm/torch/precision": 5,
    "cebm/torch/testing": 5,
    "cebm/torch/models": 6,
    "cebm/torch/train": 7,
    "cebm/torch/eval": 8,
    "cebm/torch/programs": 9,
}
UMBRELLAS = {"cebm/cebm.hpp", "cebm/core.hpp", "cebm/sampling.hpp", "cebm/torch.hpp", "cebm/torch/data.hpp"}


def folder_of(header):
    folder = os.path.dirname(header)
    while folder not in RANKS and "/" in folder:
        folder = os.path.dirname(folder)  # detail/, augment/: the parent's rank
    if folder not in RANKS:
        raise SystemExit(f"check-layers: {header}: folder {folder} has no place in the layering (add it to RANKS)")
    return folder


def main():
    root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."), "include")
    upward, checked = [], 0
    for dirpath, _, files in os.walk(os.path.join(root, "cebm")):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            header = os.path.relpath(path, root)
            if header in UMBRELLAS or not name.endswith(".hpp"):
                continue
            checked += 1
            src = folder_of(header)
            for line_no, line in enumerate(open(path, encoding="utf-8"), 1):
                m = re.match(r'\s*#\s*include\s+"(cebm/[^"]+)"', line)
                if not m or m.group(1) in UMBRELLAS:
                    continue
                dst = folder_of(m.group(1))
                if RANKS[dst] > RANKS[src]:
                    upward.append(f"{header}:{line_no}: includes {m.group(1)} ({dst} is above {src})")
    for u in upward:
        print(u)
    print(f"check-layers: {checked} headers, {len(upward)} upward includes")
    return 1 if upward else 0


if __name__ == "__main__":
    sys.exit(main())
