"""cebm's weights in PyTorch and PyTorch's in cebm, through safetensors files (PyPI's safetensors
and torch, in the venv scripts/setup.sh makes):

    safetensors_check.py cebm TRAIN_CEBM EVALUATE WORK_DIR
    safetensors_check.py clel TRAIN_CLEL EVALUATE WORK_DIR

cebm: a `ci` run of train_cebm, exported with `evaluate --export`, loads (strict) into the
reference GaussianCebm(CebmEncoder(head="split")); its energies and posterior means on Fashion-MNIST
test images equal those `evaluate --score` computes from the checkpoint, and the exported file
scored by cebm again gives them exactly. The same for an IGEBM run. Then a model initialised
and stepped in PyTorch, saved with safetensors.torch, is scored by cebm (`evaluate --weights`) with
the same energies, gets cebm's full report, and starts a train_cebm run (`--init-from`).

clel: the same for CLEL's EMA networks (f, g and the encoder h) on CIFAR-10-format images: a run
on small CIFAR-10 binary batches, the reference SmallEbm and CifarResNetEncoder, e(x) = 1/2|f(x)|^2
and h(x) compared, then PyTorch's stepped networks into cebm and into train_clel.

Agreement: max |a - b| <= 1e-5 * max |b| over each compared tensor (energies near zero make an
elementwise relative measure meaningless, and an absolute one too loose for CLEL's small
energies). Prints "safetensors: <case> holds", or "FAILED: ..." and exits 1.
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_modules  # noqa: E402

TOLERANCE = 1e-5
FASHION = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
# The Fashion-MNIST trainings: what is compared is the weights they leave, so they read 500 training
# images and summarise on 200 (without these, reading and summarising the whole set took 15 s a run).
SMALL_RUN = ["--threads", 2, "--no-tensorboard", "--train-subset", 500, "--eval-images", 200]


def fail(msg):
    print(f"FAILED: {msg}")
    sys.exit(1)


def run(*cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p.stdout


def agree(what, a, b):
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    if a.shape != b.shape:
        fail(f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)}")
    worst = ((a - b).abs().max() / b.abs().max().clamp(min=1e-30)).item()
    if not worst <= TOLERANCE:
        fail(f"{what}: largest difference {worst:.3g} of the largest magnitude > {TOLERANCE}")
    print(f"  {what}: {a.numel()} numbers in [{b.min().item():.4g}, {b.max().item():.4g}] agree "
          f"(largest difference {worst:.2e} of the largest magnitude)")


def score(evaluate, source, images, work, name, *extra):
    """cebm's energy and representation of `images` from `source` (--run DIR or --weights FILE ...)."""
    img_file, out = os.path.join(work, f"{name}_images.safetensors"), os.path.join(work, f"{name}_scores.safetensors")
    save_file({"images": images.contiguous()}, img_file)
    run(evaluate, *source, "--score", img_file, "--score-out", out, "--threads", 2, *extra)
    s = load_file(out)
    return s["energy"], s["representation"]


def stepped_and_saved(module, loss, steps, path):
    """`steps` Adam steps (lr 1e-3, train mode) on loss(), then the state_dict as safetensors.torch saves it."""
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    for _ in range(steps):
        value = loss()
        opt.zero_grad()
        value.backward()
        opt.step()
    module.eval()
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, path)


def strict_load(module, path, what):
    state = load_file(path)
    result = module.load_state_dict(state, strict=True)  # raises on a missing, unexpected or misshapen key
    print(f"  {what}: {len(state)} tensors loaded strictly into {type(module).__name__} ({result})")


def parameters_agree(what, saved, exported, tolerance=1e-6):
    """The exported run's parameters equal the file it started from (an lr of 1e-12 moved them by ~1e-12)."""
    worst, n = 0.0, 0
    for name, t in saved.items():
        if name not in exported:
            fail(f"{what}: the run's export lacks '{name}'")
        worst = max(worst, (exported[name].double() - t.double()).abs().max().item())
        n += 1
    if not worst <= tolerance:
        fail(f"{what}: parameters moved by {worst:.3g} from the --init-from file (expected <= {tolerance})")
    print(f"  {what}: {n} parameters equal to the --init-from file (largest difference {worst:.2e})")


def fashion_test_images(n):
    with gzip.open(FASHION, "rb") as f:
        raw = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != 2051:
        fail(f"{FASHION}: not an IDX image file")
    x = np.frombuffer(raw, dtype=np.uint8, offset=16)[: n * rows * cols].reshape(n, 1, rows, cols)
    return torch.from_numpy(x.copy()).float().div(127.5).sub(1.0)  # the CEBM's [-1, 1]


