"""How well a map of rendered digits keeps digits it has not seen apart: a 5-NN classifier
(scikit-learn) fitted on the map coordinates of the samples rendered from built-in digits
0-6,999 and scored on those rendered from 7,000-9,999, over 20,000 random samples. The data is
`drlim render digits --n N`, whose sample i is a transformed copy of built-in digit i % 10,000,
so the test digits' copies have no copy of themselves on the training side. BENCHMARKS.md, "A
million points in the memory of a laptop", gives the figures.

    python bench/heldout_knn.py LABELS.npy MAP.npy [MAP.npy ...]
"""

import sys

import numpy as np
from sklearn.neighbors import KNeighborsClassifier


def main():
    labels = np.load(sys.argv[1]).astype(int)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(labels), min(20000, len(labels)), replace=False)
    original = np.arange(len(labels)) % 10000
    train, test = idx[original[idx] < 7000], idx[original[idx] >= 7000]
    for path in sys.argv[2:]:
        e = np.load(path)
        acc = KNeighborsClassifier(5).fit(e[train], labels[train]).score(e[test], labels[test])
        print(f"{path}: held-out 5-NN accuracy {acc:.4f}, extent ±{np.abs(e).max():.3g}")


if __name__ == "__main__":
    main()
