#!/usr/bin/env python3
"""Side by side, with every tool's defaults: drlim's ``DrLIM()``, umap-learn's ``UMAP()``,
openTSNE's ``TSNE()`` and PaCMAP's ``PaCMAP()`` on a development set of data sets of different
kinds. Each tool is fitted on a training part and maps the rest with its own ``transform``;
the test map is scored against the training map.

Scores (scikit-learn):
- labelled sets: test 5-NN accuracy (a 5-NN classifier on the training map predicts the test
  samples' labels from their test coordinates), and trustworthiness@10 of the test map;
- manifolds: the R² of a known coordinate (a 5-NN regressor on the training map predicts the
  test samples' coordinate), and trustworthiness@10.

The sets are split in two groups: ``dev`` (the defaults were chosen on them) and ``aside``
(kept aside while choosing, reported separately).

Usage (a venv with umap-learn, openTSNE, pacmap, scikit-learn and drlim's Python package):

    python bench/defaults.py                      # every set, every tool: the BENCHMARKS table
    python bench/defaults.py --sets digits,blobs-scales --tools drlim
    python bench/defaults.py --tools drlim --drlim '{"preset": "paper"}'
    python bench/defaults.py --markdown out.md --json out.json

The drlim binary (``DRLIM_BIN``, default ``target/release/drlim``) renders the airplane views.
The MNIST digits are read from ``../shared/data/mnist-10k`` (``--mnist DIR``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("drlim", "umap", "tsne", "pacmap")


# ----------------------------------------------------------------------------- data sets


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _split(X, y, n_train, seed=0):
    """A random split (the first n_train of a fixed permutation train, the rest test)."""
    idx = np.random.default_rng(seed).permutation(len(X))
    tr, te = idx[:n_train], idx[n_train:]
    return X[tr], X[te], y[tr], y[te]


def digits_pixels(args):
    """MNIST digits as 784-pixel vectors, bytes 0-255 (as users load them)."""
    d = Path(args.mnist)
    X = _idx(d / "images-idx3-ubyte.gz").reshape(-1, 784)[:5000].astype(np.float32)
    y = _idx(d / "labels-idx1-ubyte.gz")[:5000].astype(int)
    return _split(X, y, 3500) + ("labels",)


def airplane_views(args):
    """drlim's NORB-like airplane (972 views of 96×96 as 9,216-pixel vectors); label: the
    azimuth (18 classes)."""
    out = Path(tempfile.gettempdir()) / "drlim-defaults-airplane"
    if not (out / "images.npy").exists():
        binary = os.environ.get("DRLIM_BIN", str(ROOT / "target" / "release" / "drlim"))
        subprocess.run([binary, "render", "airplane", "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    X = np.load(out / "images.npy").reshape(972, -1).astype(np.float32)
    meta = np.genfromtxt(out / "metadata.csv", delimiter=",", names=True)
    y = meta[meta.dtype.names[0]].astype(int)
    return _split(X, y, 680) + ("labels",)


def classification(args):
    """scikit-learn's make_classification: 8 classes, 40 features of which 12 informative,
    label noise."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=4000, n_features=40, n_informative=12, n_redundant=6,
                               n_classes=8, n_clusters_per_class=1, flip_y=0.02,
                               class_sep=2.0, random_state=1)
    return _split(X.astype(np.float32), y, 2800) + ("labels",)


def blobs_scales(args):
    """Gaussian blobs in 20-D whose features are on scales from 0.001 to 1,000 (mixed-unit
    tabular data), each feature shifted by a large offset."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=3000, n_features=20, centers=6, cluster_std=2.0, random_state=2)
    rng = np.random.default_rng(2)
    X = X * 10 ** rng.uniform(-3, 3, size=20) + rng.uniform(-1e4, 1e4, size=20)
    return _split(X.astype(np.float32), y, 2100) + ("labels",)


def unit_embeddings(args):
    """Unit-norm 128-D feature vectors (as text or image embeddings): 10 topics on the sphere,
    noisy, of unequal sizes."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(10, 128))
    sizes = rng.integers(100, 700, size=10)
    y = np.repeat(np.arange(10), sizes)
    X = centres[y] + rng.normal(scale=1.1, size=(len(y), 128))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return _split(X.astype(np.float32), y, int(0.7 * len(y))) + ("labels",)


