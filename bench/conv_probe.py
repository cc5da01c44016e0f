#!/usr/bin/env python3
"""Does a convnet generalise to unseen digits better than drlim's MLP 512 x 4?  A PyTorch probe of
the recipe of `drlim experiment mnist-10 --augment-final 0.4` (16 epochs), the network the only
change, on the ten built-in digits (7,000 train / 3,000 test, test mapped out of sample).

The recipe as drlim runs it: every edge of the symmetrised 15-NN pixel graph plus one pair of two
transformed copies of each digit per epoch, both arms transformed; in-batch Cauchy InfoNCE over
the 2B outputs (two outputs of one digit never each other's non-neighbour); SGD, momentum 0.9,
batch 256, lr 0.2 decaying by 0.9 per epoch; transformation strengths falling linearly to 0.4 of
the declared ones by the last epoch. The transformations are affine only (shift 2 px, rotation
10 degrees, scale 0.1, shear 0.1); drlim's elastic deformation is left out, so the MLP row here
is the control, not a copy of drlim's figure.

Prints test 5-NN accuracy, test trustworthiness@10 (against the test pixels) and the training
map's own trustworthiness@10 (against the training pixels), which tells the fit from the
generalisation.

    PY=$(../shared/peers/setup.sh)
    OMP_WAIT_POLICY=PASSIVE $PY bench/conv_probe.py --net mlp
    OMP_WAIT_POLICY=PASSIVE $PY bench/conv_probe.py --net conv

`--aux D --aux-weight W` (MLP only) adds a second, D-dimensional output layer on the last hidden
layer, trained with the same loss on the same pairs and weighted W: does shaping the hidden
features for a higher-dimensional map, which generalises better, carry the 2-D map with it?
"""
import os
import sys
import time
from pathlib import Path

os.environ["DRLIM_DIGITS"] = "0,1,2,3,4,5,6,7,8,9"
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent.parent / "shared" / "peers"))
import _threads  # noqa: E402,F401  (caps the thread pools before numpy/torch load)
import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import common  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--net", default="mlp", choices=["mlp", "conv"])
ap.add_argument("--epochs", type=int, default=16)
ap.add_argument("--lr", type=float, default=0.2)
ap.add_argument("--decay", type=float, default=0.9)
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--k", type=int, default=15)
ap.add_argument("--final", type=float, default=0.4, help="strengths at the last epoch, as a fraction")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--aux", type=int, default=0,
                help="an auxiliary output layer of this many dimensions on the last hidden layer (MLP only)")
ap.add_argument("--aux-weight", type=float, default=1.0)
a = ap.parse_args()
if a.aux and a.net != "mlp":
    ap.error("--aux needs --net mlp")
torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)
torch.set_num_threads(a.threads)

X, y = common.load_mnist(here.parent.parent / "shared" / "data" / "mnist-10k")
xtr_u8, ytr, xte_u8, yte = common.split_49(X, y)
Xtr = torch.from_numpy(xtr_u8.astype(np.float32) / 255).unsqueeze(1)  # n x 1 x 28 x 28
Xte = torch.from_numpy(xte_u8.astype(np.float32) / 255).unsqueeze(1)
n = len(Xtr)

from sklearn.neighbors import NearestNeighbors  # noqa: E402

flat = common.flat01(xtr_u8)
nbr = NearestNeighbors(n_neighbors=a.k + 1).fit(flat).kneighbors(flat, return_distance=False)[:, 1:]
edges = np.unique(np.sort(np.stack([np.repeat(np.arange(n), a.k), nbr.ravel()], 1), 1), axis=0)
edges = edges[edges[:, 0] != edges[:, 1]]
pairs_all = np.concatenate([edges, np.stack([np.arange(n), np.arange(n)], 1)])


