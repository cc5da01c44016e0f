#!/usr/bin/env python3
"""Where a test map of the ten built-in digits loses trustworthiness@10: splits scikit-learn's
penalty (for each test digit, the pixel rank beyond 10 of each of its 10 nearest neighbours in
the map) into the part from map neighbours of the same digit and from those of other digits.

    python bench/trust_breakdown.py DIR/mnist-10-invariances-test-embedding.npy
    (the embedding that `drlim experiment mnist-10 --out DIR` writes; run with the peers' venv:
    numpy, scikit-learn)
"""
import os
import sys
from pathlib import Path

os.environ["DRLIM_DIGITS"] = "0,1,2,3,4,5,6,7,8,9"
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent.parent / "shared" / "peers"))
import numpy as np  # noqa: E402
from sklearn.metrics import pairwise_distances  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

import common  # noqa: E402

K = 10
X, y = common.load_mnist(here.parent.parent / "shared" / "data" / "mnist-10k")
_, _, xte, yte = common.split_49(X, y)
pixels = xte.reshape(len(xte), -1).astype(np.float32) / 255
emb = np.load(sys.argv[1])
n = len(pixels)
if emb.shape[0] != n:
    sys.exit(f"{sys.argv[1]}: {emb.shape[0]} rows, but the test split has {n} digits")

dist = pairwise_distances(pixels)
np.fill_diagonal(dist, np.inf)
# rank 1 = the nearest other digit in pixel space
ranks = np.empty_like(dist, dtype=np.int64)
ranks[np.arange(n)[:, None], np.argsort(dist, axis=1)] = np.arange(1, n + 1)
near = NearestNeighbors(n_neighbors=K + 1).fit(emb).kneighbors(emb, return_distance=False)[:, 1:]
penalty = np.maximum(ranks[np.arange(n)[:, None], near] - K, 0)
scale = 2.0 / (n * K * (2 * n - 3 * K - 1))
same = yte[near] == yte[:, None]
print(f"trustworthiness@{K}: {1 - scale * penalty.sum():.4f}")
print(f"  lost to map neighbours of the same digit:  {scale * penalty[same].sum():.4f}")
print(f"  lost to map neighbours of another digit:   {scale * penalty[~same].sum():.4f}")
print(f"  map neighbours of another digit: {(~same).mean():.3f} of all")
print(f"  same-digit map neighbours outside the 10 pixel neighbours: {(penalty[same] > 0).mean():.3f}")