def cebm_case(train, evaluate, work):
    ref, where = reference_modules.reference()
    print(f"reference modules: {where}")
    images = fashion_test_images(64)

    # C++ -> PyTorch.
    run_dir, exported = os.path.join(work, "cebm_run"), os.path.join(work, "cebm.safetensors")
    run(train, "--preset", "ci", "--out", run_dir, "--overwrite", *SMALL_RUN)
    print(run(evaluate, "--run", run_dir, "--export", exported).strip())
    with safe_open(exported, "pt") as f:
        meta = f.metadata()
    if meta.get("cebm_kind") != "cebm" or meta.get("cebm_names") != "reference" or "model_options" not in json.loads(meta["cebm_config"]):
        fail(f"export metadata: {meta}")
    model = ref.GaussianCebm(ref.CebmEncoder(head="split")).eval()
    strict_load(model, exported, "C++ -> PyTorch")
    energy, rep = score(evaluate, ["--run", run_dir], images, work, "cebm_cpp")
    with torch.no_grad():
        agree("energies of the ci-trained CEBM (cebm's checkpoint vs the reference module)", energy, model.energy(images))
        t1, t2 = model.encoder(images)
        agree("posterior means", rep, -(model.lam1 + t1) / (2 * (model.lam2 + t2)))

    # The exported file back into cebm: its metadata names the kind and the run's options.
    energy_back, rep_back = score(evaluate, ["--weights", exported], images, work, "cebm_back")
    if not (torch.equal(energy_back, energy) and torch.equal(rep_back, rep)):
        fail("evaluate --weights on the exported file scores differently from the checkpoint")
    print("  C++ -> C++: the exported file scores exactly as its checkpoint (kind and options from its metadata)")

    # The IGEBM: the same trunk and an MLP.
    igebm_dir, igebm_file = os.path.join(work, "igebm_run"), os.path.join(work, "igebm.safetensors")
    run(train, "--model", "igebm", "--preset", "ci", "--out", igebm_dir, "--overwrite", *SMALL_RUN)
    run(evaluate, "--run", igebm_dir, "--export", igebm_file)
    igebm = reference_modules.Igebm().eval()
    strict_load(igebm, igebm_file, "IGEBM C++ -> PyTorch")
    energy, rep = score(evaluate, ["--run", igebm_dir], images, work, "igebm_cpp")
    with torch.no_grad():
        agree("IGEBM energies", energy, igebm.energy(images))
        agree("IGEBM representations", rep, igebm.representation(images))

    # PyTorch -> C++: initialised and stepped (Adam, a contrastive loss against noise) in PyTorch.
    torch.manual_seed(3)
    py = ref.GaussianCebm(ref.CebmEncoder(head="split"))
    py_file = os.path.join(work, "py_cebm.safetensors")
    stepped_and_saved(py, lambda: py.energy(images[:16]).mean() - py.energy(torch.rand(16, 1, 28, 28) * 2 - 1).mean(), 3, py_file)
    weights = ["--weights", py_file, "--model", "cebm", "--dataset", "fashion_mnist"]
    energy, rep = score(evaluate, weights, images, work, "cebm_py")
    with torch.no_grad():
        agree("energies of the PyTorch-stepped CEBM (reference module vs cebm --weights)", energy, py.energy(images))

    # cebm's full report on the imported weights.
    report_dir = os.path.join(work, "cebm_imported_report")
    run(evaluate, *weights, "--preset", "ci", "--out", report_dir, "--threads", 2, "--train-images", 500, "--test-images", 200,
        "--ood-images", 100, "--draws", 2, "--long-run-steps", 3, "--long-run-chains", 8, "--fd", "none", "--no-pixels",
        "--ood", "constant,noise", "--no-tensorboard")
    report = json.load(open(os.path.join(report_dir, "report.json")))
    missing = [k for k in ("few_label", "nn1", "ood", "aggregate_posterior", "samples") if k not in report]
    if missing or report.get("weights") != py_file:
        fail(f"report of the imported weights lacks {missing} or names {report.get('weights')}")
    if f"Weights `{py_file}` (imported: no replay buffer" not in open(os.path.join(report_dir, "report.md")).read():
        fail("report.md does not say which weights it evaluated")
    print(f"  evaluate --weights: report.json with {', '.join(k for k in report if k not in ('config',))}")

    # train_cebm --init-from: one step at lr 1e-12 leaves the parameters where the file put them.
    init_dir, init_export = os.path.join(work, "cebm_init"), os.path.join(work, "cebm_init.safetensors")
    run(train, "--preset", "ci", "--out", init_dir, "--overwrite", *SMALL_RUN, "--init-from", py_file,
        "--iterations", 1, "--lr", 1e-12)
    run(evaluate, "--run", init_dir, "--export", init_export)
    params = {k: v for k, v in py.state_dict().items() if k in dict(py.named_parameters())}
    parameters_agree("train_cebm --init-from", params, load_file(init_export))
    config = json.load(open(os.path.join(init_dir, "config.json")))
    if config.get("init_from") != py_file:
        fail(f"the run's config.json records init_from {config.get('init_from')!r}")
    print("safetensors: cebm holds")


