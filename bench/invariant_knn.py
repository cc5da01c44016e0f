#!/usr/bin/env python3
"""5-NN accuracy in pixel space on the ten built-in digits (7,000 train / 3,000 test, the split of
`drlim experiment mnist-10`), plain and under declared invariances: the distance from a test digit
to a training digit is the smallest distance to the training digit or its transformed copies.
Measures how much purer the neighbour graph of `drlim fit --knn invariant` can be.

    DRLIM_DIGITS is set here; run with the peers' venv (numpy, scipy):
    python bench/invariant_knn.py
"""
import os
import sys
from pathlib import Path

os.environ["DRLIM_DIGITS"] = "0,1,2,3,4,5,6,7,8,9"
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent.parent / "shared" / "peers"))
import numpy as np  # noqa: E402
from scipy.ndimage import affine_transform  # noqa: E402

import common  # noqa: E402

X, y = common.load_mnist(here.parent.parent / "shared" / "data" / "mnist-10k")
xtr, ytr, xte, yte = common.split_49(X, y)
tr = xtr.astype(np.float32) / 255
te = xte.astype(np.float32) / 255


def transform(imgs, dx, dy, degrees):
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    m = np.array([[c, -s], [s, c]])
    centre = np.array([13.5, 13.5])
    off = centre - m @ centre - m @ np.array([dy, dx])
    return np.stack([affine_transform(im, m, offset=off, order=1) for im in imgs])


def sq_dists(a, b):
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T


def accuracy(d, k=5):
    votes = ytr[np.argsort(d, 1)[:, :k]]
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    return (pred == yte).mean()


queries = te.reshape(len(te), -1)
best = sq_dists(queries, tr.reshape(len(tr), -1))
print(f"pixels: 5-NN accuracy {accuracy(best):.4f}")
for dx in (-1, 0, 1):
    for dy in (-1, 0, 1):
        if dx or dy:
            copy = transform(tr, dx, dy, 0).reshape(len(tr), -1)
            best = np.minimum(best, sq_dists(queries, copy))
print(f"min over 1-pixel shifts: {accuracy(best):.4f}")
for degrees in (-10, 10):
    copy = transform(tr, 0, 0, degrees).reshape(len(tr), -1)
    best = np.minimum(best, sq_dists(queries, copy))
print(f"min over 1-pixel shifts and ±10° rotations (drlim's --knn invariant with shift, rotate=10): {accuracy(best):.4f}")
