#!/usr/bin/env python3
"""Parametric UMAP on drlim's ten-digit split: the peer closest to drlim, a network trained on a
neighbour graph that maps new digits by a forward pass (Sainburg, McInnes & Gentner 2021, as
umap-learn ships it, on TensorFlow/Keras). Fitted on the 7,000 training digits, the 3,000 test
digits mapped out of sample by its encoder; prints test 5-NN accuracy (against the training map),
test trustworthiness@10 (against the test pixels), the training map's own trustworthiness@10 and
the fit time, as `bench/fit_vs_generalisation.py` does for drlim, UMAP and openTSNE.

- `--encoder umap`: umap-learn's default encoder (784-100-100-100-2, ReLU);
- `--encoder drlim`: drlim's ten-digit MLP (784-512-512-512-512-2, ReLU).

It needs TensorFlow, which the peers' venv does not have; a venv of its own:

    python3 -m venv /root/.cache/pumap-venv
    /root/.cache/pumap-venv/bin/pip install numpy scikit-learn umap-learn==0.5.12 tensorflow-cpu
    /root/.cache/pumap-venv/bin/python bench/parametric_umap_probe.py --encoder umap

`DRLIM_DIGITS=4,9` runs it on the 4-vs-9 split of `drlim experiment mnist-4-9` instead.
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DRLIM_DIGITS", "0,1,2,3,4,5,6,7,8,9")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent.parent / "shared" / "peers"))
import _threads  # noqa: E402,F401  (caps the thread pools before numpy loads)

import numpy as np  # noqa: E402

import common  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--encoder", default="umap", choices=["umap", "drlim"])
ap.add_argument("--epochs", type=int, default=None,
                help="umap-learn's n_epochs (edge samples per edge); its default when absent")
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()

import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(2)
import keras  # noqa: E402
from umap.parametric_umap import ParametricUMAP  # noqa: E402

X, y = common.load_mnist(here.parent.parent / "shared" / "data" / "mnist-10k")
xtr, ytr, xte, yte = common.split_49(X, y)
ftr, fte = common.flat01(xtr), common.flat01(xte)

encoder = None
if a.encoder == "drlim":
    encoder = keras.Sequential(
        [keras.layers.Input(shape=(784,))]
        + [keras.layers.Dense(512, activation="relu") for _ in range(4)]
        + [keras.layers.Dense(2)])
kw = {} if a.epochs is None else {"n_epochs": a.epochs}
p = ParametricUMAP(encoder=encoder, random_state=a.seed, verbose=False,
                   keras_fit_kwargs={"verbose": 0}, **kw)
t0 = time.time()
etr = p.fit_transform(ftr)
fit_s = time.time() - t0
ete = p.transform(fte)
m = common.evaluate(etr, ytr, ete, yte, xte)
print(f"parametric UMAP encoder={a.encoder} seed={a.seed} fit_s={fit_s:.0f} "
      f"knn5={m['knn5_acc']:.4f} trust10={m['trust10']:.4f} "
      f"train_trust10={common.trust(ftr, etr, n_neighbors=10):.4f}", flush=True)