def write_cifar(folder, seed):
    """Small CIFAR-10 binary batches (the real format: label byte + 3072 pixel bytes per record)."""
    os.makedirs(folder, exist_ok=True)
    g = np.random.default_rng(seed)
    for name, n in [(f"data_batch_{b}.bin", 40) for b in range(1, 6)] + [("test_batch.bin", 100)]:
        labels = g.integers(0, 10, n, dtype=np.uint8)
        # Smooth colour fields with noise: images with structure for the batch norms.
        yy, xx = np.mgrid[0:32, 0:32] / 31.0
        base = (g.random((n, 3, 1, 1)) * 255 * (0.5 + 0.5 * np.sin(6 * xx + 4 * yy * g.random((n, 3, 1, 1)))))
        pixels = np.clip(base + g.normal(0, 20, (n, 3, 32, 32)), 0, 255).astype(np.uint8)
        records = np.concatenate([labels[:, None], pixels.reshape(n, -1)], axis=1)
        records.tofile(os.path.join(folder, name))


def clel_case(train, evaluate, work):
    ref, where = reference_modules.reference()
    print(f"reference modules: {where}")
    cifar = os.path.join(work, "cifar-10-batches-bin")
    write_cifar(cifar, 11)
    torch.manual_seed(5)
    images = torch.rand(16, 3, 32, 32)  # CLEL's [0, 1]
    data = ["--dataset", "cifar10", "--data", cifar]

    # C++ -> PyTorch: the EMA networks the evaluation reads.
    run_dir, exported = os.path.join(work, "clel_run"), os.path.join(work, "clel.safetensors")
    # Three iterations: the exported EMA weights are what is compared, whatever their training.
    run(train, "--preset", "ci", *data, "--out", run_dir, "--overwrite", "--threads", 2, "--no-tensorboard", "--eval-images", 50,
        "--iterations", 3)
    print(run(evaluate, "--run", run_dir, "--export", exported).strip())
    with safe_open(exported, "pt") as f:
        meta = f.metadata()
    if meta.get("cebm_kind") != "clel" or meta.get("cebm_weights") != "ema" or meta.get("cebm_names") != "reference":
        fail(f"export metadata: {meta}")
    model = reference_modules.Clel(ref.SmallEbm(), ref.CifarResNetEncoder()).eval()
    strict_load(model, exported, "C++ -> PyTorch")
    energy, rep = score(evaluate, ["--run", run_dir], images, work, "clel_cpp")
    with torch.no_grad():
        agree("EBM energies e(x) of the ci-trained CLEL (cebm's checkpoint vs SmallEbm)", energy, model.ebm.energy(images))
        agree("encoder outputs h(x) (cebm's checkpoint vs CifarResNetEncoder)", rep, model.encoder(images))
        f_x = model.ebm(images)
        if not torch.isfinite(model.ebm.g(f_x)).all():
            fail("g(f(x)) is not finite")

    # PyTorch -> C++: a training-mode step moves the weights, the batch-norm statistics and the
    # spectral norms' singular vectors.
    torch.manual_seed(6)
    py = reference_modules.Clel(ref.SmallEbm(), ref.CifarResNetEncoder())
    def loss():
        x = torch.rand(8, 3, 32, 32)
        return py.ebm.energy(x).mean() + py.encoder(x).square().mean() + py.ebm.g(py.ebm(x)).square().mean()

    py_file = os.path.join(work, "py_clel.safetensors")
    stepped_and_saved(py, loss, 2, py_file)
    weights = ["--weights", py_file, "--model", "clel", "--model-options", '{"size": "small"}', *data]
    energy, rep = score(evaluate, weights, images, work, "clel_py")
    with torch.no_grad():
        agree("EBM energies e(x) of the PyTorch-stepped CLEL (SmallEbm vs cebm --weights)", energy, py.ebm.energy(images))
        agree("encoder outputs h(x) (CifarResNetEncoder vs cebm --weights)", rep, py.encoder(images))

    # train_clel --init-from: the EMA networks after one step at learning rates of 1e-12.
    init_dir, init_export = os.path.join(work, "clel_init"), os.path.join(work, "clel_init.safetensors")
    run(train, "--preset", "ci", *data, "--out", init_dir, "--overwrite", "--threads", 2, "--no-tensorboard", "--eval-images", 50,
        "--init-from", py_file, "--iterations", 1, "--ebm-lr", 1e-12, "--encoder-lr", 1e-12)
    run(evaluate, "--run", init_dir, "--export", init_export)
    params = {k: v for k, v in py.state_dict().items() if k in dict(py.named_parameters())}
    parameters_agree("train_clel --init-from", params, load_file(init_export))
    print("safetensors: clel holds")


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("cebm", "clel"):
        print(__doc__)
        sys.exit(2)
    case, train, evaluate, work = sys.argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    torch.set_num_threads(2)
    (cebm_case if case == "cebm" else clel_case)(train, evaluate, work)


if __name__ == "__main__":
    main()