def counts(args):
    """Counts (as single-cell RNA): 6 cell types over 300 genes, negative binomial reads,
    cells of unequal depth."""
    rng = np.random.default_rng(4)
    base = rng.gamma(0.6, 2.0, size=300)
    types = base * rng.lognormal(0, 0.9, size=(6, 300))
    y = rng.integers(0, 6, size=3000)
    depth = rng.lognormal(0, 0.4, size=(3000, 1))
    X = rng.poisson(rng.gamma(4.0, types[y] * depth / 4.0))
    return _split(X.astype(np.float32), y, 2100) + ("labels",)


def helix_tube(args):
    """A noisy tube around a trefoil-like 3-D curve, embedded in 10-D by a random rotation;
    the coordinate: the position along the curve."""
    rng = np.random.default_rng(5)
    t = rng.uniform(0, 2 * np.pi, size=3000)
    c = np.stack([np.sin(t) + 2 * np.sin(2 * t), np.cos(t) - 2 * np.cos(2 * t),
                  -np.sin(3 * t)], axis=1)
    c += rng.normal(scale=0.15, size=c.shape)
    Q = np.linalg.qr(rng.normal(size=(10, 10)))[0][:, :3]
    X = c @ Q.T + rng.normal(scale=0.02, size=(3000, 10))
    # the coordinate is circular: score the cosine of the angle
    return _split(X.astype(np.float32), np.cos(t), 2100) + ("coordinate",)


def sphere_cap(args):
    """A hemisphere's surface in 3-D with noise; the coordinate: the polar angle."""
    rng = np.random.default_rng(6)
    n = 3000
    theta = np.arccos(rng.uniform(0.05, 1.0, size=n))
    phi = rng.uniform(0, 2 * np.pi, size=n)
    X = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], 1)
    X += rng.normal(scale=0.01, size=X.shape)
    return _split(X.astype(np.float32), theta, 2100) + ("coordinate",)


def breast_cancer(args):
    """scikit-learn's breast cancer data (569 tumours, 30 features on scales from 0.001 to
    4,000)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return _split(X.astype(np.float32), y, 400) + ("labels",)


def fashion_like(args):
    """The digits of MNIST as inverted, contrast-varied images (ink dark on light, per-image
    brightness): images that are not drlim's built-in ones as such."""
    d = Path(args.mnist)
    X = _idx(d / "images-idx3-ubyte.gz").reshape(-1, 784)[5000:9000].astype(np.float32)
    y = _idx(d / "labels-idx1-ubyte.gz")[5000:9000].astype(int)
    rng = np.random.default_rng(7)
    X = 255.0 - X * rng.uniform(0.5, 1.0, size=(len(X), 1))
    return _split(X, y, 2800) + ("labels",)


# name -> (loader, group)
SETS = {
    "digits": (digits_pixels, "dev"),
    "airplane": (airplane_views, "dev"),
    "classification": (classification, "dev"),
    "blobs-scales": (blobs_scales, "dev"),
    "unit-embeddings": (unit_embeddings, "dev"),
    "helix-tube": (helix_tube, "dev"),
    "counts": (counts, "aside"),
    "sphere-cap": (sphere_cap, "aside"),
    "breast-cancer": (breast_cancer, "aside"),
    "digits-inverted": (fashion_like, "aside"),
}


# ----------------------------------------------------------------------------- tools


def _drlim(params):
    from drlim import DrLIM

    est = DrLIM(random_state=0, **params)
    return est.fit, est.transform, est


def _umap(params):
    import umap

    est = umap.UMAP(random_state=None, **params)
    return est.fit, est.transform, est


def _tsne(params):
    import openTSNE

    est = openTSNE.TSNE(**params)
    box = {}

    def fit(X):
        box["emb"] = est.fit(X)

    return fit, lambda X: np.asarray(box["emb"].transform(X)), box


def _pacmap(params):
    import pacmap

    est = pacmap.PaCMAP(save_tree=True, **params)
    box = {}

    def fit(X):
        box["train"] = X
        est.fit(X)

    return fit, lambda X: est.transform(X, basis=box["train"]), est


