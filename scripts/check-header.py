#!/usr/bin/env python3
"""Checks that one public header compiles on its own: runs COMPILER... -x c++ -include HEADER /dev/null.

Parsing libtorch's headers costs most of such a check, and every torch header pays it again. A
precompiled header (a "tier") may go first, but only when it holds nothing the header does not
include itself: a tier lists includes, and it is used for HEADER only when each of them is in
HEADER's own include closure (its #include lines and those of the cebm headers they name,
transitively, leaving out lines inside #if blocks; HEADER itself is not in it). The compiler then
sees the same declarations as with HEADER alone, parsed once for all headers. Each header in the
tier has its own check, without that tier.

Usage: check-header.py --root INCLUDE_DIR [--tier PCH_HEADER=INCLUDE,INCLUDE...]... HEADER -- COMPILER ARGS...
Tiers are tried in order; the first usable one is used. Prints the tier used, then exits with the
compiler's status."""
import argparse
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'\s*#\s*include\s*([<"])([^>"]+)[>"]')


def own_includes(path):
    """The #include targets of one file outside #if blocks (in both spellings, without brackets)."""
    depth, found = 0, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            stripped = line.strip()
            if re.match(r"#\s*if", stripped):
                depth += 1
            elif re.match(r"#\s*endif", stripped):
                depth -= 1
            elif depth == 0:
                m = INCLUDE.match(line)
                if m:
                    found.append(m.group(2))
    return found


def closure(root, header):
    """Every include reached from `header` through cebm headers under `root`."""
    seen, todo = set(), [header]
    while todo:
        for inc in own_includes(os.path.join(root, todo.pop())):
            if inc in seen:
                continue
            seen.add(inc)
            if inc.startswith("cebm/") and os.path.exists(os.path.join(root, inc)):
                todo.append(inc)
    seen.discard(header)
    return seen


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        raise SystemExit("check-header: expected `-- COMPILER ARGS...` after the header")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="check-header.py")
    parser.add_argument("--root", required=True, help="the include directory holding cebm/")
    parser.add_argument("--tier", action="append", default=[], help="PCH_HEADER=INCLUDE,INCLUDE...")
    parser.add_argument("header", help="the header, as included: cebm/...")
    args = parser.parse_args(argv[:split])
    compiler = argv[split + 1:]
    if not compiler:
        raise SystemExit("check-header: no compiler command after --")
    if not os.path.exists(os.path.join(args.root, args.header)):
        raise SystemExit(f"check-header: {args.header} not found under {args.root}")
    reached = closure(args.root, args.header)
    command, used = list(compiler), "none"
    for tier in args.tier:
        pch, _, wants = tier.partition("=")
        if not wants:
            raise SystemExit(f"check-header: --tier {tier}: expected PCH_HEADER=INCLUDE,INCLUDE...")
        if all(w in reached for w in wants.split(",")):
            command += ["-Winvalid-pch", "-include", pch]
            used = os.path.basename(pch)
            break
    print(f"check-header: {args.header} (precompiled first: {used})", flush=True)
    command += ["-x", "c++", "-include", args.header, os.devnull]
    sys.exit(subprocess.call(command))


if __name__ == "__main__":
    main()