class Mlp(nn.Module):
    def __init__(s):
        super().__init__()
        w = [784, 512, 512, 512, 512]
        layers = []
        for i, o in zip(w, w[1:]):
            layers += [nn.Linear(i, o), nn.ReLU()]
        s.trunk = nn.Sequential(nn.Flatten(), *layers)
        s.head = nn.Linear(512, 2)
        s.aux = nn.Linear(512, a.aux) if a.aux else None

    def forward(s, x, both=False):
        h = s.trunk(x)
        if both:
            return s.head(h), s.aux(h)
        return s.head(h)


class Conv(nn.Module):
    """Two 3x3 convolutions (32 and 64 maps, each followed by 2x2 max-pooling), then the MLP's
    head: 3,136 -> 512 -> 512 -> 2."""

    def __init__(s):
        super().__init__()
        s.f = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(),
            nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 2))

    def forward(s, x):
        return s.f(x)


net = Mlp() if a.net == "mlp" else Conv()
opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9)


def transform(x, strength):
    b = len(x)
    u = lambda: (torch.rand(b) * 2 - 1) * strength  # noqa: E731
    ang = u() * 10 * np.pi / 180
    sc = 1 + u() * 0.1
    sh = u() * 0.1
    tx, ty = u() * 2 * 2 / 28, u() * 2 * 2 / 28
    c, s = torch.cos(ang), torch.sin(ang)
    # rotation x shear x scale, as the grid's inverse map
    m00, m01 = c / sc, (c * sh - s) / sc
    m10, m11 = s / sc, (s * sh + c) / sc
    theta = torch.stack([torch.stack([m00, m01, tx], 1), torch.stack([m10, m11, ty], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def cauchy_infonce(z, ids):
    """Rows u and u + B are neighbours; the denominator sums the positive and every other row
    that is not the same digit."""
    b2 = len(z)
    b = b2 // 2
    q = 1.0 / (1.0 + torch.cdist(z, z).pow(2))
    ar = torch.arange(b2)
    partner = (ar[:, None] - ar[None, :]).abs() == b
    q = q.masked_fill((ids[:, None] == ids[None, :]) | partner, 0.0)
    pos = torch.cat([1.0 / (1.0 + (z[:b] - z[b:]).pow(2).sum(1))] * 2)
    return -(torch.log(pos) - torch.log(q.sum(1) + pos)).mean()


t0 = time.time()
for ep in range(1, a.epochs + 1):
    strength = 1 - (1 - a.final) * (ep - 1) / max(a.epochs - 1, 1)
    for g in opt.param_groups:
        g["lr"] = a.lr * a.decay ** (ep - 1)
    order = rng.permutation(len(pairs_all))
    p = pairs_all[order]
    flip = rng.random(len(p)) < 0.5
    p[flip] = p[flip][:, ::-1]
    tot, steps = 0.0, 0
    for s in range(0, len(p), a.batch):
        pb = torch.from_numpy(p[s:s + a.batch].copy())
        x = transform(Xtr[torch.cat([pb[:, 0], pb[:, 1]])], strength)
        ids = torch.cat([pb[:, 0], pb[:, 1]])
        if a.aux:
            z, za = net(x, both=True)
            loss = cauchy_infonce(z, ids) + a.aux_weight * cauchy_infonce(za, ids)
        else:
            loss = cauchy_infonce(net(x), ids)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item()
        steps += 1
    print(f"epoch {ep} loss {tot / steps:.4f} ({time.time() - t0:.0f} s)", flush=True)
fit_s = time.time() - t0
net.eval()
with torch.no_grad():
    etr, ete = net(Xtr).numpy(), net(Xte).numpy()
m = common.evaluate(etr, ytr, ete, yte, xte_u8)
train_trust = common.trust(flat, etr, n_neighbors=10)
print(f"net={a.net} aux={a.aux}x{a.aux_weight} epochs={a.epochs} fit_s={fit_s:.0f} "
      f"knn5={m['knn5_acc']:.4f} "
      f"trust10={m['trust10']:.4f} train_trust10={train_trust:.4f}", flush=True)
