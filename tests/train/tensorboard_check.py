#!/usr/bin/env python3
"""A training run's TensorBoard event files, read by PyPI's tensorboard package, against the run's
own files:

    tensorboard_check.py TRAINER WORK_DIR [--kill] [--no-tensorboard] [--evaluate EVALUATE] [-- TRAINER_FLAGS...]

runs TRAINER with the ci preset into WORK_DIR/run and checks, with tensorboard's own readers:

  - every scalar of metrics.jsonl is in the event files as `train/<key>` at its iteration, with the
    same value as a float32 (what TensorBoard's data server shows: equal to the float32 nearest the
    metrics.jsonl double, not merely close), and no other `train/` scalar;
  - the sample grids (`samples/<name>`) at every sample iteration, the last one byte for byte the
    run's samples/<name>.png; the energy and representation histograms with as many values as
    the batch and the probe hold; the configuration as text, equal to config.json;
  - both through the EventAccumulator (which applies TensorBoard's SessionLog purge) and through
    the raw event-file loader over every file in name order (which does not): no (tag, step) twice.

--kill sends SIGKILL once a row beyond the first checkpoint is logged, checks that the files the
killed process left read without error and agree with its metrics, then resumes the run and
checks the whole again: the event files hold what the resumed run's model did, not the iterations
the killed process logged after its checkpoint. --no-tensorboard checks that the flag leaves no
event file. --evaluate then runs EVALUATE on the run (with its kept checkpoints' learning curve)
and checks its event file: every number of report.json (flattened here on its own: objects by
key, few-label rows by setting) as `eval/<path>` at the checkpoint's iteration, the learning
curve's points at their own iterations, a PR curve per OOD set whose last point's counts are
the set sizes, and the projector's files: as many rows of features, labels (class names) as
configured points, and a sprite that tiles them. Prints "tensorboard: ... holds" and exits 0, or prints FAILED and exits 1.
"""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy

from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing import plugin_event_accumulator
from tensorboard.util import tensor_util


