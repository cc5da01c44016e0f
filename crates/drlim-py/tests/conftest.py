"""Shared fixtures: the built-in digits' 4-vs-9 split, and the `drlim` command line."""

import os
import pathlib
import subprocess

import numpy as np
import pytest

import drlim

REPO = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def digits49():
    """The paper's experiment: every 4 and 9 of the built-in digits in file order, the first
    70% to train (1,370), the rest to test (588), as `drlim experiment mnist-4-9` splits them."""
    X, y = drlim.load_digits((4, 9))
    n_train = int(0.7 * len(X))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


@pytest.fixture(scope="session")
def cli():
    """Runs the `drlim` binary of this repository's build (DRLIM_BIN, or target/release/drlim
    under CARGO_TARGET_DIR or the repository): `cargo build --release -p drlim-cli` makes it."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = pathlib.Path(os.environ.get("DRLIM_BIN", target / "release" / "drlim"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with `cargo build --release -p drlim-cli`")

    def run(*args, check=True):
        r = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"drlim {' '.join(map(str, args))} failed:\n{r.stderr}")
        return r

    return run


def blobs(n=120, d=10, seed=0):
    """Three well separated Gaussian clusters in d dimensions, float32, with their labels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centres = rng.normal(scale=6.0, size=(3, d))
    X = centres[y] + rng.normal(size=(n, d))
    return X.astype(np.float32), y
