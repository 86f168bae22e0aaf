"""The PyTorch modules of the papers' code that cebm's exported weights load into: the networks of
the performance references (shared/bench/cebm_step.py and clel_step.py) with the same attribute
names, so the same state_dict keys and shapes:

  GaussianCebm(CebmEncoder(head="split"))   CEBM, Fashion-MNIST/MNIST geometry (Wu et al. 2021, Table 5a)
  Igebm()                                   the IGEBM baseline on the same trunk (here only)
  Clel(ebm=SmallEbm(), encoder=CifarResNetEncoder())
                                            CLEL "Small" f, g and the ResNet-18 h (Lee et al. 2023)

`reference()` returns the bench scripts' own classes when their folder is at hand
($CEBM_REFERENCE_BENCH, or ../shared/bench beside the checkout), else these.
"""
import importlib
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


# ----------------------------------------------------------------------------- CEBM
class CebmEncoder(nn.Module):
    """t(x): four convolutions with Swish, then one head per statistic: (t1, -r^2)."""

    def __init__(self, latent_dim=128, hidden=128, head="split", t2_param="square"):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1, 64, 3, 1, 1), nn.Conv2d(64, 64, 4, 2, 1),
                                    nn.Conv2d(64, 32, 4, 2, 1), nn.Conv2d(32, 32, 4, 2, 1)])
        flat = 32 * 3 * 3
        self.head, self.t2_param, self.latent_dim = head, t2_param, latent_dim
        if head == "shared":
            self.fc1, self.fc2 = nn.Linear(flat, hidden), nn.Linear(hidden, 2 * latent_dim)
        else:
            self.fc1a, self.fc2a = nn.Linear(flat, hidden), nn.Linear(hidden, latent_dim)
            self.fc1b, self.fc2b = nn.Linear(flat, hidden), nn.Linear(hidden, latent_dim)

    def forward(self, x):
        h = x
        for conv in self.convs:
            h = F.silu(conv(h))
        h = h.flatten(1)
        if self.head == "shared":
            raw1, raw2 = self.fc2(F.silu(self.fc1(h))).split(self.latent_dim, dim=1)
        else:
            raw1, raw2 = self.fc2a(F.silu(self.fc1a(h))), self.fc2b(F.silu(self.fc1b(h)))
        return raw1, (-raw2.square() if self.t2_param == "square" else -F.softplus(raw2))


def gaussian_log_normalizer(n1, n2):
    return -n1.square() / (4.0 * n2) - 0.5 * torch.log(-2.0 * n2)


class GaussianCebm(nn.Module):
    """E(x) = -sum_k [B(lambda + t_k(x)) - B(lambda)], lambda = (0, -1/2)."""

    def __init__(self, encoder, prior_n1=0.0, prior_n2=-0.5):
        super().__init__()
        self.encoder = encoder
        k = encoder.latent_dim
        self.register_buffer("lam1", torch.full((k,), float(prior_n1)))
        self.register_buffer("lam2", torch.full((k,), float(prior_n2)))

    def energy(self, x):
        t1, t2 = self.encoder(x)
        post = gaussian_log_normalizer(self.lam1 + t1, self.lam2 + t2)
        return -(post - gaussian_log_normalizer(self.lam1, self.lam2)).sum(dim=1)


class Igebm(nn.Module):
    """The CEBM paper's IGEBM baseline: the encoder's four convolutions with Swish, an MLP to 128
    features and a scalar energy (cebm's models/igebm.hpp; the bench scripts have no IGEBM)."""

    def __init__(self, hidden=128, latent_dim=128):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1, 64, 3, 1, 1), nn.Conv2d(64, 64, 4, 2, 1),
                                    nn.Conv2d(64, 32, 4, 2, 1), nn.Conv2d(32, 32, 4, 2, 1)])
        self.fc1, self.fc2, self.out = nn.Linear(288, hidden), nn.Linear(hidden, latent_dim), nn.Linear(latent_dim, 1)

    def representation(self, x):
        h = x
        for conv in self.convs:
            h = F.silu(conv(h))
        return self.fc2(F.silu(self.fc1(h.flatten(1))))

    def energy(self, x):
        return self.out(F.silu(self.representation(x))).squeeze(1)