def fail(message):
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def metrics_rows(run):
    rows = []
    with open(os.path.join(run, "metrics.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.endswith("\n"):
                rows.append(json.loads(line))
    return rows


def event_files(run):
    return sorted(os.path.join(run, f) for f in os.listdir(run) if f.startswith("events.out.tfevents.") and
                  not f.endswith(".tmp"))


def accumulated(run):
    """{tag: [(step, value)]} and {tag: plugin} through the EventAccumulator, every event kept."""
    acc = plugin_event_accumulator.EventAccumulator(run, size_guidance={"tensors": 0})
    acc.Reload()
    values, plugins = {}, {}
    for tag in acc.Tags()["tensors"]:
        plugins[tag] = acc.SummaryMetadata(tag).plugin_data.plugin_name
        values[tag] = [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
    return values, plugins


def raw_steps(run):
    """(tag, step) of every summary value of every event file, in name order, without any purge."""
    seen = []
    for path in event_files(run):
        for event in event_file_loader.EventFileLoader(path).Load():
            if event.HasField("summary"):
                seen.extend((v.tag, event.step) for v in event.summary.value)
    return seen


def same(a, b):
    """metrics.jsonl's double `a` (None for NaN) and the event file's float32 `b`."""
    if a is None:
        return math.isnan(b)
    return float(numpy.float32(a)) == b or (math.isnan(a) and math.isnan(b))


def check_scalars(run, rows, values, plugins, partial=False):
    expected = {}
    for row in rows:
        step = int(row["iteration"])
        for key, v in row.items():
            expected[(f"train/{key}", step)] = v
    found = {}
    for tag, events in values.items():
        if tag.startswith("train/"):
            if plugins[tag] != "scalars":
                fail(f"{run}: {tag} is under the {plugins[tag]} plugin, expected scalars")
            for step, array in events:
                found[(tag, step)] = float(array.item())
    if partial:  # a killed process: the events hold every row but perhaps the last (killed between the two writes)
        last = int(rows[-1]["iteration"]) if rows else 0
        missing = [k for k in expected if k not in found and k[1] < last]
        if missing:
            fail(f"{run}: metrics rows not in the event files: {missing[:5]}")
        expected = {k: v for k, v in expected.items() if k in found}
    if set(found) != set(expected):
        extra = sorted(set(found) - set(expected))[:5]
        missing = sorted(set(expected) - set(found))[:5]
        fail(f"{run}: scalars differ from metrics.jsonl: in the events only {extra}, in metrics.jsonl only {missing}")
    for key, v in expected.items():
        if not same(v, found[key]):
            fail(f"{run}: {key[0]} at step {key[1]} is {found[key]!r} in the event files, {v!r} in metrics.jsonl")
    return len(expected)


def check_rest(run, values, plugins, rows, config):
    last = int(rows[-1]["iteration"])
    sample_steps = sorted({s for s, _ in values.get("samples/data", [])})
    if not sample_steps or sample_steps[-1] != last:
        fail(f"{run}: samples/data at steps {sample_steps}, expected the last iteration {last} among them")
    grids = [t for t in values if t.startswith("samples/")]
    for tag in grids:
        if plugins[tag] != "images":
            fail(f"{run}: {tag} is under the {plugins[tag]} plugin, expected images")
        step, image = values[tag][-1]
        png = os.path.join(run, "samples", tag.split("/", 1)[1] + ".png")
        with open(png, "rb") as f:
            if image[2] != f.read():
                fail(f"{run}: {tag} at step {step} is not the image of {png}")
    for tag in ("energy/data", "energy/samples", "representation"):
        if tag not in values:
            continue
        if plugins[tag] != "histograms":
            fail(f"{run}: {tag} is under the {plugins[tag]} plugin, expected histograms")
        for step, buckets in values[tag]:
            if buckets.ndim != 2 or buckets.shape[1] != 3 or buckets[:, 2].sum() <= 0:
                fail(f"{run}: {tag} at step {step} is not a histogram with counts: {buckets.shape}")
    if "representation" not in values or ("energy/data" not in values and "buffer" in " ".join(grids)):
        fail(f"{run}: histograms missing: {sorted(t for t in values if plugins[t] == 'histograms')}")
    if plugins.get("config") != "text":
        fail(f"{run}: no configuration text")
    text = values["config"][0][1].item().decode()
    if json.loads(text.strip().removeprefix("```json").removesuffix("```")) != config:
        fail(f"{run}: the configuration text differs from config.json")
    return grids


def check_run(run, partial=False):
    rows = metrics_rows(run)
    values, plugins = accumulated(run)
    n = check_scalars(run, rows, values, plugins, partial)
    if partial:
        return n
    with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    grids = check_rest(run, values, plugins, rows, config)
    seen = raw_steps(run)
    twice = sorted({k for k in seen if seen.count(k) > 1})
    if twice:
        fail(f"{run}: the raw event files hold these (tag, step) more than once: {twice[:5]}")
    print(f"{run}: {n} scalars equal to metrics.jsonl; grids {', '.join(sorted(grids))}; "
          f"histograms {', '.join(sorted(t for t in values if plugins[t] == 'histograms'))}; configuration text; "
          f"{len(event_files(run))} event file(s)", flush=True)
    return n


def flatten(j, path=""):
    out = {}
    if isinstance(j, bool):
        return out
    if isinstance(j, (int, float)):
        out[path] = float(j)
    elif isinstance(j, dict):
        for k, v in j.items():
            if not (path == "" and k in ("config", "learning_curve")):
                out.update(flatten(v, f"{path}/{k}" if path else k))
    elif isinstance(j, list):
        for i, e in enumerate(j):
            if isinstance(e, dict):
                out.update(flatten(e, f"{path}/{e['setting'] if isinstance(e.get('setting'), str) else i}"))
    return out


def check_evaluation(evaluate, run, log):
    command = [evaluate, "--run", run, "--curve", "--threads", "1", "--train-images", "300", "--test-images", "200",
               "--ood", "constant,noise", "--draws", "1", "--long-run-steps", "3", "--long-run-chains", "8",
               "--fd", "none", "--no-pixel-full", "--projector-points", "150"]
    if subprocess.call(command, stdout=log, stderr=subprocess.STDOUT) != 0:
        fail(f"evaluate failed: {open(log.name).read()}")
    with open(os.path.join(run, "report.json"), encoding="utf-8") as f:
        report = json.load(f)
    last = int(metrics_rows(run)[-1]["iteration"])
    values, plugins = accumulated(run)
    expected = {(f"eval/{k}", last): v for k, v in flatten(report).items()}
    found = {(t, s): float(a.item()) for t, events in values.items() if t.startswith("eval/") for s, a in events}
    at_last = {k: v for k, v in found.items() if k[1] == last}
    if set(at_last) != set(expected):
        fail(f"evaluation scalars differ from report.json: in the events only {sorted(set(at_last) - set(expected))[:5]}, "
             f"in report.json only {sorted(set(expected) - set(at_last))[:5]}")
    for k, v in expected.items():
        if not same(v, at_last[k]):
            fail(f"{k[0]} is {at_last[k]} in the event file, {v} in report.json")
    curve_steps = sorted({s for _, s in found if s != last})
    points = [int(p["iteration"]) for p in report["learning_curve"]["points"] if int(p["iteration"]) != last]
    if curve_steps != sorted(points):
        fail(f"learning-curve scalars at steps {curve_steps}, the report's points at {points}")
    n_in = report["ood"]["in_distribution_images"]
    for name, entry in report["ood"]["sets"].items():
        tag = f"ood/{name}/logp"
        if plugins.get(tag) != "pr_curves":
            fail(f"no PR curve {tag}: {sorted(t for t in plugins if plugins[t] == 'pr_curves')}")
        curve = values[tag][-1][1]
        # Threshold 0 takes every score as in-distribution: TP = the test images, FP = the set's.
        if curve.shape != (6, 101) or curve[0, 0] != n_in or curve[1, 0] != entry["images"]:
            fail(f"{tag}: shape {curve.shape}, TP {curve[0, 0]} FP {curve[1, 0]}, expected {n_in} and {entry['images']}")
    with open(os.path.join(run, "projector_config.pbtxt"), encoding="utf-8") as f:
        config = f.read()
    folder = os.path.join(run, "embeddings", "representation", str(last))
    if f'tensor_name: "representation:{last}"' not in config:
        fail(f"projector_config.pbtxt names no representation:{last}: {config}")
    rows = open(os.path.join(folder, "tensors.tsv")).read().splitlines()
    labels = open(os.path.join(folder, "metadata.tsv")).read().splitlines()
    dims = {len(r.split("\t")) for r in rows}
    if len(rows) != 150 or len(labels) != 150 or dims != {report["representation_dim"]}:
        fail(f"projector: {len(rows)} rows of {dims} features, {len(labels)} labels; expected 150 of "
             f"{report['representation_dim']}")
    if not set(labels) <= {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                           "Ankle boot"}:
        fail(f"projector labels are not Fashion-MNIST's class names: {sorted(set(labels))[:5]}")
    with open(os.path.join(folder, "sprite.png"), "rb") as f:
        png = f.read()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    if (width, height) != (13 * 28, 13 * 28):  # ceil(sqrt(150)) = 13 thumbnails a side
        fail(f"sprite.png is {width}x{height}, expected 364x364")
    print(f"evaluate: {len(expected)} scalars equal to report.json at iteration {last}, learning curve at {curve_steps}, "
          f"PR curves of {len(report['ood']['sets'])} OOD sets, projector of 150 points", flush=True)


def main():
    argv = sys.argv[1:]
    flags = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    kill, off = "--kill" in argv, "--no-tensorboard" in argv
    evaluate = None
    if "--evaluate" in argv:
        i = argv.index("--evaluate")
        evaluate = argv[i + 1]
        del argv[i:i + 2]
    trainer, work = [a for a in argv if not a.startswith("--")]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    run = os.path.join(work, "run")
    command = [trainer, "--preset", "ci", "--threads", "1", "--train-subset", "300", "--eval-images", "100",
               "--seed", "3", "--out", run] + flags
    log = open(os.path.join(work, "train.log"), "w")
    if off:
        if subprocess.call(command + ["--no-tensorboard"], stdout=log, stderr=subprocess.STDOUT) != 0:
            fail(f"the run failed: {open(log.name).read()}")
        if event_files(run):
            fail(f"--no-tensorboard wrote {event_files(run)}")
        print("tensorboard: --no-tensorboard holds (no event file)")
        return
    if kill:
        p = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        # Past the first checkpoint (ci: every 3 iterations), before the end: iterations 4-5 are
        # logged by a process whose model the resumed run will not have.
        while time.monotonic() < deadline and p.poll() is None:
            rows = metrics_rows(run) if os.path.exists(os.path.join(run, "metrics.jsonl")) else []
            if rows and int(rows[-1]["iteration"]) >= 4:
                break
            time.sleep(0.01)
        if p.poll() is not None:
            fail(f"the run ended before it could be killed: {open(log.name).read()}")
        p.send_signal(signal.SIGKILL)
        p.wait()
        killed_at = int(metrics_rows(run)[-1]["iteration"])
        n = check_run(run, partial=True)
        print(f"killed after iteration {killed_at}: the event files read to their last whole record, "
              f"{n} scalars equal to metrics.jsonl", flush=True)
        command = command + ["--resume"]
    if subprocess.call(command, stdout=log, stderr=subprocess.STDOUT) != 0:
        fail(f"the run failed: {open(log.name).read()}")
    check_run(run)
    if evaluate:
        check_evaluation(evaluate, run, log)
    print(f"tensorboard: {'kill -9 and resume' if kill else 'the run'} holds")


if __name__ == "__main__":
    main()