MAKERS = {"drlim": _drlim, "umap": _umap, "tsne": _tsne, "pacmap": _pacmap}


def _training_map(tool, handle):
    """The training samples' coordinates, as each tool keeps them."""
    return np.asarray(handle["emb"]) if tool == "tsne" else handle.embedding_


def run_one(tool, params, Xtr, Xte):
    fit, transform, handle = MAKERS[tool](params)
    t0 = time.perf_counter()
    fit(Xtr)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb_te = np.asarray(transform(Xte), dtype=np.float64)
    transform_s = time.perf_counter() - t0
    emb_tr = np.asarray(_training_map(tool, handle), dtype=np.float64)
    return emb_tr, emb_te, fit_s, transform_s


def score(kind, emb_tr, emb_te, ytr, yte, Xte):
    from sklearn.manifold import trustworthiness
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    if not (np.isfinite(emb_tr).all() and np.isfinite(emb_te).all()):
        return float("nan"), float("nan")
    if kind == "labels":
        q = KNeighborsClassifier(5).fit(emb_tr, ytr).score(emb_te, yte)
    else:
        q = KNeighborsRegressor(5).fit(emb_tr, ytr).score(emb_te, yte)
    t = trustworthiness(Xte, emb_te, n_neighbors=10)
    return float(q), float(t)


def warm_up(tools):
    """Compiles the numba code of UMAP and PaCMAP once, so that no fit's time holds it."""
    X = np.random.default_rng(0).normal(size=(300, 5)).astype(np.float32)
    for tool in tools:
        if tool in ("umap", "pacmap"):
            run_one(tool, {}, X[:200], X[200:])


def cpu_name():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated; default: all")
    p.add_argument("--tools", default=",".join(TOOLS), help="comma-separated; default: all")
    p.add_argument("--drlim", default="{}", help="DrLIM parameters as JSON (default: none)")
    p.add_argument("--mnist", default=str(ROOT.parent / "shared" / "data" / "mnist-10k"))
    p.add_argument("--markdown", help="also write the table here")
    p.add_argument("--json", help="also write every row as JSON here")
    args = p.parse_args()
    tools = args.tools.split(",")
    drlim_params = json.loads(args.drlim)
    warm_up(tools)
    rows = []
    for name in args.sets.split(","):
        loader, group = SETS[name]
        Xtr, Xte, ytr, yte, kind = loader(args)
        for tool in tools:
            params = drlim_params if tool == "drlim" else {}
            try:
                emb_tr, emb_te, fit_s, tr_s = run_one(tool, params, Xtr, Xte)
                q, t = score(kind, emb_tr, emb_te, ytr, yte, Xte)
            except (FloatingPointError, ValueError) as e:  # a diverged fit is a result too
                print(f"{name}: {tool} failed: {e}", flush=True)
                q = t = fit_s = tr_s = float("nan")
            row = dict(set=name, group=group, n_train=len(Xtr), n_test=len(Xte),
                       dim=int(np.prod(Xtr.shape[1:])), kind=kind, tool=tool,
                       quality=q, trust=t, fit_s=fit_s, transform_s=tr_s)
            rows.append(row)
            print(f"{name:16s} {group:5s} {tool:7s} {'acc' if kind == 'labels' else 'R2 '} "
                  f"{q:.3f} trust {t:.3f} fit {fit_s:7.1f}s transform {tr_s:6.2f}s", flush=True)
    table = markdown(rows, drlim_params)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def markdown(rows, drlim_params):
    lines = [
        f"CPU: {cpu_name()}, {os.cpu_count()} cores. drlim parameters: "
        f"{json.dumps(drlim_params) if drlim_params else 'none (DrLIM())'}.",
        "",
        "| group | set | n train / test | dim | tool | 5-NN acc (R² for manifolds) | trust@10 "
        "| fit s | transform s |",
        "|---|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        q = f"{r['quality']:.3f}" + ("" if r["kind"] == "labels" else " (R²)")
        lines.append(
            f"| {r['group']} | {r['set']} | {r['n_train']} / {r['n_test']} | {r['dim']} | "
            f"{r['tool']} | {q} | {r['trust']:.3f} | {r['fit_s']:.1f} | {r['transform_s']:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