# ----------------------------------------------------------------------------- CLEL
class Normalize(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(CIFAR_STD).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def sn_conv(cin, cout, k, bias=True):
    return spectral_norm(nn.Conv2d(cin, cout, k, 1, k // 2, bias=bias))


class PreActBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = sn_conv(cin, cout, 3)
        self.conv2 = sn_conv(cout, cout, 3)
        self.shortcut = sn_conv(cin, cout, 1, bias=False) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.leaky_relu(x, 0.2))
        return self.conv2(F.leaky_relu(h, 0.2)) + self.shortcut(x)


class SmallEbm(nn.Module):
    """f (Normalize, SN conv, four pre-activation blocks with AvgPool between, global pooling,
    MLP) and g (MLP without biases)."""

    def __init__(self, widths=(64, 64, 128, 128), hidden=2048, dim=128):
        super().__init__()
        layers, cin = [Normalize(), sn_conv(3, widths[0], 3)], widths[0]
        for i, w in enumerate(widths):
            if i > 0:
                layers.append(nn.AvgPool2d(2))
            layers.append(PreActBlock(cin, w))
            cin = w
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(cin, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, dim))
        self.g = nn.Sequential(nn.Linear(dim, hidden, bias=False), nn.LeakyReLU(0.2), nn.Linear(hidden, dim, bias=False))

    def forward(self, x):
        return self.head(F.leaky_relu(self.trunk(x), 0.2).mean(dim=(2, 3)))

    def energy(self, x):
        return 0.5 * self(x).square().sum(dim=1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        nn.init.zeros_(self.bn2.weight)  # zero-init residual
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class CifarResNetEncoder(nn.Module):
    """h: CIFAR ResNet-18 (3x3 stem, no max-pool) and a projection MLP to 128."""

    def __init__(self, width=64, blocks=(2, 2, 2, 2), hidden=2048, dim=128):
        super().__init__()
        layers = [Normalize(), nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        cin = width
        for stage, n in enumerate(blocks):
            cout = width * 2 ** stage
            for b in range(n):
                layers.append(BasicBlock(cin, cout, 2 if (stage > 0 and b == 0) else 1))
                cin = cout
        self.trunk = nn.Sequential(*layers)
        self.proj = nn.Sequential(nn.Linear(cin, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.proj(self.trunk(x).mean(dim=(2, 3)))


class Clel(nn.Module):
    """CLEL's networks as one module: `ebm` (f and g) and `encoder` (h)."""

    def __init__(self, small_ebm, encoder):
        super().__init__()
        self.ebm, self.encoder = small_ebm, encoder


def reference():
    """(module namespace with CebmEncoder, GaussianCebm, SmallEbm, CifarResNetEncoder, where it came from)."""
    here = os.path.dirname(os.path.abspath(__file__))
    bench = os.environ.get("CEBM_REFERENCE_BENCH", os.path.join(here, "..", "..", "..", "shared", "bench"))
    if os.path.isfile(os.path.join(bench, "cebm_step.py")) and os.path.isfile(os.path.join(bench, "clel_step.py")):
        sys.path.insert(0, os.path.abspath(bench))
        cebm_step, clel_step = importlib.import_module("cebm_step"), importlib.import_module("clel_step")

        class ns:
            CebmEncoder, GaussianCebm = cebm_step.CebmEncoder, cebm_step.GaussianCebm
            SmallEbm, CifarResNetEncoder = clel_step.SmallEbm, clel_step.CifarResNetEncoder

        return ns, os.path.abspath(bench)
    return sys.modules[__name__], "tests/interop/reference_modules.py"
