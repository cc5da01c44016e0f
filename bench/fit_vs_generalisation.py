#!/usr/bin/env python3
"""Is it the fit or the generalisation that holds a map's test trustworthiness back?  On the ten
built-in digits (7,000 train / 3,000 test, the split of `drlim experiment mnist-10`), prints the
trustworthiness@10 of training maps (against the training pixels) beside that of test maps
(against the test pixels), for:

- `umap`, `tsne`: UMAP's and openTSNE's training embedding, and their transform of the test digits;
- `free`: free 2-D coordinates, one pair per training digit, fitted with drlim's loss for
  declared invariances (Cauchy-kernel InfoNCE over the symmetrised 15-NN pixel graph, in-batch
  non-neighbours, batch 256, Adam, learning rate falling linearly to 0): what that loss and graph
  can reach when no network has to produce the map; the test digits are then placed on it as
  below, from the weighted mean of their pixel neighbours' positions;
- `model=DIR`: a model fitted by drlim (e.g. by the ten-digit sweep's `save=DIR`), whose training
  and test maps `drlim embed` computes; also the training map's trustworthiness on random 3,000
  of the training digits, which tells how much of the gap is only the smaller test set; and the
  test digits placed on its training map as UMAP's `transform` places them (pulled towards their
  pixel neighbours' positions), to see whether that would serve better than the net.

    PY=$(../shared/peers/setup.sh)
    $PY bench/fit_vs_generalisation.py umap tsne free [model=DIR] [--epochs 16]

`model=` needs `cargo build --release -p drlim-cli` first (it runs target/release/drlim).
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["DRLIM_DIGITS"] = "0,1,2,3,4,5,6,7,8,9"
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent.parent / "shared" / "peers"))
import _threads  # noqa: E402,F401  (caps the thread pools before numpy/torch load)

import numpy as np  # noqa: E402

import common  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith("--")]
epochs = 16
if "--epochs" in sys.argv:
    epochs = int(sys.argv[sys.argv.index("--epochs") + 1])
    args.remove(str(epochs))

X, y = common.load_mnist(here.parent.parent / "shared" / "data" / "mnist-10k")
xtr, ytr, xte, yte = common.split_49(X, y)
ftr, fte = common.flat01(xtr), common.flat01(xte)


def report(name, etr, ete=None, extra=""):
    line = f"{name}: training map {common.trust(ftr, etr):.4f}"
    if ete is not None:
        line += f", test map {common.trust(fte, ete):.4f}"
    print(line + extra, flush=True)


def umap_maps():
    import umap

    u = umap.UMAP(random_state=0).fit(ftr)
    report("UMAP", u.embedding_, u.transform(fte))


def tsne_maps():
    from openTSNE import TSNE

    e = TSNE(n_jobs=2, random_state=0).fit(ftr)
    report("openTSNE", np.asarray(e), np.asarray(e.transform(fte)))


def free_coordinates():
    import torch
    from sklearn.neighbors import NearestNeighbors

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n, k, batch, lr = len(ftr), 15, 256, 0.5
    nbr = NearestNeighbors(n_neighbors=k + 1).fit(ftr).kneighbors(ftr, return_distance=False)[:, 1:]
    edges = np.unique(np.sort(np.stack([np.repeat(np.arange(n), k), nbr.ravel()], 1), 1), axis=0)
    edges = edges[edges[:, 0] != edges[:, 1]]
    from sklearn.decomposition import PCA

    init = PCA(2, random_state=0).fit_transform(ftr)
    z = torch.nn.Parameter(torch.tensor(init / init[:, 0].std(), dtype=torch.float32))
    opt = torch.optim.Adam([z], lr=lr)
    t0 = time.time()
    for ep in range(1, epochs + 1):
        for g in opt.param_groups:
            g["lr"] = lr * (1 - (ep - 1) / epochs)
        p = edges[rng.permutation(len(edges))]
        flip = rng.random(len(p)) < 0.5
        p[flip] = p[flip][:, ::-1]
        for s in range(0, len(p), batch):
            pb = torch.from_numpy(p[s:s + batch].copy())
            ids = torch.cat([pb[:, 0], pb[:, 1]])
            out = z[ids]
            b = len(pb)
            q = 1.0 / (1.0 + torch.cdist(out, out).pow(2))
            ar = torch.arange(2 * b)
            partner = (ar[:, None] - ar[None, :]).abs() == b
            q = q.masked_fill((ids[:, None] == ids[None, :]) | partner, 0.0)
            pos = torch.cat([1.0 / (1.0 + (out[:b] - out[b:]).pow(2).sum(1))] * 2)
            loss = -(torch.log(pos) - torch.log(q.sum(1) + pos)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    etr = z.detach().numpy()
    report(f"free coordinates, {epochs} epochs ({time.time() - t0:.0f} s)", etr)
    refine(etr, None)


def model_maps(model):
    drlim = here.parent / "target" / "release" / "drlim"
    with tempfile.TemporaryDirectory() as tmp:
        maps = []
        for name, x in [("train", xtr), ("test", xte)]:
            np.save(f"{tmp}/{name}.npy", x)
            subprocess.run([str(drlim), "embed", "--model", model, "--data", f"{tmp}/{name}.npy",
                            "--out", f"{tmp}/{name}-map.npy", "-q"], check=True)
            maps.append(np.load(f"{tmp}/{name}-map.npy"))
    rng = np.random.default_rng(0)
    subsets = []
    for _ in range(3):
        idx = rng.choice(len(ftr), len(fte), replace=False)
        subsets.append(common.trust(ftr[idx], maps[0][idx]))
    report(f"drlim model {model}", maps[0], maps[1],
           f", training map on 3 random sets of {len(fte)}: "
           + " / ".join(f"{t:.4f}" for t in subsets))
    refine(maps[0], maps[1])


def refine(etr, ete):
    """Places the test digits on a training map as UMAP's `transform` does, starting from the
    net's map of them (`ete`), or where there is no net from the weighted mean below: each is
    pulled (Cauchy kernel) towards the map positions of its 15 nearest training digits in pixels,
    weighted by exp(-(d - d_1)/sd), and pushed from 5 random training positions per step; 300
    Adam steps, the training map fixed."""
    import torch
    from sklearn.neighbors import NearestNeighbors

    def line(name, e):
        acc = common.knn_accuracy(etr, ytr, e, yte)
        print(f"  {name}: 5-NN accuracy {acc:.4f}, test map {common.trust(fte, e):.4f}", flush=True)

    d, nb = NearestNeighbors(n_neighbors=15).fit(ftr).kneighbors(fte)
    w = np.exp(-(d - d[:, :1]) / np.maximum(d.std(1, keepdims=True), 1e-3))
    w /= w.sum(1, keepdims=True)
    mean = (w[:, :, None] * etr[nb]).sum(1)
    if ete is None:
        ete = mean
    else:
        line("the net's test map", ete)
    line("weighted mean of the 15 pixel neighbours' positions", mean)
    z = torch.nn.Parameter(torch.tensor(ete, dtype=torch.float32))
    fixed, nbt = torch.tensor(etr, dtype=torch.float32), torch.tensor(nb)
    wt = torch.tensor(w, dtype=torch.float32)
    opt = torch.optim.Adam([z], lr=0.05)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        pull = (wt * torch.log1p((z[:, None, :] - fixed[nbt]).pow(2).sum(-1))).sum(1)
        neg = fixed[torch.randint(len(fixed), (len(z), 5), generator=gen)]
        q = 1 / (1 + (z[:, None, :] - neg).pow(2).sum(-1))
        push = -torch.log(1 - q + 1e-4).sum(1)
        loss = (pull + push).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    line("refined on the training map, UMAP's way", z.detach().numpy())


for a in args:
    if a == "umap":
        umap_maps()
    elif a == "tsne":
        tsne_maps()
    elif a == "free":
        free_coordinates()
    elif a.startswith("model="):
        model_maps(a[len("model="):])
    else:
        sys.exit(f"unknown argument {a!r}: umap, tsne, free or model=DIR")
